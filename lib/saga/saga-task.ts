import { Aws } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { grantSendOnly } from '../core/grants';
import { MESSAGE_ATTRIBUTE } from '../core/wire';
import { SAGA_ID_PATH } from './private/paths';

/** Options of a saga task that sends a message (SQS) or publishes one (SNS). */
export interface SagaMessageOptions {
  /**
   * The message group of a FIFO queue or topic. The deduplication id is the step's idempotency token
   * (`<sagaId>#<step>`, and `<sagaId>#<step>#compensation` for a compensation).
   *
   * @default - none; required for a FIFO queue or topic
   */
  readonly messageGroupId?: string;
}

/** Options of a saga task that puts an event on an EventBridge bus. */
export interface SagaEventOptions {
  /** The event's `source`, e.g. `shop.orders`. */
  readonly source: string;
  /** The event's `detail-type`, e.g. `InventoryReservationRequested`. */
  readonly detailType: string;
}

/** Options of a saga task that puts a DynamoDB item. */
export interface SagaPutItemOptions {
  /**
   * The item, with `tasks.DynamoAttributeValue` (JSON paths into the saga document: `$.input...`,
   * `$.saga.results.<step>...`; the saga id is `SagaTask.sagaId()`, the step's token
   * `SagaTask.idempotencyToken(step)`).
   */
  readonly item: { [attribute: string]: tasks.DynamoAttributeValue };
  /**
   * A condition the write must meet (e.g. `attribute_not_exists(pk)`); a failed condition fails the step.
   *
   * @default - none
   */
  readonly conditionExpression?: string;
  /**
   * Names used in `conditionExpression` (`#name`).
   *
   * @default - none
   */
  readonly expressionAttributeNames?: { [placeholder: string]: string };
  /**
   * Values used in `conditionExpression` (`:value`).
   *
   * @default - none
   */
  readonly expressionAttributeValues?: { [placeholder: string]: tasks.DynamoAttributeValue };
}

/** Options of a saga task that updates a DynamoDB item. */
export interface SagaUpdateItemOptions {
  /** The item's key. */
  readonly key: { [attribute: string]: tasks.DynamoAttributeValue };
  /** The update, e.g. `SET #s = :s ADD reserved :q`. */
  readonly updateExpression: string;
  /**
   * A condition the update must meet; a failed condition fails the step.
   *
   * @default - none
   */
  readonly conditionExpression?: string;
  /**
   * Names used in the expressions (`#name`).
   *
   * @default - none
   */
  readonly expressionAttributeNames?: { [placeholder: string]: string };
  /**
   * Values used in the expressions (`:value`).
   *
   * @default - none
   */
  readonly expressionAttributeValues?: { [placeholder: string]: tasks.DynamoAttributeValue };
}

/** Options of a saga task that deletes a DynamoDB item. */
export interface SagaDeleteItemOptions {
  /** The item's key. Deleting an item that does not exist succeeds: a compensation of a write that never happened is a no-op. */
  readonly key: { [attribute: string]: tasks.DynamoAttributeValue };
  /**
   * A condition the delete must meet; a failed condition fails the step.
   *
   * @default - none
   */
  readonly conditionExpression?: string;
  /**
   * Names used in `conditionExpression` (`#name`).
   *
   * @default - none
   */
  readonly expressionAttributeNames?: { [placeholder: string]: string };
  /**
   * Values used in `conditionExpression` (`:value`).
   *
   * @default - none
   */
  readonly expressionAttributeValues?: { [placeholder: string]: tasks.DynamoAttributeValue };
}

/** A Task state as the saga definition renders it (internal). */
export interface RenderedSagaTask {
  readonly Resource: string;
  readonly Parameters: Record<string, unknown>;
  readonly ResultSelector?: Record<string, unknown>;
}

type Kind =
  'invoke' | 'callbackFunction' | 'sendMessage' | 'callbackQueue' | 'publish' | 'putEvent' | 'putItem' | 'updateItem' | 'deleteItem';

const integration = (service: string) => `arn:${Aws.PARTITION}:states:::${service}`;

function renderValues(values: { [k: string]: tasks.DynamoAttributeValue } | undefined): Record<string, unknown> | undefined {
  if (values === undefined) return undefined;
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.toObject()]));
}

