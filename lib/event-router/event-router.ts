import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEAD_LETTER_QUEUE_ALARM, MessagingPatternProps, createAlarm, deadLetterQueueAlarm, validateAlarms } from '../core/alarms';
import {
  DEAD_LETTER_ALARM_THRESHOLD,
  DEAD_LETTER_RETENTION,
  EVENT_ARCHIVE_RETENTION,
  EVENT_TARGET_MAX_EVENT_AGE,
  EVENT_TARGET_RETRY_ATTEMPTS,
} from '../core/defaults';
import { MessagingPatternsError } from '../core/errors';
import { combineGrants, connectFunction } from '../core/grants';
import {
  EVENT_TARGET_MAX_EVENT_AGE_LIMIT,
  EVENT_TARGET_MAX_RETRY_ATTEMPTS,
  EVENT_TARGET_MIN_EVENT_AGE,
  EVENTS_MAX_TARGETS_PER_RULE,
} from '../core/limits';
import { metricOptions, optionalQueueMetric } from '../core/metrics';
import { acknowledgeDeadLetterQueue, acknowledgeWildcardResource } from '../core/nag';
import { MessagingPattern } from '../core/pattern';
import { buildQueue, isAwsManagedQueueKey } from '../core/queue-builder';
import { PropsValidator, describeValue, isUnresolved } from '../core/validation';
import { ENV } from '../core/wire';
import { isEmptyPattern, renderEventPattern } from './private/pattern';
import { RouteTarget } from './route-target';

/** What a route does with events that an archive replay sends again (they carry `replay-name`). */
export enum ReplayedEvents {
  /**
   * The route's rules do not match replayed events (`"replay-name": [{ "exists": false }]`): for
   * routes with side effects (charging, e-mailing) that must not repeat them.
   */
  IGNORE = 'IGNORE',
  /** The route's rules match replayed events: for projections and read models rebuilt from history. */
  ACCEPT = 'ACCEPT',
}

/** A route of an {@link EventRouter}: what matches it, where it goes. */
export interface RouteOptions {
  /**
   * The events the route takes, with CDK's `events.Match` for prefix, suffix, wildcard,
   * anything-but, numeric and exists (hierarchical `detailType`s by prefix or wildcard:
   * `Match.prefix('orders.eu.')`, `Match.wildcard('orders.*.created')`).
   *
   * @default - none; give this, `anyOf`, or both
   */
  readonly eventPattern?: events.EventPattern;

  /**
   * Alternatives (EventBridge's `$or`): an event matches when it matches `eventPattern` (if given)
   * and at least one of these.
   *
   * @default - none
   */
  readonly anyOf?: events.EventPattern[];

  /** Where matching events go: 1 or more targets (rules are split past EventBridge's 5 per rule). */
  readonly targets: RouteTarget[];

  /**
   * What the route does with replayed events.
   *
   * @default ReplayedEvents.IGNORE - a route may have side effects; say ACCEPT for projections
   */
  readonly replayedEvents?: ReplayedEvents;

  /**
   * Whether the route's rules start enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * A description of the route's rules.
   *
   * @default - the route's name and the router's path
   */
  readonly description?: string;
}

/** A route, as {@link EventRouter.addRoute} built it. */
export interface EventRoute {
  /** The route's name. */
  readonly name: string;
  /** Its rules: one per 5 targets, all with the route's pattern. */
  readonly rules: events.Rule[];
  /** Where events its targets could not take go (unless a target was given its own). */
  readonly deadLetterQueue: sqs.IQueue;
  /** What the route does with replayed events. */
  readonly replayedEvents: ReplayedEvents;
}

/** Who else may put events on the bus. */
export interface CrossAccountPublishers {
  /**
   * AWS account ids allowed to call `PutEvents` on the bus.
   *
   * @default - none
   */
  readonly accounts?: string[];

  /**
   * An AWS Organizations id (`o-...`) whose accounts may call `PutEvents` on the bus.
   *
   * @default - none
   */
  readonly organizationId?: string;
}

/** Props of {@link EventRouter}. */
export interface EventRouterProps extends MessagingPatternProps {
  /**
   * An existing event bus to route on, used as it is.
   *
   * @default - a new custom bus
   */
  readonly existingEventBus?: events.IEventBus;

