import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, withKeys } from '../../lib/engine/telemetry';

/** The JSON lines a logger writes (to stdout, warnings and errors to stderr) while `act` runs. */
const linesOf = (act: () => void): Record<string, unknown>[] => {
  const written: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    }),
  );
  try {
    act();
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  return written.join('').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
};

/** A logger that writes, whatever level the test run silences the handlers' logs to. */
const loudLogger = () => {
  const logger = createLogger('test');
  logger.setLogLevel('DEBUG');
  return logger;
};

describe('Function: withKeys', () => {
  afterEach(() => vi.restoreAllMocks());

  it('puts its keys on every line, beside what the line adds, as a child logger would', () => {
    const log = withKeys(loudLogger(), { transient: '2010H', task: 'Host match', attempt: 2 });

    const [line] = linesOf(() => log.info('finished', { status: 'processed', duration: 12 }));

    expect(line).toMatchObject({ message: 'finished', transient: '2010H', task: 'Host match', attempt: 2, status: 'processed', duration: 12 });
  });

  it('keeps a lone error or string under the keys Powertools gives them', () => {
    const log = withKeys(loudLogger(), { task: 'Host match' });

    const [failure, note] = linesOf(() => {
      log.error('runner failed', new Error('host catalogue unreachable'));
      log.warn('odd', 'a remark');
    });

    expect(failure).toMatchObject({ task: 'Host match', error: { name: 'Error', message: 'host catalogue unreachable' } });
    expect(note).toMatchObject({ task: 'Host match', extra: 'a remark' });
  });
});
