import type { SQSRecord } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchConfigurationError,
  BatchError,
  MalformedMessageError,
  MessagingPatternsRuntimeError,
  type RecordFailure,
  SkippedBehindFailureError,
  isRetryable,
  parseJsonBody,
  processSqsBatch,
  receiveCountOf,
  sqsBatchHandler,
} from '../../../../lambda/runtime/batch';
import { defaultLogger } from '../../../../lambda/runtime/internal/logger';
import { lambdaContext, sqsEvent, sqsRecord } from '../../../helpers/events';

const silent = { logger: null } as const;

describe('Function: processSqsBatch', () => {
  describe('standard queues', () => {
    it('reports no failures when every record succeeds', async () => {
      // Prepare
      const seen: string[] = [];
      const event = sqsEvent([sqsRecord({ n: 1 }), sqsRecord({ n: 2 }), sqsRecord({ n: 3 })]);
      // Act
      const res = await processSqsBatch(event, async (r) => void seen.push(r.messageId), silent);
      // Assess
      expect(res).toEqual({ batchItemFailures: [] });
      expect(seen.sort()).toEqual(event.Records.map((r) => r.messageId).sort());
    });

    it('reports exactly the failed records (partial failure)', async () => {
      const records = [sqsRecord({ ok: true }), sqsRecord({ ok: false }), sqsRecord({ ok: true }), sqsRecord({ ok: false })];
      const res = await processSqsBatch(
        sqsEvent(records),
        async (r) => {
          if (!JSON.parse(r.body).ok) throw new Error('bad');
        },
        silent,
      );
      expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[1].messageId, records[3].messageId]);
    });

    it('throws when the whole batch fails, so Lambda backs off', async () => {
      const event = sqsEvent([sqsRecord('a'), sqsRecord('b')]);
      await expect(
        processSqsBatch(
          event,
          async () => {
            throw new Error('down');
          },
          silent,
        ),
      ).rejects.toThrow(/All records failed processing/);
    });

    it('reports every record instead when throwOnFullBatchFailure is false', async () => {
      const event = sqsEvent([sqsRecord('a'), sqsRecord('b')]);
      const res = await processSqsBatch(
        event,
        async () => {
          throw new Error('down');
        },
        { ...silent, throwOnFullBatchFailure: false },
      );
      expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(event.Records.map((r) => r.messageId));
    });

    it('processes records concurrently by default and one by one on request', async () => {
      const event = sqsEvent([sqsRecord(1), sqsRecord(2), sqsRecord(3)]);
      let active = 0;
      let peak = 0;
      const handler = async () => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 10));
        active -= 1;
      };
      await processSqsBatch(event, handler, silent);
      expect(peak).toBe(3);
      peak = 0;
      await processSqsBatch(event, handler, { ...silent, processInParallel: false });
      expect(peak).toBe(1);
    });

    it('passes the context to the record handler', async () => {
      const ctx = lambdaContext();
      let got: unknown;
      await processSqsBatch(sqsEvent([sqsRecord(1)]), async (_r, c) => void (got = c), { ...silent, context: ctx });
      expect(got).toBe(ctx);
    });
  });

  describe('FIFO queues', () => {
    const fifoRecords = () => [
      sqsRecord('a1', { fifo: true, groupId: 'A' }),
      sqsRecord('b1', { fifo: true, groupId: 'B' }),
      sqsRecord('a2', { fifo: true, groupId: 'A' }),
      sqsRecord('b2', { fifo: true, groupId: 'B' }),
      sqsRecord('a3', { fifo: true, groupId: 'A' }),
    ];

    it('processes records in order, one at a time', async () => {
      const order: string[] = [];
      const records = fifoRecords();
      await processSqsBatch(sqsEvent(records), async (r) => void order.push(r.body), silent);
      expect(order).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
    });

    it('skips the rest of a failed group and keeps processing other groups (default)', async () => {
      const records = fifoRecords();
      const processed: string[] = [];
      const res = await processSqsBatch(
        sqsEvent(records),
        async (r) => {
          if (r.body === 'a1') throw new Error('a1 failed');
          processed.push(r.body);
        },
        silent,
      );
      expect(processed).toEqual(['b1', 'b2']);
      expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[0], records[2], records[4]].map((r) => r.messageId));
    });

    it('stops the whole batch after a failure in stop-batch mode', async () => {
      const records = fifoRecords();
      const processed: string[] = [];
      const res = await processSqsBatch(
        sqsEvent(records),
        async (r) => {
          if (r.body === 'b1') throw new Error('b1 failed');
          processed.push(r.body);
        },
        { ...silent, fifoFailureMode: 'stop-batch' },
      );
      expect(processed).toEqual(['a1']);
      expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.slice(1).map((r) => r.messageId));
    });

    describe('records skipped behind a failure', () => {
      const collect = () => {
        const failures: Array<{ id: string; failure: RecordFailure; error: unknown }> = [];
        const lines: Array<[string, Record<string, unknown>]> = [];
        return {
          failures,
          lines,
          options: {
            onRecordFailure: (r: SQSRecord, failure: RecordFailure, error: unknown) =>
              void failures.push({ id: r.messageId, failure, error }),
            logger: { warn: (m: string, fields: Record<string, unknown>) => void lines.push([m, fields]) },
          },
        };
      };

      it('skip-group: logs and reports each skipped record of the group, naming the failed message', async () => {
        // Prepare
        const records = fifoRecords();
        const { failures, lines, options } = collect();
        // Act
        const res = await processSqsBatch(
          sqsEvent(records),
          async (r) => {
            if (r.body === 'a1') throw new Error('a1 failed');
          },
          options,
        );
        // Assess
        const [a1, , a2, , a3] = records;
        expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([a1, a2, a3].map((r) => r.messageId));
        expect(failures.map((f) => [f.id, f.failure.errorName])).toEqual([
          [a1.messageId, 'Error'],
          [a2.messageId, 'SkippedBehindFailureError'],
          [a3.messageId, 'SkippedBehindFailureError'],
        ]);
        const skipped = failures[1].error as SkippedBehindFailureError;
        expect(skipped).toBeInstanceOf(SkippedBehindFailureError);
        expect(skipped).toBeInstanceOf(BatchError);
        expect(skipped).toBeInstanceOf(MessagingPatternsRuntimeError);
        expect(skipped.retryable).toBe(true);
        expect(isRetryable(skipped)).toBe(true);
        expect(skipped.failedMessageId).toBe(a1.messageId);
        expect(skipped.context).toEqual({
          messageId: a2.messageId,
          failedMessageId: a1.messageId,
          messageGroupId: 'A',
          fifoFailureMode: 'skip-group',
        });
        expect(failures[1].failure).toMatchObject({ messageGroupId: 'A', retryable: true });
        expect(failures[1].failure.errorMessage).toContain(`message ${a1.messageId} of its message group 'A' failed before it`);
        expect(lines.map(([m, f]) => [m, f.messageId, f.failedMessageId])).toEqual([
          ['message processing failed', a1.messageId, undefined],
          ['message skipped behind a failed message', a2.messageId, a1.messageId],
          ['message skipped behind a failed message', a3.messageId, a1.messageId],
        ]);
      });

      it('skip-group: names the first failure of each group', async () => {
        const records = fifoRecords();
        const { failures, options } = collect();
        await processSqsBatch(
          sqsEvent(records),
          async (r) => {
            if (r.body === 'a1' || r.body === 'b1') throw new Error(`${r.body} failed`);
          },
          { ...options, throwOnFullBatchFailure: false },
        );
        const [a1, b1, a2, b2, a3] = records;
        expect(failures.map((f) => [f.id, (f.error as Partial<SkippedBehindFailureError>).failedMessageId])).toEqual([
          [a1.messageId, undefined],
          [b1.messageId, undefined],
          [a2.messageId, a1.messageId],
          [b2.messageId, b1.messageId],
          [a3.messageId, a1.messageId],
        ]);
      });

      it('stop-batch: logs and reports every record after the failure, whatever its group', async () => {
        const records = fifoRecords();
        const { failures, lines, options } = collect();
        const res = await processSqsBatch(
          sqsEvent(records),
          async (r) => {
            if (r.body === 'b1') throw new Error('b1 failed');
          },
          { ...options, fifoFailureMode: 'stop-batch' },
        );
        const b1 = records[1];
        expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.slice(1).map((r) => r.messageId));
        expect(failures.map((f) => f.id)).toEqual(records.slice(1).map((r) => r.messageId));
        for (const f of failures.slice(1)) {
          expect(f.error).toBeInstanceOf(SkippedBehindFailureError);
          expect((f.error as SkippedBehindFailureError).context).toMatchObject({
            failedMessageId: b1.messageId,
            fifoFailureMode: 'stop-batch',
          });
          expect(f.failure.errorMessage).toContain(`message ${b1.messageId} of the batch failed before it`);
        }
        expect(lines.filter(([m]) => m === 'message skipped behind a failed message').map(([, f]) => f.messageId)).toEqual(
          records.slice(2).map((r) => r.messageId),
        );
      });

      it('stop-batch: reports the skipped records before a full-batch failure is thrown', async () => {
        const records = fifoRecords();
        const { failures, options } = collect();
        await expect(
          processSqsBatch(
            sqsEvent(records),
            async () => {
              throw new Error('down');
            },
            { ...options, fifoFailureMode: 'stop-batch' },
          ),
        ).rejects.toThrow(/All records failed processing/);
        expect(failures.map((f) => f.failure.errorName)).toEqual(['Error', ...Array(4).fill('SkippedBehindFailureError')]);
      });
    });

    it('detects FIFO from the event source ARN, and can be forced', async () => {
      // Standard ARN but forced FIFO: records run sequentially and skip-group applies.
      const records = [sqsRecord('x1', { groupId: 'X' }), sqsRecord('x2', { groupId: 'X' })].map((r) => ({
        ...r,
        attributes: { ...r.attributes, MessageGroupId: 'X' },
      }));
      const processed: string[] = [];
      const res = await processSqsBatch(
        sqsEvent(records),
        async (r) => {
          if (r.body === 'x1') throw new Error('x1');
          processed.push(r.body);
        },
        { ...silent, fifo: true, throwOnFullBatchFailure: false },
      );
      expect(processed).toEqual([]);
      expect(res.batchItemFailures).toHaveLength(2);
    });
  });

  describe('failure reasons', () => {
    it('logs one structured line per failure with the receive count, fields as an object', async () => {
      const lines: Array<[string, Record<string, unknown>]> = [];
      const rec = sqsRecord('x', { receiveCount: 3 });
      await processSqsBatch(
        sqsEvent([rec, sqsRecord('ok')]),
        async (r) => {
          if (r.body === 'x') throw new TypeError('boom');
        },
        { logger: { warn: (m: string, fields: Record<string, unknown>) => void lines.push([m, fields]) } },
      );
      expect(lines).toEqual([
        [
          'message processing failed',
          {
            messageId: rec.messageId,
            messageGroupId: undefined,
            receiveCount: 3,
            errorName: 'TypeError',
            errorMessage: 'boom',
            retryable: false,
          },
        ],
      ]);
    });

    it("logs a library error's retryable and context", async () => {
      const lines: Array<Record<string, unknown>> = [];
      const rec = sqsRecord('{not json');
      await processSqsBatch(sqsEvent([rec]), (r) => parseJsonBody(r), {
        throwOnFullBatchFailure: false,
        logger: { warn: (_m: string, fields: Record<string, unknown>) => void lines.push(fields) },
      });
      expect(lines).toEqual([
        expect.objectContaining({ errorName: 'MalformedMessageError', retryable: false, errorContext: { messageId: rec.messageId } }),
      ]);
    });

    it('accepts a Powertools Logger as it is, and never passes it pre-serialised JSON', async () => {
      const logger = new Logger({ serviceName: 'test' });
      const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
      const rec = sqsRecord('x');
      await processSqsBatch(
        sqsEvent([rec]),
        async () => {
          throw new Error('boom');
        },
        { logger, throwOnFullBatchFailure: false },
      );
      expect(warn).toHaveBeenCalledWith(
        'message processing failed',
        expect.objectContaining({ messageId: rec.messageId, errorMessage: 'boom' }),
      );
      expect(() => JSON.parse(warn.mock.calls[0][0] as string)).toThrow();
    });

    it('accepts console', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        await processSqsBatch(
          sqsEvent([sqsRecord('x')]),
          async () => {
            throw new Error('boom');
          },
          { logger: console, throwOnFullBatchFailure: false },
        );
        expect(warn).toHaveBeenCalledWith('message processing failed', expect.objectContaining({ errorMessage: 'boom' }));
      } finally {
        warn.mockRestore();
      }
    });

    it('logs through the shared Powertools Logger when no logger is given', async () => {
      const warn = jest.spyOn(defaultLogger(), 'warn').mockImplementation(() => undefined);
      try {
        await processSqsBatch(
          sqsEvent([sqsRecord('x')]),
          async () => {
            throw new Error('boom');
          },
          { throwOnFullBatchFailure: false },
        );
        expect(warn).toHaveBeenCalledWith('message processing failed', expect.objectContaining({ errorMessage: 'boom' }));
      } finally {
        warn.mockRestore();
      }
    });

    it('calls onRecordFailure before returning, and survives a failing hook', async () => {
      const reasons: Array<[string, string]> = [];
      const bad = sqsRecord('bad', { fifo: true, groupId: 'G' });
      const res = await processSqsBatch(
        sqsEvent([bad, sqsRecord('good', { fifo: true, groupId: 'H' })]),
        async (r) => {
          if (r.body === 'bad') throw new Error('nope');
        },
        {
          ...silent,
          onRecordFailure: async (r: SQSRecord, f) => {
            await new Promise((x) => setTimeout(x, 5));
            reasons.push([r.messageId, `${f.errorName}: ${f.errorMessage} (group ${f.messageGroupId})`]);
            throw new Error('hook failed too');
          },
        },
      );
      expect(reasons).toEqual([[bad.messageId, 'Error: nope (group G)']]);
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    });
  });
});

