import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../lib/domain/errors';
import { secretSource } from '../../lib/secrets/secret-source';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:blast/tns-bot-AbCdEf';
const keys = ['TNS_BOT_ID', 'TNS_BOT_NAME', 'TNS_BOT_API_KEY'];

describe('Function: secretSource', () => {
  it('reads a secret whose ARN the stack passed from Secrets Manager, keeping only the keys asked for', async () => {
    const provider = { get: vi.fn(async () => '{"TNS_BOT_ID": 12345, "TNS_BOT_NAME": "blast_bot", "TNS_BOT_API_KEY": "k3y", "OTHER": "x"}') };
    const secrets = secretSource({ 'blast/tns-bot': ARN }, { TNS_BOT_ID: 'from-env' }, provider);

    const values = await secrets.read('blast/tns-bot', keys);

    expect(values).toEqual({ TNS_BOT_ID: '12345', TNS_BOT_NAME: 'blast_bot', TNS_BOT_API_KEY: 'k3y' });
    expect(provider.get).toHaveBeenCalledWith(ARN, expect.objectContaining({ maxAge: expect.any(Number) }));
  });

  it('reads a secret with no ARN from the environment variables named by its keys', async () => {
    const provider = { get: vi.fn() };
    const secrets = secretSource({}, { TNS_BOT_ID: '1', TNS_BOT_NAME: 'local', PATH: '/bin' }, provider);

    expect(await secrets.read('blast/tns-bot', keys)).toEqual({ TNS_BOT_ID: '1', TNS_BOT_NAME: 'local' });
    expect(provider.get).not.toHaveBeenCalled();
  });

  it('refuses a secret that is not a JSON object without quoting it', async () => {
    const provider = { get: vi.fn(async () => 'TNS_BOT_API_KEY=hunter2') };
    const read = secretSource({ 'blast/tns-bot': ARN }, {}, provider).read('blast/tns-bot', keys);

    await expect(read).rejects.toThrow(ConfigError);
    await expect(read).rejects.toThrow(/must be a JSON object/);
    await expect(read).rejects.not.toThrow(/hunter2/);
  });

  it('names the secret when Secrets Manager refuses, keeping the cause', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' });
    const provider = { get: vi.fn(async () => Promise.reject(denied)) };

    const error = await secretSource({ 'blast/tns-bot': ARN }, {}, provider).read('blast/tns-bot', keys).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/could not read secret "blast\/tns-bot".*not authorized/);
    expect((error as Error).cause).toBe(denied);
  });
});
