import { Duration } from 'aws-cdk-lib';
import { MessagingPatternsError } from '../../../lib';
import { PropsValidator } from '../../../lib/core/validation';
import { newStack } from '../../helpers/cdk';

/** The error `fn` throws. */
function thrown(fn: () => void): MessagingPatternsError {
  try {
    fn();
  } catch (error) {
    if (MessagingPatternsError.isMessagingPatternsError(error)) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('PropsValidator', () => {
  it('collects problems with their codes, in order, and throws them together', () => {
    const v = new PropsValidator(newStack());
    expect(v.count).toBe(0);
    v.check('first:format', false, 'first')
      .check('never:format', true, 'never')
      .integerInRange('n', 0, 1, 2)
      .durationInRange('d', Duration.seconds(1), Duration.seconds(2), Duration.seconds(3))
      .mutuallyExclusive({ x: 1, y: 2, z: undefined })
      .notWith('a', 1, 'b', 2)
      .matches('name', 'bad name', /^[a-z]+$/, 'lowercase letters');
    expect(v.codes).toEqual(['first:format', 'n:range', 'd:range', 'x|y|z:exclusive', 'a:conflict', 'name:format']);
    const error = thrown(() => v.throwIfInvalid());
    expect(error.problems).toEqual([
      'first',
      'n must be an integer between 1 and 2 (given 0)',
      'd must be between 2 seconds and 3 seconds (given 1 seconds)',
      'provide only one of x, y, z (given x and y)',
      'a cannot be used with b: b is used as it is',
      "name must be lowercase letters (given 'bad name')",
    ]);
    expect(error.codes).toEqual(v.codes);
    expect(error.details[1]).toEqual({ code: 'n:range', message: 'n must be an integer between 1 and 2 (given 0)' });
    expect(error.message).toMatch(
      /^\[TestStack\]\n {2}- first \[first:format\]\n {2}- n must be an integer between 1 and 2 \(given 0\) \[n:range\]/,
    );
  });

  it('puts one problem on the first line', () => {
    const v = new PropsValidator(newStack());
    v.integerInRange('batchSize', 11, 1, 10);
    expect(thrown(() => v.throwIfInvalid()).message).toBe(
      '[TestStack] batchSize must be an integer between 1 and 10 (given 11) [batchSize:range]',
    );
  });

  it('does not throw when nothing is wrong', () => {
    const v = new PropsValidator(newStack());
    v.check('a:range', true, 'fine').integerInRange('n', 1, 1, 2).numberInRange('x', 0.5, 0, 1);
    expect(() => v.throwIfInvalid()).not.toThrow();
  });

  it('records a problem found twice once (a construct and the one it is built on check the same input)', () => {
    const v = new PropsValidator(newStack());
    v.integerInRange('maxConcurrency', 1, 2, 1000).integerInRange('maxConcurrency', 1, 2, 1000).check('other:format', false, 'other');
    expect(v.codes).toEqual(['maxConcurrency:range', 'other:format']);
  });
});

describe('MessagingPatternsError', () => {
  it('is recognised by isMessagingPatternsError, also across copies of the kit, and nothing else is', () => {
    const error = new MessagingPatternsError('Stack/Construct', [{ code: 'x:range', message: 'x is wrong' }]);
    expect(MessagingPatternsError.isMessagingPatternsError(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MessagingPatternsError');
    // Another copy of the package: a different class, the same brand.
    const brand = Object.getOwnPropertySymbols(error)[0];
    const other = Object.assign(new Error('copy'), { [brand]: true });
    expect(MessagingPatternsError.isMessagingPatternsError(other)).toBe(true);
    expect(MessagingPatternsError.isMessagingPatternsError(new Error('x is wrong'))).toBe(false);
    expect(MessagingPatternsError.isMessagingPatternsError(undefined)).toBe(false);
  });

  it('fail() throws one problem under the construct path', () => {
    const stack = newStack('Failing');
    const error = thrown(() => MessagingPatternsError.fail(stack, 'level:unknown', 'there is no level'));
    expect(error.constructPath).toBe('Failing');
    expect(error.codes).toEqual(['level:unknown']);
  });
});