/** Drops undefined fields. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * What a saga step does (its action) or undoes (its compensation): a Lambda function, or a direct
 * service integration (SQS, SNS, EventBridge, DynamoDB), or a callback that waits for a task token.
 *
 * Functions, queues, topics and buses receive the saga event
 * `{ sagaId, step, phase, idempotencyToken, input, results }` (`phase` is `action` or
 * `compensation`; `idempotencyToken` is `<sagaId>#<step>` for both, so a compensation can find what
 * its action did); callbacks also get `taskToken`. Messages carry the token in the `idempotencyKey`
 * message attribute (`<token>#compensation` for a compensation), which the kit's idempotency library
 * reads by default. DynamoDB tasks write what you give them.
 *
 * @example
 * const steps = [
 *   { name: 'reserve', action: SagaTask.invoke(inventory), compensation: SagaTask.invoke(inventory) },
 *   { name: 'approve', action: SagaTask.callbackQueue(approvals), timeout: Duration.days(1), heartbeat: Duration.hours(1),
 *     condition: sfn.Condition.numberGreaterThan('$.input.amountCents', 100_000) },
 *   { name: 'notify', action: SagaTask.publish(orderEvents) },
 * ];
 */
export class SagaTask {
  /** A Lambda function, invoked synchronously with the saga event; its result is the step's result. */
  public static invoke(fn: lambda.IFunction): SagaTask {
    return new SagaTask(
      'invoke',
      fn.node.path,
      (event) => ({ Resource: fn.functionArn, Parameters: event }),
      (role) => role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] })),
    );
  }

  /**
   * A callback through a Lambda function (`lambda:invoke.waitForTaskToken`): the function gets the
   * saga event with `taskToken` and hands it on (to an approver, an external system); the step waits
   * until `completeTask`, `failTask` (runtime/saga) or the step's timeout or heartbeat ends it. The
   * step needs `timeout` and `heartbeat`.
   */
  public static callbackFunction(fn: lambda.IFunction): SagaTask {
    return new SagaTask(
      'callbackFunction',
      fn.node.path,
      (event) => ({
        Resource: integration('lambda:invoke.waitForTaskToken'),
        Parameters: { FunctionName: fn.functionArn, Payload: { ...event, 'taskToken.$': '$$.Task.Token' } },
      }),
      (role) => role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] })),
    );
  }

  /** An SQS message whose body is the saga event; the step's result is `{ messageId }`. */
  public static sendMessage(queue: sqs.IQueue, options: SagaMessageOptions = {}): SagaTask {
    return new SagaTask(
      'sendMessage',
      queue.node.path,
      (event, key) => ({
        Resource: integration('sqs:sendMessage'),
        Parameters: SagaTask.sqsParameters(queue, options, event, key),
        ResultSelector: { 'messageId.$': '$.MessageId' },
      }),
      (role) => grantSendOnly(queue, role, []),
      { queue, messageGroupId: options.messageGroupId },
    );
  }

  /**
   * A callback through an SQS queue (`sqs:sendMessage.waitForTaskToken`): the message body is the
   * saga event with `taskToken`; whoever reads it ends the step with `completeTask` or `failTask`
   * (runtime/saga), or the step's timeout or heartbeat does. The step needs `timeout` and `heartbeat`.
   */
  public static callbackQueue(queue: sqs.IQueue, options: SagaMessageOptions = {}): SagaTask {
    return new SagaTask(
      'callbackQueue',
      queue.node.path,
      (event, key) => ({
        Resource: integration('sqs:sendMessage.waitForTaskToken'),
        Parameters: SagaTask.sqsParameters(queue, options, { ...event, 'taskToken.$': '$$.Task.Token' }, key),
      }),
      (role) => grantSendOnly(queue, role, []),
      { queue, messageGroupId: options.messageGroupId },
    );
  }

  /** An SNS message (the saga event) on a topic; the step's result is `{ messageId }`. */
  public static publish(topic: sns.ITopic, options: SagaMessageOptions = {}): SagaTask {
    return new SagaTask(
      'publish',
      topic.node.path,
      (event, key) => ({
        Resource: integration('sns:publish'),
        Parameters: defined({
          TopicArn: topic.topicArn,
          Message: event,
          MessageAttributes: { [MESSAGE_ATTRIBUTE.idempotencyKey]: { DataType: 'String', 'StringValue.$': key } },
          MessageGroupId: options.messageGroupId,
          'MessageDeduplicationId.$': topic.fifo ? key : undefined,
        }),
        ResultSelector: { 'messageId.$': '$.MessageId' },
      }),
      (role) => topic.grantPublish(role),
      { topic, messageGroupId: options.messageGroupId },
    );
  }

  /** An EventBridge event whose detail is the saga event; the step's result is `{ eventId }`. A failed entry fails the step. */
  public static putEvent(bus: events.IEventBus, options: SagaEventOptions): SagaTask {
    return new SagaTask(
      'putEvent',
      bus.node.path,
      (event) => ({
        Resource: integration('events:putEvents'),
        Parameters: { Entries: [{ EventBusName: bus.eventBusArn, Source: options.source, DetailType: options.detailType, Detail: event }] },
        ResultSelector: { 'eventId.$': '$.Entries[0].EventId' },
      }),
      (role) => bus.grantPutEventsTo(role),
    );
  }

  /** A DynamoDB `PutItem`; the step's result is `{ written: true }`. */
  public static putItem(table: dynamodb.ITable, options: SagaPutItemOptions): SagaTask {
    return SagaTask.dynamo('putItem', table, {
      Item: renderValues(options.item),
      ConditionExpression: options.conditionExpression,
      ExpressionAttributeNames: options.expressionAttributeNames,
      ExpressionAttributeValues: renderValues(options.expressionAttributeValues),
    });
  }

  /** A DynamoDB `UpdateItem`; the step's result is `{ written: true }`. */
  public static updateItem(table: dynamodb.ITable, options: SagaUpdateItemOptions): SagaTask {
    return SagaTask.dynamo('updateItem', table, {
      Key: renderValues(options.key),
      UpdateExpression: options.updateExpression,
      ConditionExpression: options.conditionExpression,
      ExpressionAttributeNames: options.expressionAttributeNames,
      ExpressionAttributeValues: renderValues(options.expressionAttributeValues),
    });
  }

  /** A DynamoDB `DeleteItem`; the step's result is `{ written: true }`. */
  public static deleteItem(table: dynamodb.ITable, options: SagaDeleteItemOptions): SagaTask {
    return SagaTask.dynamo('deleteItem', table, {
      Key: renderValues(options.key),
      ConditionExpression: options.conditionExpression,
      ExpressionAttributeNames: options.expressionAttributeNames,
      ExpressionAttributeValues: renderValues(options.expressionAttributeValues),
    });
  }

  /** The saga id, as a JSON path for DynamoDB values (`tasks.DynamoAttributeValue.fromString(SagaTask.sagaId())`). */
  public static sagaId(): string {
    return sfn.JsonPath.stringAt(SAGA_ID_PATH);
  }

  /** A step's idempotency token `<sagaId>#<step>`, as a JSON path for DynamoDB values. */
  public static idempotencyToken(step: string): string {
    return sfn.JsonPath.format(`{}#${step}`, sfn.JsonPath.stringAt(SAGA_ID_PATH));
  }

  private static sqsParameters(
    queue: sqs.IQueue,
    options: SagaMessageOptions,
    body: Record<string, unknown>,
    key: string,
  ): Record<string, unknown> {
    return defined({
      QueueUrl: queue.queueUrl,
      MessageBody: body,
      MessageAttributes: { [MESSAGE_ATTRIBUTE.idempotencyKey]: { DataType: 'String', 'StringValue.$': key } },
      MessageGroupId: options.messageGroupId,
      'MessageDeduplicationId.$': queue.fifo ? key : undefined,
    });
  }

  private static dynamo(
    kind: 'putItem' | 'updateItem' | 'deleteItem',
    table: dynamodb.ITable,
    parameters: Record<string, unknown>,
  ): SagaTask {
    const action = `dynamodb:${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
    return new SagaTask(
      kind,
      table.node.path,
      () => ({
        Resource: integration(`dynamodb:${kind}`),
        Parameters: sfn.FieldUtils.renderObject(defined({ TableName: table.tableName, ...parameters })) ?? {},
        ResultSelector: { written: true },
      }),
      (role) => {
        table.grant(role, action);
        table.encryptionKey?.grantEncryptDecrypt(role);
      },
    );
  }

  /** What the task is: `invoke`, `callbackFunction`, `sendMessage`, `callbackQueue`, `publish`, `putEvent`, `putItem`, `updateItem` or `deleteItem`. */
  public readonly kind: string;
  /** The construct path of the target resource, for messages. */
  public readonly targetPath: string;

  private constructor(
    kind: Kind,
    targetPath: string,
    private readonly render: (event: Record<string, unknown>, messageKey: string) => RenderedSagaTask,
    private readonly grant: (role: iam.IRole) => unknown,
    /** @internal */
    public readonly _target: { readonly queue?: sqs.IQueue; readonly topic?: sns.ITopic; readonly messageGroupId?: string } = {},
  ) {
    this.kind = kind;
    this.targetPath = targetPath;
  }

  /** Whether the task waits for a task token (`completeTask` / `failTask`). */
  public get isCallback(): boolean {
    return this.kind === 'callbackFunction' || this.kind === 'callbackQueue';
  }

  /**
   * The Task state's resource and parameters, given the saga event (JSON-path parameters) and the
   * JSON path of the message idempotency key.
   *
   * @internal
   */
  public _render(event: Record<string, unknown>, messageKey: string): RenderedSagaTask {
    return this.render(event, messageKey);
  }

  /**
   * Grants the state machine's role what the task needs.
   *
   * @internal
   */
  public _grant(role: iam.IRole): void {
    this.grant(role);
  }
}
