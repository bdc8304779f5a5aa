import * as batch from '../../../../lambda/runtime/batch';
import * as claimCheck from '../../../../lambda/runtime/claim-check';
import * as delayQueue from '../../../../lambda/runtime/delay-queue';
import * as dlq from '../../../../lambda/runtime/dlq';
import * as idempotency from '../../../../lambda/runtime/idempotency';
import { MessagingPatternsRuntimeError, isRetryable } from '../../../../lambda/runtime/internal/errors';
import * as priorityQueue from '../../../../lambda/runtime/priority-queue';
import * as requestReply from '../../../../lambda/runtime/request-reply';
import * as sequentialConvoy from '../../../../lambda/runtime/sequential-convoy';

/** Each subpath, its root error and its configuration error. */
const SUBPATHS: Array<[string, Record<string, unknown>, string]> = [
  ['batch', batch, 'Batch'],
  ['claim-check', claimCheck, 'ClaimCheck'],
  ['delay-queue', delayQueue, 'DelayQueue'],
  ['dlq', dlq, 'DeadLetterQueue'],
  ['idempotency', idempotency, 'Idempotency'],
  ['priority-queue', priorityQueue, 'PriorityQueue'],
  ['request-reply', requestReply, 'RequestReply'],
  ['sequential-convoy', sequentialConvoy, 'SequentialConvoy'],
];

/** Every error class of those subpaths, built as the library builds it, and whether a retry may help. */
const ERRORS: Array<[string, () => Error, boolean]> = [
  ['BatchConfigurationError', () => new batch.BatchConfigurationError('fifo', 'fifo must be true or false'), false],
  ['MalformedMessageError', () => new batch.MalformedMessageError('m1'), false],
  ['SkippedBehindFailureError', () => new batch.SkippedBehindFailureError('m2', 'm1', { fifoFailureMode: 'skip-group' }), true],
  ['ClaimCheckConfigurationError', () => new claimCheck.ClaimCheckConfigurationError('bucketName', 'no bucket'), false],
  ['ClaimNotFoundError', () => new claimCheck.ClaimNotFoundError('b', 'k'), false],
  ['ClaimIntegrityError', () => new claimCheck.ClaimIntegrityError('b', 'k', 'differs'), false],
  ['UntrustedClaimError', () => new claimCheck.UntrustedClaimError('b'), false],
  ['DelayQueueConfigurationError', () => new delayQueue.DelayQueueConfigurationError('queueUrl', 'bad'), false],
  ['InvalidDelayError', () => new delayQueue.InvalidDelayError('bad delay', { option: 'delaySeconds', value: -1 }), false],
  ['ScheduleConflictError', () => new delayQueue.ScheduleConflictError('id', 'schedule'), false],
  ['DeadLetterQueueConfigurationError', () => new dlq.DeadLetterQueueConfigurationError('maxMessagesPerSecond', 'bad'), false],
  ['NotADeadLetterQueueError', () => new dlq.NotADeadLetterQueueError('q'), false],
  ['RedriveFailedError', () => new dlq.RedriveFailedError('arn', 'AccessDenied', 3), false],
  ['IdempotencyConfigurationError', () => new idempotency.IdempotencyConfigurationError('tableName', 'missing'), false],
  ['IdempotencyKeyError', () => new idempotency.IdempotencyKeyError('default', 'no key'), false],
  ['IdempotencyPayloadMismatchError', () => new idempotency.IdempotencyPayloadMismatchError('p#k'), false],
  ['IdempotencyInProgressError', () => new idempotency.IdempotencyInProgressError('p#k'), true],
  ['IdempotencyEffectConditionError', () => new idempotency.IdempotencyEffectConditionError('p#k', 0, 'ConditionalCheckFailed'), false],
  [
    'IdempotencyPersistenceError',
    () => new idempotency.IdempotencyPersistenceError('GetItem', 'throttled', { idempotencyKey: 'p#k' }),
    true,
  ],
  ['PriorityQueueConfigurationError', () => new priorityQueue.PriorityQueueConfigurationError('levels', 'none'), false],
  ['UnknownPriorityError', () => new priorityQueue.UnknownPriorityError('urgent', ['high']), false],
  ['RequestReplyConfigurationError', () => new requestReply.RequestReplyConfigurationError('replyRetentionSeconds', 'bad'), false],
  ['RequestTimeoutError', () => new requestReply.RequestTimeoutError('c', 10), true],
  ['RequestRejectedError', () => new requestReply.RequestRejectedError('c', 'RejectRequestError', 'no'), false],
  ['ReplyQueueLostError', () => new requestReply.ReplyQueueLostError('c'), true],
  ['RejectRequestError', () => new requestReply.RejectRequestError('no', { context: { sku: 'x' } }), false],
  ['InvalidRequestError', () => new requestReply.InvalidRequestError('m', 'no reply-to'), false],
  ['SequentialConvoyConfigurationError', () => new sequentialConvoy.SequentialConvoyConfigurationError('queueUrl', 'bad'), false],
  ['ConvoyMessageIdError', () => new sequentialConvoy.ConvoyMessageIdError('MessageGroupId', 0, 'is empty'), false],
  ['ConvoySendError', () => new sequentialConvoy.ConvoySendError([{ index: 0, groupId: 'g', senderFault: false }], [], [0], []), true],
];

