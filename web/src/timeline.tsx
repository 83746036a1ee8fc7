/**
 * Each task's attempts on one time axis (the run history): a bar per attempt from its start to its end, coloured by
 * what it came to; a chosen attempt's duration, error, version, run id and log, and the output it saved (read back
 * even after a later run superseded it, as `history NAME TASK --run ID`).
 */
import { useState } from 'preact/hooks';
import type { RunBody, RunDetailBody } from '../../lib/web/schemas';
import { api, segment } from './api';
import { formatSeconds, formatTime, squareColour, toneStyle } from './format';

/** The narrowest bar, in percent of the axis, so a run of a few milliseconds among hours still shows. */
const MIN_WIDTH_PERCENT = 0.6;

/** Where an attempt ends on the axis: its end, or now while it runs (or if it died without one). */
const endOf = (run: RunBody, now: number) => run.endedAt ?? Math.max(run.startedAt, now);

const seconds = (run: RunBody) => (run.durationMs === undefined ? undefined : run.durationMs / 1000);

/** One line naming an attempt, for its bar's tooltip. */
const describe = (run: RunBody) =>
  [
    `${run.task} · attempt ${run.attempt} · ${run.status}`,
    `${formatTime(run.startedAt)}${run.endedAt === undefined ? ' (no end recorded)' : `, ${formatSeconds(seconds(run))}`}`,
    ...(run.error ? [run.error] : []),
    `version ${run.version} · run ${run.run}`,
  ].join('\n');

export const Timeline = ({ name, tasks, runs }: { name: string; tasks: readonly string[]; runs: readonly RunBody[] }) => {
  const [chosen, choose] = useState<{ task: string; run: string } | undefined>(undefined);
  if (runs.length === 0) return <p class="note">no attempts recorded yet (the run history keeps them for a set number of days)</p>;
  const now = Date.now();
  const start = Math.min(...runs.map((run) => run.startedAt));
  const end = Math.max(...runs.map((run) => endOf(run, now)));
  const span = Math.max(1, end - start);
  const at = (ms: number) => ((ms - start) / span) * 100;
  const selected = chosen && runs.find((run) => run.task === chosen.task && run.run === chosen.run);
  return (
    <div class="timeline" data-testid="timeline">
      <div class="timeline-axis note">
        <span>{formatTime(start)}</span>
        <span>{formatSeconds(span / 1000)}</span>
        <span>{formatTime(end)}</span>
      </div>
      {tasks.map((task) => {
        // Oldest first, so the bars read left to right as the attempts happened.
        const attempts = runs.filter((run) => run.task === task).reverse();
        return (
          <div class="timeline-row" data-task={task}>
            <span class="timeline-task">{task}</span>
            <span class="timeline-track">
              {attempts.map((run) => (
                <button
                  type="button"
                  class={`bar${selected === run ? ' chosen' : ''}${run.current ? ' current' : ''}`}
                  data-run={run.run}
                  data-status={run.status}
                  data-type={run.type}
                  title={describe(run)}
                  aria-label={describe(run)}
                  style={{
                    left: `${Math.min(at(run.startedAt), 100 - MIN_WIDTH_PERCENT)}%`,
                    width: `${Math.max(MIN_WIDTH_PERCENT, at(endOf(run, now)) - at(run.startedAt))}%`,
                    background: squareColour({ type: run.type }),
                  }}
                  onClick={() => choose(selected === run ? undefined : { task: run.task, run: run.run })}
                />
              ))}
            </span>
            <span class="timeline-count note">{attempts.length === 0 ? '' : attempts.length === 1 ? '1 attempt' : `${attempts.length} attempts`}</span>
          </div>
        );
      })}
      {selected ? <Attempt name={name} run={selected} key={`${selected.task}/${selected.run}`} /> : <p class="note">choose a bar to see its attempt</p>}
    </div>
  );
};

const Attempt = ({ name, run }: { name: string; run: RunBody }) => {
  const [detail, setDetail] = useState<{ body?: RunDetailBody; error?: string; loading?: boolean }>({});
  const read = () => {
    setDetail({ loading: true });
    api<RunDetailBody>('GET', `/transients/${segment(name)}/runs/${segment(run.task)}/${segment(run.run)}`)
      .then((body) => setDetail({ body }))
      .catch((error: unknown) => setDetail({ error: error instanceof Error ? error.message : String(error) }));
  };
  const output = detail.body?.output;
  return (
    <dl class="attempt" data-testid="attempt">
      <dt>Attempt</dt>
      <dd>
        {run.task} · attempt {run.attempt} ·{' '}
        <span class="pill" style={toneStyle({ type: run.type })}>
          {run.status}
        </span>{' '}
        {run.current ? '(the register holds its result)' : run.recorded === false ? '(its result was not recorded: its claim was lost)' : '(superseded)'}
      </dd>
      <dt>When</dt>
      <dd>
        {formatTime(run.startedAt)} → {run.endedAt === undefined ? 'no end recorded' : `${formatTime(run.endedAt)}, ${formatSeconds(seconds(run))}`}
      </dd>
      {run.error && (
        <>
          <dt>Error</dt>
          <dd class="error" data-testid="attempt-error">
            {run.error}
          </dd>
        </>
      )}
      <dt>Version</dt>
      <dd>
        {run.version} · inputs {run.fingerprint}
      </dd>
      <dt>Run</dt>
      <dd>
        <code>{run.run}</code>
      </dd>
      <dt>Log</dt>
      <dd data-testid="attempt-log">{run.log ? run.log.href ? <a href={run.log.href} target="_blank" rel="noopener noreferrer">{run.log.text}</a> : run.log.text : 'not recorded'}</dd>
      {run.artifacts && (
        <>
          <dt>Artifacts</dt>
          <dd>{run.artifacts.join(', ')}</dd>
        </>
      )}
      <dt>Output</dt>
      <dd>
        {detail.body ? (
          <pre data-testid="attempt-output">
            {output?.data !== undefined
              ? JSON.stringify(output.data, null, 2)
              : output?.spilled
                ? `too large for an item: ${output.spilled.key}`
                : '(none saved)'}
            {`\ninputs ${JSON.stringify(detail.body.inputs)}`}
          </pre>
        ) : (
          <button type="button" data-testid="read-output" disabled={detail.loading} onClick={read}>
            Read its output
          </button>
        )}
        {detail.error && <span class="note error"> {detail.error}</span>}
      </dd>
    </dl>
  );
};
