/** Base of every error the framework raises on purpose; keeps the subclass name and the cause. */
export class TaskRunnerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A runner throws this to record its failed status at once instead of being retried. */
export class NonRetryableTaskError extends TaskRunnerError {}

/** Environment or handler configuration is missing or wrong. */
export class ConfigError extends TaskRunnerError {}

/** A fixture file cannot be read or is malformed; the message names the file and line. */
export class FixtureError extends TaskRunnerError {}

/** An SQS body or scheduled event that can never be processed, however often it is retried. */
export class PoisonMessageError extends TaskRunnerError {}

/** The registry or fixtures break a rule; `issues` holds one line per problem. */
export class RegistryValidationError extends TaskRunnerError {
  constructor(readonly issues: readonly string[]) {
    super(`${issues.length} problem${issues.length === 1 ? '' : 's'} in the registry or fixtures:\n  - ${issues.join('\n  - ')}`);
  }
}

/**
 * What a command prints for an error the user can fix (one line per problem, no stack): every issue of a
 * RegistryValidationError, the message of any other TaskRunnerError; undefined for anything else (a bug).
 */
export const problemLines = (thrown: unknown): readonly string[] | undefined => {
  if (thrown instanceof RegistryValidationError) return thrown.issues;
  if (thrown instanceof TaskRunnerError) return [thrown.message];
  return undefined;
};

/** Converts whatever was thrown into an Error, once, so callers never handle `unknown`. */
export const coerceError = (thrown: unknown): Error => {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  try {
    return new Error(JSON.stringify(thrown));
  } catch {
    return new Error(String(thrown));
  }
};

/** The AWS SDK names its service exceptions; this reads that name without importing the SDK. */
export const errorName = (thrown: unknown): string => coerceError(thrown).name;