describe('Class: MessagingPatternsRuntimeError', () => {
  it('carries name, cause, retryable and context; isRetryable reads them', () => {
    const cause = new Error('root');
    const error = new MessagingPatternsRuntimeError('failed', { cause, retryable: true, context: { id: 1 } });
    expect(error).toMatchObject({ name: 'MessagingPatternsRuntimeError', message: 'failed', cause, retryable: true, context: { id: 1 } });
    expect(new MessagingPatternsRuntimeError('x')).toMatchObject({ retryable: false, context: {} });
    expect(isRetryable(error)).toBe(true);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect(isRetryable('text')).toBe(false);
  });

  it('recognises an error of another copy of the library by its shape', () => {
    const foreign = Object.assign(new Error('from another bundle'), { retryable: true, context: {} });
    expect(MessagingPatternsRuntimeError.isMessagingPatternsRuntimeError(foreign)).toBe(true);
    expect(isRetryable(foreign)).toBe(true);
  });
});

describe.each(SUBPATHS)('Subpath: runtime/%s', (_subpath, exports, feature) => {
  it('re-exports the base error and isRetryable', () => {
    expect(exports.MessagingPatternsRuntimeError).toBe(MessagingPatternsRuntimeError);
    expect(exports.isRetryable).toBe(isRetryable);
  });

  it(`has a root ${feature}Error and a ${feature}ConfigurationError, and every error class extends the base`, () => {
    const root = exports[`${feature}Error`] as typeof Error;
    const configuration = exports[`${feature}ConfigurationError`] as typeof Error;
    expect(root.prototype).toBeInstanceOf(MessagingPatternsRuntimeError);
    expect(configuration.prototype).toBeInstanceOf(root);
    const classes = Object.entries(exports).filter(([name, value]) => name.endsWith('Error') && typeof value === 'function');
    for (const [name, value] of classes) {
      expect({
        name,
        extendsBase: value === MessagingPatternsRuntimeError || (value as typeof Error).prototype instanceof MessagingPatternsRuntimeError,
      }).toEqual({
        name,
        extendsBase: true,
      });
    }
    expect(Object.keys(exports).filter((name) => /Config(?!uration)Error$/.test(name))).toEqual([]);
  });
});

describe.each(ERRORS)('Error: %s', (name, build, retryable) => {
  it(`sets its own name (kept under minification) and retryable ${retryable}`, () => {
    const error = build();
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(MessagingPatternsRuntimeError);
    expect((error as MessagingPatternsRuntimeError).retryable).toBe(retryable);
    expect(isRetryable(error)).toBe(retryable);
    expect(Object.keys((error as MessagingPatternsRuntimeError).context).length).toBeGreaterThan(0);
  });
});

it('lists every error class the subpaths export', () => {
  const exported = new Set(
    SUBPATHS.flatMap(([, exports]) => Object.keys(exports).filter((n) => n.endsWith('Error') && typeof exports[n] === 'function')),
  );
  const roots = SUBPATHS.map(([, , feature]) => `${feature}Error`);
  expect([...exported].filter((n) => n !== 'MessagingPatternsRuntimeError' && !roots.includes(n)).sort()).toEqual(
    ERRORS.map(([n]) => n).sort(),
  );
});
