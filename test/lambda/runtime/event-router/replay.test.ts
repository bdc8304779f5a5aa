import { DescribeReplayCommand, EventBridgeClient, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import {
  EventRouterConfigurationError,
  ReplayFailedError,
  isReplayedEvent,
  parseEventRouterConfig,
  replay,
} from '../../../../lambda/runtime/event-router';
import type { EventRouterConfig, ReplayProgress } from '../../../../lambda/runtime/event-router';

const config: EventRouterConfig = {
  eventBusArn: 'arn:aws:events:eu-west-1:111122223333:event-bus/orders',
  archiveName: 'orders-archive',
  archiveArn: 'arn:aws:events:eu-west-1:111122223333:archive/orders-archive',
  routes: {
    History: { ruleArns: ['arn:aws:events:eu-west-1:111122223333:rule/orders/History'], replayedEvents: 'ACCEPT' },
    Billing: {
      ruleArns: ['arn:aws:events:eu-west-1:111122223333:rule/orders/Billing', 'arn:aws:events:eu-west-1:111122223333:rule/orders/Billing2'],
      replayedEvents: 'IGNORE',
    },
    Search: { ruleArns: ['arn:aws:events:eu-west-1:111122223333:rule/orders/Search'], replayedEvents: 'ACCEPT' },
  },
};
const from = new Date('2026-12-01T10:00:00Z');
const to = new Date('2026-12-01T11:00:00Z');

/** An EventBridge client whose replay goes through the given states, recording the requests it got. */
function scriptedClient(states: Array<{ State: string; EventLastReplayedTime?: Date; StateReason?: string }>) {
  const sent: unknown[] = [];
  const client = new EventBridgeClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  let i = 0;
  client.send = (async (command: unknown) => {
    sent.push(command);
    if (command instanceof StartReplayCommand) return { ReplayArn: 'arn:replay', State: 'STARTING' };
    if (command instanceof DescribeReplayCommand) return states[Math.min(i++, states.length - 1)];
    throw new Error('unexpected command');
  }) as EventBridgeClient['send'];
  return { client, sent };
}

describe('Function: replay', () => {
  it('replays the window to the chosen routes only, and reports progress until it completes', async () => {
    const { client, sent } = scriptedClient([
      { State: 'RUNNING', EventLastReplayedTime: new Date('2026-12-01T10:30:00Z') },
      { State: 'COMPLETED', EventLastReplayedTime: new Date('2026-12-01T10:59:00Z') },
    ]);
    const progress: ReplayProgress[] = [];
    const result = await replay({
      from,
      to,
      routes: ['History', 'Search'],
      config,
      client,
      name: 'rebuild-1',
      pollIntervalMs: 100,
      onProgress: (p) => progress.push(p),
      logger: null,
    });
    const start = sent[0] as StartReplayCommand;
    expect(start.input).toEqual({
      ReplayName: 'rebuild-1',
      EventSourceArn: config.archiveArn,
      EventStartTime: from,
      EventEndTime: to,
      Destination: { Arn: config.eventBusArn, FilterArns: [config.routes.History.ruleArns[0], config.routes.Search.ruleArns[0]] },
    });
    expect(progress.map((p) => [p.state, p.fraction])).toEqual([
      ['RUNNING', 0.5],
      ['COMPLETED', 1],
    ]);
    expect(result).toMatchObject({ replayName: 'rebuild-1', replayArn: 'arn:replay', state: 'COMPLETED' });
  });

  it('throws ReplayFailedError with the reason when the replay fails', async () => {
    const { client } = scriptedClient([{ State: 'FAILED', StateReason: 'archive is gone' }]);
    const error = await replay({ from, to, routes: ['History'], config, client, pollIntervalMs: 100, logger: null }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReplayFailedError);
    expect(error).toMatchObject({
      state: 'FAILED',
      retryable: false,
      message: expect.stringMatching(/^replay replay-History-\d+ ended FAILED: archive is gone$/),
    });
  });

  it('returns after the first state with wait: false', async () => {
    const { client, sent } = scriptedClient([{ State: 'RUNNING' }, { State: 'COMPLETED' }]);
    const result = await replay({ from, to, routes: ['History'], config, client, wait: false, logger: null });
    expect(result.state).toBe('RUNNING');
    expect(sent).toHaveLength(2);
  });

  it('refuses routes that ignore replayed events, unknown routes, a bad window and bad options, before calling AWS', async () => {
    const { client, sent } = scriptedClient([{ State: 'COMPLETED' }]);
    const run = (o: Partial<Parameters<typeof replay>[0]>) => replay({ from, to, routes: ['History'], config, client, logger: null, ...o });
    await expect(run({ routes: ['Billing'] })).rejects.toThrow(/route 'Billing' ignores replayed events/);
    await expect(run({ routes: ['Nope'] })).rejects.toThrow(/unknown route 'Nope' \(routes: History, Billing, Search\)/);
    await expect(run({ routes: [] })).rejects.toThrow(EventRouterConfigurationError);
    await expect(run({ from: to, to: from })).rejects.toThrow(/from and to must be dates with from before to/);
    await expect(run({ name: 'bad name!' })).rejects.toThrow(/name must be 1 to 64/);
    await expect(run({ pollIntervalMs: 5 })).rejects.toThrow(/pollIntervalMs must be an integer between 100 and 60000 \(given 5\)/);
    await expect(run({ config: { ...config, archiveArn: undefined } })).rejects.toThrow(/no archive/);
    expect(sent).toEqual([]);
  });

  it('reads the configuration from EVENT_ROUTER_CONFIG when none is given', async () => {
    const { client } = scriptedClient([{ State: 'COMPLETED' }]);
    process.env.EVENT_ROUTER_CONFIG = JSON.stringify(config);
    try {
      await expect(replay({ from, to, routes: ['History'], client, logger: null })).resolves.toMatchObject({ state: 'COMPLETED' });
    } finally {
      delete process.env.EVENT_ROUTER_CONFIG;
    }
    await expect(replay({ from, to, routes: ['History'], client, logger: null })).rejects.toThrow(
      /no event router configuration \(set EVENT_ROUTER_CONFIG/,
    );
  });
});

describe('Function: parseEventRouterConfig', () => {
  it('rejects what is not a router configuration', () => {
    expect(() => parseEventRouterConfig('{nope')).toThrow(/not valid JSON/);
    expect(() => parseEventRouterConfig('{}')).toThrow(/eventBusArn and routes are required/);
    expect(parseEventRouterConfig(JSON.stringify(config)).routes.History.replayedEvents).toBe('ACCEPT');
  });
});

describe('Function: isReplayedEvent', () => {
  it('tells replayed events by replay-name', () => {
    expect(isReplayedEvent({ id: '1', 'replay-name': 'rebuild-1' })).toBe(true);
    expect(isReplayedEvent({ id: '1' })).toBe(false);
    expect(isReplayedEvent(null)).toBe(false);
  });
});
