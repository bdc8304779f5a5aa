#!/usr/bin/env node
/**
 * Tries the kit against other aws-cdk-lib or constructs versions: packs it once (run `npm run build`
 * first), then for each version installs the tarball into a fresh app with the all-constructs smoke
 * app, type-checks it (skipLibCheck off) and synthesizes it. Versions below the declared peer
 * ranges are installed with --legacy-peer-deps. This is how the peer ranges in package.json were
 * found; rerun it before lowering or raising them.
 *
 *   npx ts-node scripts/smoke/peer-check.ts [--package aws-cdk-lib|constructs] [--with <other's version>] <version>...
 *   npx ts-node scripts/smoke/peer-check.ts --bisect <low> <high>      the lowest passing version in [low, high]
 *   --app <file.ts>: another app than the all-constructs smoke app (its stack named AllConstructs)
 *
 * Examples:
 *   npx ts-node scripts/smoke/peer-check.ts 2.268.0 2.269.0
 *   npx ts-node scripts/smoke/peer-check.ts --bisect 2.200.0 2.278.0
 *   npx ts-node scripts/smoke/peer-check.ts --package constructs --with 2.269.0 10.5.0 10.4.5
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_CONSTRUCTS_APP, ALL_CONSTRUCTS_STACK } from './apps';
import { compile, createConsumerApp, devVersion, firstErrorLines, installedVersion, packKit, root, run, synth } from './consumer-app';

type Stage = 'install' | 'type-check' | 'synth';
interface Outcome {
  readonly version: string;
  readonly ok: boolean;
  readonly stage?: Stage;
  readonly error?: string;
  readonly seconds: number;
}

async function tryVersion(work: string, tarball: string, app: string, pkg: string, version: string, other: string): Promise<Outcome> {
  const versions = pkg === 'constructs' ? { awsCdkLib: other, constructs: version } : { awsCdkLib: version, constructs: other };
  const dir = path.join(work, `${pkg}-${version}`);
  let stage: Stage = 'install';
  const started = Date.now();
  let result: Omit<Outcome, 'seconds'>;
  try {
    await createConsumerApp({ dir, tarball, ...versions, sources: { 'app.ts': app }, ignorePeerRanges: true });
    const installed = installedVersion(dir, pkg);
    if (installed !== version) throw new Error(`installed ${pkg}@${installed}, not ${version}`);
    stage = 'type-check';
    compile(dir);
    stage = 'synth';
    const template = synth(dir, 'app.js', ALL_CONSTRUCTS_STACK);
    if (Object.keys(template.Resources).length === 0) throw new Error('empty template');
    result = { version, ok: true };
  } catch (e) {
    result = { version, ok: false, stage, error: firstErrorLines(e) };
  }
  const seconds = (Date.now() - started) / 1000;
  const outcome = { ...result, seconds };
  console.log(
    `${pkg}@${version} (with ${pkg === 'constructs' ? 'aws-cdk-lib' : 'constructs'}@${other}): ${outcome.ok ? 'PASS' : `FAIL at ${outcome.stage}`} (${seconds.toFixed(1)} s)`,
  );
  if (outcome.error) console.log(outcome.error.replace(/^/gm, '    '));
  if (outcome.ok) fs.rmSync(dir, { recursive: true, force: true });
  return outcome;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      package: { type: 'string', default: 'aws-cdk-lib' },
      with: { type: 'string' },
      bisect: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      app: { type: 'string' },
    },
    allowPositionals: true,
  });
  const pkg = values.package!;
  if (pkg !== 'aws-cdk-lib' && pkg !== 'constructs') throw new Error('--package must be aws-cdk-lib or constructs');
  const other = values.with ?? devVersion(pkg === 'constructs' ? 'aws-cdk-lib' : 'constructs');
  if (positionals.length === 0) throw new Error('give versions to try, or --bisect <low> <high>');

  const app = values.app ? fs.readFileSync(values.app, 'utf8') : ALL_CONSTRUCTS_APP;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-peer-check-'));
  const { tarball } = packKit(work);
  console.log(`packed ${path.basename(tarball)} into ${work}`);
  try {
    if (!values.bisect) {
      const outcomes: Outcome[] = [];
      for (const v of positionals) outcomes.push(await tryVersion(work, tarball, app, pkg, v, other));
      process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
      return;
    }
    const [low, high] = positionals;
    const all = (JSON.parse(run('npm', ['view', pkg, 'versions', '--json'], root)) as string[]).filter(
      (v) => /^\d+\.\d+\.\d+$/.test(v) && compareVersions(v, low) >= 0 && compareVersions(v, high) <= 0,
    );
    // Invariant: all[hi] passes; the answer is in [lo, hi].
    let lo = 0;
    let hi = all.length - 1;
    if (!(await tryVersion(work, tarball, app, pkg, all[hi], other)).ok) throw new Error(`${pkg}@${all[hi]} fails: nothing to bisect`);
    if ((await tryVersion(work, tarball, app, pkg, all[lo], other)).ok) hi = lo;
    else lo += 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await tryVersion(work, tarball, app, pkg, all[mid], other)).ok) hi = mid;
      else lo = mid + 1;
    }
    console.log(`lowest passing ${pkg} in [${low}, ${high}]: ${all[hi]}${hi > 0 ? ` (${all[hi - 1]} fails)` : ''}`);
  } finally {
    if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
