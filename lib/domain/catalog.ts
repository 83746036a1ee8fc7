/**
 * Statuses and tasks as declared in the fixtures (Blast's `host.Status` and `host.Task` models).
 * The framework relies on a few statuses by name; everything else is data.
 */
export const StatusType = {
  Blank: 'blank',
  Success: 'success',
  Warning: 'warning',
  Error: 'error',
} as const;
export type StatusType = (typeof StatusType)[keyof typeof StatusType];
export const statusTypes = Object.values(StatusType);

/** Statuses the framework itself writes; the fixtures must declare each with this type. */
export const Status = {
  NotProcessed: 'not processed',
  Processing: 'processing',
  Processed: 'processed',
  TimeLimitExceeded: 'time limit exceeded',
} as const;
export type FrameworkStatus = (typeof Status)[keyof typeof Status];

export const requiredStatusTypes: Readonly<Record<FrameworkStatus, StatusType>> = {
  [Status.NotProcessed]: StatusType.Blank,
  [Status.Processing]: StatusType.Warning,
  [Status.Processed]: StatusType.Success,
  [Status.TimeLimitExceeded]: StatusType.Error,
};

/** Where a declaration came from, so that errors can point at it. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export interface StatusDefinition {
  readonly message: string;
  readonly type: StatusType;
  readonly source: SourceLocation;
}

export interface TaskDefinition {
  readonly name: string;
  readonly source: SourceLocation;
}

/** The validated content of the fixtures. */
export interface Catalog {
  readonly statuses: ReadonlyMap<string, StatusDefinition>;
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /** The files the statuses and tasks were read from, for error messages. */
  readonly statusFile: string;
  readonly taskFile: string;
  /** What was read but not used (fields and keys the framework ignores), one line each naming file and line. */
  readonly warnings?: readonly string[];
}

export const statusTypeOf = (catalog: Catalog, message: string): StatusType | undefined =>
  catalog.statuses.get(message)?.type;

/** A status that ends a task's run: a success or an error, never blank or warning. */
export const isFinalType = (type: StatusType | undefined): boolean =>
  type === StatusType.Success || type === StatusType.Error;
