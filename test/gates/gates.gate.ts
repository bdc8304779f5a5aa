/**
 * The gates (`npm test`'s "gates" step, `npx jest --selectProjects gates`): over every synthesized
 * template — the showcase as `npx cdk synth` makes it, once per set of context flags below, and one
 * stack per public construct of the kit (`stacks.ts`) — run
 *
 * 1. cfn-lint (pinned, from `.venv-tools/`): no error; a warning only if `CFN_LINT_ALLOWLIST` lists it;
 * 2. cdk-nag's AwsSolutions and Serverless packs: no unacknowledged finding;
 * 3. the acknowledgements: each listed with its reason, and no reason short or generic;
 * 4. the secure-defaults checks (`secure-defaults.ts`) on every resource, whoever declared it.
 *
 * Needs no LocalStack. Set GATES_KEEP_OUTPUT=1 to keep the synthesized assemblies (their folder is
 * printed).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CFN_LINT_ALLOWLIST, MIN_REASON_LENGTH, SECURE_DEFAULTS_ALLOWLIST, reasonProblem } from './allowlists';
import { type Synthesis, type SynthesizedStack, showcaseSource, synthPatterns, synthShowcase } from './assembly';
import { type CfnLintMatch, allows, cfnLintExecutable, cfnLintVersion, describeMatch, runCfnLint } from './cfn-lint';
import { type Finding, allowsFinding, checkSecureDefaults } from './secure-defaults';
import { PATTERN_STACKS, publicConstructs, staleStackBuilders } from './stacks';

/**
 * The context flag sets the showcase is synthesized with, each a list of `key=value` for `-c`. The
 * first is the showcase as deployed by default. Add a set when the showcase gains a flag.
 */
const SHOWCASE_FLAG_SETS: readonly (readonly string[])[] = [
  [],
  // ['withKafka=true', 'withBroker=true'], // once bin/ reads them
];

const CONSTRUCTS = publicConstructs();
const patternSource = (construct: string) => `pattern ${construct}`;

let outdir: string;
let syntheses: Synthesis[] = [];
let stacks: SynthesizedStack[] = [];
let missing: string[] = [];
let failed: Record<string, string> = {};
let lint: CfnLintMatch[] = [];
let lintVersion = '';
const timings: string[] = [];

async function timed<T>(label: string, work: () => Promise<T> | T): Promise<T> {
  const t0 = Date.now();
  const result = await work();
  timings.push(`${label} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

beforeAll(async () => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-gates-'));
  const executable = await timed('cfn-lint venv', () => cfnLintExecutable());
  lintVersion = cfnLintVersion(executable);
  const t0 = Date.now();
  // The showcase syntheses run in child processes while the pattern app synthesizes here.
  const showcase = Promise.all(SHOWCASE_FLAG_SETS.map((flags, i) => synthShowcase(flags, path.join(outdir, `showcase-${i}`))));
  const patterns = await timed('pattern stacks synth', () => synthPatterns(path.join(outdir, 'patterns')));
  missing = patterns.missing;
  failed = patterns.failed;
  syntheses = [...(await showcase), patterns];
  timings.push(`synth (showcase ×${SHOWCASE_FLAG_SETS.length} in parallel) ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  stacks = syntheses.flatMap((s) => s.stacks);
  lint = await timed(`cfn-lint (${stacks.length} templates)`, () => runCfnLint(executable, stacks));
}, 900_000);

afterAll(() => {
  process.stdout.write(`\ngates: ${lintVersion}; ${timings.join(', ')}\n`);
  if (!outdir) return;
  if (process.env.GATES_KEEP_OUTPUT) process.stdout.write(`gates: assemblies kept in ${outdir}\n`);
  else fs.rmSync(outdir, { recursive: true, force: true });
});

const stacksOf = (source: string) => stacks.filter((s) => s.source === source || s.source.startsWith(`${source}: `));

describe('pattern stacks', () => {
  it('has a stack for every public construct that lib/index.ts exports', () => {
    if (missing.length > 0) {
      throw new Error(
        `no pattern stack for ${missing.join(', ')}: add a builder with its main options to PATTERN_STACKS in test/gates/stacks.ts`,
      );
    }
    expect(CONSTRUCTS.every((c) => stacksOf(patternSource(c)).length === 1)).toBe(true);
  });

  it('builds every stack without an error', () => {
    expect(failed).toEqual({});
  });

  it('has no builder for a name lib/index.ts does not export', () => {
    expect(staleStackBuilders()).toEqual([]);
    expect(Object.keys(PATTERN_STACKS).length).toBeGreaterThan(0);
  });
});

