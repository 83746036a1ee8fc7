/**
 * Layers that only point down (issue 12), checked by `npm run lint` (lint:layers). From the bottom:
 *
 *   domain                 lib/domain (and lib/generated, the fixtures' names): pure; zod and Node only
 *   runner API             lib/runner.ts: what runner files import; builds on the domain's declarations
 *   settings, terminal     lib/settings (what the stack sets and the functions read), lib/terminal (colours)
 *   engine                 lib/engine: the protocol, and the ports it declares (store.ts, queues.ts, system.ts)
 *   adapters               lib/store, queue, scratch, secrets, fixtures, python, container: implement the engine's ports; each on its own
 *   handlers, bootstrap    lib/handlers (factories over an engine), lib/bootstrap (config → clients → engine)
 *   web API                lib/web: the web view's API over an engine and the page's bundler, beside lib/handlers
 *   runners                runners/: user code and its science; the runner API and the domain, nothing of the engine
 *   entry points           functions/: the four Lambda handlers, imported by nothing but tests and the benchmark
 *   constructs → stacks    lib/constructs, lib/stacks: read the registry (passed in), the settings, the ports' declarations
 *   chaos                  lib/chaos: fault injection around the engine, imported only by the local runtime, tests, bench
 *   local runtime, CLI     lib/local, lib/cli: beside the stack, never under it; the CLI reads the stack's output names
 *                          (lib/stacks/outputs.ts) and the local runtime's state; the local runtime imports no CLI
 *   web page               web/: the browser's code; the API's schemas and contract (types) and the pure domain only
 *   bin, bench, test       the top: only tests import bin/ (the docs test checks the commands shown against
 *                          bin/cli.ts's program), only tests import test/
 *
 * Each layer names what it may import; anything else in the project is an error, and so is any cycle.
 */
const layer = {
  domain: '^lib/domain/',
  generated: '^lib/generated/',
  runnerApi: '^lib/runner\\.ts$',
  settings: '^lib/settings/',
  terminal: '^lib/terminal/',
  engine: '^lib/engine/',
  adapters: '^lib/(store|queue|scratch|secrets|fixtures|python|container)/',
  bootstrap: '^lib/bootstrap/',
  handlers: '^lib/handlers/',
  web: '^lib/web/',
  runners: '^runners/',
  registry: '^runners/registry\\.ts$',
  entries: '^functions/',
  constructs: '^lib/constructs/',
  stacks: '^lib/stacks/',
  stackOutputs: '^lib/stacks/outputs\\.ts$',
  /** The web view's contract (the API's request and response, config.json): types shared by the page, its API and the stack. */
  webContract: '^lib/web/contract\\.ts$',
  chaos: '^lib/chaos/',
  local: '^lib/local/',
  cli: '^lib/cli/',
  bin: '^bin/',
  bench: '^bench/',
  test: '^test/',
  page: '^web/',
};

const PROJECT = '^(lib|functions|runners|bin|bench|test|web)/';
/** Reported by their own rules below, so that one bad import gives one error. */
const ownRules = [layer.chaos, layer.entries, layer.bin, layer.test];

/** `from` may import only what `allowed` names (and what it is itself); npm packages and Node are not limited here. */
const onlyDown = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: PROJECT, pathNot: [...allowed, ...ownRules] },
});