  /**
   * Props of the bus the router creates.
   *
   * @default - a custom bus with a generated name, encrypted by EventBridge with an AWS owned key
   */
  readonly eventBusProps?: events.EventBusProps;

  /**
   * Whether to archive the bus's events, so they can be replayed.
   *
   * @default true
   */
  readonly archive?: boolean;

  /**
   * How long archived events are kept (whole days).
   *
   * @default Duration.days(30)
   */
  readonly archiveRetention?: Duration;

  /**
   * A customer managed key encrypting the archive.
   *
   * @default - an AWS owned key
   */
  readonly archiveEncryptionKey?: kms.IKey;

  /**
   * Which events are archived.
   *
   * @default - every event on the bus
   */
  readonly archiveEventPattern?: events.EventPattern;

  /**
   * Other accounts, or an organisation, allowed to publish on the bus (a bus policy).
   *
   * @default - only this account
   */
  readonly crossAccountPublishers?: CrossAccountPublishers;

  /**
   * Retry attempts of every target unless the target says otherwise (0–185).
   *
   * @default 185 - EventBridge's own default
   */
  readonly retryAttempts?: number;

  /**
   * How long EventBridge keeps retrying each target unless the target says otherwise (1 minute – 24 hours).
   *
   * @default Duration.hours(24) - EventBridge's own default
   */
  readonly maxEventAge?: Duration;
}

/** Alarm ids of each route, for `alarms.overrides` (an override applies to every route). */
const ROUTE_EVENTS_LOST_ALARM = 'EventsLost';
const EVENT_ROUTER_ALARMS = [DEAD_LETTER_QUEUE_ALARM, ROUTE_EVENTS_LOST_ALARM];
const ROUTE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,47}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/**
 * Content-based and hierarchical event routing on EventBridge: a custom bus (or an existing one),
 * routes added by name with event patterns, and targets (SQS, SNS, Lambda, Step Functions, Kinesis,
 * another bus) that each have a retry policy and a dead-letter queue; an archive of the bus's
 * events, on by default, and replay of a time window to chosen routes.
 *
 * Replay-aware routes: EventBridge marks replayed events with `replay-name`. A route ignores them
 * unless it says `replayedEvents: ACCEPT` (a projection), so a replay never charges a card twice.
 *
 * Alarms per route (ids for `alarms.overrides`): `DeadLetterQueueNotEmpty` (the route's DLQ holds
 * an event) and `EventsLost` (EventBridge could not even put a failed event in the DLQ:
 * `InvocationsFailedToBeSentToDlq`).
 *
 * @example
 * const router = new EventRouter(this, 'Orders');
 * router.addRoute('EuOrders', {
 *   eventPattern: { source: ['shop.orders'], detailType: events.Match.prefix('orders.eu.') },
 *   targets: [RouteTarget.queue(fulfilment.queue)],
 * });
 * router.connectPublisher(apiFn); // grants events:PutEvents, sets EVENT_BUS_NAME
 */
export class EventRouter extends MessagingPattern {
  /** The bus. */
  public readonly eventBus: events.IEventBus;
  /** The archive of the bus's events, when on. */
  public readonly archive?: events.Archive;

  private readonly routeList: EventRoute[] = [];
  private readonly retryAttempts: number;
  private readonly maxEventAge: Duration;

