/**
 * cfn-lint over synthesized templates, from the project's tools virtualenv (`.venv-tools/`, built
 * by `scripts/gates/tools.sh` from pinned versions).
 */
import { execFile, execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, type SynthesizedStack } from './assembly';

/** One cfn-lint match, with the stack and construct path it points at. */
export interface CfnLintMatch {
  readonly rule: string;
  readonly level: 'Error' | 'Warning' | 'Informational';
  readonly message: string;
  readonly source: string;
  readonly logicalId?: string;
  readonly resourceType?: string;
  readonly path?: string;
  readonly location: string;
}

interface RawMatch {
  Rule: { Id: string };
  Level: CfnLintMatch['level'];
  Message: string;
  Filename: string;
  Location: { Start: { LineNumber: number }; Path?: Array<string | number> };
}

/** The cfn-lint executable, installing the virtualenv first if it is missing or stale. */
export function cfnLintExecutable(): string {
  const out = execFileSync('bash', [path.join(ROOT, 'scripts/gates/tools.sh'), 'cfn-lint'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}

/** The version of cfn-lint that ran, for the report. */
export function cfnLintVersion(executable: string): string {
  return execFileSync(executable, ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * Runs cfn-lint (every Error and Warning rule, the default set) over the templates of `stacks` in
 * one process, and returns every match. Exit codes 2, 4 and 6 mean errors and/or warnings were
 * found; anything else non-zero is a failure of cfn-lint itself.
 */
export async function runCfnLint(executable: string, stacks: readonly SynthesizedStack[]): Promise<CfnLintMatch[]> {
  if (stacks.length === 0) return [];
  const byFile = new Map(stacks.map((s) => [path.resolve(s.templateFile), s]));
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(executable, ['--format', 'json', '--', ...byFile.keys()], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (![2, 4, 6].includes(e.code ?? -1)) throw new Error(`cfn-lint failed (exit ${e.code}):\n${e.stderr ?? ''}${e.stdout ?? ''}`);
    stdout = e.stdout ?? '[]';
  }
  return (JSON.parse(stdout || '[]') as RawMatch[]).map((m) => {
    const stack = byFile.get(path.resolve(m.Filename));
    const logicalId = m.Location.Path?.[0] === 'Resources' ? String(m.Location.Path[1]) : undefined;
    return {
      rule: m.Rule.Id,
      level: m.Level,
      message: m.Message,
      source: stack?.source ?? m.Filename,
      logicalId,
      resourceType: logicalId ? stack?.template.Resources?.[logicalId]?.Type : undefined,
      path: logicalId ? stack?.paths.get(logicalId) : undefined,
      location: `${path.relative(ROOT, m.Filename)}:${m.Location.Start.LineNumber}`,
    };
  });
}

/** A cfn-lint warning that is accepted, with why. Errors are never accepted. */
export interface CfnLintAllowance {
  /** The rule, e.g. `W3005`. */
  readonly rule: string;
  /** The resource type the warning is on; any when omitted. */
  readonly resourceType?: string;
  /** The construct path of the resource the warning is on; any when omitted. */
  readonly path?: RegExp;
  /** Why the warning is right to leave: what the rule asks and why this template cannot or need not. */
  readonly reason: string;
}

/** Whether `allowance` covers `match`. */
export function allows(allowance: CfnLintAllowance, match: CfnLintMatch): boolean {
  return (
    match.level === 'Warning' &&
    allowance.rule === match.rule &&
    (allowance.resourceType === undefined || allowance.resourceType === match.resourceType) &&
    (allowance.path === undefined || (match.path !== undefined && allowance.path.test(match.path)))
  );
}

/** One line per match, for a failure message. */
export const describeMatch = (m: CfnLintMatch): string =>
  `${m.level} ${m.rule} ${m.source} ${m.logicalId ?? ''} (${m.path ?? m.location}): ${m.message}`;
