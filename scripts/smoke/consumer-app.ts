/**
 * Helpers of the consumer smoke tests (test/smoke/) and of `scripts/smoke/peer-check.ts`: pack the
 * kit as npm would publish it, install the tarball into a fresh CDK app at a chosen aws-cdk-lib and
 * constructs, type-check the app as a user's compiler would (skipLibCheck off, so the kit's
 * declarations are checked against that aws-cdk-lib), and synthesize it.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const root = path.resolve(__dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** A failed command, with what it printed. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly output: string,
  ) {
    super(`${command} failed:\n${output}`);
  }
}

/** Runs `cmd` and returns its standard output; throws a {@link CommandError} with both outputs when it fails. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_yes: 'true', npm_config_update_notifier: 'false', ...env },
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new CommandError(`${path.basename(cmd)} ${args.join(' ')}`, [err.stdout, err.stderr].filter(Boolean).join('\n') || err.message);
  }
}

/** {@link run}, returning standard error too (what a run that succeeded warned about). */
export function runWithStderr(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_yes: 'true', npm_config_update_notifier: 'false', ...env },
  });
  if (r.status !== 0) {
    throw new CommandError(`${path.basename(cmd)} ${args.join(' ')}`, [r.stdout, r.stderr, r.error?.message].filter(Boolean).join('\n'));
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

/** {@link run}, without blocking: several installs can download at once. */
export function runAsync(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, npm_config_yes: 'true', npm_config_update_notifier: 'false', ...env },
      },
      (error, stdout, stderr) => {
        if (error)
          reject(new CommandError(`${path.basename(cmd)} ${args.join(' ')}`, [stdout, stderr].filter(Boolean).join('\n') || error.message));
        else resolve(stdout);
      },
    );
  });
}

/** Runs `fn` and returns its result with the seconds it took. */
export function timed<T>(fn: () => T): { result: T; seconds: number } {
  const started = process.hrtime.bigint();
  const result = fn();
  return { result, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** The kit's package.json. */
export function kitManifest(): {
  version: string;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  exports: Record<string, unknown>;
} {
  return readJson(path.join(root, 'package.json'));
}

/** The lowest version a caret range allows: `^2.251.0` → `2.251.0`. The peer ranges are carets on purpose. */
export function lowestOf(range: string): string {
  const m = /^\^(\d+\.\d+\.\d+)$/.exec(range.trim());
  if (!m) throw new Error(`expected a caret range like ^2.251.0, got '${range}'`);
  return m[1];
}

/** The version of `pkg` installed in the kit's own node_modules (the one it is developed against). */
export function devVersion(pkg: string): string {
  return readJson<{ version: string }>(path.join(root, 'node_modules', pkg, 'package.json')).version;
}

/**
 * The newest version of `pkg` on the npm registry, or the version the kit is developed against
 * (its devDependency) when the registry cannot be reached; `source` says which.
 */
export function latestOnNpm(pkg: string): { version: string; source: string } {
  try {
    const version = run(npm, ['view', pkg, 'version'], root).trim();
    if (/^\d+\.\d+\.\d+$/.test(version)) return { version, source: `the npm registry (npm view ${pkg} version)` };
  } catch {
    // offline: fall through
  }
  return { version: devVersion(pkg), source: 'the devDependency (the npm registry could not be reached)' };
}

export const latestAwsCdkLib = () => latestOnNpm('aws-cdk-lib');
export const latestConstructs = () => latestOnNpm('constructs');

/** `npm pack` of the kit (needs `npm run build` first): the tarball and the files it holds. */
export function packKit(destination: string): { tarball: string; files: string[] } {
  const packed = JSON.parse(run(npm, ['pack', '--json', '--pack-destination', destination], root)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return { tarball: path.join(destination, packed[0].filename), files: packed[0].files.map((f) => f.path) };
}

/** The tsconfig of the consumer app: strict, and skipLibCheck off so the kit's declarations are checked. */
export const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'commonjs',
    lib: ['ES2022', 'ESNext.Disposable'],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: false,
    types: [],
  },
};

export interface ConsumerAppOptions {
  /** The folder to create; must not exist. */
  readonly dir: string;
  /** The kit's tarball, from {@link packKit}. */
  readonly tarball: string;
  readonly awsCdkLib: string;
  readonly constructs: string;
  /** The app's sources by file name (`app.ts`, ...). */
  readonly sources: Record<string, string>;
  /**
   * Install even when the versions are outside the kit's peer ranges (`--legacy-peer-deps`), to try
   * versions below the declared floor.
   *
   * @default false - npm checks the peer ranges, as it does for a user
   */
  readonly ignorePeerRanges?: boolean;
  /** More packages to install, as npm specs (`name@version`). @default - none */
  readonly extraPackages?: readonly string[];
}

/**
 * The AWS SDK v3 packages the kit's run-time library loads (`@aws-sdk/*` stays external: Lambda
 * provides it, and a user's handlers install the clients they use as dev dependencies), each at the
 * version the kit's lockfile installed. Needs `npm run build` first.
 */
export function runtimeSdkPackages(): string[] {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.js')) {
        for (const m of fs.readFileSync(file, 'utf8').matchAll(/require\("(@aws-sdk\/[a-z0-9-]+)"\)/g)) names.add(m[1]);
      }
    }
  };
  walk(path.join(root, 'dist', 'lambda', 'runtime'));
  return [...names].sort().map((name) => `${name}@${installedVersion(root, name)}`);
}

