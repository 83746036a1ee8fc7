/**
 * One transient: its graph coloured by its statuses, what blocks it, each task's register (its version, whether it is
 * stale and why), its attempts on a timeline, and the controls.
 */
import type { ResetBody, TransientBody, WorkflowBody } from '../../lib/web/schemas';
import { api, segment } from './api';
import { Control } from './controls';
import { formatSeconds, formatTime, toneStyle } from './format';
import { WorkflowGraph } from './graph';
import { usePoll } from './hooks';
import { Timeline } from './timeline';
import { loadWorkflow } from './workflow';

const describeReset = (result: ResetBody) =>
  result.reset.length === 0 && result.sent.length === 0
    ? 'nothing to reset'
    : `reset ${result.reset.map((reset) => `${reset.task} (was ${reset.from})`).join(', ') || 'nothing'}${result.sent.length ? `; sent ${result.sent.join(', ')}` : ''}`;

export const TransientPage = ({ name }: { name: string }) => {
  const workflow = usePoll('workflow', () => loadWorkflow(), 0);
  const transient = usePoll(`transient:${name}`, (signal) => api<TransientBody>('GET', `/transients/${segment(name)}`, { signal }));
  if (transient.error) return <p class="note error">{transient.error.message}</p>;
  if (!transient.data || !workflow.data) return <p class="note">loading…</p>;
  return <TransientView body={transient.data} workflow={workflow.data} reload={transient.reload} />;
};

const TransientView = ({ body, workflow, reload }: { body: TransientBody; workflow: WorkflowBody; reload: () => void }) => {
  const { transient, registers } = body;
  const causes = [...new Set(registers.flatMap((register) => register.blockedBy ?? []))];
  const statusOf = (task: string) => registers.find((register) => register.task === task)?.status ?? '';
  const blockedCount = registers.filter((register) => register.blockedBy).length;
  const staleCount = registers.filter((register) => register.staleReasons).length;
  const reset = (operation: 'retrigger' | 'reprocess') => async () =>
    describeReset(await api<ResetBody>('POST', `/transients/${segment(transient.name)}/${operation}`));
  return (
    <section>
      <p class="crumbs">
        <a href="#/">Transients</a> › {transient.name}
      </p>
      <h1>
        {transient.name} <span class={`badge ${body.processingStatus}`} data-testid="processing-status">{body.processingStatus}</span>{' '}
        <span class="note">{body.progress}%</span>
      </h1>
      <p class="note">
        public {transient.publicTimestamp} · ra {transient.raDeg} · dec {transient.decDeg}
        {transient.redshift === undefined ? '' : ` · z ${transient.redshift}`}
        {transient.spectroscopicClass ? ` · ${transient.spectroscopicClass}` : ''}
      </p>
      {causes.length > 0 && (
        <p class="blocked-banner" data-testid="blocked-by">
          {blockedCount} {blockedCount === 1 ? 'task is' : 'tasks are'} blocked by {causes.map((cause) => `${cause} (${statusOf(cause)})`).join(', ')}
        </p>
      )}
      {staleCount > 0 && (
        <p class="stale-banner" data-testid="stale">
          {staleCount} {staleCount === 1 ? 'result is' : 'results are'} stale: {registers.filter((register) => register.staleReasons).map((register) => register.task).join(', ')}
        </p>
      )}
      <div class="controls">
        <Control
          label="Retrigger"
          testId="retrigger"
          question={`Retrigger ${transient.name}? Failed tasks and runs that died go back to "not processed" and run again; runs in flight finish.`}
          run={reset('retrigger')}
          done={reload}
        />
        <Control
          label="Reprocess"
          testId="reprocess"
          question={`Reprocess ${transient.name}? Every task goes back to "not processed" and the whole workflow runs again; results of runs in flight are discarded.`}
          run={reset('reprocess')}
          done={reload}
        />
      </div>
      <div class="graph-wrap">
        <WorkflowGraph workflow={workflow} cells={registers.map((register) => ({ status: register.status, type: register.type, ...(register.blockedBy ? { blocked: true } : {}) }))} />
      </div>
      <h2>Tasks</h2>
      <table class="list" data-testid="registers">
        <thead>
          <tr>
            <th>Task</th>
            <th>Status</th>
            <th>Last modified</th>
            <th class="num">Time</th>
            <th class="num">Attempt</th>
            <th>Version</th>
            <th>Note</th>
            <th>Artifacts</th>
          </tr>
        </thead>
        <tbody>
          {registers.map((register) => (
            <tr data-task={register.task}>
              <td>{register.task}</td>
              <td>
                <span class="pill" style={toneStyle({ type: register.type, ...(register.blockedBy ? { blocked: true } : {}) })} data-testid="status">
                  {register.status}
                </span>
              </td>
              <td>{formatTime(register.lastModified)}</td>
              <td class="num">{formatSeconds(register.processingSeconds)}</td>
              <td class="num">{register.attempt ?? ''}</td>
              <td title={register.currentVersion ? `the version now: ${register.currentVersion}` : undefined}>{register.version ?? ''}</td>
              <td class={register.lastError || register.deadLettered || register.staleReasons ? 'error' : 'note'} data-testid="note">
                {register.staleReasons && <span data-testid="stale-reasons">stale: {register.staleReasons.join('; ')}</span>}
                {register.staleReasons && ' · '}
                {register.blockedBy
                  ? `blocked by ${register.blockedBy.join(', ')}`
                  : register.deadLettered
                    ? `dead-lettered${register.lastError ? `: ${register.lastError}` : ''}`
                    : (register.lastError ?? (register.ready ? 'ready' : ''))}
                {register.lane === 'backfill' && <span class="lane"> backfill</span>}
              </td>
              <td>
                {(register.output?.artifacts ?? []).map((artifact) => (
                  <span class="artifact" title={`${artifact.key} · sha256 ${artifact.sha256}`}>
                    {artifact.name} ({Math.ceil(artifact.size / 1024)} KB)
                  </span>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Attempts</h2>
      <Timeline name={transient.name} tasks={workflow.tasks.map((task) => task.name).filter((task) => registers.some((register) => register.task === task))} runs={body.runs} />
    </section>
  );
};
