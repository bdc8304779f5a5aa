#!/usr/bin/env node
// Builds dist/: lambda/runtime/ compiled by tsc (with type declarations), every handler pre-bundled
// by esbuild under dist/lambda/<pattern>/<handler>/index.js (minified, @aws-sdk/* external, source
// maps; constructs point their lambda.Code at those bundles), then lib/ compiled by jsii into
// dist/lib/ with the jsii assembly (.jsii) that jsii-docgen (API.md) and jsii-pacmak (Python) read.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const lambdaDir = join(root, 'lambda');
const staging = join(root, `dist.staging-${process.pid}`);

/** `lambda/<pattern>/<handler>/index.ts` for every pattern folder except the runtime library. */
export function findHandlers() {
  const handlers = [];
  for (const pattern of readdirSync(lambdaDir)) {
    if (pattern === 'runtime' || !statSync(join(lambdaDir, pattern)).isDirectory()) continue;
    for (const handler of readdirSync(join(lambdaDir, pattern))) {
      const entry = join(lambdaDir, pattern, handler, 'index.ts');
      if (existsSync(entry)) handlers.push({ name: `${pattern}/${handler}`, entry });
    }
  }
  return handlers.sort((a, b) => a.name.localeCompare(b.name));
}

async function main() {
  const started = Date.now();
  // Build into a staging folder and swap it in at the end, so a failed build leaves the previous
  // dist/ in place instead of an empty one.
  rmSync(staging, { recursive: true, force: true });

  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', staging],
    { stdio: 'inherit' },
  );

  const handlers = findHandlers();
  const sizes = [];
  await Promise.all(
    handlers.map(async ({ name, entry }) => {
      const outfile = join(staging, 'lambda', name, 'index.js');
      const result = await esbuild.build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        platform: 'node',
        // Node.js 20 is the oldest runtime the bundles run on (the local emulator runs them on the
        // machine's Node.js); the kit deploys them on nodejs24.x.
        target: 'node20',
        format: 'cjs',
        external: ['@aws-sdk/*'],
        metafile: true,
        logLevel: 'warning',
        legalComments: 'none',
      });
      const bytes = Object.values(result.metafile.outputs)
        .filter((o) => o.entryPoint)
        .reduce((n, o) => n + o.bytes, 0);
      sizes.push({ name, bytes });
    }),
  );

  rmSync(dist, { recursive: true, force: true });
  renameSync(staging, dist);

  // jsii writes dist/lib/ (its outDir) and .jsii. The kit is developed against the newest
  // aws-cdk-lib and smoke-tested at the lowest it declares, so jsii's advice to develop against the
  // lowest (metadata/missing-dev-dependency) is silenced; any other warning fails the build.
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'jsii', 'bin', 'jsii'), '--fail-on-warnings', '--silence-warnings', 'metadata/missing-dev-dependency'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, JSII_SUPPRESS_UPGRADE_PROMPT: '1', JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
    },
  );

  for (const { name, bytes } of sizes.sort((a, b) => a.name.localeCompare(b.name))) {
    console.log(`  ${name.padEnd(40)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB`);
  }
  console.log(`built ${relative(root, dist)}/ (${handlers.length} handler bundles) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err.message ?? err);
    rmSync(staging, { recursive: true, force: true });
    process.exit(1);
  });
}