describe('Function: processSqsBatch, options', () => {
  it.each([
    [
      'fifoFailureMode',
      { fifoFailureMode: 'skip-batch' },
      /fifoFailureMode must be one of 'skip-group', 'stop-batch' \(given 'skip-batch'\)/,
    ],
    ['fifo', { fifo: 'yes' }, /fifo must be true or false \(given 'yes'\)/],
    ['processInParallel', { processInParallel: 1 }, /processInParallel must be true or false \(given 1\)/],
    ['throwOnFullBatchFailure', { throwOnFullBatchFailure: 'no' }, /throwOnFullBatchFailure must be true or false/],
    ['onRecordFailure', { onRecordFailure: 'log' }, /onRecordFailure must be a function \(given 'log'\)/],
    ['logger', { logger: { info: () => undefined } }, /logger must have a warn method/],
  ])('fails with BatchConfigurationError for a bad %s, processing nothing', async (option, options, message) => {
    const handler = jest.fn();
    const run = () => processSqsBatch(sqsEvent([sqsRecord('x')]), handler, options as never);
    await expect(run()).rejects.toThrow(BatchConfigurationError);
    await expect(run()).rejects.toThrow(message);
    await expect(run()).rejects.toMatchObject({ option, retryable: false, context: { option } });
    expect(handler).not.toHaveBeenCalled();
  });

  it('checks the options of sqsBatchHandler when the handler is created', () => {
    expect(() => sqsBatchHandler(async () => undefined, { fifoFailureMode: 'nope' as never })).toThrow(BatchConfigurationError);
    expect(() => sqsBatchHandler('handler' as never)).toThrow(/recordHandler must be a function/);
  });
});

