import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** Options of every route target. */
export interface RouteTargetOptions {
  /**
   * What the target receives: an input transformer (`events.RuleTargetInput.fromObject({...})`,
   * `fromEventPath('$.detail')`, ...).
   *
   * @default - the whole event
   */
  readonly input?: events.RuleTargetInput;

  /**
   * How many times EventBridge retries delivering an event to this target (0–185) before it sends
   * the event to the dead-letter queue. Not used for event bus targets, which EventBridge does not
   * retry with a policy.
   *
   * @default 185 - EventBridge's own default, set explicitly so the dead-letter queue gets what is left
   */
  readonly retryAttempts?: number;

  /**
   * How long EventBridge keeps trying to deliver an event (1 minute – 24 hours).
   *
   * @default Duration.hours(24) - EventBridge's own default
   */
  readonly maxEventAge?: Duration;

  /**
   * Where events this target cannot take go, with EventBridge's `RULE_ARN`, `TARGET_ARN`,
   * `ERROR_CODE` and `ERROR_MESSAGE` attributes.
   *
   * @default - the route's dead-letter queue
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/** Options of a queue target. */
export interface QueueRouteTargetOptions extends RouteTargetOptions {
  /**
   * The message group of a FIFO queue target (a FIFO target queue needs content-based
   * deduplication: EventBridge sends no deduplication id).
   *
   * @default - none; required for a FIFO queue
   */
  readonly messageGroupId?: string;
}

/** Options of a Kinesis stream target. */
export interface StreamRouteTargetOptions extends RouteTargetOptions {
  /**
   * JSON path in the event of the partition key: events with the same key keep their order in the stream.
   *
   * @default '$.id' - the event id, which spreads events over shards with no order between them
   */
  readonly partitionKeyPath?: string;
}

/** What a target becomes, given its rule's defaults (internal). */
export interface BoundRouteTarget {
  readonly target: events.IRuleTarget;
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * A target of an `EventRouter` route: SQS, SNS, Lambda, Step Functions, Kinesis or another event
 * bus. Each gets a dead-letter queue and a retry policy (except buses: a dead-letter queue only).
 *
 * @example
 * router.addRoute('EuOrders', {
 *   eventPattern: { detailType: events.Match.prefix('orders.eu.') },
 *   targets: [RouteTarget.queue(billing.queue), RouteTarget.stateMachine(saga)],
 * });
 */
export class RouteTarget {
  /** An SQS queue (standard, or FIFO with `messageGroupId`). */
  public static queue(queue: sqs.IQueue, options: QueueRouteTargetOptions = {}): RouteTarget {
    return new RouteTarget(
      'queue',
      queue.node.path,
      options,
      (o) => new targets.SqsQueue(queue, { ...o, message: options.input, messageGroupId: options.messageGroupId }),
      queue,
    );
  }

  /** An SNS topic. */
  public static topic(topic: sns.ITopic, options: RouteTargetOptions = {}): RouteTarget {
    return new RouteTarget('topic', topic.node.path, options, (o) => new targets.SnsTopic(topic, { ...o, message: options.input }));
  }

  /**
   * A Lambda function, invoked asynchronously: a function error is Lambda's to retry (and to send
   * to the function's own failure destination), not EventBridge's; the route's dead-letter queue
   * gets the events EventBridge could not hand to Lambda.
   */
  public static lambdaFunction(fn: lambda.IFunction, options: RouteTargetOptions = {}): RouteTarget {
    return new RouteTarget('function', fn.node.path, options, (o) => new targets.LambdaFunction(fn, { ...o, event: options.input }));
  }

  /** A Step Functions state machine: each event starts an execution. */
  public static stateMachine(machine: sfn.IStateMachine, options: RouteTargetOptions = {}): RouteTarget {
    return new RouteTarget(
      'stateMachine',
      machine.node.path,
      options,
      (o) => new targets.SfnStateMachine(machine, { ...o, input: options.input }),
    );
  }

  /** A Kinesis data stream. */
  public static stream(stream: kinesis.IStream, options: StreamRouteTargetOptions = {}): RouteTarget {
    return new RouteTarget('stream', stream.node.path, options, (o) =>
      withDeadLetters(new targets.KinesisStream(stream, { message: options.input, partitionKeyPath: options.partitionKeyPath }), o),
    );
  }

  /** Another event bus (same or another account or region). */
  public static eventBus(bus: events.IEventBus, options: RouteTargetOptions = {}): RouteTarget {
    return new RouteTarget('eventBus', bus.node.path, options, (o) => new targets.EventBus(bus, { deadLetterQueue: o.deadLetterQueue }));
  }

  /** The kind of target ('queue', 'topic', 'function', 'stateMachine', 'stream', 'eventBus'). */
  public readonly kind: string;
  /** The construct path of the target resource, for messages. */
  public readonly targetPath: string;
  /** The options the target was given. */
  public readonly options: RouteTargetOptions;

  private constructor(
    kind: string,
    targetPath: string,
    options: RouteTargetOptions,
    private readonly make: (o: targets.TargetBaseProps) => events.IRuleTarget,
    /** @internal */
    public readonly _queue?: sqs.IQueue,
  ) {
    this.kind = kind;
    this.targetPath = targetPath;
    this.options = options;
  }

  /**
   * The rule target, with the route's dead-letter queue and retry policy unless the target's
   * options say otherwise.
   *
   * @internal
   */
  public _bind(defaults: {
    readonly deadLetterQueue?: sqs.IQueue;
    readonly retryAttempts: number;
    readonly maxEventAge: Duration;
  }): BoundRouteTarget {
    const deadLetterQueue = this.options.deadLetterQueue ?? defaults.deadLetterQueue;
    const retry =
      this.kind === 'eventBus'
        ? {}
        : {
            retryAttempts: this.options.retryAttempts ?? defaults.retryAttempts,
            maxEventAge: this.options.maxEventAge ?? defaults.maxEventAge,
          };
    return { target: this.make({ deadLetterQueue, ...retry }), deadLetterQueue };
  }
}

/**
 * A rule target with a dead-letter queue and a retry policy, for the targets whose CDK class takes
 * neither (Kinesis streams).
 */
function withDeadLetters(inner: events.IRuleTarget, o: targets.TargetBaseProps): events.IRuleTarget {
  return {
    bind(rule: events.IRule, id?: string): events.RuleTargetConfig {
      const config = inner.bind(rule, id);
      if (o.deadLetterQueue) targets.addToDeadLetterQueueResourcePolicy(rule, o.deadLetterQueue);
      return { ...config, ...targets.bindBaseTargetConfig(o) };
    },
  };
}
