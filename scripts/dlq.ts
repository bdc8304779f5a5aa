#!/usr/bin/env node
/**
 * Dead-letter queue operations for operators.
 *
 *   npx ts-node scripts/dlq.ts <command> --queue <dlq url, arn or name> [options]
 *
 * Commands:
 *   peek     show messages with their receive count and recorded failure reason, without consuming them
 *              --max <n> (10)  --reasons s3://<bucket>/<prefix> (default: the queue's tag)  --json  --force
 *   redrive  move the messages back to their source queue(s) with an SQS message move task, showing progress;
 *            Ctrl-C cancels the redrive (messages already moved stay moved)
 *              --to <queue> (default: each message's source queue)  --rate <1-500 msg/s>  --detach (start and exit)
 *   status   show the latest redrive of the queue
 *   cancel   cancel the running redrive
 *   purge    delete messages for good: all of them, or --message-id <id> (repeatable)
 *              --yes (no confirmation prompt)  --force (also for a queue that is no DLQ)
 *
 * Targets AWS with the usual credential chain (AWS_PROFILE, AWS_REGION, ...); targets an emulator
 * when AWS_ENDPOINT_URL is set.
 */
import * as readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { RedriveFailedError } from '../lambda/runtime/dlq/errors';
import { S3FailureReasonStore, s3ClientFromEnvironment } from '../lambda/runtime/dlq/failure-reasons';
import {
  type PeekedMessage,
  type QueueInfo,
  type RedriveTask,
  cancelRedrive,
  deadLetterSourceQueues,
  describeQueue,
  failureReasonLocation,
  latestRedrive,
  peekMessages,
  purgeDeadLetterQueue,
  startRedrive,
  waitForRedrive,
} from '../lambda/runtime/dlq/operations';

const USAGE = 'usage: dlq.ts peek|redrive|status|cancel|purge --queue <dlq url, arn or name> [options] (see the header of scripts/dlq.ts)';

class UsageError extends Error {}

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Redraws the current line (a TTY), or prints it (a pipe). */
  progress: (line: string) => void;
  tty: boolean;
}

const defaultIo = (): Io => ({
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  progress: (l) => (process.stdout.isTTY ? process.stdout.write(`\r\x1b[2K${l}`) : process.stdout.write(`${l}\n`)),
  tty: Boolean(process.stdout.isTTY && process.stdin.isTTY),
});

const shortName = (arn: string | undefined): string => (arn ? arn.split(':').pop()! : '?');

/** `[#######-------]  42/100 moved  RUNNING  3.1 msg/s` */
export function progressLine(task: RedriveTask, now = Date.now()): string {
  const total = task.toMove ?? 0;
  const width = 24;
  const filled = total > 0 ? Math.min(width, Math.round((task.moved / total) * width)) : task.status === 'COMPLETED' ? width : 0;
  const seconds = task.startedAt ? Math.max(1, (now - task.startedAt.getTime()) / 1000) : undefined;
  const rate = seconds ? ` ${(task.moved / seconds).toFixed(1)} msg/s` : '';
  const dest = task.destinationArn ? shortName(task.destinationArn) : 'source queues';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(task.moved).padStart(String(total).length)}/${total} moved to ${dest}  ${task.status}${rate}${task.failureReason ? `  ${task.failureReason}` : ''}`;
}

function describeMessage(m: PeekedMessage, n: number, bodyChars = 300): string[] {
  const lines = [
    `#${n} ${m.messageId}  sent ${m.sentAt?.toISOString() ?? '?'}  receives ${m.receiveCount}${m.sourceQueueArn ? `  from ${shortName(m.sourceQueueArn)}` : ''}${m.messageGroupId ? `  group ${m.messageGroupId}` : ''}`,
  ];
  if (m.reason) {
    lines.push(
      `   reason: ${m.reason.errorName}: ${m.reason.errorMessage}  (receive ${m.reason.receiveCount}, ${m.reason.failedAt}${m.reason.functionName ? `, ${m.reason.functionName}` : ''})`,
    );
  } else if (m.reasonError) {
    lines.push(`   reason: could not be read (${m.reasonError})`);
  } else {
    lines.push('   reason: none recorded (the consumer timed out or crashed, or records no reasons)');
  }
  const body = m.body.length > bodyChars ? `${m.body.slice(0, bodyChars)}… (${m.body.length} chars)` : m.body;
  lines.push(`   body: ${body}`);
  return lines;
}

async function reasonStore(sqs: SQSClient, queue: QueueInfo, given: string | undefined): Promise<S3FailureReasonStore | undefined> {
  let location: { bucketName: string; prefix: string } | undefined;
  if (given) {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(given);
    if (!m) throw new UsageError(`--reasons must look like s3://<bucket>/<prefix> (given ${given})`);
    location = { bucketName: m[1], prefix: m[2] };
  } else {
    location = await failureReasonLocation(sqs, queue.url).catch(() => undefined);
  }
  return location ? new S3FailureReasonStore({ ...location, client: s3ClientFromEnvironment() }) : undefined;
}

async function confirm(io: Io, question: string, expected: string): Promise<boolean> {
  if (!io.tty) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}

