/**
 * The registry: every runner this deployment runs (Blast's `periodic_tasks`). The CDK stack, the local
 * runtime, the CLI and the tests all read this list; adding a runner is one line here plus its file.
 */
import type { AnyRunner } from '../lib/runner';
import { CutoutDownload } from './cutout-download';
import { GlobalApertureConstruction } from './global-aperture-construction';
import { GlobalAperturePhotometry } from './global-aperture-photometry';
import { GlobalHostSedInference } from './global-host-sed-inference';
import { HostInformation } from './host-information';
import { HostMatch } from './host-match';
import { IngestMissedTnsTransients } from './ingest-missed-tns-transients';
import { LocalAperturePhotometry } from './local-aperture-photometry';
import { LocalHostSedInference } from './local-host-sed-inference';
import { PruneScratchData } from './prune-scratch-data';
import { pythonRunner } from './python-runner';
import { RecountTransients } from './recount-transients';
import { SnapshotTaskRegister } from './snapshot-task-register';
import { TnsDataIngestion } from './tns-data-ingestion';
import { ValidateGlobalPhotometry } from './validate-global-photometry';
import { ValidateLocalPhotometry } from './validate-local-photometry';
import { withCodeVersions } from './versions';

/** Each transient runner that declares no `version` gets its code's hash (runners/versions.ts). */
export const registry: readonly AnyRunner[] = withCodeVersions([
  new CutoutDownload(),
  pythonRunner('runners/python/mwebv.py', 'TransientMWEBV'),
  new HostMatch(),
  new HostInformation(),
  pythonRunner('runners/python/mwebv.py', 'HostMWEBV'),
  new GlobalApertureConstruction(),
  new GlobalAperturePhotometry(),
  new ValidateGlobalPhotometry(),
  new LocalAperturePhotometry(),
  new ValidateLocalPhotometry(),
  new GlobalHostSedInference(),
  new LocalHostSedInference(),
  // System runners: work that belongs to no transient.
  new TnsDataIngestion(),
  new IngestMissedTnsTransients(),
  new PruneScratchData(),
  new SnapshotTaskRegister(),
  new RecountTransients(),
]);