const { domain, generated, runnerApi, settings, terminal, engine, adapters, bootstrap, handlers, runners, registry } = layer;

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle: these modules import each other, directly or through others. Move what they share down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that resolves to no file (aws-lambda is @types/aws-lambda: types only).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^aws-lambda$' },
    },
    {
      name: 'domain-is-pure',
      comment: 'lib/domain imports no package but zod (no AWS SDK, no Powertools, no CDK): statuses, tasks and transitions only.',
      severity: 'error',
      from: { path: domain },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'], pathNot: 'node_modules/zod/' },
    },
    onlyDown('domain-imports-only-domain', domain, [domain], 'The domain is the bottom layer: it imports nothing of the project outside lib/domain (not the runner API).'),
    onlyDown('generated-imports-nothing', generated, [generated], 'lib/generated holds constants generated from the fixtures; it imports nothing.'),
    onlyDown('runner-api-on-the-domain', runnerApi, [domain], 'The runner API (lib/runner.ts) builds on the domain only.'),
    onlyDown('settings-on-the-domain', settings, [settings, domain, runnerApi], 'lib/settings: what the stack passes to the functions; the domain and the runner API below it only.'),
    onlyDown('terminal-on-the-domain', terminal, [terminal, domain], 'lib/terminal: terminal colours, shared by the CLI and the local runtime; the domain below it only.'),
    onlyDown(
      'engine-on-the-domain',
      engine,
      [engine, domain, runnerApi],
      'The engine imports the domain and the runner API; what it needs of storage, queues and secrets it declares as ports (lib/engine/store.ts, queues.ts, system.ts), which adapters implement.',
    ),
    {
      ...onlyDown(
        'adapters-implement-ports',
        adapters,
        [domain, runnerApi, settings, engine],
        'An adapter (store, queue, scratch, secrets, fixtures) implements a port of the engine; it imports the layers below and its own folder, not another adapter.',
      ),
      // $1: the adapter's own folder.
      to: { path: PROJECT, pathNot: ['^lib/$1/', domain, runnerApi, settings, engine, ...ownRules] },
    },
    onlyDown(
      'handlers-take-an-engine',
      handlers,
      [handlers, domain, runnerApi, settings, engine],
      'A handler factory (lib/handlers) works on the engine it is given: no adapter, no bootstrap, nothing of the local runtime.',
    ),
    onlyDown(
      'web-api-takes-an-engine',
      layer.web,
      [layer.web, domain, runnerApi, settings, engine],
      'The web view\'s API (lib/web) works on the engine it is given, as a handler does: no adapter, no bootstrap, nothing of the local runtime.',
    ),
    onlyDown(
      'bootstrap-wires-adapters',
      bootstrap,
      [bootstrap, domain, runnerApi, settings, engine, adapters],
      'lib/bootstrap builds an engine from a configuration: the adapters, the engine and what is below.',
    ),
    onlyDown(
      'runners-use-the-runner-api',
      runners,
      [runners, runnerApi, domain, generated],
      'Runners (user code) and their science import the runner API (lib/runner.ts), the domain and the generated fixture names, never the engine, its adapters or the handlers.',
    ),
    onlyDown(
      'entry-points-wire-handlers',
      layer.entries,
      [bootstrap, handlers, layer.web, settings, engine, registry],
      'A Lambda entry (functions/) builds its handler: bootstrap, handlers (and the web API), settings, the engine\'s names and the registry.',
    ),
    onlyDown(
      'constructs-read-declarations',
      layer.constructs,
      [layer.constructs, domain, runnerApi, settings, engine, adapters, layer.webContract],
      'A construct reads declarations (settings, the runner API, the ports\' and adapters\' declared needs, the web view\'s contract), never the CLI, the local runtime, a handler or a stack.',
    ),
    onlyDown(
      'stacks-wire-constructs',
      layer.stacks,
      [layer.stacks, layer.constructs, domain, runnerApi, settings, engine, adapters],
      'A stack wires constructs; it never imports the CLI or the local runtime (they sit beside it, and read its output names from lib/stacks/outputs.ts).',
    ),
    onlyDown(
      'chaos-wraps-the-engine',
      layer.chaos,
      [layer.chaos, domain, runnerApi, settings, engine, adapters, bootstrap],
      'Fault injection wraps the engine and its clients from outside; it does not know the local runtime that applies it (lib/local imports lib/chaos, not the other way).',
    ),
    {
      ...onlyDown(
        'local-runtime-beside-the-stack',
        layer.local,
        [layer.local, domain, runnerApi, settings, terminal, engine, adapters, bootstrap, handlers, layer.web, runners],
        'The local runtime runs the handlers as Lambda would, with chaos around them; it imports no CLI, construct or stack (it mirrors the stack through lib/settings).',
      ),
      // The local runtime is one of chaos's three users.
      to: { path: PROJECT, pathNot: [layer.local, domain, runnerApi, settings, terminal, engine, adapters, bootstrap, handlers, layer.web, runners, layer.chaos, ...ownRules] },
    },
    onlyDown(
      'cli-beside-the-stack',
      layer.cli,
      [layer.cli, layer.local, layer.stackOutputs, domain, runnerApi, settings, terminal, engine, adapters, bootstrap],
      'The CLI acts on the local runtime or a deployment: it may read the stack\'s output names (lib/stacks/outputs.ts), never the CDK stack or its constructs.',
    ),
    onlyDown(
      'page-runs-in-the-browser',
      layer.page,
      [layer.page, domain, '^lib/web/(schemas|contract)\\.ts$'],
      'The web page (web/) runs in a browser: it imports the API\'s schemas and contract (for their types) and the pure domain, nothing that needs Node or AWS.',
    ),
    {
      name: 'chaos-only-in-local-runtime-tests-bench',
      comment: 'Fault injection is imported only by the local runtime, the tests and the benchmark; production code (handlers, functions, engine, constructs, stacks) never imports it.',
      severity: 'error',
      from: { pathNot: [layer.chaos, layer.local, layer.test, layer.bench] },
      to: { path: layer.chaos },
    },
    {
      name: 'functions-are-entry-points',
      comment: 'functions/ holds the Lambda entry points only; nothing imports them but the tests and the benchmark (shared code goes in lib/ or runners/).',
      severity: 'error',
      from: { pathNot: [layer.test, layer.bench] },
      to: { path: layer.entries },
    },
    {
      name: 'only-tests-import-bin',
      comment: 'bin/ holds the CDK app and the CLI\'s command line: programs, not modules (a test may read bin/cli.ts\'s program).',
      severity: 'error',
      from: { pathNot: layer.test },
      to: { path: layer.bin },
    },
    {
      name: 'only-tests-import-test',
      comment: 'Only tests import test/.',
      severity: 'error',
      from: { pathNot: layer.test },
      to: { path: layer.test },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|\\.blast-local)/' },
    // Type-only imports count: a layer that needs a type from above depends on it all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.json'],
    },
  },
};
