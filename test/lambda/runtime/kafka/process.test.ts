import {
  KafkaConfigurationError,
  type KafkaRecord,
  UnsupportedKafkaEventError,
  kafkaBatchHandler,
  processKafkaBatch,
} from '../../../../lambda/runtime/kafka';
import { kafkaEvent, kafkaRecord } from './events';

const logger = { warn: jest.fn() };
beforeEach(() => logger.warn.mockReset());

/** A handler that fails the records whose value is `poison`, and records what it processed. */
function handler(seen: string[]) {
  return async (r: KafkaRecord) => {
    if (r.text() === 'poison') throw new Error(`poison at ${r.recordId}`);
    seen.push(r.recordId);
  };
}

describe('Function: processKafkaBatch', () => {
  it('processes every record, partition by partition in offset order, and reports no failure', async () => {
    // Prepare
    const seen: string[] = [];
    const event = kafkaEvent([kafkaRecord('t', 0, 0, 'a'), kafkaRecord('t', 1, 0, 'b'), kafkaRecord('t', 0, 1, 'c')]);

    // Act
    const res = await processKafkaBatch(event, handler(seen), { logger });

    // Assess
    expect(res).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['t-0:0', 't-0:1', 't-1:0']);
  });

  it('stops a partition at its first failure, goes on with the others, and reports { partition, offset } per failed partition', async () => {
    const seen: string[] = [];
    const event = kafkaEvent([
      kafkaRecord('t', 0, 10, 'a'),
      kafkaRecord('t', 0, 11, 'poison'),
      kafkaRecord('t', 0, 12, 'c'),
      kafkaRecord('t', 1, 20, 'poison'),
      kafkaRecord('t', 2, 30, 'd'),
    ]);
    const res = await processKafkaBatch(event, handler(seen), { logger });
    expect(res).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 11 } }, { itemIdentifier: { partition: 't-1', offset: 20 } }],
    });
    expect(seen).toEqual(['t-0:10', 't-2:30']);
    expect(logger.warn).toHaveBeenCalledWith(
      'kafka record processing failed',
      expect.objectContaining({
        recordId: 't-0:11',
        topicPartition: 't-0',
        offset: 11,
        position: 1,
        recordsLeftForRetry: 2,
        errorMessage: 'poison at t-0:11',
      }),
    );
  });

  it('throws the first error when nothing of the batch succeeded, so that Lambda bisects the batch', async () => {
    const event = kafkaEvent([kafkaRecord('t', 0, 5, 'poison'), kafkaRecord('t', 0, 6, 'ok'), kafkaRecord('t', 1, 1, 'poison')]);
    await expect(processKafkaBatch(event, handler([]), { logger })).rejects.toThrow('poison at t-0:5');
  });

  it('reports instead of throwing with throwWhenNothingSucceeded: false', async () => {
    const event = kafkaEvent([kafkaRecord('t', 0, 5, 'poison')]);
    await expect(processKafkaBatch(event, handler([]), { logger, throwWhenNothingSucceeded: false })).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 5 } }],
    });
  });

  it('passes each failure to onRecordFailure, and ignores (logs) the hook errors', async () => {
    const hook = jest.fn().mockRejectedValue(new Error('hook broke'));
    const event = kafkaEvent([kafkaRecord('t', 0, 0, 'ok'), kafkaRecord('t', 0, 1, 'poison')]);
    await processKafkaBatch(event, handler([]), { logger, onRecordFailure: hook });
    expect(hook).toHaveBeenCalledWith(
      expect.objectContaining({ recordId: 't-0:1' }),
      expect.objectContaining({ offset: 1, retryable: false }),
      expect.any(Error),
    );
    expect(logger.warn).toHaveBeenCalledWith(
      'onRecordFailure failed',
      expect.objectContaining({ recordId: 't-0:1', errorMessage: 'hook broke' }),
    );
  });

  it('processes partitions concurrently with processPartitionsInParallel, each in order', async () => {
    const order: string[] = [];
    const event = kafkaEvent([kafkaRecord('t', 0, 0, 'slow'), kafkaRecord('t', 0, 1, 'a'), kafkaRecord('t', 1, 0, 'b')]);
    await processKafkaBatch(
      event,
      async (r) => {
        if (r.text() === 'slow') await new Promise((resolve) => setTimeout(resolve, 20));
        order.push(r.recordId);
      },
      { processPartitionsInParallel: true, logger },
    );
    expect(order).toEqual(['t-1:0', 't-0:0', 't-0:1']);
  });

  it('passes the context to the handler, and returns an empty response for an empty batch', async () => {
    const context = { awsRequestId: 'r' } as never;
    const fn = jest.fn();
    await processKafkaBatch(kafkaEvent([kafkaRecord('t', 0, 0, 'a')]), fn, { context });
    expect(fn).toHaveBeenCalledWith(expect.anything(), context);
    await expect(processKafkaBatch({ eventSource: 'aws:kafka', records: {} }, fn)).resolves.toEqual({ batchItemFailures: [] });
  });

  it('fails before processing anything on an event that is not a Kafka batch', async () => {
    const fn = jest.fn();
    await expect(processKafkaBatch({ Records: [] } as never, fn)).rejects.toThrow(UnsupportedKafkaEventError);
    expect(fn).not.toHaveBeenCalled();
  });

  it.each([
    ['recordHandler', () => processKafkaBatch(kafkaEvent([]), 'x' as never)],
    ['processPartitionsInParallel', () => processKafkaBatch(kafkaEvent([]), jest.fn(), { processPartitionsInParallel: 'yes' as never })],
    ['throwWhenNothingSucceeded', () => processKafkaBatch(kafkaEvent([]), jest.fn(), { throwWhenNothingSucceeded: 1 as never })],
    ['onRecordFailure', () => processKafkaBatch(kafkaEvent([]), jest.fn(), { onRecordFailure: 'x' as never })],
    ['logger', () => processKafkaBatch(kafkaEvent([]), jest.fn(), { logger: {} as never })],
    ['context', () => processKafkaBatch(kafkaEvent([]), jest.fn(), { context: 'x' as never })],
  ])('throws KafkaConfigurationError for an invalid %s', async (option, call) => {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaConfigurationError);
    expect((error as KafkaConfigurationError).option).toBe(option);
  });
});

describe('Function: kafkaBatchHandler', () => {
  it('checks the options when the module loads, and processes batches with the context', async () => {
    expect(() => kafkaBatchHandler(jest.fn(), { logger: 3 as never })).toThrow(KafkaConfigurationError);
    const seen: string[] = [];
    const h = kafkaBatchHandler(handler(seen), { logger: null });
    await expect(h(kafkaEvent([kafkaRecord('t', 0, 0, 'a'), kafkaRecord('t', 0, 1, 'poison')]), {} as never)).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 1 } }],
    });
    expect(seen).toEqual(['t-0:0']);
  });
});