  constructor(scope: Construct, id: string, props: EventRouterProps = {}) {
    super(scope, id, props);
    const v = new PropsValidator(this);
    validateEventRouterProps(v, props);
    v.throwIfInvalid();

    this.retryAttempts = props.retryAttempts ?? EVENT_TARGET_RETRY_ATTEMPTS;
    this.maxEventAge = props.maxEventAge ?? EVENT_TARGET_MAX_EVENT_AGE;
    this.eventBus = props.existingEventBus ?? new events.EventBus(this, 'Bus', props.eventBusProps);

    if (props.archive !== false) {
      this.archive = new events.Archive(this, 'Archive', {
        sourceEventBus: this.eventBus,
        description: `Events of ${this.node.path}, for replay`,
        // Every event of the bus: all events carry version "0".
        eventPattern: props.archiveEventPattern ?? { version: ['0'] },
        retention: props.archiveRetention ?? EVENT_ARCHIVE_RETENTION,
        kmsKey: props.archiveEncryptionKey,
      });
    }

    const publishers = props.crossAccountPublishers;
    if (publishers?.accounts?.length) {
      new events.CfnEventBusPolicy(this, 'AccountPublishers', {
        eventBusName: this.eventBus.eventBusName,
        statementId: 'AllowAccountPublishers',
        statement: {
          Effect: 'Allow',
          Principal: { AWS: publishers.accounts.map((a) => `arn:${Stack.of(this).partition}:iam::${a}:root`) },
          Action: 'events:PutEvents',
          Resource: this.eventBus.eventBusArn,
        },
      });
    }
    if (publishers?.organizationId) {
      new events.CfnEventBusPolicy(this, 'OrganizationPublishers', {
        eventBusName: this.eventBus.eventBusName,
        statementId: 'AllowOrganizationPublishers',
        statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: this.eventBus.eventBusArn,
          Condition: { StringEquals: { 'aws:PrincipalOrgID': publishers.organizationId } },
        },
      });
    }
  }

  /** The routes, in the order they were added. */
  public get routes(): EventRoute[] {
    return [...this.routeList];
  }

  /**
   * The configuration `replay()` from `cdk-messaging-patterns/runtime/event-router` reads (JSON:
   * the bus and archive ARNs, and each route's rule ARNs and replay setting).
   */
  public get replayConfig(): string {
    return Lazy.string({
      produce: () =>
        Stack.of(this).toJsonString({
          eventBusArn: this.eventBus.eventBusArn,
          archiveName: this.archive?.archiveName,
          archiveArn: this.archive?.archiveArn,
          routes: Object.fromEntries(
            this.routeList.map((r) => [r.name, { ruleArns: r.rules.map((rule) => rule.ruleArn), replayedEvents: r.replayedEvents }]),
          ),
        }),
    });
  }

  /**
   * Adds a route: rules on the bus with the route's pattern (one per 5 targets), each target with a
   * retry policy and the route's dead-letter queue, and the route's alarms.
   */
  public addRoute(name: string, options: RouteOptions): EventRoute {
    const v = new PropsValidator(this);
    validateRoute(v, name, options, this.routeList);
    v.throwIfInvalid();

    const scope = new Construct(this.routesScope(), name);
    const deadLetterQueue = buildQueue(scope, {
      deployDeadLetterQueue: false,
      queueProps: { retentionPeriod: DEAD_LETTER_RETENTION },
      ids: { queue: 'DeadLetterQueue' },
    }).queue;
    acknowledgeDeadLetterQueue(deadLetterQueue, `the targets of route '${name}'`);

    const replayedEvents = options.replayedEvents ?? ReplayedEvents.IGNORE;
    const rules: events.Rule[] = [];
    for (let i = 0; i < options.targets.length; i += EVENTS_MAX_TARGETS_PER_RULE) {
      const rule = new events.Rule(scope, i === 0 ? 'Rule' : `Rule${i / EVENTS_MAX_TARGETS_PER_RULE + 1}`, {
        eventBus: this.eventBus,
        description: options.description ?? `Route '${name}' of ${this.node.path}`,
        enabled: options.enabled ?? true,
        // EventBridge needs a pattern; all events carry version "0".
        eventPattern: isEmptyPattern(options.eventPattern) ? { version: ['0'] } : options.eventPattern,
      });
      const cfn = rule.node.defaultChild as events.CfnRule;
      if (options.anyOf?.length) cfn.addPropertyOverride('EventPattern.$or', options.anyOf.map(renderEventPattern));
      if (replayedEvents === ReplayedEvents.IGNORE) cfn.addPropertyOverride('EventPattern.replay-name', [{ exists: false }]);
      for (const target of options.targets.slice(i, i + EVENTS_MAX_TARGETS_PER_RULE)) {
        rule.addTarget(target._bind({ deadLetterQueue, retryAttempts: this.retryAttempts, maxEventAge: this.maxEventAge }).target);
      }
      rules.push(rule);
    }

    const what = `Event router ${this.node.path}, route '${name}'`;
    deadLetterQueueAlarm(scope, this._alarmsProps, deadLetterQueue, what);
    rules.forEach((rule, i) =>
      createAlarm(scope, this._alarmsProps, {
        id: i === 0 ? ROUTE_EVENTS_LOST_ALARM : `${ROUTE_EVENTS_LOST_ALARM}${i + 1}`,
        overrideId: ROUTE_EVENTS_LOST_ALARM,
        metric: ruleMetric(rule, 'InvocationsFailedToBeSentToDlq', cloudwatch.Stats.SUM),
        threshold: DEAD_LETTER_ALARM_THRESHOLD,
        description: () =>
          `${what}: EventBridge could deliver an event neither to a target nor to the dead-letter queue. The event is lost; check the dead-letter queue's policy and key.`,
      }),
    );

    const route: EventRoute = { name, rules, deadLetterQueue, replayedEvents };
    this.routeList.push(route);
    this._showOnDashboard(this.metricMatchedEvents(name), this.metricFailedInvocations(name));
    return route;
  }

  /** The route named `name`. */
  public route(name: string): EventRoute {
    return (
      this.routeList.find((r) => r.name === name) ??
      MessagingPatternsError.fail(
        this,
        'route:unknown',
        `there is no route ${describeValue(name)} (routes: ${this.routeList.map((r) => r.name).join(', ') || 'none'})`,
      )
    );
  }

  /** Grants `grantee` permission to put events on the bus. */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.eventBus.grantPutEventsTo(grantee);
  }

  /** Makes `fn` a publisher: {@link grantPutEvents}, and the bus's name in its `EVENT_BUS_NAME` environment variable. */
  public connectPublisher(fn: lambda.IFunction): iam.Grant {
    return connectFunction(this, fn, { [ENV.eventBusName]: this.eventBus.eventBusName }, this.grantPutEvents(fn));
  }

  /**
   * Grants `grantee` (an operator, the replay script) permission to start, follow and cancel
   * replays of the archive.
   */
  public grantReplay(grantee: iam.IGrantable): iam.Grant {
    if (!this.archive) return iam.Grant.drop(grantee, 'the router has no archive to replay');
    const replays = Stack.of(this).formatArn({ service: 'events', resource: 'replay', resourceName: '*' });
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['events:StartReplay', 'events:DescribeReplay', 'events:CancelReplay', 'events:ListReplays', 'events:DescribeArchive'],
      resourceArns: [this.archive.archiveArn, replays],
    });
    for (const statement of grant.principalStatements) {
      if (statement.resources.includes(replays) && grantee.grantPrincipal instanceof iam.Role) {
        acknowledgeWildcardResource(
          grantee.grantPrincipal,
          replays,
          'Replays are named at run time (one per replay started); the actions are limited to replays of this account and region, and to the archive.',
        );
      }
    }
    return combineGrants(grantee, [grant], 'nothing to grant');
  }

  /** Makes `fn` a replayer: {@link grantReplay}, and {@link replayConfig} in its `EVENT_ROUTER_CONFIG` environment variable. */
  public connectReplayer(fn: lambda.IFunction): iam.Grant {
    return connectFunction(this, fn, { [ENV.eventRouterConfig]: this.replayConfig }, this.grantReplay(fn));
  }

  /** Events matched by a route's rules (Sum over 1 minute; the first rule when the route has several). */
  public metricMatchedEvents(route: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return ruleMetric(this.route(route).rules[0], 'MatchedEvents', cloudwatch.Stats.SUM, props);
  }

  /** Deliveries to a route's targets that failed for good (Sum over 1 minute, first rule). */
  public metricFailedInvocations(route: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return ruleMetric(this.route(route).rules[0], 'FailedInvocations', cloudwatch.Stats.SUM, props);
  }

  /** Events in a route's dead-letter queue (Maximum over 1 minute). */
  public metricDeadLetterMessages(route: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return optionalQueueMetric(this.route(route).deadLetterQueue, 'ApproximateNumberOfMessagesVisible', props);
  }

  private routesScope(): Construct {
    return (this.node.tryFindChild('Routes') as Construct | undefined) ?? new Construct(this, 'Routes');
  }
}

