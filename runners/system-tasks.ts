/**
 * The system runners' task names, declared once: the runners take their `taskName` from here, and the local
 * runtime, the CLI and the tests name them through it. (A transient task's name comes from the fixtures, as
 * lib/generated/fixtures.ts TaskName; system tasks are not in the fixtures.)
 */
export const SystemTaskName = {
  TnsDataIngestion: 'TNS data ingestion',
  IngestMissedTnsTransients: 'Ingest missed TNS transients',
  PruneScratchData: 'Prune scratch data',
  SnapshotTaskRegister: 'Snapshot task register',
  RecountTransients: 'Recount transients',
} as const;
export type SystemTaskName = (typeof SystemTaskName)[keyof typeof SystemTaskName];
