import { Duration } from 'aws-cdk-lib';
import { MessagingPatternsError, PropsValidator } from '../../../lib';
import { newStack } from '../../helpers/cdk';

describe('PropsValidator', () => {
  it('exposes the problems found so far without throwing, in order', () => {
    const v = new PropsValidator(newStack());
    expect(v.problems).toEqual([]);
    v.check(false, 'first')
      .integerInRange('n', 0, 1, 2)
      .durationInRange('d', Duration.seconds(1), Duration.seconds(2), Duration.seconds(3));
    expect(v.problems).toEqual([
      'first',
      'n must be an integer between 1 and 2 (given 0)',
      'd must be between 2 seconds and 3 seconds (given 1 seconds)',
    ]);
    expect(v.count).toBe(3);
  });

  it('returns a copy: changing it does not change the validator', () => {
    const v = new PropsValidator(newStack());
    v.check(false, 'one');
    (v.problems as string[]).push('two');
    expect(v.problems).toEqual(['one']);
  });

  it('records a problem found twice once (a construct and the one it is built on check the same input)', () => {
    const stack = newStack();
    const v = new PropsValidator(stack);
    v.integerInRange('maxConcurrency', 1, 2, 1000).integerInRange('maxConcurrency', 1, 2, 1000).check(false, 'other');
    expect(v.problems).toEqual(['maxConcurrency must be an integer between 2 and 1000 (given 1)', 'other']);
    expect(() => v.throwIfInvalid()).toThrow(MessagingPatternsError);
  });
});
