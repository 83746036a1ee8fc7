/**
 * Secrets for system runners (the TNS bot's credentials). In AWS the stack grants the function read access
 * to each secret a runner declares and passes its ARN (SECRET_ARNS); the secret is a JSON object, read
 * through Powertools' SecretsProvider (cached for a few minutes per container). A secret with no ARN is read
 * from environment variables named after its keys, as on a developer's machine. Values are never logged.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import { ConfigError } from '../domain/errors';
import type { SecretSource } from '../engine/system';

/** Seconds a secret stays cached in the container before it is read again (rotations take effect then). */
const SECRET_MAX_AGE_SECONDS = 300;

/** What is used of Powertools' SecretsProvider: a cached GetSecretValue by ARN. */
export interface SecretFetcher {
  get(arn: string, options: { maxAge: number }): Promise<unknown>;
}

// Secret values are strings, but a bot id is often stored as a number.
const secretObject = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));

const pick = (values: Readonly<Record<string, string | undefined>>, keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(keys.flatMap((key) => (values[key] ? [[key, values[key]]] : [])));

export const secretSource = (
  arns: Readonly<Record<string, string>>,
  environment: Readonly<Record<string, string | undefined>>,
  provider: SecretFetcher = new SecretsProvider(),
): SecretSource => ({
  async read(name, keys) {
    const arn = arns[name];
    if (!arn) return pick(environment, keys);
    let text: unknown;
    try {
      text = await provider.get(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
    } catch (cause) {
      throw new ConfigError(`could not read secret "${name}" (${arn}): ${cause instanceof Error ? cause.message : 'unknown error'}`, { cause });
    }
    // Parsed here rather than by the provider: JSON.parse's messages quote the text, which is secret.
    let value: unknown;
    try {
      value = typeof text === 'string' ? JSON.parse(text) : undefined;
    } catch {
      value = undefined;
    }
    const parsed = secretObject.safeParse(value);
    if (!parsed.success) throw new ConfigError(`secret "${name}" (${arn}) must be a JSON object of string values`);
    return pick(parsed.data, keys);
  },
});