/** Runs one command; returns the exit code. Exported for tests. */
export async function main(argv: string[], io: Io = defaultIo(), sqs = new SQSClient({})): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      queue: { type: 'string', short: 'q' },
      max: { type: 'string' },
      reasons: { type: 'string' },
      json: { type: 'boolean' },
      force: { type: 'boolean' },
      to: { type: 'string' },
      rate: { type: 'string' },
      detach: { type: 'boolean' },
      'message-id': { type: 'string', multiple: true },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    io.out(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.queue) throw new UsageError('--queue is required');
  const queue = await describeQueue(sqs, values.queue);

  switch (command) {
    case 'peek': {
      const max = values.max !== undefined ? Number(values.max) : 10;
      if (!Number.isInteger(max) || max < 1) throw new UsageError(`--max must be a positive integer (given ${values.max})`);
      const reasons = await reasonStore(sqs, queue, values.reasons);
      const messages = await peekMessages(sqs, queue, { max, reasons, force: values.force });
      if (values.json) {
        io.out(JSON.stringify(messages, null, 2));
        return 0;
      }
      io.out(
        `${queue.name}: ${queue.visible} visible, ${queue.inFlight} in flight; showing ${messages.length}${reasons ? `; reasons from s3://${reasons.bucketName}/${reasons.prefix}` : '; no failure-reason store (tag the queue with FailureReasonStore.addDeadLetterQueue or pass --reasons)'}`,
      );
      messages.forEach((m, i) => describeMessage(m, i + 1).forEach((l) => io.out(l)));
      return 0;
    }

    case 'status': {
      const task = await latestRedrive(sqs, queue.arn);
      io.out(
        task
          ? `${queue.name}: ${progressLine(task)}${task.startedAt ? `  (started ${task.startedAt.toISOString()})` : ''}`
          : `${queue.name}: no redrive yet`,
      );
      return 0;
    }

    case 'cancel': {
      const moved = await cancelRedrive(sqs, queue.arn);
      io.out(moved === undefined ? `${queue.name}: no redrive running` : `${queue.name}: redrive cancelled after ${moved} messages`);
      return 0;
    }

    case 'redrive': {
      const rate = values.rate !== undefined ? Number(values.rate) : undefined;
      let destinationArn: string | undefined;
      if (values.to) destinationArn = (await describeQueue(sqs, values.to)).arn;
      const start = await startRedrive(sqs, queue.arn, { destinationArn, maxMessagesPerSecond: rate });
      io.out(
        start.started
          ? `${queue.name}: redrive started (${queue.visible} messages, to ${destinationArn ? shortName(destinationArn) : 'their source queues'}${rate ? `, at most ${rate} msg/s` : ''})`
          : `${queue.name}: a redrive is already running; following it`,
      );
      if (values.detach) return 0;

      const controller = new AbortController();
      let cancelling = false;
      const onSigint = () => {
        if (cancelling) {
          controller.abort(); // second Ctrl-C: stop following
          return;
        }
        cancelling = true;
        io.err('\ncancelling the redrive (Ctrl-C again to stop following it)...');
        void cancelRedrive(sqs, queue.arn).catch((e: unknown) => io.err(`cancel failed: ${String(e)}`));
      };
      process.on('SIGINT', onSigint);
      try {
        const after = start.started ? start.previous?.startedAt : undefined;
        const task = await waitForRedrive(sqs, queue.arn, {
          after,
          signal: controller.signal,
          onProgress: (t) => io.progress(progressLine(t)),
        });
        if (io.tty) io.out('');
        if (!task) return 1;
        if (task.status === 'FAILED') throw new RedriveFailedError(queue.arn, task.failureReason ?? 'unknown', task.moved);
        io.out(`${queue.name}: redrive ${task.status.toLowerCase()}, ${task.moved} messages moved`);
        return 0;
      } finally {
        process.off('SIGINT', onSigint);
      }
    }

    case 'purge': {
      const ids = values['message-id'];
      if (!values.force && (await deadLetterSourceQueues(sqs, queue.url)).length === 0) {
        throw new UsageError(`${queue.name} is no queue's dead-letter queue; pass --force to purge it anyway`);
      }
      const what = ids ? `${ids.length} message(s)` : `every message (about ${queue.visible + queue.inFlight})`;
      if (!values.yes && !(await confirm(io, `Delete ${what} of ${queue.name} for good? Type the queue name to confirm: `, queue.name))) {
        io.err('not confirmed: nothing deleted (pass --yes to skip the prompt)');
        return 1;
      }
      const res = await purgeDeadLetterQueue(sqs, queue, { messageIds: ids, force: true });
      io.out(
        `${queue.name}: deleted ${ids ? res.deleted : `about ${res.deleted}`} message(s)${res.notFound.length ? `; not found: ${res.notFound.join(', ')}` : ''}`,
      );
      return res.notFound.length ? 1 : 0;
    }

    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

if (require.main === module) {
  const io = defaultIo();
  main(process.argv.slice(2), io)
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      if (error instanceof UsageError) {
        io.err(`${error.message}\n${USAGE}`);
        process.exit(2);
      }
      const e = error as Error;
      io.err(`${e.name}: ${e.message}`);
      process.exit(error instanceof RedriveFailedError ? 3 : 1);
    });
}
