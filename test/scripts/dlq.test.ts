import { RedriveFailedError } from '../../lambda/runtime/dlq/errors';
import { main, progressLine } from '../../scripts/dlq';
import { FakeSqs } from '../lambda/runtime/dlq/fakes';

function setup(n = 3) {
  const sqs = new FakeSqs();
  const dlq = sqs.addQueue('orders-dlq');
  const source = sqs.addQueue('orders', { deadLetterTargetArn: dlq.arn });
  for (let i = 1; i <= n; i++) sqs.addMessage(dlq, `m-${i}`, JSON.stringify({ i }), { DeadLetterQueueSourceArn: source.arn }, 5);
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const io = {
    out: (l: string) => void out.push(l),
    err: (l: string) => void err.push(l),
    progress: (l: string) => void progress.push(l),
    tty: false,
  };
  const run = (...args: string[]) => main(args, io, sqs.client);
  return { sqs, dlq, source, out, err, progress, io, run };
}

describe('Script: dlq', () => {
  it('prints usage for --help, and fails without a command', async () => {
    const { run, out } = setup();
    expect(await run('--help')).toBe(0);
    expect(await run()).toBe(2);
    expect(out[0]).toMatch(/^usage: dlq.ts peek\|redrive\|status\|cancel\|purge --queue/);
  });

  it('fails without --queue, or with an unknown command', async () => {
    const { run } = setup();
    await expect(run('peek')).rejects.toThrow(/--queue is required/);
    await expect(run('explode', '--queue', 'orders-dlq')).rejects.toThrow(/unknown command 'explode'/);
  });

  describe('peek', () => {
    it('lists the dead letters with receive count and source, and leaves them in the queue', async () => {
      const { run, out, sqs, dlq } = setup();
      expect(await run('peek', '--queue', 'orders-dlq')).toBe(0);
      expect(out[0]).toMatch(/^orders-dlq: 3 visible, 0 in flight; showing 3; no failure-reason store/);
      expect(out.filter((l) => /^#\d m-\d .* receives 6 {2}from orders$/.test(l))).toHaveLength(3);
      expect(out.filter((l) => l.startsWith('   reason: none recorded'))).toHaveLength(3);
      expect(out).toContain('   body: {"i":1}');
      expect(sqs.visible(dlq)).toHaveLength(3);
    });

    it('prints JSON with --json, honouring --max', async () => {
      const { run, out } = setup(5);
      await run('peek', '--queue', 'orders-dlq', '--json', '--max', '2');
      expect(JSON.parse(out.join('\n'))).toHaveLength(2);
    });

    it('rejects a bad --max or --reasons', async () => {
      const { run } = setup();
      await expect(run('peek', '--queue', 'orders-dlq', '--max', '0')).rejects.toThrow(/--max must be a positive integer \(given 0\)/);
      await expect(run('peek', '--queue', 'orders-dlq', '--reasons', 'bucket')).rejects.toThrow(
        /--reasons must look like s3:\/\/<bucket>\/<prefix>/,
      );
    });
  });

  describe('redrive', () => {
    it('starts a rate-limited redrive and, with --detach, leaves it running', async () => {
      const { run, out, sqs } = setup();
      expect(await run('redrive', '--queue', 'orders-dlq', '--rate', '5', '--detach')).toBe(0);
      expect(out).toEqual(['orders-dlq: redrive started (3 messages, to their source queues, at most 5 msg/s)']);
      expect(sqs.moveTasks).toEqual([
        expect.objectContaining({ Status: 'RUNNING', MaxNumberOfMessagesPerSecond: 5, DestinationArn: undefined }),
      ]);
    });

    it('follows the redrive with a progress line until it completes', async () => {
      const { out, progress, sqs } = setup();
      const io = {
        out: (l: string) => void out.push(l),
        err: () => undefined,
        tty: false,
        progress: (l: string) => {
          progress.push(l);
          Object.assign(sqs.moveTasks[0], { Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, TaskHandle: undefined });
        },
      };
      expect(await main(['redrive', '--queue', 'orders-dlq', '--to', 'orders'], io, sqs.client)).toBe(0);
      expect(progress[0]).toMatch(/^\[-{24}\] 0\/3 moved to orders {2}RUNNING/);
      expect(progress.at(-1)).toMatch(/^\[#{24}\] 3\/3 moved to orders {2}COMPLETED/);
      expect(out.at(-1)).toBe('orders-dlq: redrive completed, 3 messages moved');
    });

    it('fails with RedriveFailedError when the task fails', async () => {
      const { out, sqs } = setup();
      const io = {
        out: (l: string) => void out.push(l),
        err: () => undefined,
        tty: false,
        progress: () => {
          Object.assign(sqs.moveTasks[0], { Status: 'FAILED', FailureReason: 'AccessDenied', TaskHandle: undefined });
        },
      };
      await expect(main(['redrive', '--queue', 'orders-dlq'], io, sqs.client)).rejects.toBeInstanceOf(RedriveFailedError);
    });

    it('follows a redrive already running instead of starting another', async () => {
      const { run, out, sqs } = setup();
      await run('redrive', '--queue', 'orders-dlq', '--detach');
      await run('redrive', '--queue', 'orders-dlq', '--detach');
      expect(out[1]).toBe('orders-dlq: a redrive is already running; following it');
      expect(sqs.moveTasks).toHaveLength(1);
    });
  });

  it('status and cancel report the latest redrive', async () => {
    const { run, out, sqs } = setup();
    await run('status', '--queue', 'orders-dlq');
    await run('cancel', '--queue', 'orders-dlq');
    await run('redrive', '--queue', 'orders-dlq', '--detach');
    sqs.moveTasks[0].ApproximateNumberOfMessagesMoved = 1;
    await run('status', '--queue', 'orders-dlq');
    await run('cancel', '--queue', 'orders-dlq');
    expect(out).toEqual([
      'orders-dlq: no redrive yet',
      'orders-dlq: no redrive running',
      expect.stringMatching(/redrive started/),
      expect.stringMatching(/^orders-dlq: \[#{8}-{16}\] 1\/3 moved to source queues {2}RUNNING .* \(started /),
      'orders-dlq: redrive cancelled after 1 messages',
    ]);
  });

  describe('purge', () => {
    it('purges with --yes', async () => {
      const { run, out, dlq } = setup();
      expect(await run('purge', '--queue', 'orders-dlq', '--yes')).toBe(0);
      expect(out).toEqual(['orders-dlq: deleted about 3 message(s)']);
      expect(dlq.messages).toEqual([]);
    });

    it('deletes only the given messages, and fails for ids it did not find', async () => {
      const { run, out, dlq } = setup();
      expect(await run('purge', '--queue', 'orders-dlq', '--yes', '--message-id', 'm-2', '--message-id', 'm-9')).toBe(1);
      expect(out).toEqual(['orders-dlq: deleted 1 message(s); not found: m-9']);
      expect(dlq.messages.map((m) => m.id)).toEqual(['m-1', 'm-3']);
    });

    it('asks for confirmation, and deletes nothing without it (no terminal)', async () => {
      const { run, err, dlq } = setup();
      expect(await run('purge', '--queue', 'orders-dlq')).toBe(1);
      expect(err).toEqual(['not confirmed: nothing deleted (pass --yes to skip the prompt)']);
      expect(dlq.messages).toHaveLength(3);
    });

    it('refuses a queue that is no dead-letter queue without --force', async () => {
      const { run, source, sqs } = setup();
      sqs.addMessage(source, 'live', 'x');
      await expect(run('purge', '--queue', 'orders', '--yes')).rejects.toThrow(/orders is no queue's dead-letter queue; pass --force/);
      expect(source.messages).toHaveLength(1);
      expect(await run('purge', '--queue', 'orders', '--yes', '--force')).toBe(0);
      expect(source.messages).toHaveLength(0);
    });
  });

  it('formats progress with a bar, counts, destination, status and rate', () => {
    const startedAt = new Date(1_000_000);
    const line = progressLine(
      {
        status: 'RUNNING',
        sourceArn: 'arn:aws:sqs:us-east-1:1:dlq',
        moved: 5,
        toMove: 10,
        startedAt,
        destinationArn: 'arn:aws:sqs:us-east-1:1:retry',
      },
      1_010_000,
    );
    expect(line).toBe('[############------------]  5/10 moved to retry  RUNNING 0.5 msg/s');
    expect(progressLine({ status: 'FAILED', sourceArn: 'x', moved: 0, toMove: 2, failureReason: 'AccessDenied' })).toBe(
      '[------------------------] 0/2 moved to source queues  FAILED  AccessDenied',
    );
  });
});
