/** Prints the closing `N passed, N failed` line that CI reads, so a run with no tests is visible. */
import type { Reporter, TestModule } from 'vitest/node';

/** What the closing line counts of one test file. */
export interface ModuleOutcome {
  /** Failed when the file itself failed (it did not load, or a hook such as beforeAll threw). */
  readonly state: string;
  /** Each test's state: passed, failed, skipped, pending. */
  readonly tests: readonly string[];
}

export interface Summary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * Counts the tests. A file that failed outside its tests (its beforeAll threw) leaves its tests skipped: they count as
 * failed, or the file counts as one failure if it has none, so a failed run never closes on "0 failed". Errors thrown
 * outside any test (an unhandled rejection) count as failures too.
 */
export const summarize = (modules: readonly ModuleOutcome[], unhandledErrors = 0): Summary => {
  let passed = 0;
  let failed = unhandledErrors;
  let skipped = 0;
  for (const module of modules) {
    const count = (state: string) => module.tests.filter((test) => test === state).length;
    passed += count('passed');
    const notPassed = module.tests.length - count('passed');
    if (module.state === 'failed' && count('failed') === 0) failed += Math.max(1, notPassed);
    else {
      failed += count('failed');
      skipped += notPassed - count('failed');
    }
  }
  return { passed, failed, skipped };
};

export const summaryLine = ({ passed, failed, skipped }: Summary): string => `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
    const modules = testModules.map((module) => ({ state: module.state(), tests: [...module.children.allTests()].map((test) => test.result().state) }));
    process.stdout.write(`\n${summaryLine(summarize(modules, unhandledErrors.length))}\n`);
  }
}
