/**
 * Bundles the Lambda entry points with esbuild, as the stack packages them, so that the benchmark runs each
 * function as Lambda would: its own module instance, configured by the environment it was loaded with.
 * The registry may be swapped for another module (the no-op runners) without touching the handlers.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { build } from 'esbuild';
import type { Handlers } from '../lib/local/runtime';
import { REGISTRY_IMPORT } from '../lib/settings/registry';

export const HANDLER_ENTRIES = {
  dispatcher: 'functions/dispatcher.ts',
  'transient-worker': 'functions/transient-worker.ts',
  'system-worker': 'functions/system-worker.ts',
  'dead-letter': 'functions/dead-letter.ts',
} as const;

const bundle = async (entryPoints: Record<string, string>, outdir: string, alias: Record<string, string> = {}) => {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    // Dependencies load from node_modules, as Lambda loads the SDK from its runtime.
    packages: 'external',
    logLevel: 'warning',
    alias,
  });
};

/** Writes dispatcher.mjs, transient-worker.mjs, system-worker.mjs and dead-letter.mjs to `outdir`. */
export const bundleHandlers = (outdir: string, registryModule?: string) =>
  bundle(HANDLER_ENTRIES, outdir, registryModule ? { [REGISTRY_IMPORT]: resolve(registryModule) } : {});

/** Bundles one script (a child process of the benchmark) to `outdir/<name>.mjs`; returns its path. */
export const bundleScript = async (name: string, entry: string, outdir: string): Promise<string> => {
  await bundle({ [name]: entry }, outdir);
  return join(outdir, `${name}.mjs`);
};

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * Imports one bundled function. Each `instance` is a fresh module, whose module scope reads the environment
 * as it is now: two functions of one bundle can run side by side with different settings, as in Lambda.
 */
export const importHandler = async (dir: string, name: keyof typeof HANDLER_ENTRIES, instance: string): Promise<Handler> => {
  const module: unknown = await import(`${pathToFileURL(join(dir, `${name}.mjs`)).href}?instance=${encodeURIComponent(instance)}`);
  const handler = typeof module === 'object' && module !== null && 'handler' in module ? module.handler : undefined;
  if (typeof handler !== 'function') throw new Error(`${dir}/${name}.mjs exports no handler function`);
  return handler as Handler;
};

/** All four handlers from a bundle directory, with environment overrides for some of them. */
export const importBundledHandlers = async (
  dir: string,
  instance: string,
  envFor: Partial<Record<keyof typeof HANDLER_ENTRIES, Record<string, string>>> = {},
): Promise<Handlers> => {
  const load = async (name: keyof typeof HANDLER_ENTRIES) => {
    const overrides = envFor[name] ?? {};
    const saved = Object.fromEntries(Object.keys(overrides).map((key) => [key, process.env[key]]));
    Object.assign(process.env, overrides);
    try {
      return await importHandler(dir, name, instance);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  };
  // One at a time: each import reads the environment as its overrides leave it.
  const dispatcher = await load('dispatcher');
  const transientWorker = (await load('transient-worker')) as Handlers['transientWorker'];
  const systemWorker = await load('system-worker');
  const deadLetter = await load('dead-letter');
  return { dispatcher, transientWorker, systemWorker, deadLetter: deadLetter as Handlers['deadLetter'] };
};

const taskOfBody = (body: string | undefined): string | undefined => {
  try {
    const task: unknown = JSON.parse(body ?? '').task;
    return typeof task === 'string' ? task : undefined;
  } catch {
    return undefined;
  }
};

/**
 * One worker function per runner, as the stack deploys them: each runner's invocations go to a module
 * instance (and so an engine and SDK clients) of their own, chosen by the task their messages name. Anything
 * unreadable goes to `fallback`, which reports it as Lambda's would.
 */
export const workerPerTask = async (
  dir: string,
  instance: string,
  tasks: readonly string[],
  fallback: Handlers['transientWorker'],
  env: Record<string, string> = {},
): Promise<Handlers['transientWorker']> => {
  const workers = new Map<string, Handlers['transientWorker']>();
  for (const task of tasks) {
    const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
    Object.assign(process.env, env);
    try {
      workers.set(task, (await importHandler(dir, 'transient-worker', `${instance}-${task}`)) as Handlers['transientWorker']);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  }
  return (event, context) => (workers.get(taskOfBody(event.Records[0]?.body) ?? '') ?? fallback)(event, context);
};
