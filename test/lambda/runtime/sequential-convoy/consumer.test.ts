import type { SQSRecord } from 'aws-lambda';
import { BatchConfigurationError, MalformedMessageError, type SkippedBehindFailureError } from '../../../../lambda/runtime/batch';
import {
  type ConvoyMessage,
  SequentialConvoyConfigurationError,
  convoyHandler,
  processConvoyBatch,
} from '../../../../lambda/runtime/sequential-convoy';
import { lambdaContext, sqsEvent, sqsRecord } from '../../../helpers/events';

const silent = { logger: null } as const;

interface Step {
  readonly entity: string;
  readonly seq: number;
  readonly fail?: boolean;
}

const record = (step: Step, receiveCount = 1): SQSRecord => sqsRecord(step, { fifo: true, groupId: step.entity, receiveCount });

/** Interleaved events of entities A and B; A's second event fails. */
const interleaved = (): SQSRecord[] => [
  record({ entity: 'A', seq: 1 }),
  record({ entity: 'B', seq: 1 }),
  record({ entity: 'A', seq: 2, fail: true }),
  record({ entity: 'B', seq: 2 }),
  record({ entity: 'A', seq: 3 }),
  record({ entity: 'B', seq: 3 }),
];

describe('Function: processConvoyBatch', () => {
  it('applies each group in order and passes the group, sequence number and receive count', async () => {
    // Prepare
    const seen: Array<ConvoyMessage<Step>> = [];
    const records = [record({ entity: 'A', seq: 1 }, 3), record({ entity: 'A', seq: 2 })];
    // Act
    const res = await processConvoyBatch<Step>(sqsEvent(records), (m) => void seen.push(m), silent);
    // Assess
    expect(res).toEqual({ batchItemFailures: [] });
    expect(seen.map((m) => [m.groupId, m.body.seq, m.receiveCount])).toEqual([
      ['A', 1, 3],
      ['A', 2, 1],
    ]);
    expect(seen[0].sequenceNumber).toBe(records[0].attributes.SequenceNumber);
    expect(seen[0].deduplicationId).toBe(records[0].attributes.MessageDeduplicationId);
    expect(seen[0].record).toBe(records[0]);
  });

  it('stops only the failing group: the rest of it is failed unprocessed, other groups go on', async () => {
    const records = interleaved();
    const applied: string[] = [];
    const res = await processConvoyBatch<Step>(
      sqsEvent(records),
      ({ body }) => {
        if (body.fail) throw new Error('boom');
        applied.push(`${body.entity}${body.seq}`);
      },
      silent,
    );
    expect(applied).toEqual(['A1', 'B1', 'B2', 'B3']);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[2].messageId, records[4].messageId]);
  });

  it('stops the whole rest of the batch in stop-batch mode', async () => {
    const records = interleaved();
    const applied: string[] = [];
    const res = await processConvoyBatch<Step>(
      sqsEvent(records),
      ({ body }) => {
        if (body.fail) throw new Error('boom');
        applied.push(`${body.entity}${body.seq}`);
      },
      { ...silent, fifoFailureMode: 'stop-batch' },
    );
    expect(applied).toEqual(['A1', 'B1']);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.slice(2).map((r) => r.messageId));
  });

  it('processes one record at a time, never two of the batch concurrently', async () => {
    let active = 0;
    let peak = 0;
    await processConvoyBatch(
      sqsEvent(interleaved()),
      async () => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 5));
        active -= 1;
      },
      silent,
    );
    expect(peak).toBe(1);
  });

  it('fails a record whose body is not JSON, and the rest of its group', async () => {
    const bad = sqsRecord('{"entity": ', { fifo: true, groupId: 'A' });
    const after = record({ entity: 'A', seq: 2 });
    const other = record({ entity: 'B', seq: 1 });
    const failures: string[] = [];
    const res = await processConvoyBatch(sqsEvent([bad, after, other]), () => undefined, {
      ...silent,
      onRecordFailure: (_r, f) => void failures.push(f.errorName),
    });
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([bad.messageId, after.messageId]);
    expect(failures[0]).toBe(MalformedMessageError.name);
  });

  it('uses a custom parser', async () => {
    const bodies: string[] = [];
    await processConvoyBatch<string>(sqsEvent([sqsRecord('plain text', { fifo: true })]), (m) => void bodies.push(m.body), {
      ...silent,
      parse: (r) => r.body.toUpperCase(),
    });
    expect(bodies).toEqual(['PLAIN TEXT']);
  });

  it('refuses a batch from a standard queue, processing nothing', async () => {
    const handler = jest.fn();
    await expect(processConvoyBatch(sqsEvent([sqsRecord({ entity: 'A', seq: 1 })]), handler, silent)).rejects.toThrow(
      SequentialConvoyConfigurationError,
    );
    await expect(processConvoyBatch(sqsEvent([sqsRecord({ entity: 'A', seq: 1 })]), handler, silent)).rejects.toThrow(
      /comes from arn:aws:sqs:us-east-1:000000000000:tasks, which is not a FIFO queue/,
    );
    await expect(processConvoyBatch(sqsEvent([sqsRecord({ entity: 'A', seq: 1 })]), handler, silent)).rejects.toMatchObject({
      option: 'eventSourceARN',
      retryable: false,
      context: { option: 'eventSourceARN', value: 'arn:aws:sqs:us-east-1:000000000000:tasks' },
    });
    expect(handler).not.toHaveBeenCalled();
  });

  it('reports the events of a group held back behind a failed event, naming it', async () => {
    const bad = record({ entity: 'A', seq: 1, fail: true });
    const held = record({ entity: 'A', seq: 2 });
    const reasons: Array<[string, string, unknown]> = [];
    await processConvoyBatch<Step>(
      sqsEvent([bad, held]),
      ({ body }) => {
        if (body.fail) throw new Error('boom');
      },
      {
        ...silent,
        throwOnFullBatchFailure: false,
        onRecordFailure: (r, f, e) => void reasons.push([r.messageId, f.errorName, (e as SkippedBehindFailureError).failedMessageId]),
      },
    );
    expect(reasons).toEqual([
      [bad.messageId, 'Error', undefined],
      [held.messageId, 'SkippedBehindFailureError', bad.messageId],
    ]);
  });

  it('checks its options before processing anything', async () => {
    const handler = jest.fn();
    const event = sqsEvent([record({ entity: 'A', seq: 1 })]);
    await expect(processConvoyBatch(event, handler, { ...silent, parse: 'json' as never })).rejects.toThrow(
      /parse must be a function \(given 'json'\)/,
    );
    await expect(processConvoyBatch(event, handler, { ...silent, parse: 'json' as never })).rejects.toThrow(
      SequentialConvoyConfigurationError,
    );
    await expect(processConvoyBatch(event, handler, { ...silent, fifoFailureMode: 'never' as never })).rejects.toThrow(
      BatchConfigurationError,
    );
    expect(() => convoyHandler('handler' as never)).toThrow(/handler must be a function/);
    expect(() => convoyHandler(handler, { logger: {} as never })).toThrow(/logger must have a warn method/);
    expect(handler).not.toHaveBeenCalled();
  });

  it('throws when every record failed (so Lambda backs off), unless told not to', async () => {
    const event = sqsEvent([record({ entity: 'A', seq: 1, fail: true }), record({ entity: 'A', seq: 2 })]);
    const fail = ({ body }: ConvoyMessage<Step>) => {
      if (body.fail) throw new Error('boom');
    };
    await expect(processConvoyBatch<Step>(event, fail, silent)).rejects.toThrow(/All records failed processing/);
    const res = await processConvoyBatch<Step>(event, fail, { ...silent, throwOnFullBatchFailure: false });
    expect(res.batchItemFailures).toHaveLength(2);
  });
});

describe('Function: convoyHandler', () => {
  it('wraps a record handler into a Lambda handler that passes the context', async () => {
    const contexts: unknown[] = [];
    const ctx = lambdaContext();
    const handler = convoyHandler<Step>((_m, context) => void contexts.push(context), silent);
    const res = await handler(sqsEvent([record({ entity: 'A', seq: 1 })]), ctx);
    expect(res).toEqual({ batchItemFailures: [] });
    expect(contexts).toEqual([ctx]);
  });
});
