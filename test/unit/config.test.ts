import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/domain/errors';
import { ENV, loadConfig } from '../../lib/settings/config';

describe('Function: loadConfig, run-history retention', () => {
  const env = (days?: string) => ({ [ENV.tableName]: 'tasks', ...(days === undefined ? {} : { [ENV.historyRetentionDays]: days }) });

  it('leaves the retention to the default when the stack sets none, and reads the days it sets', () => {
    expect(loadConfig(env()).historyRetentionDays).toBeUndefined();
    expect(loadConfig(env('30')).historyRetentionDays).toBe(30);
  });

  it.each(['0', '-3', '1.5', 'ninety'])('refuses %j, naming the variable', (days) => {
    expect(() => loadConfig(env(days))).toThrow(ConfigError);
    expect(() => loadConfig(env(days))).toThrow(new RegExp(`${ENV.historyRetentionDays} must be a whole number of days`));
  });
});
