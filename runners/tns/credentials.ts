/**
 * The TNS bot's credentials: one Secrets Manager secret (a JSON object) in AWS, environment variables of the
 * same names locally — Blast's names. TNS_API_URL is optional (the real TNS by default; the sandbox has its
 * own bots, so its URL belongs with a sandbox bot's credentials). The API key travels in every request's
 * body, so the URL must be https:// — plain http:// only to this machine (the local TNS stand-in).
 */
import { z } from 'zod';
import { ConfigError } from '../../lib/domain/errors';

/** The Secrets Manager secret the TNS runners declare in `secretNames`. */
export const TNS_SECRET_NAME = 'blast/tns-bot';

export const TnsCredentialKey = {
  BotId: 'TNS_BOT_ID',
  BotName: 'TNS_BOT_NAME',
  ApiKey: 'TNS_BOT_API_KEY',
  ApiUrl: 'TNS_API_URL',
} as const;
export const tnsCredentialKeys = Object.values(TnsCredentialKey);

export const TNS_DEFAULT_URL = 'https://www.wis-tns.org';

export interface TnsCredentials {
  readonly botId: string;
  readonly botName: string;
  readonly apiKey: string;
  /** Base URL of the TNS site, without a trailing slash. */
  readonly apiUrl: string;
}

/** Hosts a plain http:// TNS_API_URL may name: this machine (the local TNS stand-in), nothing that crosses a network. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '[::1]', 'localhost'];

export type TnsApiUrlReading = { readonly url: string } | { readonly problem: string };

/**
 * Checks a TNS site URL: https://, or http:// to a loopback host; no user name or password, query or fragment
 * (the client appends the endpoint's path). Gives it without a trailing slash, or the problem, which shows the
 * URL's scheme, host and path only (never a user name, password or query).
 */
export const readTnsApiUrl = (text: string): TnsApiUrlReading => {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { problem: 'is not a URL' };
  }
  const shown = `"${url.protocol}//${url.host}${url.pathname}"`;
  const loopback = LOOPBACK_HOSTS.includes(url.hostname.toLowerCase());
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    return { problem: `must be https:// (http:// only to ${LOOPBACK_HOSTS.join(', ')}), not ${shown}` };
  }
  if (url.username !== '' || url.password !== '') return { problem: `must not hold a user name or password (${shown})` };
  if (url.search !== '' || url.hash !== '') return { problem: `must not hold a query or fragment (${shown})` };
  return { url: `${url.origin}${url.pathname}`.replace(/\/+$/, '') };
};

/** A TNS site URL as {@link readTnsApiUrl} checks it; throws a ConfigError naming the problem otherwise. */
export const checkTnsApiUrl = (text: string): string => {
  const reading = readTnsApiUrl(text);
  if ('problem' in reading) throw new ConfigError(`${TnsCredentialKey.ApiUrl} ${reading.problem}`);
  return reading.url;
};

const credentialsSchema = z.object({
  [TnsCredentialKey.BotId]: z.string().trim().regex(/^\d+$/, 'must be the bot\'s numeric TNS id'),
  [TnsCredentialKey.BotName]: z.string().trim().min(1),
  [TnsCredentialKey.ApiKey]: z.string().trim().min(1),
  [TnsCredentialKey.ApiUrl]: z
    .string()
    .transform((text, ctx) => {
      const reading = readTnsApiUrl(text);
      if ('url' in reading) return reading.url;
      ctx.issues.push({ code: 'custom', input: text, message: reading.problem });
      return z.NEVER;
    })
    .optional(),
});

/**
 * Validates the values read from the secret or the environment; errors name keys, never values — except
 * TNS_API_URL's scheme, host and path, which are no secret and show what to fix.
 */
export const parseTnsCredentials = (values: Readonly<Record<string, string>>, source: string): TnsCredentials => {
  const parsed = credentialsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      if (values[key] === undefined) return `${key} is missing`;
      return `${key} ${key === TnsCredentialKey.ApiUrl && issue.code === 'custom' ? issue.message : 'is invalid'}`;
    });
    throw new ConfigError(`TNS credentials from ${source}: ${problems.join(', ')} (${tnsCredentialKeys.slice(0, 3).join(', ')} are required)`);
  }
  const data = parsed.data;
  return {
    botId: data[TnsCredentialKey.BotId],
    botName: data[TnsCredentialKey.BotName],
    apiKey: data[TnsCredentialKey.ApiKey],
    apiUrl: data[TnsCredentialKey.ApiUrl] ?? TNS_DEFAULT_URL,
  };
};