/** A metric of an EventBridge rule (`AWS/Events`, dimension `RuleName`, and `EventBusName` for custom buses). */
function ruleMetric(rule: events.Rule, name: string, statistic: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Events',
    metricName: name,
    dimensionsMap: { RuleName: rule.ruleName },
    ...metricOptions(statistic, props),
  });
}

/** Checks an event router's props into `v`. */
export function validateEventRouterProps(v: PropsValidator, props: EventRouterProps): void {
  v.mutuallyExclusive({ existingEventBus: props.existingEventBus, eventBusProps: props.eventBusProps });
  if (props.archive === false) {
    for (const [name, value] of Object.entries({
      archiveRetention: props.archiveRetention,
      archiveEncryptionKey: props.archiveEncryptionKey,
      archiveEventPattern: props.archiveEventPattern,
    })) {
      v.check(`${name}:conflict`, value === undefined, `${name} cannot be used with archive: false`);
    }
  }
  const retention = props.archiveRetention;
  if (retention && !retention.isUnresolved()) {
    const days = retention.toDays({ integral: false });
    v.check(
      'archiveRetention:format',
      Number.isInteger(days) && days >= 1,
      `archiveRetention must be a whole number of days, at least 1 (given ${describeValue(retention)})`,
    );
  }
  v.check(
    'archiveEventPattern:required',
    props.archiveEventPattern === undefined || !isEmptyPattern(props.archiveEventPattern),
    'archiveEventPattern must have at least one field (given an empty pattern)',
  );
  v.integerInRange('retryAttempts', props.retryAttempts, 0, EVENT_TARGET_MAX_RETRY_ATTEMPTS);
  v.durationInRange('maxEventAge', props.maxEventAge, EVENT_TARGET_MIN_EVENT_AGE, EVENT_TARGET_MAX_EVENT_AGE_LIMIT);
  const publishers = props.crossAccountPublishers;
  for (const account of publishers?.accounts ?? [])
    v.matches('crossAccountPublishers.accounts', account, ACCOUNT_ID, 'a 12-digit AWS account id');
  v.matches(
    'crossAccountPublishers.organizationId',
    publishers?.organizationId,
    ORGANIZATION_ID,
    "an AWS Organizations id ('o-' and 10 to 32 lowercase letters or digits)",
  );
  if (publishers) {
    v.check(
      'crossAccountPublishers:required',
      (publishers.accounts?.length ?? 0) > 0 || publishers.organizationId !== undefined,
      'crossAccountPublishers must name accounts or an organizationId (given neither)',
    );
  }
  validateAlarms(v, props.alarms, EVENT_ROUTER_ALARMS);
}

