/** What `npm start -- --chaos SEED` prints at the end: the faults injected and the invariants checked. */
import { colors } from '../terminal/colors';
import { Invariant } from '../chaos/invariants';
import { Fault, OperatorFault } from '../chaos/plan';
import type { ChaosReport } from './chaos-run';

const described: Readonly<Record<string, string>> = {
  [Fault.RunnerThrows]: 'runner threw (retried)',
  [Fault.RunnerGivesUp]: 'runner threw a non-retryable error',
  [Fault.InvalidStatus]: 'runner returned a status not in the fixtures',
  [Fault.Overrun]: 'runner ran past its timeout',
  [Fault.Kill]: 'process killed at a step (before, during, after a call)',
  [Fault.PartialSendFailure]: 'SendMessageBatch entry refused',
  [Fault.DuplicateSend]: 'message sent twice',
  [Fault.DelayedSend]: 'message delayed (late, out of order)',
  [Fault.Throttle]: 'AWS call throttled',
  [Fault.ThrottleStorm]: 'AWS call throttled past the retry budget',
  [Fault.LostResponse]: 'AWS call timed out after it landed',
  [Fault.Contention]: 'competing write before a reset or dead letter',
  [Fault.TransactionConflict]: 'transaction cancelled by a conflict',
  [Fault.VisibilityChangeFails]: 'ChangeMessageVisibility refused (expired receipt)',
  [Fault.DuplicateInvocation]: 'message in a batch handed to two invocations',
  [Fault.RepeatedBatch]: 'message in a batch invoked again',
  [Fault.VisibilityExpiry]: 'message whose visibility expired while it ran',
  [OperatorFault.Reprocess]: 'transient reprocessed while a task ran',
  [OperatorFault.Retrigger]: 'transient retriggered while a task ran',
  [OperatorFault.Delete]: 'transient deleted while a task ran',
  [OperatorFault.Poison]: 'poison message sent',
};

export const renderChaosReport = (report: ChaosReport): string[] => {
  const lines = [colors.bold(`faults injected (seed ${report.seed}; the journal is ${report.journal})`)];
  const kinds = [...Object.values(Fault), ...Object.values(OperatorFault)];
  const width = Math.max(...kinds.map((kind) => (described[kind] ?? kind).length));
  for (const kind of kinds) {
    const count = report.faults.get(kind) ?? 0;
    lines.push(`  ${(described[kind] ?? kind).padEnd(width)}  ${String(count).padStart(5)}`);
  }
  const total = [...report.faults.values()].reduce((sum, count) => sum + count, 0);
  lines.push(`  ${'total'.padEnd(width)}  ${String(total).padStart(5)}`, '');
  lines.push(colors.bold(`invariants checked over ${report.events.length} journal events and ${report.records.length} transients:`));
  for (const invariant of Object.values(Invariant)) {
    const broken = report.violations.filter((violation) => violation.invariant === invariant).length;
    lines.push(`  ${broken === 0 ? colors.green('✓') : colors.red('✗')} ${invariant}${broken === 0 ? '' : colors.red(` (${broken})`)}`);
  }
  for (const violation of report.violations.slice(0, 50)) {
    const where = [violation.transient, violation.task].filter(Boolean).join(' / ');
    lines.push(colors.red(`    ${where ? `${where}: ` : ''}${violation.detail}`));
  }
  if (report.violations.length > 50) lines.push(colors.red(`    … and ${report.violations.length - 50} more`));
  const count = report.violations.length;
  lines.push('', (count === 0 ? colors.green : colors.red)(`${count} invariant violation${count === 1 ? '' : 's'}`));
  return lines;
};
