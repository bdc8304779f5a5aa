#!/usr/bin/env node
// Builds the node_modules folder the emulated Node.js Lambda runtime offers to functions: the AWS
// SDK v3 (`@aws-sdk/*`) and what it depends on, and nothing else — as in AWS's nodejs runtimes,
// where the SDK is preinstalled. Bundles that forget to include another dependency then fail in
// the tests as they would in AWS, instead of finding the project's dev dependencies.
//
// usage: node scripts/localstack/lambda-runtime-modules.mjs <target-dir>
// Creates <target-dir>/node_modules with symlinks into the project's node_modules.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const target = process.argv[2];
if (!target) {
  console.error('usage: lambda-runtime-modules.mjs <target-dir>');
  process.exit(2);
}

const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const packages = lock.packages ?? {};

/** Resolves `name` as Node.js would from the package installed at `from` (a lock-file path). */
function resolve(name, from) {
  for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
  }
}

const roots = Object.keys(packages).filter((p) => /^node_modules\/@aws-sdk\/[^/]+$/.test(p));
const seen = new Set();
const queue = [...roots];
while (queue.length > 0) {
  const p = queue.pop();
  if (seen.has(p)) continue;
  seen.add(p);
  const meta = packages[p];
  for (const dep of Object.keys({ ...meta.dependencies, ...meta.optionalDependencies, ...meta.peerDependencies })) {
    const r = resolve(dep, p);
    if (r) queue.push(r);
  }
}

const topLevel = [...seen].filter((p) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(p)).sort();
const out = join(target, 'node_modules');
rmSync(out, { recursive: true, force: true });
for (const p of topLevel) {
  const src = join(root, p);
  if (!existsSync(src)) continue;
  const dest = join(target, p);
  mkdirSync(dirname(dest), { recursive: true });
  symlinkSync(src, dest, 'dir');
}
console.log(`${topLevel.length} packages (the AWS SDK v3 and its dependencies) in ${out}`);
