import { ConfigError } from '../lib/domain/errors';
import { SystemCapability, type SystemTaskContext, SystemTaskRunner } from '../lib/runner';
import { TNS_SECRET_NAME } from './tns/credentials';
import { dailyFileDate } from './tns/daily-file';
import { ingestDailyFile, tnsClientFor } from './tns/ingestion';
import { SystemTaskName } from './system-tasks';

/**
 * Blast's IngestMissedTNSTransients: ingests or updates every row of yesterday's TNS daily file
 * (`tns_public_objects_YYYYMMDD.csv.zip`), catching what the live ingestion missed. It runs hourly: a run
 * before TNS publishes the file finds nothing, a run cut short by the timeout resumes from its checkpoint,
 * and once the file is done the remaining runs of the day only read the checkpoint.
 */
export class IngestMissedTnsTransients extends SystemTaskRunner {
  readonly taskName = SystemTaskName.IngestMissedTnsTransients;
  override readonly frequencySeconds = 3600;
  override readonly initiallyEnabled = false;
  // Lambda's longest: a 100,000-row file is read a page at a time and checkpointed every batch.
  override readonly timeoutSeconds = 900;
  override readonly memorySize = 1024;
  override readonly secretNames = [TNS_SECRET_NAME];
  // Upserts the rows; the checkpoint lets a run cut short resume.
  override readonly uses = [SystemCapability.Upsert, SystemCapability.State];

  constructor(readonly daysBack = 1) {
    super();
    if (!Number.isInteger(daysBack) || daysBack < 0) {
      throw new ConfigError(`IngestMissedTnsTransients: daysBack must be a whole number of days, not ${daysBack}`);
    }
  }

  async process(context: SystemTaskContext) {
    const client = await tnsClientFor(context);
    const report = await ingestDailyFile(context, client, dailyFileDate(context.now(), this.daysBack));
    context.logger.info('missed TNS ingestion done', { ...report, rejections: report.rejections.length });
  }
}
