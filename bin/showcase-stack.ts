import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { KitFunction, WorkQueue } from '../lib';

/**
 * The showcase: every pattern of the kit with its example handler, deployable as is.
 */
export class ShowcaseStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Where alarms go. Subscribe an email or a chat integration after deploying.
    const alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'cdk-messaging-patterns showcase alarms',
      masterKey: new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Encrypts the showcase alarm topic' }),
      enforceSSL: true,
    });
    // CloudWatch alarms publish to the encrypted topic.
    alarmTopic.masterKey?.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');

    // Work queue + competing consumers.
    const consumer = new KitFunction(this, 'TaskWorker', {
      handler: 'work-queue/consumer',
      functionProps: { timeout: Duration.seconds(10), description: 'Example work-queue consumer' },
      synchronousOnlyReason: 'Invoked only by the SQS event source mapping (synchronously); failed messages go to the queue\'s dead-letter queue.',
    });
    Validations.of(consumer).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason: 'Invoked only by the SQS event source mapping (synchronously); failed messages go to the queue\'s dead-letter queue.',
    });
    const tasks = new WorkQueue(this, 'Tasks', {
      consumer,
      maxConcurrency: 10,
      alarms: { alarmTopic },
    });

    new CfnOutput(this, 'TaskQueueUrl', { value: tasks.queue.queueUrl });
    new CfnOutput(this, 'TaskDeadLetterQueueUrl', { value: tasks.deadLetterQueue!.queueUrl });
  }
}
