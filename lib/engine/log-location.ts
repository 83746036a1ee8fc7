/**
 * Where an attempt's log lines are, from the invocation its history record names: the local runtime's log file, or
 * the function's CloudWatch Logs group and stream — with a link to them in the CloudWatch console, filtered on the
 * invocation's request id. The CLI's `history` prints the text, the web view shows the link.
 */
import type { Invocation } from './store';

export interface LogLocation {
  readonly text: string;
  /** A link to the lines, when there is one to follow (the CloudWatch console). */
  readonly href?: string;
}

/** An attempt's log location, from its recorded invocation. */
export type LogLocator = (invocation: Invocation) => LogLocation;

const requestOf = (invocation: Invocation) => (invocation.requestId ? ` (request ${invocation.requestId})` : '');

/** The log group and stream as text. */
export const logGroupLocation: LogLocator = (invocation) => ({
  text: `${[invocation.logGroup, invocation.logStream].filter(Boolean).join(' ')}${requestOf(invocation)}`,
});

/** Locally every handler logs to one file: its path, and the request id to look for in it. */
export const logFileLocation =
  (file: string): LogLocator =>
  (invocation) => ({ text: `${file}${requestOf(invocation)}` });

/**
 * A part of a CloudWatch console address: the console reads its fragment's parts percent-encoded twice, with `$` for
 * the outer `%` (a group `/aws/lambda/f` is `$252Faws$252Flambda$252Ff`).
 */
const consolePart = (text: string) => encodeURIComponent(encodeURIComponent(text)).replace(/%/g, '$');

/** The log group and stream, with a link to the stream's lines of this invocation in the CloudWatch console of `region`. */
export const cloudWatchLocation =
  (region: string): LogLocator =>
  (invocation) => {
    const location = logGroupLocation(invocation);
    if (!invocation.logGroup) return location;
    const stream = invocation.logStream ? consolePart(invocation.logStream) : '';
    const filter = invocation.requestId ? `$3FfilterPattern$3D${consolePart(`"${invocation.requestId}"`)}` : '';
    const href =
      `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` +
      `#logsV2:log-groups/log-group/${consolePart(invocation.logGroup)}/log-events/${stream}${filter}`;
    return { ...location, href };
  };
