import type { SQSRecord } from 'aws-lambda';
import { MalformedMessageError, parseJsonBody, processSqsBatch, receiveCountOf, sqsBatchHandler } from '../../../../lambda/runtime/batch';
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
    it('logs one structured line per failure with the receive count', async () => {
      const lines: string[] = [];
      const rec = sqsRecord('x', { receiveCount: 3 });
      await processSqsBatch(
        sqsEvent([rec, sqsRecord('ok')]),
        async (r) => {
          if (r.body === 'x') throw new TypeError('boom');
        },
        { logger: { warn: (m: string) => void lines.push(m) } },
      );
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toEqual({
        message: 'message processing failed',
        messageId: rec.messageId,
        receiveCount: 3,
        errorName: 'TypeError',
        errorMessage: 'boom',
      });
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
