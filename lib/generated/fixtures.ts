// Generated from setup_status.yaml and setup_tasks.yaml by `npm run generate`; do not edit.

export const StatusMessage = {
  NotProcessed: "not processed",
  Processed: "processed",
  Processing: "processing",
  NoGHOSTMatch: "no GHOST match",
  Failed: "failed",
  NoHostRedshift: "no host redshift",
  NoTransientMWEBV: "no transient MWEBV",
  NoHostMWEBV: "no host MWEBV",
  PhotValidFailed: "phot valid failed",
  NotEnoughFilters: "not enough filters",
  TimeLimitExceeded: "time limit exceeded",
  Blocked: "blocked",
  RedshiftTooHigh: "redshift too high",
  NoValidPhot: "no valid phot",
  NoHost: "no host",
} as const;
export type StatusMessage = (typeof StatusMessage)[keyof typeof StatusMessage];

export const TaskName = {
  CutoutDownload: "Cutout download",
  TransientMWEBV: "Transient MWEBV",
  HostMatch: "Host match",
  HostInformation: "Host information",
  HostMWEBV: "Host MWEBV",
  GlobalApertureConstruction: "Global aperture construction",
  GlobalAperturePhotometry: "Global aperture photometry",
  ValidateGlobalPhotometry: "Validate global photometry",
  LocalAperturePhotometry: "Local aperture photometry",
  ValidateLocalPhotometry: "Validate local photometry",
  GlobalHostSEDInference: "Global host SED inference",
  LocalHostSEDInference: "Local host SED inference",
} as const;
export type TaskName = (typeof TaskName)[keyof typeof TaskName];
