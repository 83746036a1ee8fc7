/**
 * The TNS bot's credentials: one Secrets Manager secret (a JSON object) in AWS, environment variables of the
 * same names locally — Blast's names. TNS_API_URL is optional (the real TNS by default; the sandbox has its
 * own bots, so its URL belongs with a sandbox bot's credentials).
 */
import { z } from 'zod';
import { ConfigError } from '../domain/errors';

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

const credentialsSchema = z.object({
  [TnsCredentialKey.BotId]: z.string().trim().regex(/^\d+$/, 'must be the bot\'s numeric TNS id'),
  [TnsCredentialKey.BotName]: z.string().trim().min(1),
  [TnsCredentialKey.ApiKey]: z.string().trim().min(1),
  [TnsCredentialKey.ApiUrl]: z.url({ protocol: /^https?$/ }).optional(),
});

/** Validates the values read from the secret or the environment; errors name keys, never values. */
export const parseTnsCredentials = (values: Readonly<Record<string, string>>, source: string): TnsCredentials => {
  const parsed = credentialsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${values[String(issue.path[0])] === undefined ? 'is missing' : 'is invalid'}`);
    throw new ConfigError(`TNS credentials from ${source}: ${problems.join(', ')} (${tnsCredentialKeys.slice(0, 3).join(', ')} are required)`);
  }
  const data = parsed.data;
  return {
    botId: data[TnsCredentialKey.BotId],
    botName: data[TnsCredentialKey.BotName],
    apiKey: data[TnsCredentialKey.ApiKey],
    apiUrl: (data[TnsCredentialKey.ApiUrl] ?? TNS_DEFAULT_URL).replace(/\/+$/, ''),
  };
};
