/** A control (retrigger, reprocess, redrive): a button, a confirmation naming what will happen, then the call. */
import { useState } from 'preact/hooks';

export interface ControlProps {
  /** The button's text, e.g. "Retrigger". */
  readonly label: string;
  /** What the confirmation says will happen. */
  readonly question: string;
  readonly run: () => Promise<string>;
  /** Called after the control ran, e.g. to read the page again. */
  readonly done?: () => void;
  readonly testId?: string;
}

export const Control = ({ label, question, run, done, testId }: ControlProps) => {
  const [state, setState] = useState<{ step: 'idle' | 'confirm' | 'running' } | { step: 'done'; message: string; failed: boolean }>({ step: 'idle' });
  const confirm = () => {
    setState({ step: 'running' });
    run()
      .then((message) => setState({ step: 'done', message, failed: false }))
      .catch((error: unknown) => setState({ step: 'done', message: error instanceof Error ? error.message : String(error), failed: true }))
      .finally(() => done?.());
  };
  return (
    <span class="control">
      <button type="button" data-testid={testId} disabled={state.step === 'running'} onClick={() => setState({ step: 'confirm' })}>
        {label}
      </button>
      {state.step === 'confirm' && (
        <div class="dialog-backdrop">
          <div class="dialog" role="alertdialog" aria-label={`${label}?`}>
            <p>{question}</p>
            <div class="dialog-buttons">
              <button type="button" onClick={() => setState({ step: 'idle' })}>
                Cancel
              </button>
              <button type="button" class="primary" data-testid="confirm" onClick={confirm}>
                {label}
              </button>
            </div>
          </div>
        </div>
      )}
      {state.step === 'done' && (
        <span class={state.failed ? 'note error' : 'note'} data-testid="control-result">
          {state.message}
        </span>
      )}
    </span>
  );
};
