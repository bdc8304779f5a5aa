#!/usr/bin/env node
/**
 * Replays archived events of an EventRouter to chosen routes, showing progress.
 *
 *   npx ts-node scripts/replay.ts --from <ISO time> --to <ISO time> --routes <name,name> \
 *     (--config <json | @file> | --stack <stack name> --output <output key>) [--name <replay name>] [--detach]
 *
 * The configuration is `EventRouter.replayConfig` (JSON): give it directly, or as a stack output
 * (`new CfnOutput(this, 'ReplayConfig', { value: router.replayConfig })`). Only routes that accept
 * replayed events (`replayedEvents: ACCEPT`) can be chosen. Targets AWS with the usual credential
 * chain; an emulator when AWS_ENDPOINT_URL is set.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { replay } from '../lambda/runtime/event-router/replay';

const USAGE =
  'usage: replay.ts --from <ISO> --to <ISO> --routes <a,b> (--config <json|@file> | --stack <name> --output <key>) [--name <n>] [--detach]';

async function readConfig(values: Record<string, string | boolean | undefined>): Promise<string> {
  const config = values.config as string | undefined;
  if (config) return config.startsWith('@') ? fs.readFileSync(config.slice(1), 'utf8') : config;
  const stack = values.stack as string | undefined;
  const output = values.output as string | undefined;
  if (!stack || !output) throw new Error(`give --config, or --stack and --output\n${USAGE}`);
  const res = await new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: stack }));
  const value = res.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === output)?.OutputValue;
  if (!value) throw new Error(`stack ${stack} has no output ${output}`);
  return value;
}

export async function main(argv = process.argv.slice(2), out = (l: string) => process.stdout.write(`${l}\n`)): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      routes: { type: 'string' },
      config: { type: 'string' },
      stack: { type: 'string' },
      output: { type: 'string' },
      name: { type: 'string' },
      detach: { type: 'boolean', default: false },
    },
  });
  if (!values.from || !values.to || !values.routes) throw new Error(USAGE);
  const result = await replay({
    from: new Date(values.from),
    to: new Date(values.to),
    routes: values.routes
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
    config: await readConfig(values),
    name: values.name,
    wait: !values.detach,
    logger: null,
    onProgress: (p) =>
      out(
        `${p.replayName} ${p.state.padEnd(10)} ${String(Math.round(p.fraction * 100)).padStart(3)} %${p.eventLastReplayedTime ? `  last event ${p.eventLastReplayedTime.toISOString()}` : ''}`,
      ),
  });
  out(`replay ${result.replayName}: ${result.state}`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
