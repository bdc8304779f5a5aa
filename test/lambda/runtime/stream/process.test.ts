import { MessagingPatternsRuntimeError, isRetryable } from '../../../../lambda/runtime/stream';
import type { DynamoDBStreamItem } from '../../../../lambda/runtime/stream/dynamodb';
import {
  KinesisDeaggregationError,
  StreamBatchConfigurationError,
  StreamBatchError,
  UnsupportedStreamEventError,
} from '../../../../lambda/runtime/stream/errors';
import type { KinesisStreamItem } from '../../../../lambda/runtime/stream/kinesis';
import { processStreamBatch, streamBatchHandler } from '../../../../lambda/runtime/stream/process';
import { lambdaContext } from '../../../helpers/events';
import { memoryLogger } from '../publish/fake-services';
import { aggregate, dynamoDBEvent, dynamoDBRecord, encodeAggregatedMessage, kinesisEvent, kinesisRecord } from './events';

const boom = (message = 'boom') => new Error(message);

describe('Function: processStreamBatch', () => {
  describe('Kinesis', () => {
    it('processes every record in order and reports no failure', async () => {
      // Prepare
      const records = Array.from({ length: 5 }, (_, i) => kinesisRecord({ n: i }, { partitionKey: `k${i % 2}` }));
      const seen: number[] = [];

      // Act
      const response = await processStreamBatch(
        kinesisEvent(records),
        async (item) => {
          await new Promise((r) => setTimeout(r, (5 - item.json<{ n: number }>().n) * 2));
          seen.push(item.json<{ n: number }>().n);
        },
        { logger: null },
      );

      // Assess
      expect(response).toEqual({ batchItemFailures: [] });
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    });

    it('returns no failure for an empty batch without calling the handler', async () => {
      const handler = jest.fn();
      expect(await processStreamBatch(kinesisEvent([]), handler, { logger: null })).toEqual({ batchItemFailures: [] });
      expect(handler).not.toHaveBeenCalled();
    });

    it('stops at the first failure and reports its sequence number: nothing after it runs, whatever its key', async () => {
      // Prepare: the third record fails; the fourth has another partition key
      const records = [
        kinesisRecord({ n: 0 }, { partitionKey: 'a', sequenceNumber: '100' }),
        kinesisRecord({ n: 1 }, { partitionKey: 'a', sequenceNumber: '101' }),
        kinesisRecord({ n: 2 }, { partitionKey: 'a', sequenceNumber: '102' }),
        kinesisRecord({ n: 3 }, { partitionKey: 'b', sequenceNumber: '103' }),
        kinesisRecord({ n: 4 }, { partitionKey: 'a', sequenceNumber: '104' }),
      ];
      const seen: number[] = [];

      // Act
      const response = await processStreamBatch(
        kinesisEvent(records),
        (item) => {
          const { n } = item.json<{ n: number }>();
          if (n === 2) throw boom();
          seen.push(n);
        },
        { logger: null },
      );

      // Assess
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '102' }] });
      expect(seen).toEqual([0, 1]);
    });

    it('fails the invocation when the first record fails, so a bisecting mapping splits the batch, after logging and the hook', async () => {
      const onRecordFailure = jest.fn();
      const handler = jest.fn(() => Promise.reject(boom('first')));
      await expect(
        processStreamBatch(
          kinesisEvent([kinesisRecord('x', { sequenceNumber: '7' }), kinesisRecord('y', { sequenceNumber: '8' })]),
          handler,
          {
            logger: null,
            onRecordFailure,
          },
        ),
      ).rejects.toThrow('first');
      expect(handler).toHaveBeenCalledTimes(1);
      expect(onRecordFailure.mock.calls[0][1]).toEqual(expect.objectContaining({ sequenceNumber: '7' }));
    });

    it('reports the first record instead with throwOnFirstRecordFailure: false, so Lambda retries the whole batch from it', async () => {
      const response = await processStreamBatch(
        kinesisEvent([kinesisRecord('x', { sequenceNumber: '7' }), kinesisRecord('y', { sequenceNumber: '8' })]),
        () => Promise.reject(boom()),
        { logger: null, throwOnFirstRecordFailure: false },
      );
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '7' }] });
    });

    it('processes the user records of an aggregated record, and a failure reports the parent', async () => {
      // Prepare: a plain record, then an aggregated one whose second user record fails
      const agg = aggregate(
        encodeAggregatedMessage({ partitionKeys: ['a', 'b'] }, [
          { partitionKeyIndex: 0, data: 'u0' },
          { partitionKeyIndex: 1, data: 'u1' },
          { partitionKeyIndex: 0, data: 'u2' },
        ]),
      );
      const records = [
        kinesisRecord('plain', { sequenceNumber: '200' }),
        kinesisRecord(agg, { sequenceNumber: '201' }),
        kinesisRecord('after', { sequenceNumber: '202' }),
      ];
      const seen: string[] = [];
      const onRecordFailure = jest.fn();

      // Act
      const response = await processStreamBatch(
        kinesisEvent(records),
        (item) => {
          if (item.text() === 'u1') throw boom('user record failed');
          seen.push(`${item.recordId}=${item.text()}`);
        },
        { logger: null, onRecordFailure },
      );

      // Assess: u0 ran and will run again with the retry of the whole parent
      expect(seen).toEqual(['shardId-000000000006:200=plain', 'shardId-000000000006:201:0=u0']);
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '201' }] });
      expect(onRecordFailure).toHaveBeenCalledWith(
        records[1],
        expect.objectContaining({ recordId: 'shardId-000000000006:201:1', sequenceNumber: '201', subSequenceNumber: 1, partitionKey: 'b' }),
        expect.any(Error),
      );
    });

    it('fails a corrupt aggregated record with a clear error and stops there', async () => {
      const message = encodeAggregatedMessage({ partitionKeys: ['a'] }, [{ partitionKeyIndex: 0, data: 'x' }]);
      const corrupt = aggregate(message, Buffer.alloc(16));
      const handler = jest.fn();
      const onRecordFailure = jest.fn();

      const response = await processStreamBatch(
        kinesisEvent([
          kinesisRecord('ok', { sequenceNumber: '1' }),
          kinesisRecord(corrupt, { sequenceNumber: '2' }),
          kinesisRecord('next', { sequenceNumber: '3' }),
        ]),
        handler,
        { logger: null, onRecordFailure },
      );

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
      expect(handler).toHaveBeenCalledTimes(1);
      const error = onRecordFailure.mock.calls[0][2] as KinesisDeaggregationError;
      expect(error).toBeInstanceOf(KinesisDeaggregationError);
      expect(error.message).toMatch(/MD5 trailer .* does not match its content .*: it is corrupt/);
      expect(isRetryable(error)).toBe(false);
      expect(onRecordFailure.mock.calls[0][1]).toEqual(
        expect.objectContaining({ errorName: 'KinesisDeaggregationError', recordId: 'shardId-000000000006:2' }),
      );
    });

    it('passes an aggregated record whole with deaggregate false', async () => {
      const agg = aggregate(encodeAggregatedMessage({ partitionKeys: ['a'] }, [{ partitionKeyIndex: 0, data: 'x' }]));
      const items: KinesisStreamItem[] = [];
      await processStreamBatch(kinesisEvent([kinesisRecord(agg)]), (item) => void items.push(item), { logger: null, deaggregate: false });
      expect(items).toHaveLength(1);
      expect(items[0].data).toEqual(agg);
    });
  });

  describe('DynamoDB', () => {
    it('passes unmarshalled changes in order and reports the SequenceNumber of a failure', async () => {
      const records = [
        dynamoDBRecord({ eventName: 'INSERT', sequenceNumber: '300', newImage: { pk: { S: 'o1' }, total: { N: '10' } } }),
        dynamoDBRecord({
          eventName: 'MODIFY',
          sequenceNumber: '301',
          newImage: { pk: { S: 'o1' }, total: { N: '-1' } },
          oldImage: { pk: { S: 'o1' }, total: { N: '10' } },
        }),
        dynamoDBRecord({ eventName: 'REMOVE', sequenceNumber: '302', oldImage: { pk: { S: 'o1' } } }),
      ];
      const seen: string[] = [];

      const response = await processStreamBatch(
        dynamoDBEvent(records),
        (item: DynamoDBStreamItem<{ pk: string; total: number }>) => {
          if (item.newImage && item.newImage.total < 0) throw boom('negative total');
          seen.push(`${item.eventName}:${item.newImage?.total}`);
        },
        { logger: null },
      );

      expect(seen).toEqual(['INSERT:10']);
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '301' }] });
    });

    it('fails the record whose image cannot be unmarshalled', async () => {
      const records = [dynamoDBRecord({ sequenceNumber: '400', newImage: { n: { N: '1234567890123456789012.5' } } })];
      const onRecordFailure = jest.fn();

      const response = await processStreamBatch(dynamoDBEvent(records), jest.fn(), {
        logger: null,
        onRecordFailure,
        throwOnFirstRecordFailure: false,
      });

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '400' }] });
      expect(onRecordFailure.mock.calls[0][1]).toEqual(expect.objectContaining({ errorName: 'MalformedStreamRecordError' }));
    });

    it('fails the invocation when a failed record has no sequence number to report', async () => {
      const record = dynamoDBRecord({});
      delete record.dynamodb!.SequenceNumber;
      await expect(processStreamBatch(dynamoDBEvent([record]), () => Promise.reject(boom('no seq')), { logger: null })).rejects.toThrow(
        'no seq',
      );
    });
  });

  describe('Failure reporting', () => {
    it('logs one structured warning and calls onRecordFailure with the record, the failure and the error', async () => {
      // Prepare
      const logger = memoryLogger();
      const records = [
        kinesisRecord('a', { sequenceNumber: '10', partitionKey: 'k1' }),
        kinesisRecord('b', { sequenceNumber: '11', partitionKey: 'k2' }),
        kinesisRecord('c', { sequenceNumber: '12' }),
      ];
      const onRecordFailure = jest.fn();
      const error = boom('handler said no');

      // Act
      await processStreamBatch(
        kinesisEvent(records),
        (item) => {
          if (item.text() === 'b') throw error;
        },
        { logger, onRecordFailure },
      );

      // Assess
      const failure = {
        eventSource: 'aws:kinesis',
        recordId: 'shardId-000000000006:11',
        sequenceNumber: '11',
        partitionKey: 'k2',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/readings',
        position: 1,
        recordsLeftForRetry: 2,
        errorName: 'Error',
        errorMessage: 'handler said no',
      };
      expect(logger.lines).toEqual([{ level: 'warn', message: 'stream record processing failed', fields: failure }]);
      expect(onRecordFailure).toHaveBeenCalledWith(records[1], failure, error);
    });

    it('logs and ignores an error of onRecordFailure', async () => {
      const logger = memoryLogger();

      const response = await processStreamBatch(kinesisEvent([kinesisRecord('a', { sequenceNumber: '5' })]), () => Promise.reject(boom()), {
        logger,
        onRecordFailure: () => Promise.reject(new Error('hook down')),
        throwOnFirstRecordFailure: false,
      });

      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '5' }] });
      expect(logger.lines[1]).toEqual({
        level: 'warn',
        message: 'onRecordFailure failed',
        fields: { recordId: 'shardId-000000000006:5', errorName: 'Error', errorMessage: 'hook down' },
      });
    });

    it('describes a thrown non-error too', async () => {
      const logger = memoryLogger();
      await processStreamBatch(kinesisEvent([kinesisRecord('a')]), () => Promise.reject('plain string'), {
        logger,
        throwOnFirstRecordFailure: false,
      });
      expect(logger.lines[0].fields).toEqual(expect.objectContaining({ errorName: 'Error', errorMessage: 'plain string' }));
    });
  });

  describe('Events and options', () => {
    it.each([
      ['an SQS event', { Records: [{ eventSource: 'aws:sqs' }] }, /records come from 'aws:sqs', not from a Kinesis or DynamoDB stream/],
      [
        'a mixed batch',
        { Records: [{ eventSource: 'aws:kinesis' }, { eventSource: 'aws:dynamodb' }] },
        /the batch mixes event sources \(aws:kinesis, aws:dynamodb\)/,
      ],
      ['no records', {}, /the event has no Records array/],
    ])('fails with UnsupportedStreamEventError for %s', async (_, event, message) => {
      const handler = jest.fn();
      await expect(processStreamBatch(event as never, handler, { logger: null })).rejects.toThrow(UnsupportedStreamEventError);
      await expect(processStreamBatch(event as never, handler, { logger: null })).rejects.toThrow(message);
      expect(handler).not.toHaveBeenCalled();
    });

    it.each([
      ['recordHandler', undefined, {}, /recordHandler must be a function \(given undefined\)/],
      ['deaggregate', jest.fn(), { deaggregate: 'yes' }, /deaggregate must be true or false \(given 'yes'\)/],
      ['onRecordFailure', jest.fn(), { onRecordFailure: 42 }, /onRecordFailure must be a function \(given number\)/],
      ['logger', jest.fn(), { logger: {} }, /logger must have a warn method/],
      ['context', jest.fn(), { context: 'ctx' }, /context must be the Lambda context object/],
      ['unmarshallOptions', jest.fn(), { unmarshallOptions: true }, /unmarshallOptions must be an object/],
    ])('fails with StreamBatchConfigurationError for a bad %s', async (option, handler, options, message) => {
      const run = () => processStreamBatch(kinesisEvent([]), handler as never, options as never);
      await expect(run()).rejects.toThrow(StreamBatchConfigurationError);
      await expect(run()).rejects.toThrow(message);
      const error = (await run().catch((e: unknown) => e)) as StreamBatchConfigurationError;
      expect(error.option).toBe(option);
      expect(error).toBeInstanceOf(StreamBatchError);
      expect(error).toBeInstanceOf(MessagingPatternsRuntimeError);
      expect(error.name).toBe('StreamBatchConfigurationError');
    });
  });
});

describe('Function: streamBatchHandler', () => {
  it('passes the Lambda context to the record handler', async () => {
    const context = lambdaContext();
    const handler = jest.fn();

    const response = await streamBatchHandler(handler, { logger: null })(kinesisEvent([kinesisRecord('a')]), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(handler).toHaveBeenCalledWith(expect.objectContaining({ eventSource: 'aws:kinesis' }), context);
  });

  it('wraps a DynamoDB stream handler', async () => {
    const handler = streamBatchHandler(
      async (item: DynamoDBStreamItem<{ pk: string }>) => {
        if (item.newImage?.pk === 'bad') throw boom();
      },
      { logger: null },
    );

    const response = await handler(
      dynamoDBEvent([
        dynamoDBRecord({ sequenceNumber: '1', newImage: { pk: { S: 'ok' } } }),
        dynamoDBRecord({ sequenceNumber: '2', newImage: { pk: { S: 'bad' } } }),
      ]),
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
  });

  it('checks its options when created', () => {
    expect(() => streamBatchHandler(jest.fn(), { deaggregate: 1 as never })).toThrow(/deaggregate must be true or false \(given number\)/);
  });
});
