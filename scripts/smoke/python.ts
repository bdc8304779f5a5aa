/**
 * The Python side of the smoke tests: a virtualenv with aws-cdk-lib (the newest on PyPI), constructs
 * and the kit's wheel from `npm run package:python`.
 *
 * The virtualenv is cached in node_modules/.cache/cdk-messaging-patterns/python-smoke/ (ignored by
 * git, ESLint and Prettier like the rest of node_modules) and reused while its inputs are the same:
 * the Python version, the aws-cdk-lib version, and the wheel's requirements. The kit's wheel itself
 * changes with every build, so it is reinstalled into the cached virtualenv (no dependencies, no
 * index). Downloads go through pip's own cache.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, root, run } from './consumer-app';

export const PYTHON_CACHE = path.join(root, 'node_modules', '.cache', 'cdk-messaging-patterns', 'python-smoke');
const PIP_ENV = { PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };

/** The Python the virtualenv is made from: `$PYTHON`, else `python3`. */
export const systemPython = (): string => process.env.PYTHON ?? 'python3';

/** Runs a Python snippet and returns what it printed. */
export function python(interpreter: string, code: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): string {
  return run(interpreter, ['-c', code, ...args], root, { ...PIP_ENV, ...env });
}

/** The wheel `npm run package:python` built into dist-jsii/python/. */
export function builtWheel(): string {
  const dir = path.join(root, 'dist-jsii', 'python');
  const wheels = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.whl')) : [];
  if (wheels.length !== 1) throw new Error(`expected one wheel in ${dir}, found ${wheels.length}: run npm run package:python`);
  return path.join(dir, wheels[0]);
}

/** The files of the wheel, and of the jsii tarball inside it (`package/...`). */
export function wheelContents(wheel: string): { wheel: string[]; tarball: string[]; requires: string[] } {
  const out = python(
    systemPython(),
    `
import io, json, sys, tarfile, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
tgz = [n for n in names if n.endswith('.jsii.tgz')]
members = tarfile.open(fileobj=io.BytesIO(z.read(tgz[0])), mode='r:gz').getnames() if len(tgz) == 1 else []
meta = next(n for n in names if n.endswith('.dist-info/METADATA'))
requires = [l.split(':', 1)[1].strip() for l in z.read(meta).decode().splitlines() if l.startswith('Requires-Dist:')]
print(json.dumps({'wheel': names, 'tarball': members, 'requires': requires}))
`,
    [wheel],
  );
  return JSON.parse(out) as { wheel: string[]; tarball: string[]; requires: string[] };
}

/** The newest aws-cdk-lib on PyPI (`pip index versions`), or undefined when PyPI cannot be reached. */
export function newestOnPyPI(pkg: string): string | undefined {
  try {
    const out = run(systemPython(), ['-m', 'pip', 'index', 'versions', pkg], root, PIP_ENV);
    return /^\S+ \((\d+\.\d+\.\d+)\)/m.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

export interface PythonEnv {
  /** The virtualenv's interpreter. */
  readonly python: string;
  /** Whether the cached virtualenv was reused (only the kit's wheel reinstalled). */
  readonly reused: boolean;
  /** Where the aws-cdk-lib version came from. */
  readonly awsCdkLibSource: string;
  /** Installed versions of aws-cdk-lib, constructs, jsii and the kit. */
  readonly versions: Record<string, string>;
}

/** A virtualenv with aws-cdk-lib, constructs and the kit's wheel: the cached one when its inputs did not change. */
export function pythonEnv(wheel: string, requires: string[]): PythonEnv {
  const venv = path.join(PYTHON_CACHE, 'venv');
  const keyFile = path.join(PYTHON_CACHE, 'inputs.json');
  const interpreter = path.join(venv, 'bin', 'python');
  const newest = newestOnPyPI('aws-cdk-lib');
  // PyPI gets aws-cdk-lib releases later than npm: a floor above its newest cannot be installed.
  const floor = requires.map((r) => /^aws-cdk-lib\b.*>=\s*(\d+\.\d+\.\d+)/.exec(r)?.[1]).find(Boolean);
  if (newest && floor && compareVersions(floor, newest) > 0) {
    throw new Error(`the kit requires aws-cdk-lib >=${floor}, but the newest on PyPI is ${newest}: Python users cannot install it yet`);
  }
  const key = {
    python: python(systemPython(), 'import sys; print(sys.version)').trim(),
    awsCdkLib: newest ?? 'unknown (PyPI not reached)',
    requires: [...requires].sort(),
  };
  const cached = fs.existsSync(keyFile) ? readJson<typeof key>(keyFile) : undefined;
  // Offline, any cached virtualenv made from the same Python and requirements will do.
  const reusable =
    cached !== undefined &&
    fs.existsSync(interpreter) &&
    cached.python === key.python &&
    JSON.stringify(cached.requires) === JSON.stringify(key.requires) &&
    (newest === undefined || cached.awsCdkLib === key.awsCdkLib);

  if (reusable) {
    run(interpreter, ['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-index', '--force-reinstall', wheel], root, PIP_ENV);
  } else {
    fs.rmSync(PYTHON_CACHE, { recursive: true, force: true });
    fs.mkdirSync(PYTHON_CACHE, { recursive: true });
    run(systemPython(), ['-m', 'venv', venv], root);
    // The wheel brings constructs, jsii and publication from its requirements.
    run(interpreter, ['-m', 'pip', 'install', '--quiet', newest ? `aws-cdk-lib==${newest}` : 'aws-cdk-lib', wheel], root, PIP_ENV);
    fs.writeFileSync(
      keyFile,
      JSON.stringify({ ...key, awsCdkLib: newest ?? installedPythonVersions(interpreter)['aws-cdk-lib'] }, null, 2),
    );
  }
  return {
    python: interpreter,
    reused: reusable,
    awsCdkLibSource: newest ? 'the newest on PyPI (pip index versions aws-cdk-lib)' : 'the cached virtualenv (PyPI could not be reached)',
    versions: installedPythonVersions(interpreter),
  };
}

export function installedPythonVersions(interpreter: string): Record<string, string> {
  return JSON.parse(
    python(
      interpreter,
      `
import json
from importlib.metadata import version
print(json.dumps({n: version(n) for n in ('aws-cdk-lib', 'constructs', 'jsii', 'cdk-messaging-patterns')}))
`,
    ),
  ) as Record<string, string>;
}

/**
 * The npm tarballs the Python packages carry for jsii (`<package>/_jsii/*.jsii.tgz`: aws-cdk-lib,
 * its asset and schema packages, constructs, the kit), unpacked into `<dir>/node_modules`: the very
 * JavaScript the Python binding runs, for a TypeScript twin of a Python app.
 */
export function unpackJsiiTarballs(interpreter: string, dir: string): string[] {
  const tarballs = JSON.parse(
    python(
      interpreter,
      `
import json, pathlib, sysconfig
print(json.dumps(sorted(str(p) for p in pathlib.Path(sysconfig.get_paths()['purelib']).glob('**/_jsii/*.jsii.tgz'))))
`,
    ),
  ) as string[];
  const modules = path.join(dir, 'node_modules');
  const names: string[] = [];
  for (const tarball of tarballs) {
    const staging = fs.mkdtempSync(path.join(dir, 'unpack-'));
    run('tar', ['-xzf', tarball, '-C', staging], dir);
    const { name } = readJson<{ name: string }>(path.join(staging, 'package', 'package.json'));
    fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
    fs.renameSync(path.join(staging, 'package'), path.join(modules, name));
    fs.rmSync(staging, { recursive: true, force: true });
    names.push(name);
  }
  return names.sort();
}
