/**
 * The Python runners' packages on AWS: one layer per stack, installed at synth without Docker from the lock for
 * Lambda's Python and machine, shared by every Python runner's function, within Lambda's size limit.
 */
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, readdirSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { LAMBDA_PYTHON_TARGET } from '../../lib/constructs/python-packages-layer';
import { PYTHON_ARCHITECTURE, PYTHON_RUNTIME, PythonRunnerFunction } from '../../lib/constructs/python-runner-function';
import { LAMBDA_PACKAGES_CACHE, lambdaPackagesDir } from '../../lib/python/lambda-packages';
import { REQUIREMENTS_LOCK, lockHash } from '../../lib/python/requirements';
import { pythonRunner } from '../../runners/python-runner';
import { logicalId } from '../helpers/stack';
import { type CfnTemplate, resource } from '../helpers/template';

/** Lambda's limit on a function's code and layers, unzipped. */
const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;
/** e_machine in an ELF header, as Linux names the machines. */
const ELF_MACHINE = { x86_64: 62, aarch64: 183 } as const;

const EXAMPLE = pythonRunner('runners/python/example_runner.py', 'ExampleTaskRunner');
const OTHER = pythonRunner('runners/python/example_runner.py', 'ExampleTaskRunner');

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)]));
const directories = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => [join(dir, entry.name), ...directories(join(dir, entry.name))]);
const sizeOf = (dir: string) => files(dir).reduce((sum, file) => sum + statSync(file).size, 0);
const elfMachine = (file: string): number => {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  return header.readUInt16LE(18);
};
/** `name==version` of every package the lock pins, names as their dist-info folders spell them. */
const pins = readFileSync(REQUIREMENTS_LOCK, 'utf8')
  .split('\n')
  .map((line) => /^([A-Za-z0-9_.-]+)==([^\s\\;]+)/.exec(line))
  .filter((match) => match !== null)
  .map(([, name, version]) => `${name?.toLowerCase().replace(/[-.]/g, '_')}-${version}`);

// Two Python runners' functions in one stack, synthesized with bundling, as `cdk synth` does.
const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'python-packages-')), context: { 'aws:cdk:enable-asset-metadata': true } });
const stack = new Stack(app, 'PythonPackages');
const first = new PythonRunnerFunction(stack, 'First', { runner: EXAMPLE });
const second = new PythonRunnerFunction(stack, 'Second', { runner: OTHER });
const assembly = app.synth();
const template = assembly.getStackByName('PythonPackages').template as CfnTemplate;
const layers = Object.entries(template.Resources).filter(([, candidate]) => candidate.Type === 'AWS::Lambda::LayerVersion');
const [layerId, layerResource] = layers[0] ?? [];
const assetPath = (metadata: Record<string, unknown> | undefined) => join(assembly.directory, String(metadata?.['aws:asset:path']));
const layerDir = assetPath(layerResource?.Metadata);
const site = join(layerDir, 'python');

describe('Stack: the Python runners’ packages', () => {
  it('are one layer for Lambda’s Python and machine, which every Python runner’s function uses', () => {
    expect(layers).toHaveLength(1);
    expect(layerResource?.Properties).toMatchObject({ CompatibleRuntimes: [PYTHON_RUNTIME.name], CompatibleArchitectures: [PYTHON_ARCHITECTURE.name] });
    for (const fn of [first, second]) {
      expect(resource(template, logicalId(fn.function)).Properties).toMatchObject({ Architectures: [PYTHON_ARCHITECTURE.name], Layers: [{ Ref: layerId }] });
    }
  });

  it('hold every package the lock pins, at its version, on the layer’s sys.path folder', () => {
    const installed = readdirSync(site).filter((name) => name.endsWith('.dist-info')).map((name) => name.replace(/\.dist-info$/, '').toLowerCase());
    expect(installed.sort()).toEqual([...pins].sort());
    for (const module of ['numpy', 'scipy', 'astropy', 'photutils']) expect(existsSync(join(site, module, '__init__.py'))).toBe(true);
  });

  it('are built for Lambda’s machine and Python: every wheel’s tag and every shared library', () => {
    const tags = readdirSync(site)
      .filter((name) => name.endsWith('.dist-info'))
      .flatMap((name) => [...readFileSync(join(site, name, 'WHEEL'), 'utf8').matchAll(/^Tag: (.+)$/gm)].map((match) => match[1] ?? ''));
    const [major, minor] = LAMBDA_PYTHON_TARGET.pythonVersion.split('.').map(Number);
    for (const tag of tags) {
      const [python = '', abi = '', platform = ''] = tag.split('-');
      expect(platform === 'any' || platform.endsWith(`_${LAMBDA_PYTHON_TARGET.machine}`), tag).toBe(true);
      // cp313 itself, a stable ABI wheel of an older CPython 3, or pure Python.
      const version = /^cp(\d)(\d+)$/.exec(python);
      const fits = python.startsWith('py3') || (version && Number(version[1]) === major && (abi === 'abi3' ? Number(version[2]) <= (minor ?? 0) : Number(version[2]) === minor));
      expect(fits, tag).toBeTruthy();
    }
    const libraries = files(site).filter((file) => /\.so(\.\d+)*$/.test(file));
    expect(libraries.length).toBeGreaterThan(0);
    expect(new Set(libraries.map(elfMachine))).toEqual(new Set([ELF_MACHINE[LAMBDA_PYTHON_TARGET.machine]]));
  });

  it('leave out compiled bytecode and test suites, keeping the tests package astropy imports', () => {
    const left = directories(site).map((dir) => relative(site, dir));
    expect(left.filter((dir) => dir.endsWith('__pycache__'))).toEqual([]);
    expect(left.filter((dir) => /(^|\/)tests$/.test(dir))).toEqual(['astropy/tests']);
  });

  it('stay, with a function’s own code, within Lambda’s 250 MB unzipped', () => {
    const code = assetPath(resource(template, logicalId(first.function)).Metadata);
    expect(sizeOf(layerDir) + sizeOf(code)).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
  });

  it('are installed once per lock: the synth took them from the cache named by the lock’s hash', () => {
    const cached = lambdaPackagesDir(LAMBDA_PYTHON_TARGET, lockHash(REQUIREMENTS_LOCK), LAMBDA_PACKAGES_CACHE);
    expect(files(cached).map((file) => relative(cached, file)).sort()).toEqual(files(site).map((file) => relative(site, file)).sort());
  });
});
