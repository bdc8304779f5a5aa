import {
  BrokerBatchFailedError,
  BrokerConfigurationError,
  type BrokerMessage,
  UnsupportedBrokerEventError,
  brokerBatchHandler,
  processBrokerBatch,
} from '../../../../lambda/runtime/broker';
import { activeEvent, activeMessage, rabbitEvent, rabbitMessage } from './events';

const logger = { warn: jest.fn() };
beforeEach(() => logger.warn.mockReset());

const handler = (seen: string[]) => async (m: BrokerMessage) => {
  if (m.text() === 'poison') throw new Error(`poison ${m.messageId}`);
  seen.push(m.messageId);
};

describe('Function: processBrokerBatch', () => {
  it('processes every message in batch order', async () => {
    const seen: string[] = [];
    const res = await processBrokerBatch(
      activeEvent([activeMessage('a', { id: 'ID:1' }), activeMessage('b', { id: 'ID:2' })]),
      handler(seen),
      { logger },
    );
    expect(res).toEqual({ processed: 2 });
    expect(seen).toEqual(['ID:1', 'ID:2']);
  });

  it('processes the rest of the batch after a failure, then fails the batch with every failure and its reason', async () => {
    // Prepare
    const seen: string[] = [];
    const event = rabbitEvent({
      'q::/': [
        rabbitMessage('a', { messageId: 'm-1' }),
        rabbitMessage('poison', { messageId: 'm-2', redelivered: true }),
        rabbitMessage('c', { messageId: 'm-3' }),
      ],
    });

    // Act
    const error = await processBrokerBatch(event, handler(seen), { logger }).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(BrokerBatchFailedError);
    const failed = error as BrokerBatchFailedError;
    expect(failed.failures).toEqual([
      { messageId: 'm-2', queue: 'q', position: 1, redelivered: true, errorName: 'Error', errorMessage: 'poison m-2', retryable: false },
    ]);
    expect(failed.message).toBe('1 of 3 messages failed; the broker redelivers the batch (first: m-2: Error: poison m-2)');
    expect((failed.cause as Error).message).toBe('poison m-2');
    expect(seen).toEqual(['m-1', 'm-3']);
    expect(logger.warn).toHaveBeenCalledWith('broker message processing failed', expect.objectContaining({ messageId: 'm-2', queue: 'q' }));
  });

  it('stops at the first failure with stopAtFirstFailure', async () => {
    const seen: string[] = [];
    const event = activeEvent([activeMessage('poison', { id: 'ID:1' }), activeMessage('b', { id: 'ID:2' })]);
    await expect(processBrokerBatch(event, handler(seen), { logger, stopAtFirstFailure: true })).rejects.toThrow(BrokerBatchFailedError);
    expect(seen).toEqual([]);
  });

  it('passes each failure to onMessageFailure, and ignores (logs) the hook errors', async () => {
    const hook = jest.fn().mockRejectedValue(new Error('hook broke'));
    await expect(
      processBrokerBatch(activeEvent([activeMessage('poison', { id: 'ID:9' })]), handler([]), { logger, onMessageFailure: hook }),
    ).rejects.toThrow(BrokerBatchFailedError);
    expect(hook).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'ID:9' }),
      expect.objectContaining({ messageId: 'ID:9' }),
      expect.any(Error),
    );
    expect(logger.warn).toHaveBeenCalledWith(
      'onMessageFailure failed',
      expect.objectContaining({ messageId: 'ID:9', errorMessage: 'hook broke' }),
    );
  });

  it('says the batch is retryable only when every failure is', async () => {
    const { MessagingPatternsRuntimeError } = await import('../../../../lambda/runtime/internal/errors');
    const transient = async () => {
      throw new MessagingPatternsRuntimeError('throttled', { retryable: true });
    };
    const error = (await processBrokerBatch(activeEvent([activeMessage('a')]), transient, { logger: null }).catch(
      (e: unknown) => e,
    )) as BrokerBatchFailedError;
    expect(error.retryable).toBe(true);
  });

  it('fails before processing anything on an event that is not an Amazon MQ batch', async () => {
    const fn = jest.fn();
    await expect(processBrokerBatch({ eventSource: 'aws:sqs' } as never, fn)).rejects.toThrow(UnsupportedBrokerEventError);
    expect(fn).not.toHaveBeenCalled();
  });

  it.each([
    ['messageHandler', () => processBrokerBatch(activeEvent([]), undefined as never)],
    ['stopAtFirstFailure', () => processBrokerBatch(activeEvent([]), jest.fn(), { stopAtFirstFailure: 'no' as never })],
    ['onMessageFailure', () => processBrokerBatch(activeEvent([]), jest.fn(), { onMessageFailure: 1 as never })],
    ['logger', () => processBrokerBatch(activeEvent([]), jest.fn(), { logger: 'console' as never })],
    ['context', () => processBrokerBatch(activeEvent([]), jest.fn(), { context: 5 as never })],
  ])('throws BrokerConfigurationError for an invalid %s', async (option, call) => {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerConfigurationError);
    expect((error as BrokerConfigurationError).option).toBe(option);
  });
});

describe('Function: brokerBatchHandler', () => {
  it('checks the options when the module loads, and passes the context', async () => {
    expect(() => brokerBatchHandler(jest.fn(), { stopAtFirstFailure: 1 as never })).toThrow(BrokerConfigurationError);
    const fn = jest.fn();
    const context = { awsRequestId: 'r' } as never;
    await expect(brokerBatchHandler(fn, { logger: null })(activeEvent([activeMessage('a')]), context)).resolves.toEqual({ processed: 1 });
    expect(fn).toHaveBeenCalledWith(expect.objectContaining({ source: 'aws:amq' }), context);
  });
});
