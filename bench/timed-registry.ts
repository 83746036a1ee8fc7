/** runners/registry.ts with each runner timed (runner-time.ts): the registry of the benchmark's example bundle. */
import { registry as exampleRegistry } from '../runners/registry';
import { timedRunners } from './runner-time';

export const registry = timedRunners(exampleRegistry);
