import { TaskRunnerError, coerceError } from '../domain/errors';

/** A command could not do what was asked; the message is the one line the user sees. */
export class CliError extends TaskRunnerError {}

/** Node's network error fields, as the AWS SDK passes them through. */
interface NetworkError extends Error {
  readonly code?: string;
  readonly address?: string;
  readonly port?: number;
}

/**
 * The error codes Node gives a connection that could not be made or was lost. Other `E…` codes (ENOENT,
 * EISDIR, EACCES: a file) say nothing about the target.
 */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/** The first error in a cause chain carrying a network error code. */
export const networkErrorOf = (thrown: unknown): NetworkError | undefined => {
  for (let error: unknown = thrown, depth = 0; error && depth < 5; error = (error as { cause?: unknown }).cause, depth++) {
    const code = (error as NetworkError).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return coerceError(error) as NetworkError;
  }
  return undefined;
};
