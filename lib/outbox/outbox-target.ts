import { Annotations, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import { combineGrants } from '../core/grants';
import { EventRouter } from '../event-router/event-router';

/** The kinds of {@link OutboxTarget}. */
export enum OutboxTargetKind {
  /** An EventBridge bus (an `EventRouter`'s, or any): fan-out and routing, no order between events. */
  EVENT_BUS = 'EVENT_BUS',
  /** An SNS topic; FIFO for order per aggregate (message group = aggregate id, deduplication id = event id). */
  SNS_TOPIC = 'SNS_TOPIC',
  /** A Kinesis data stream: order per aggregate (partition key = aggregate id), replay by the stream. */
  KINESIS_STREAM = 'KINESIS_STREAM',
}

/**
 * Where a `TransactionalOutbox`'s relay publishes. An EventBridge bus routes and fans out but does
 * not keep order between events (the relay still never *publishes* event n+1 of an aggregate before
 * event n); an SNS FIFO topic and a Kinesis stream deliver each aggregate's events in order.
 *
 * @example
 * new TransactionalOutbox(this, 'Orders', { target: OutboxTarget.snsTopic(ordersTopic) });
 */
export class OutboxTarget {
  /** The bus of an `EventRouter` (its routes take the events). */
  public static eventRouter(router: EventRouter): OutboxTarget {
    return new OutboxTarget(OutboxTargetKind.EVENT_BUS, { eventBus: router.eventBus }, router);
  }

  /** An EventBridge bus. */
  public static eventBus(bus: events.IEventBus): OutboxTarget {
    return new OutboxTarget(OutboxTargetKind.EVENT_BUS, { eventBus: bus });
  }

  /** An SNS topic: FIFO for order per aggregate (a standard topic is accepted with a warning). */
  public static snsTopic(topic: sns.ITopic): OutboxTarget {
    return new OutboxTarget(OutboxTargetKind.SNS_TOPIC, { topic });
  }

  /** A Kinesis data stream. */
  public static kinesisStream(stream: kinesis.IStream): OutboxTarget {
    return new OutboxTarget(OutboxTargetKind.KINESIS_STREAM, { stream });
  }

  /** The router, when the target is an `EventRouter`'s bus. */
  public readonly router?: EventRouter;

  private constructor(
    /** What kind of target this is. */
    public readonly kind: OutboxTargetKind,
    private readonly resources: { eventBus?: events.IEventBus; topic?: sns.ITopic; stream?: kinesis.IStream },
    router?: EventRouter,
  ) {
    this.router = router;
  }

  /** The bus, when the target is a bus. */
  public get bus(): events.IEventBus | undefined {
    return this.resources.eventBus;
  }

  /** The topic, when the target is a topic. */
  public get topic(): sns.ITopic | undefined {
    return this.resources.topic;
  }

  /** The stream, when the target is a stream. */
  public get stream(): kinesis.IStream | undefined {
    return this.resources.stream;
  }

  /**
   * The relay's target configuration (`OUTBOX_RELAY_CONFIG.target`).
   *
   * @internal
   */
  public _config(): Record<string, string> {
    const { eventBus, topic, stream } = this.resources;
    if (eventBus) return { kind: 'eventbridge', eventBusName: eventBus.eventBusName };
    if (topic) return { kind: 'sns', topicArn: topic.topicArn };
    return { kind: 'kinesis', streamName: stream!.streamName, streamArn: stream!.streamArn };
  }

  /**
   * What the relay needs to publish, least privilege: `events:PutEvents` on the bus; `sns:Publish`
   * (and `kms:GenerateDataKey`, `kms:Decrypt` on a customer managed key); `kinesis:PutRecords`,
   * `kinesis:PutRecord`, `kinesis:ListShards` (and `kms:GenerateDataKey`).
   *
   * @internal
   */
  public _grantPublish(grantee: iam.IGrantable): iam.Grant {
    const { eventBus, topic, stream } = this.resources;
    if (eventBus) return eventBus.grantPutEventsTo(grantee);
    if (topic) {
      return combineGrants(
        grantee,
        [
          iam.Grant.addToPrincipal({ grantee, actions: ['sns:Publish'], resourceArns: [topic.topicArn] }),
          topic.masterKey?.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt'),
        ],
        'nothing to grant',
      );
    }
    return combineGrants(
      grantee,
      [
        stream!.grant(grantee, 'kinesis:PutRecords', 'kinesis:PutRecord', 'kinesis:ListShards'),
        stream!.encryptionKey?.grant(grantee, 'kms:GenerateDataKey'),
      ],
      'nothing to grant',
    );
  }

  /**
   * Warns about a target that does not keep order per aggregate although it could (a standard SNS topic).
   *
   * @internal
   */
  public _warnings(scope: IConstruct): void {
    const topic = this.resources.topic;
    if (topic && !Token.isUnresolved(topic.fifo) && !topic.fifo) {
      Annotations.of(scope).addWarningV2(
        'cdk-messaging-patterns:outboxStandardTopic',
        `the outbox publishes to a standard SNS topic (${topic.node.path}): subscribers may receive an aggregate's events out of order and twice. Use a FIFO topic for order per aggregate.`,
      );
    }
  }
}
