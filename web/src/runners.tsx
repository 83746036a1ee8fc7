/** The runners: their queues' depths, the ready backlog the dispatcher has not sent, and their dead letters. */
import type { RunnersBody } from '../../lib/web/schemas';
import { api, segment } from './api';
import { formatAge } from './format';
import { usePoll } from './hooks';

const every = (seconds: number) => (seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

export const RunnersPage = () => {
  const runners = usePoll('runners', (signal) => api<RunnersBody>('GET', '/runners', { signal }));
  if (runners.error) return <p class="note error">{runners.error.message}</p>;
  if (!runners.data) return <p class="note">loading…</p>;
  return (
    <section>
      <h1>Runners</h1>
      <table class="list" data-testid="runners">
        <thead>
          <tr>
            <th>Task</th>
            <th>Kind</th>
            <th>Every</th>
            <th>Schedule</th>
            <th class="num">Queued</th>
            <th class="num">In flight</th>
            <th class="num">Ready, not sent</th>
            <th class="num">Oldest ready</th>
            <th class="num">Dead letters</th>
          </tr>
        </thead>
        <tbody>
          {runners.data.runners.map((runner) => (
            <tr data-task={runner.task}>
              <td>{runner.task}</td>
              <td>{runner.kind}</td>
              <td>{every(runner.frequencySeconds)}</td>
              <td>{runner.initiallyEnabled ? 'enabled' : 'disabled at first'}</td>
              <td class="num">{runner.queue ? runner.queue.visible + runner.queue.delayed : ''}</td>
              <td class="num">{runner.queue?.inFlight ?? ''}</td>
              <td class="num">
                {runner.ready ? `${runner.ready.waiting}${runner.ready.more ? '+' : ''}` : ''}
                {runner.ready?.backfill ? <span class="lane" data-testid="backfill-ready"> ({runner.ready.backfill} backfill)</span> : null}
              </td>
              <td class="num">{formatAge(runner.ready?.oldestReadyAt)}</td>
              <td class="num">
                {runner.kind === 'transient' &&
                  (runner.deadLetters ? <a href={`#/dead-letters/${segment(runner.task)}`}>{runner.deadLetters}</a> : (runner.deadLetters ?? ''))}
                {runner.deadLetterQueue && runner.deadLetterQueue.visible + runner.deadLetterQueue.inFlight > 0 ? (
                  <span class="note"> (+{runner.deadLetterQueue.visible + runner.deadLetterQueue.inFlight} in the queue)</span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="note">
        Queued and in flight: SQS's approximate counts of the runner's queue. Ready, not sent: the ready index (at most a page per shard), which the
        dispatcher sends on its schedule, live work before a backfill's.
      </p>
    </section>
  );
};
