/**
 * Which invocation a piece of work belongs to, so that a fault can kill the whole invocation — every record of
 * its batch, every call still to come — as a process that dies stops everything at once. The local runtime runs
 * each handler invocation (and the chaos driver each operator action) inside one; work outside any (tests and
 * observers reading the table) is never killed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface Invocation {
  readonly id: string;
  /** The function (or "operator") it runs in. */
  readonly host: string;
  /** Killed: nothing it does from now on happens. */
  dead: boolean;
  /** Called once, when it is killed. */
  readonly onDeath: () => void;
}

/** What an invocation that was killed ends with, as Lambda reports a process that exited. */
export class InvocationKilledError extends Error {
  override readonly name = 'InvocationKilledError';
}

const storage = new AsyncLocalStorage<Invocation>();

export const currentInvocation = (): Invocation | undefined => storage.getStore();

/**
 * Runs `work` as one invocation of `host`. If a fault kills it, the returned promise rejects at once with
 * InvocationKilledError while the work itself stays stopped where it died (its promise never settles).
 */
export const asInvocation = <T>(host: string, work: () => Promise<T>): Promise<T> => {
  let onDeath = () => undefined as void;
  const killed = new Promise<never>((_, reject) => {
    onDeath = () => reject(new InvocationKilledError(`${host} was killed`));
  });
  // Observed here so that a kill nobody awaits is not an unhandled rejection.
  killed.catch(() => undefined);
  const invocation: Invocation = { id: randomUUID(), host, dead: false, onDeath };
  return Promise.race([storage.run(invocation, work), killed]);
};

/** The invocation dies here: the returned promise never settles, so no `finally` and no later step of it runs. */
export const die = (invocation: Invocation): Promise<never> => {
  if (!invocation.dead) {
    invocation.dead = true;
    invocation.onDeath();
  }
  return new Promise<never>(() => undefined);
};
