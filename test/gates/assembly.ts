/**
 * Synthesizing what the gates judge, and reading it back from the cloud assemblies: templates,
 * construct paths, cdk-nag findings and the acknowledgements recorded in the metadata.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { addPatternStacks } from './stacks';

export const ROOT = path.resolve(__dirname, '../..');

/** A CloudFormation template, as far as the gates read it. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
}

/** A resource of a template. `Properties` stays loosely typed: the gates read every kind. */
export interface CfnResource {
  readonly Type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly Properties?: Record<string, any>;
  readonly DependsOn?: string | string[];
  readonly Metadata?: Record<string, unknown>;
}

/** An acknowledgement (`Validations.of(scope).acknowledge`) as the cloud assembly records it. */
export interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** One synthesized stack. */
export interface SynthesizedStack {
  /** What was synthesized, e.g. `showcase`, `showcase -c withKafka=true`, `pattern WorkQueue`. */
  readonly source: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: CfnTemplate;
  /** The construct path of each resource, by logical id. */
  readonly paths: ReadonlyMap<string, string>;
  readonly acknowledgements: readonly Acknowledgement[];
}

/** A cdk-nag finding (error or warning) from a validation report. */
export interface NagFinding {
  readonly source: string;
  readonly severity: string;
  readonly ruleId: string;
  readonly path: string;
  readonly description: string;
}

/** What one synthesis produced. */
export interface Synthesis {
  readonly source: string;
  readonly stacks: readonly SynthesizedStack[];
  readonly nag: readonly NagFinding[];
}

interface ManifestArtifact {
  readonly type: string;
  readonly displayName?: string;
  readonly properties?: { templateFile?: string; directoryName?: string };
  readonly metadata?: Record<string, MetadataEntry[]>;
  readonly additionalMetadataFile?: string;
}
interface MetadataEntry {
  readonly type: string;
  readonly data?: unknown;
}

/** Every stack of the cloud assembly in `dir` (nested assemblies of stages included). */
export function readAssembly(dir: string, source: (stackName: string) => string): SynthesizedStack[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { artifacts?: Record<string, ManifestArtifact> };
  const stacks: SynthesizedStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      stacks.push(...readAssembly(path.join(dir, artifact.properties.directoryName), source));
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const metadata: Record<string, MetadataEntry[]> = { ...(artifact.metadata ?? {}) };
    if (artifact.additionalMetadataFile) {
      const more = JSON.parse(fs.readFileSync(path.join(dir, artifact.additionalMetadataFile), 'utf8')) as Record<string, MetadataEntry[]>;
      for (const [p, entries] of Object.entries(more)) metadata[p] = [...(metadata[p] ?? []), ...entries];
    }
    const paths = new Map<string, string>();
    const acknowledgements: Acknowledgement[] = [];
    for (const [p, entries] of Object.entries(metadata)) {
      for (const entry of entries) {
        if (entry.type === 'aws:cdk:logicalId' && typeof entry.data === 'string') paths.set(entry.data, p.replace(/^\//, ''));
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data && typeof entry.data === 'object') {
          for (const [ruleId, reason] of Object.entries(entry.data as Record<string, unknown>)) {
            acknowledgements.push({ path: p.replace(/^\//, ''), id: ruleId, reason: typeof reason === 'string' ? reason : '' });
          }
        }
      }
    }
    const templateFile = path.join(dir, artifact.properties.templateFile);
    const template = JSON.parse(fs.readFileSync(templateFile, 'utf8')) as CfnTemplate;
    // Path metadata in the template, where the manifest has none (path metadata on).
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      const p = resource.Metadata?.['aws:cdk:path'];
      if (!paths.has(logicalId) && typeof p === 'string') paths.set(logicalId, p);
    }
    const stackName = artifact.displayName ?? id;
    stacks.push({ source: source(stackName), stackName, templateFile, template, paths, acknowledgements });
  }
  return stacks;
}

interface ValidationReport {
  pluginReports?: Array<{
    pluginName: string;
    violations?: Array<{
      ruleName: string;
      description: string;
      severity?: string;
      violatingConstructs?: Array<{ constructPath?: string; resourceLogicalId?: string }>;
    }>;
  }>;
}

/**
 * The findings of the validation report in `dir`, if there is one: errors and warnings alike (a
 * failing plugin fails `cdk synth` either way, so a warning blocks a deploy as much as an error).
 */
export function readNagReport(dir: string, source: string): NagFinding[] {
  const file = path.join(dir, 'validation-report.json');
  if (!fs.existsSync(file)) return [];
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as ValidationReport;
  const findings: NagFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const violation of plugin.violations ?? []) {
      for (const c of violation.violatingConstructs ?? [{}]) {
        findings.push({
          source,
          severity: violation.severity ?? 'error',
          ruleId: violation.ruleName,
          path: c.constructPath ?? c.resourceLogicalId ?? '?',
          description: violation.description,
        });
      }
    }
  }
  return findings;
}

