import { ConfigError } from '../lib/domain/errors';
import { SystemCapability, type SystemTaskContext, SystemTaskRunner } from '../lib/runner';
import { TNS_SECRET_NAME } from './tns/credentials';
import { ingestRecentFromTns, tnsClientFor } from './tns/ingestion';
import { SystemTaskName } from './system-tasks';

/**
 * Blast's TNSDataIngestion: asks TNS for the transients made public in the last `intervalMinutes`, fetches
 * each one's details, ingests the new ones (their first tasks go out at once) and updates the known ones
 * (changed coordinates or redshift send the tasks that use them, and those after, back to the start).
 * The interval is much longer than the schedule, so a run that fails is covered by the next ones.
 */
export class TnsDataIngestion extends SystemTaskRunner {
  readonly taskName = SystemTaskName.TnsDataIngestion;
  override readonly frequencySeconds = 240;
  // As in Blast: a deployment turns it on once the bot's credentials are in place.
  override readonly initiallyEnabled = false;
  // Waits for TNS's rate limit count against this.
  override readonly timeoutSeconds = 600;
  override readonly secretNames = [TNS_SECRET_NAME];
  override readonly uses = [SystemCapability.Upsert];

  constructor(readonly intervalMinutes = 100) {
    super();
    if (!Number.isFinite(intervalMinutes) || intervalMinutes <= 0) {
      throw new ConfigError(`TnsDataIngestion: intervalMinutes must be a positive number of minutes, not ${intervalMinutes}`);
    }
  }

  async process(context: SystemTaskContext) {
    const client = await tnsClientFor(context);
    const report = await ingestRecentFromTns(context, client, new Date(context.now() - this.intervalMinutes * 60_000));
    context.logger.info('TNS data ingestion done', { ...report, rejections: report.rejections.length });
  }
}