describe('Function: sqsBatchHandler', () => {
  it('wraps a record handler into a Lambda handler', async () => {
    const records = [sqsRecord('1'), sqsRecord('2')];
    const handler = sqsBatchHandler(async (r) => {
      if (r.body === '2') throw new Error('x');
    }, silent);
    await expect(handler(sqsEvent(records), lambdaContext())).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: records[1].messageId }],
    });
  });
});

describe('Function: parseJsonBody', () => {
  it('parses JSON', () => {
    expect(parseJsonBody(sqsRecord({ a: 1 }))).toEqual({ a: 1 });
  });

  it('throws MalformedMessageError with the message id and cause', () => {
    const rec = sqsRecord('{not json');
    let err: unknown;
    try {
      parseJsonBody(rec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MalformedMessageError);
    expect((err as MalformedMessageError).messageId).toBe(rec.messageId);
    expect((err as MalformedMessageError).name).toBe('MalformedMessageError');
    expect((err as MalformedMessageError).retryable).toBe(false);
    expect((err as MalformedMessageError).context).toEqual({ messageId: rec.messageId });
    expect(err).toBeInstanceOf(MessagingPatternsRuntimeError);
    expect((err as Error).cause).toBeInstanceOf(SyntaxError);
  });
});

describe('Function: receiveCountOf', () => {
  it('reads ApproximateReceiveCount, and counts a record without it as a first delivery', () => {
    expect(receiveCountOf(sqsRecord('x', { receiveCount: 3 }))).toBe(3);
    const bare = sqsRecord('x');
    bare.attributes = {} as SQSRecord['attributes'];
    expect(receiveCountOf(bare)).toBe(1);
  });
});
