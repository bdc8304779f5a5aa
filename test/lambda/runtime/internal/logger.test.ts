import { Logger } from '@aws-lambda-powertools/logger';
import { MessagingPatternsRuntimeError } from '../../../../lambda/runtime/internal/errors';
import { type RuntimeLogger, defaultLogger, errorFields, handlerLogger, resolveLogger } from '../../../../lambda/runtime/internal/logger';

describe('Function: resolveLogger', () => {
  it('uses the shared Powertools Logger when no logger is given, none when given null, and the logger given otherwise', () => {
    const mine: RuntimeLogger = { warn: () => undefined };
    expect(resolveLogger(undefined)).toBeInstanceOf(Logger);
    expect(resolveLogger(undefined)).toBe(defaultLogger());
    expect(resolveLogger(null)).toBeNull();
    expect(resolveLogger(mine)).toBe(mine);
  });

  it("accepts a user's Powertools Logger and console as they are", () => {
    const logger = new Logger({ serviceName: 'mine' });
    const asRuntime: RuntimeLogger = logger;
    const asConsole: RuntimeLogger = console;
    expect(resolveLogger(asRuntime)).toBe(logger);
    expect(resolveLogger(asConsole)).toBe(console);
  });
});

describe('Function: errorFields', () => {
  it("gives a library error's name, message, retryable and context", () => {
    const error = new MessagingPatternsRuntimeError('it broke', { retryable: true, context: { messageId: 'm1' } });
    expect(errorFields(error)).toEqual({
      errorName: 'MessagingPatternsRuntimeError',
      errorMessage: 'it broke',
      retryable: true,
      errorContext: { messageId: 'm1' },
    });
  });

  it('gives the name and message of any other error, and the text of a non-error', () => {
    expect(errorFields(new TypeError('bad'))).toEqual({ errorName: 'TypeError', errorMessage: 'bad' });
    expect(errorFields('just a string')).toEqual({ error: 'just a string' });
  });
});

describe('Function: handlerLogger', () => {
  const saved = process.env.POWERTOOLS_SERVICE_NAME;
  afterEach(() => {
    if (saved === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
    else process.env.POWERTOOLS_SERVICE_NAME = saved;
  });

  it("names the handler's service, unless POWERTOOLS_SERVICE_NAME names it", () => {
    delete process.env.POWERTOOLS_SERVICE_NAME;
    const serviceOf = (logger: Logger) =>
      (logger as unknown as { powertoolsLogData: { serviceName: string } }).powertoolsLogData.serviceName;
    expect(serviceOf(handlerLogger('work-queue-consumer'))).toBe('work-queue-consumer');
    process.env.POWERTOOLS_SERVICE_NAME = 'orders';
    expect(serviceOf(handlerLogger('work-queue-consumer'))).toBe('orders');
  });
});
