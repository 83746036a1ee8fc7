import { describe, expect, it } from 'vitest';
import { summarize, summaryLine } from '../helpers/summary-reporter';

describe('the closing line of a test run', () => {
  it('counts passed, failed and skipped tests', () => {
    expect(summaryLine(summarize([{ state: 'passed', tests: ['passed', 'passed', 'skipped'] }, { state: 'failed', tests: ['passed', 'failed'] }]))).toBe(
      '3 passed, 1 failed, 1 skipped',
    );
  });

  it('counts the tests of a file whose beforeAll threw as failed, not skipped', () => {
    expect(summaryLine(summarize([{ state: 'passed', tests: ['passed'] }, { state: 'failed', tests: ['skipped', 'skipped', 'skipped'] }]))).toBe('1 passed, 3 failed');
  });

  it('counts a file that failed to load, with no tests, as one failure', () => {
    expect(summarize([{ state: 'failed', tests: [] }])).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });

  it('counts errors thrown outside any test as failures', () => {
    expect(summarize([{ state: 'passed', tests: ['passed'] }], 2)).toEqual({ passed: 1, failed: 2, skipped: 0 });
  });
});
