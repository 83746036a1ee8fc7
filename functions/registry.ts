/**
 * The registry: every runner this deployment runs (Blast's `periodic_tasks`). The CDK stack, the local
 * runtime, the CLI and the tests all read this list; adding a runner is one line here plus its file.
 */
import type { AnyRunner } from '../lib/runner';
import { CutoutDownload } from './runners/cutout-download';
import { GlobalApertureConstruction } from './runners/global-aperture-construction';
import { GlobalAperturePhotometry } from './runners/global-aperture-photometry';
import { GlobalHostSedInference } from './runners/global-host-sed-inference';
import { HostInformation } from './runners/host-information';
import { HostMatch } from './runners/host-match';
import { HostMwebv } from './runners/host-mwebv';
import { IngestMissedTnsTransients } from './runners/ingest-missed-tns-transients';
import { LocalAperturePhotometry } from './runners/local-aperture-photometry';
import { LocalHostSedInference } from './runners/local-host-sed-inference';
import { PruneScratchData } from './runners/prune-scratch-data';
import { RecountTransients } from './runners/recount-transients';
import { SnapshotTaskRegister } from './runners/snapshot-task-register';
import { TnsDataIngestion } from './runners/tns-data-ingestion';
import { TransientMwebv } from './runners/transient-mwebv';
import { ValidateGlobalPhotometry } from './runners/validate-global-photometry';
import { ValidateLocalPhotometry } from './runners/validate-local-photometry';

export const registry: readonly AnyRunner[] = [
  new CutoutDownload(),
  new TransientMwebv(),
  new HostMatch(),
  new HostInformation(),
  new HostMwebv(),
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
];