/** Creates a CDK app in `dir` with the kit tarball and the given aws-cdk-lib and constructs installed. */
export async function createConsumerApp(options: ConsumerAppOptions): Promise<string> {
  const { dir } = options;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'smoke-app', private: true, version: '0.0.0' }));
  for (const [name, source] of Object.entries(options.sources)) fs.writeFileSync(path.join(dir, name), source);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
  await runAsync(
    npm,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--prefer-offline',
      ...(options.ignorePeerRanges ? ['--legacy-peer-deps'] : []),
      options.tarball,
      `aws-cdk-lib@${options.awsCdkLib}`,
      `constructs@${options.constructs}`,
      ...(options.extraPackages ?? []),
    ],
    dir,
  );
  return dir;
}

/** The version of `pkg` installed in a consumer app. */
export function installedVersion(appDir: string, pkg: string): string {
  return readJson<{ version: string }>(path.join(appDir, 'node_modules', pkg, 'package.json')).version;
}

/** Type-checks and compiles the app (`tsc -p .`, with the kit's TypeScript); throws with tsc's output. */
export function compile(appDir: string): void {
  run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], appDir);
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly [key: string]: unknown;
}

/**
 * Environment of a synth as `cdk synth` gives it: the output folder in `CDK_OUTDIR`, path metadata
 * on (`aws:cdk:path` on every resource, which the tests find resources by).
 */
export function synthEnvironment(outdir: string): NodeJS.ProcessEnv {
  return { CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:enable-path-metadata': true }) };
}

/**
 * Runs the compiled app (`node <entry>`) with only Node.js on the PATH (no esbuild, no Docker) and
 * returns the template of `stackName` from `outdir`.
 */
export function synth(appDir: string, entry: string, stackName: string, outdir = 'cdk.out'): CfnTemplate {
  const out = path.resolve(appDir, outdir);
  fs.rmSync(out, { recursive: true, force: true });
  run(process.execPath, [entry], appDir, { ...synthEnvironment(out), PATH: path.dirname(process.execPath) });
  return readJson<CfnTemplate>(path.join(out, `${stackName}.template.json`));
}

/** The lines of a failure that say what went wrong (tsc's errors, the thrown error), for a report. */
export function firstErrorLines(error: unknown, max = 12): string {
  const text = error instanceof CommandError ? error.output : String(error instanceof Error ? error.message : error);
  // Minified library code can be printed in full above a stack trace: leave it out.
  const lines = text.split('\n').filter((l) => l.trim() !== '' && l.length < 2000);
  const errors = lines.filter((l) => /\b(\w*Error\b|error TS\d+|npm (ERR!|error))|«\w+»/.test(l));
  return (errors.length > 0 ? errors : lines)
    .slice(0, max)
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l))
    .join('\n');
}
