/**
 * How the entry points (functions/) import the registry: package.json's `imports` maps this name to
 * runners/registry.ts, and a bundle may alias it to another module (a stack's `registryModule`, the benchmark's
 * no-op runners).
 */
export const REGISTRY_IMPORT = '#registry';