describe('cfn-lint', () => {
  it('reports no error on any template', () => {
    expect(stacks.length).toBeGreaterThan(SHOWCASE_FLAG_SETS.length);
    expect(lint.filter((m) => m.level === 'Error').map(describeMatch)).toEqual([]);
  });

  it('reports no warning that CFN_LINT_ALLOWLIST does not list', () => {
    const warnings = lint.filter((m) => m.level === 'Warning');
    expect(warnings.filter((m) => !CFN_LINT_ALLOWLIST.some((a) => allows(a, m))).map(describeMatch)).toEqual([]);
  });

  it('has no allowlist entry that matches nothing (remove it)', () => {
    expect(CFN_LINT_ALLOWLIST.filter((a) => !lint.some((m) => allows(a, m)))).toEqual([]);
  });
});

describe('cdk-nag (AwsSolutions, Serverless)', () => {
  const findingsOf = (source: string) =>
    syntheses
      .flatMap((s) => s.nag)
      .filter((f) => f.source === source)
      .map((f) => `${f.severity} ${f.ruleId} ${f.path}: ${f.description}`);

  it.each(SHOWCASE_FLAG_SETS.map((flags) => showcaseSource(flags)))('reports nothing unacknowledged on the %s', (source) => {
    expect(findingsOf(source)).toEqual([]);
    expect(stacksOf(source).length).toBeGreaterThan(0);
  });

  it.each(CONSTRUCTS)('reports nothing unacknowledged on the pattern stack of %s', (construct) => {
    expect(stacksOf(patternSource(construct))).toHaveLength(1); // else: no stack for it in stacks.ts
    expect(findingsOf(patternSource(construct))).toEqual([]);
  });
});

describe('acknowledgements', () => {
  const all = () => stacks.flatMap((s) => s.acknowledgements.map((a) => ({ ...a, source: s.source })));
  const ruleOf = (id: string) => id.replace(/^Annotation::/, '');

  it('lists every acknowledgement with its reason', () => {
    const byReason = new Map<string, { rule: string; reason: string; paths: string[] }>();
    for (const a of all()) {
      const key = `${ruleOf(a.id)}\u0000${a.reason}`;
      const entry = byReason.get(key) ?? { rule: ruleOf(a.id), reason: a.reason, paths: [] };
      entry.paths.push(a.path);
      byReason.set(key, entry);
    }
    const lines = [...byReason.values()]
      .sort((x, y) => x.rule.localeCompare(y.rule) || x.reason.localeCompare(y.reason))
      .map((e) => `  ${e.rule} ×${e.paths.length} (e.g. ${e.paths[0]}): ${e.reason}`);
    process.stdout.write(`\ngates: ${all().length} acknowledgements, ${byReason.size} distinct (rule, reason):\n${lines.join('\n')}\n`);
    expect(byReason.size).toBeGreaterThan(0);
  });

  it(`gives each a specific reason: at least ${MIN_REASON_LENGTH} characters, not a generic word`, () => {
    const bad = all().filter((a) => reasonProblem(a.reason) !== undefined);
    expect(bad.map((a) => `${a.source} ${a.path} ${ruleOf(a.id)} (${reasonProblem(a.reason)}): ${JSON.stringify(a.reason)}`)).toEqual([]);
  });
});

describe('secure defaults', () => {
  const findings = (source: string): Array<Finding & { stack: string }> =>
    stacksOf(source).flatMap((s) =>
      checkSecureDefaults(s.template, { paths: s.paths, acknowledgements: s.acknowledgements }).map((f) => ({ ...f, stack: s.stackName })),
    );
  const unexcused = (source: string) =>
    findings(source)
      .filter((f) => !SECURE_DEFAULTS_ALLOWLIST.some((a) => allowsFinding(a, f)))
      .map((f) => `${f.check} ${f.stack}/${f.logicalId} (${f.path ?? f.resourceType}): ${f.message}`);

  it.each(SHOWCASE_FLAG_SETS.map((flags) => showcaseSource(flags)))('holds on every resource of the %s', (source) => {
    expect(unexcused(source)).toEqual([]);
  });

  it.each(CONSTRUCTS)('holds on every resource of the pattern stack of %s', (construct) => {
    expect(stacksOf(patternSource(construct))).toHaveLength(1); // else: no stack for it in stacks.ts
    expect(unexcused(patternSource(construct))).toEqual([]);
  });

  it('has no allowlist entry that matches nothing (remove it)', () => {
    const every = [...SHOWCASE_FLAG_SETS.map((f) => showcaseSource(f)), ...CONSTRUCTS.map(patternSource)].flatMap(findings);
    expect(SECURE_DEFAULTS_ALLOWLIST.filter((a) => !every.some((f) => allowsFinding(a, f))).map((a) => a.reason)).toEqual([]);
  });
});
