import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/** A fresh stack in a fresh app (env-agnostic). */
export function newStack(id = 'TestStack'): Stack {
  const app = new App();
  return new Stack(app, id);
}

/** A minimal consumer function with the given timeout. */
export function inlineFunction(stack: Stack, id = 'Consumer', timeout?: Duration): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    timeout,
  });
}

export const template = (stack: Stack): Template => Template.fromStack(stack);

/** Warnings annotated on the stack, as `[path, message]`. */
export function warnings(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.anyValue())
    .map((w) => `${w.id}: ${String(w.entry.data)}`);
}

/** One cdk-nag finding from the validation report. */
export interface NagFinding {
  readonly pack: string;
  readonly ruleId: string;
  readonly path: string;
  readonly description: string;
}

/**
 * Synthesizes `app` with cdk-nag's AwsSolutions and Serverless packs as validation plugins and
 * returns every error they report (an empty list when the app passes).
 */
export function nagErrors(build: (app: App) => void): NagFinding[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-'));
  const app = new App({ outdir });
  build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  const errorWrite = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write; // the report is read from JSON below
  try {
    app.synth();
    return [];
  } catch (error) {
    const reportFile = path.join(outdir, 'validation-report.json');
    if (!fs.existsSync(reportFile)) throw error;
    return readNagReport(JSON.parse(fs.readFileSync(reportFile, 'utf8')));
  } finally {
    process.stderr.write = errorWrite;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: Array<{
      ruleName: string;
      description: string;
      severity?: string;
      violatingConstructs?: Array<{ constructPath?: string; resourceLogicalId?: string }>;
    }>;
  }>;
}

function readNagReport(report: ValidationReport): NagFinding[] {
  const findings: NagFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const violation of plugin.violations ?? []) {
      if (violation.severity && !/error/i.test(violation.severity)) continue;
      for (const c of violation.violatingConstructs ?? [{}]) {
        findings.push({
          pack: plugin.pluginName,
          ruleId: violation.ruleName,
          path: c.constructPath ?? c.resourceLogicalId ?? '?',
          description: violation.description,
        });
      }
    }
  }
  return findings;
}