/** The `-c key=value` flags of a showcase synthesis, as a label. */
export const showcaseSource = (flags: readonly string[]): string => ['showcase', ...flags.map((f) => `-c ${f}`)].join(' ');

/**
 * Synthesizes the showcase with the CDK CLI (`npx cdk synth`, the app of `cdk.json`) into `outdir`,
 * with the given context flags. `preload-nag.js` makes sure cdk-nag's AwsSolutions and Serverless
 * packs run on it whatever `bin/app.ts` registers. The type check is `npm test`'s own step, so
 * ts-node only transpiles here.
 */
export async function synthShowcase(flags: readonly string[], outdir: string): Promise<Synthesis> {
  const source = showcaseSource(flags);
  const args = ['cdk', 'synth', '--quiet', '--no-notices', '--ci', '-o', outdir, ...flags.flatMap((f) => ['-c', f])];
  const preload = path.join(__dirname, 'preload-nag.js');
  const env = {
    ...process.env,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${JSON.stringify(preload)}`].filter(Boolean).join(' '),
    TS_NODE_TRANSPILE_ONLY: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // The showcase is environment-agnostic: no instance metadata lookups for a default account.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  try {
    await promisify(execFile)('npx', args, { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const nag = readNagReport(outdir, source);
    if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`npx ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    }
    // The assembly is written before the plugins run: the other gates judge it too.
    const stacks = fs.existsSync(path.join(outdir, 'manifest.json')) ? readAssembly(outdir, (name) => `${source}: ${name}`) : [];
    return { source, stacks, nag };
  }
  return { source, stacks: readAssembly(outdir, (name) => `${source}: ${name}`), nag: readNagReport(outdir, source) };
}

/**
 * Synthesizes the pattern stacks (one per public construct) in one app, with the feature flags of
 * `cdk.json` (as a user's `cdk init` app has them) and cdk-nag's two packs as validation plugins.
 */
export function synthPatterns(outdir: string): Synthesis & { missing: string[]; failed: Record<string, string> } {
  const source = 'patterns';
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ outdir, context: cdkJson.context });
  const { missing, failed } = addPatternStacks(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  const errorWrite = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write; // the report is read from JSON
  let nag: NagFinding[] = [];
  try {
    app.synth();
  } catch (error) {
    if (!fs.existsSync(path.join(outdir, 'validation-report.json'))) throw error;
    nag = readNagReport(outdir, source);
  } finally {
    process.stderr.write = errorWrite;
  }
  const stacks = readAssembly(outdir, (name) => `pattern ${name.replace(/^Gate/, '')}`);
  return {
    source,
    stacks,
    nag: nag.map((f) => ({ ...f, source: `pattern ${f.path.split('/')[0].replace(/^Gate/, '')}` })),
    missing,
    failed,
  };
}
