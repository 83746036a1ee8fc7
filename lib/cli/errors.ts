import { TaskRunnerError, coerceError } from '../domain/errors';

/** A command could not do what was asked; the message is the one line the user sees. */
export class CliError extends TaskRunnerError {}

/** Node's network error fields, as the AWS SDK passes them through. */
interface NetworkError extends Error {
  readonly code?: string;
  readonly address?: string;
  readonly port?: number;
}

/** The first error in a cause chain carrying a network error code. */
export const networkErrorOf = (thrown: unknown): NetworkError | undefined => {
  for (let error: unknown = thrown, depth = 0; error && depth < 5; error = (error as { cause?: unknown }).cause, depth++) {
    const code = (error as NetworkError).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return coerceError(error) as NetworkError;
  }
  return undefined;
};