/** Checks a route into `v`. */
function validateRoute(v: PropsValidator, name: string, options: RouteOptions, existing: readonly EventRoute[]): void {
  v.matches('routeName', name, ROUTE_NAME, 'a letter, then up to 47 letters, digits or hyphens');
  v.check('routeName:conflict', !existing.some((r) => r.name === name), `route names must be unique (given ${describeValue(name)} twice)`);
  v.check(
    `routes.${name}.eventPattern:required`,
    !isEmptyPattern(options.eventPattern) || (options.anyOf?.length ?? 0) > 0,
    `route '${name}' needs an eventPattern or anyOf: a route matching every event is a bus-wide tap; say so with eventPattern { version: ['0'] } (given neither)`,
  );
  v.check(
    `routes.${name}.anyOf:format`,
    !(options.anyOf ?? []).some(isEmptyPattern),
    `route '${name}': every anyOf alternative needs at least one field (given an empty one)`,
  );
  v.check(`routes.${name}.targets:required`, options.targets.length > 0, `route '${name}' needs at least one target (given none)`);
  for (const target of options.targets) {
    const o = target.options;
    v.integerInRange(`routes.${name}.targets.retryAttempts`, o.retryAttempts, 0, EVENT_TARGET_MAX_RETRY_ATTEMPTS);
    v.durationInRange(`routes.${name}.targets.maxEventAge`, o.maxEventAge, EVENT_TARGET_MIN_EVENT_AGE, EVENT_TARGET_MAX_EVENT_AGE_LIMIT);
    const queue = target._queue;
    if (queue) {
      v.check(
        `routes.${name}.targets.queue:unsupported`,
        !isAwsManagedQueueKey(queue),
        `route '${name}': EventBridge cannot send to a queue encrypted with the AWS managed key aws/sqs, so every event would be lost (given ${queue.node.path}); use SSE-SQS or a customer managed key`,
      );
      if (!isUnresolved(queue.fifo) && queue.fifo) {
        v.check(
          `routes.${name}.targets.messageGroupId:required`,
          (o as { messageGroupId?: string }).messageGroupId !== undefined,
          `route '${name}': a FIFO queue target needs a messageGroupId (given none for ${queue.node.path})`,
        );
      }
    }
  }
}
