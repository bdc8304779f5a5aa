import { type RuntimeLogger, resolveLogger } from '../../../../lambda/runtime/internal/logger';

describe('Function: resolveLogger', () => {
  it('uses console when no logger is given, none when given null, and the logger given otherwise', () => {
    const mine: RuntimeLogger = { warn: () => undefined };
    expect(resolveLogger(undefined)).toBe(console);
    expect(resolveLogger(null)).toBeNull();
    expect(resolveLogger(mine)).toBe(mine);
  });
});
