/** Dead letters: the messages that used up their deliveries, what they left behind, and redriving them. */
import type { DeadLettersBody, RedriveResultBody, RunnersBody } from '../../lib/web/schemas';
import { api, segment } from './api';
import { Control } from './controls';
import { formatTime, toneStyle } from './format';
import { usePoll } from './hooks';

const describeRedrive = (result: RedriveResultBody) =>
  [
    result.redriven.length ? `sent back: ${result.redriven.join(', ')}` : 'nothing sent back',
    ...result.skipped.map((skip) => `${skip.name}: ${skip.reason}`),
    ...result.unsent.map((name) => `${name}: reset, not sent (the dispatcher sends it)`),
  ].join('; ');

const redrive = (task: string, names?: string[]) => async () =>
  describeRedrive(await api<RedriveResultBody>('POST', `/dead-letters/${segment(task)}/redrive`, { body: names ? { names } : {} }));

export const DeadLettersPage = ({ task }: { task?: string }) => {
  const runners = usePoll('runners', (signal) => api<RunnersBody>('GET', '/runners', { signal }), 0);
  const letters = usePoll(`dead-letters:${task ?? ''}`, (signal) => api<DeadLettersBody>('GET', '/dead-letters', { query: { task }, signal }));
  const tasks = (runners.data?.runners ?? []).filter((runner) => runner.kind === 'transient').map((runner) => runner.task);
  return (
    <section>
      <h1>Dead letters</h1>
      <p class="filters">
        <label>
          Runner{' '}
          <select value={task ?? ''} onChange={(event) => (location.hash = event.currentTarget.value ? `#/dead-letters/${segment(event.currentTarget.value)}` : '#/dead-letters')}>
            <option value="">every runner</option>
            {tasks.map((name) => (
              <option value={name}>{name}</option>
            ))}
          </select>
        </label>{' '}
        {task && letters.data && letters.data.deadLetters.length > 0 && (
          <Control
            label={`Redrive all of ${task}`}
            testId="redrive-all"
            question={`Send every dead letter of ${task} back to its queue? Each register goes back to "not processed" and runs again.`}
            run={redrive(task)}
            done={letters.reload}
          />
        )}
      </p>
      {letters.error && <p class="note error">{letters.error.message}</p>}
      {letters.data && letters.data.deadLetters.length === 0 && <p class="note" data-testid="no-dead-letters">no dead letters{task ? ` for ${task}` : ''}</p>}
      {letters.data && letters.data.deadLetters.length > 0 && (
        <table class="list" data-testid="dead-letters">
          <thead>
            <tr>
              <th>Runner</th>
              <th>Transient</th>
              <th>Dead-lettered at</th>
              <th class="num">Receives</th>
              <th>Status now</th>
              <th>Reason and last error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {letters.data.deadLetters.map((letter) => (
              <tr data-name={letter.name} data-task={letter.task}>
                <td>{letter.task}</td>
                <td>
                  <a href={`#/transients/${segment(letter.name)}`}>{letter.name}</a>
                </td>
                <td>{formatTime(letter.at)}</td>
                <td class="num">{letter.receiveCount}</td>
                <td>{letter.statusNow && <span class="pill" style={toneStyle({ type: letter.typeNow ?? 'blank' })}>{letter.statusNow}</span>}</td>
                <td>
                  <details>
                    <summary>{letter.reason}</summary>
                    <pre>{letter.body}</pre>
                    <span class="note">message {letter.messageId}</span>
                  </details>
                </td>
                <td>
                  <Control
                    label="Redrive"
                    question={`Send ${letter.name}'s dead letter of ${letter.task} back to its queue?`}
                    run={redrive(letter.task, [letter.name])}
                    done={letters.reload}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
};
