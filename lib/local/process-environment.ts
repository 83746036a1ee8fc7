/**
 * The handlers' environment on this process, where Lambda would give each function its own: the variables every
 * running local runtime set, the newest one's value where two set the same, and the process's own value back once
 * no running runtime sets it, whatever order the runtimes stop in.
 */
interface Setting {
  readonly values: Readonly<Record<string, string>>;
}

const running: Setting[] = [];
/** What the process had before the first running runtime set each variable. */
const original = new Map<string, string | undefined>();

export interface EnvironmentLease {
  /** Takes this runtime's values out (once): each variable goes to the newest other runtime's value, or the process's own. */
  release(): void;
}

export const applyEnvironment = (values: Readonly<Record<string, string>>): EnvironmentLease => {
  for (const key of Object.keys(values)) if (!original.has(key)) original.set(key, process.env[key]);
  const setting: Setting = { values };
  running.push(setting);
  Object.assign(process.env, values);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      running.splice(running.indexOf(setting), 1);
      for (const key of Object.keys(values)) {
        const newest = running.findLast((other) => key in other.values);
        if (newest) {
          process.env[key] = newest.values[key];
          continue;
        }
        const before = original.get(key);
        original.delete(key);
        if (before === undefined) delete process.env[key];
        else process.env[key] = before;
      }
    },
  };
};
