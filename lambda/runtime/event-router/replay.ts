import {
  DescribeReplayCommand,
  type DescribeReplayCommandOutput,
  EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { ENV } from '../../../lib/core/wire';
import { type RuntimeLogger, resolveLogger } from '../internal/logger';
import { EventRouterConfigurationError, ReplayFailedError } from './errors';

/** What `EventRouter.replayConfig` holds (the construct sets it in `EVENT_ROUTER_CONFIG`). */
export interface EventRouterConfig {
  readonly eventBusArn: string;
  readonly archiveName?: string;
  readonly archiveArn?: string;
  /** Each route's rule ARNs, and whether it accepts replayed events. */
  readonly routes: Readonly<Record<string, { readonly ruleArns: readonly string[]; readonly replayedEvents: 'IGNORE' | 'ACCEPT' }>>;
}

/** Progress of a replay, as `onProgress` receives it. */
export interface ReplayProgress {
  readonly replayName: string;
  /** STARTING, RUNNING, CANCELLING, COMPLETED, CANCELLED or FAILED. */
  readonly state: string;
  /** The time of the last event replayed, when one was. */
  readonly eventLastReplayedTime?: Date;
  /** Share of the window replayed, 0 to 1 (from `eventLastReplayedTime`). */
  readonly fraction: number;
}

/** Options of {@link replay}. */
export interface ReplayOptions {
  /** Start of the window (inclusive): events archived from this time are replayed. */
  readonly from: Date;
  /** End of the window (exclusive). */
  readonly to: Date;
  /** The routes that receive the replayed events, by name; each must accept replayed events. */
  readonly routes: readonly string[];
  /**
   * The router's configuration.
   *
   * @default - parsed from the `EVENT_ROUTER_CONFIG` environment variable (`connectReplayer` sets it)
   */
  readonly config?: EventRouterConfig | string;
  /**
   * The replay's name (1–64 letters, digits, `.`, `-`, `_`): a second call with the same name fails
   * instead of replaying twice.
   *
   * @default - `replay-<routes>-<time>`
   */
  readonly name?: string;
  /** @default - a new EventBridgeClient */
  readonly client?: EventBridgeClient;
  /** Called after each poll. */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /**
   * Time between polls of the replay's state, in milliseconds (100–60000).
   *
   * @default 2000
   */
  readonly pollIntervalMs?: number;
  /**
   * Wait for the replay to end. With false, start it and return its first state.
   *
   * @default true
   */
  readonly wait?: boolean;
  /** @default - the shared Powertools Logger */
  readonly logger?: RuntimeLogger | null;
}

/** What {@link replay} returns. */
export interface ReplayResult {
  readonly replayName: string;
  readonly replayArn?: string;
  /** The final state (or the first one, with `wait: false`). */
  readonly state: string;
  readonly eventLastReplayedTime?: Date;
}

const REPLAY_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const ENDED = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/** Parses and checks an EventRouter configuration (JSON or object). */
export function parseEventRouterConfig(value: EventRouterConfig | string | undefined, source = 'config'): EventRouterConfig {
  if (value === undefined || value === '') {
    throw new EventRouterConfigurationError(
      'config',
      `${source}: no event router configuration (set ${ENV.eventRouterConfig} with EventRouter.connectReplayer, or pass config)`,
    );
  }
  let config: EventRouterConfig;
  try {
    config = typeof value === 'string' ? (JSON.parse(value) as EventRouterConfig) : value;
  } catch (cause) {
    throw new EventRouterConfigurationError('config', `${source}: not valid JSON`, { cause });
  }
  if (typeof config?.eventBusArn !== 'string' || typeof config.routes !== 'object' || config.routes === null) {
    throw new EventRouterConfigurationError('config', `${source}: eventBusArn and routes are required`);
  }
  return config;
}

/**
 * Replays the archived events of a time window to chosen routes only (`Destination.FilterArns` =
 * their rules), and follows the replay to its end. Routes that ignore replayed events are refused:
 * they would receive nothing.
 *
 * @example
 * await replay({ from: new Date('2026-12-01T10:00Z'), to: new Date('2026-12-01T11:00Z'), routes: ['OrderHistory'],
 *   onProgress: (p) => console.log(p.state, Math.round(p.fraction * 100), '%') });
 */
export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const config = parseEventRouterConfig(
    options.config ?? process.env[ENV.eventRouterConfig],
    options.config ? 'config' : `environment variable ${ENV.eventRouterConfig}`,
  );
  const logger = resolveLogger(options.logger);
  const { from, to } = options;
  if (!(from instanceof Date) || !(to instanceof Date) || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
    throw new EventRouterConfigurationError(
      'from',
      `from and to must be dates with from before to (given ${String(from)} and ${String(to)})`,
    );
  }
  if (!config.archiveArn) throw new EventRouterConfigurationError('config', 'the router has no archive: there is nothing to replay');
  if (options.routes.length === 0) throw new EventRouterConfigurationError('routes', 'routes must name at least one route');
  const filterArns = options.routes.flatMap((name) => {
    const route = config.routes[name];
    if (!route)
      throw new EventRouterConfigurationError('routes', `unknown route '${name}' (routes: ${Object.keys(config.routes).join(', ')})`);
    if (route.replayedEvents !== 'ACCEPT') {
      throw new EventRouterConfigurationError(
        'routes',
        `route '${name}' ignores replayed events (replayedEvents IGNORE): it would receive nothing`,
      );
    }
    return route.ruleArns;
  });
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 100 || pollIntervalMs > 60_000) {
    throw new EventRouterConfigurationError(
      'pollIntervalMs',
      `pollIntervalMs must be an integer between 100 and 60000 (given ${pollIntervalMs})`,
    );
  }
  const replayName = options.name ?? `replay-${options.routes.join('-')}-${Date.now()}`.slice(0, 64);
  if (!REPLAY_NAME.test(replayName)) {
    throw new EventRouterConfigurationError('name', `name must be 1 to 64 letters, digits, '.', '-' or '_' (given '${replayName}')`);
  }

  const client = options.client ?? new EventBridgeClient({});
  const started = await client.send(
    new StartReplayCommand({
      ReplayName: replayName,
      EventSourceArn: config.archiveArn,
      EventStartTime: from,
      EventEndTime: to,
      Destination: { Arn: config.eventBusArn, FilterArns: filterArns },
    }),
  );
  logger?.info?.('replay started', { replayName, routes: options.routes, from: from.toISOString(), to: to.toISOString() });
  let state = started.State ?? 'STARTING';
  let last: DescribeReplayCommandOutput | undefined;
  const span = to.getTime() - from.getTime();
  for (;;) {
    if (options.wait === false && last) break;
    last = await client.send(new DescribeReplayCommand({ ReplayName: replayName }));
    state = last.State ?? state;
    const lastTime = last.EventLastReplayedTime;
    const fraction = state === 'COMPLETED' ? 1 : lastTime ? Math.min(1, Math.max(0, (lastTime.getTime() - from.getTime()) / span)) : 0;
    options.onProgress?.({ replayName, state, eventLastReplayedTime: lastTime, fraction });
    if (ENDED.has(state) || options.wait === false) break;
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
  if (state === 'FAILED' || state === 'CANCELLED') throw new ReplayFailedError(replayName, state, last?.StateReason);
  logger?.info?.('replay ended', { replayName, state });
  return { replayName, replayArn: started.ReplayArn, state, eventLastReplayedTime: last?.EventLastReplayedTime };
}

/** True for an event that an archive replay sent again (EventBridge adds `replay-name`). */
export function isReplayedEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && typeof (event as Record<string, unknown>)['replay-name'] === 'string';
}
