/**
 * What the gates accept, each with the reason a reviewer needs. An entry that matches nothing any
 * more fails the gate (remove it), so these lists only ever hold what is still there.
 */
import type { CfnLintAllowance } from './cfn-lint';
import type { SecureDefaultsAllowance } from './secure-defaults';

/**
 * cfn-lint warnings that may stay. Errors always fail; a warning fails unless it is listed here.
 * Informational rules are not run (cfn-lint's default).
 *
 * Empty: W3005 (a `DependsOn` already implied by a `Fn::GetAtt`), on every kit function's role,
 * was fixed at its cause in `lib/core/kit-function.ts` rather than listed.
 */
export const CFN_LINT_ALLOWLIST: readonly CfnLintAllowance[] = [];

/** Findings of the secure-defaults checks (`secure-defaults.ts`) that may stay. */
export const SECURE_DEFAULTS_ALLOWLIST: readonly SecureDefaultsAllowance[] = [
  {
    check: 'wildcard-action',
    resourceType: 'AWS::KMS::Key',
    message: /^Allow kms:\* to the account's root principal$/,
    reason:
      "The default key policy of every KMS key CDK creates: it lets the account's IAM policies govern the key (as AWS's own default " +
      'key policy does) and grants nothing to any principal by itself; who may use the key is decided by the grants, which name actions.',
  },
];

/**
 * Acknowledgement reasons that say nothing: a reason must be at least {@link MIN_REASON_LENGTH}
 * characters and not one of these words or phrases (whole reason, case and punctuation ignored).
 */
export const GENERIC_REASONS: readonly RegExp[] = [
  /^(suppressed?|suppression|n\/?a|na|none|test|testing|todo|tbd|fixme|ok|okay|fine|ignore[d]?|acknowledged?|not needed|not applicable|false positive|by design|intended|expected|known|wip)$/i,
];

/** The shortest reason that can say what the rule asks and why this resource need not. */
export const MIN_REASON_LENGTH = 40;

/** What is wrong with an acknowledgement's reason, or undefined when it is specific enough. */
export function reasonProblem(reason: string): string | undefined {
  const text = reason.trim();
  const words = text.replace(/[^\p{L}\p{N}/ ]+/gu, ' ').trim();
  if (GENERIC_REASONS.some((g) => g.test(words))) return 'generic';
  if (text.length < MIN_REASON_LENGTH) return `shorter than ${MIN_REASON_LENGTH} characters`;
  return undefined;
}
