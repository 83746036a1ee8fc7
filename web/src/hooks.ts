/** Loading and polling: the page refreshes what it shows every few seconds, so the grid fills in as runs finish. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** How often a shown page is read again. */
export const POLL_MS = 2000;

export interface Loaded<T> {
  readonly data?: T;
  readonly error?: Error;
  /** Reads again now (after a control). */
  readonly reload: () => void;
}

/** Loads with `load` whenever `key` changes, then again every `every` ms while the page is shown. */
export const usePoll = <T>(key: string, load: (signal: AbortSignal) => Promise<T>, every = POLL_MS): Loaded<T> => {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error }>({ key });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = () => {
      loadRef
        .current(controller.signal)
        .then((data) => setState({ key, data }))
        .catch((error: unknown) => {
          if (controller.signal.aborted) return;
          setState((previous) => ({ ...previous, key, error: error instanceof Error ? error : new Error(String(error)) }));
        })
        .finally(() => {
          if (!controller.signal.aborted && every > 0) timer = setTimeout(run, document.hidden ? every * 5 : every);
        });
    };
    run();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [key, tick, every]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  // What was loaded for another key is not shown as this one's.
  return state.key === key ? { ...(state.data === undefined ? {} : { data: state.data }), ...(state.error ? { error: state.error } : {}), reload } : { reload };
};
