#!/usr/bin/env node
// `npm run bench`: figures, not a test. Self-contained: uses the LocalStack the project's script
// manages (starting it when none runs, and stopping it afterwards only if it started it), bundles
// the bench with esbuild (so it measures the current source, not a stale dist/), and runs it.
//
//   BENCH_MESSAGES=200   messages per path and variant
//   BENCH_ONLY=publish   only these benches (comma-separated: idempotency, publish)
//   LOCALSTACK_PORT / LOCALSTACK_ENDPOINT   as for scripts/localstack.sh
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const localstack = (...args) =>
  execFileSync('bash', [join(root, 'scripts', 'localstack.sh'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let startedHere = false;
try {
  localstack('status');
} catch {
  console.error('[bench] no LocalStack running: starting one');
  localstack('start');
  startedHere = true;
}

const out = mkdtempSync(join(tmpdir(), 'cmp-bench-'));
try {
  // The emulator's endpoint and credentials, as the integration tests get them.
  for (const line of localstack('env').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) process.env[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
  }
  delete process.env.AWS_PROFILE;

  // One self-contained bundle (SDK and Powertools included), so it runs from the temp folder.
  const outfile = join(out, 'bench.mjs');
  await esbuild.build({
    entryPoints: [join(root, 'scripts', 'bench', 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const { main } = await import(pathToFileURL(outfile).href);
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
  if (startedHere) localstack('stop');
}
