import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { combineGrants } from '../../core/grants';

/**
 * What a reader of the stream needs: the shard iterator reads and the stream descriptions the
 * Lambda poller makes (`kinesis:ListStreams` is left out: it is an account-level action that a
 * stream ARN never matches).
 */
export const STREAM_READ_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'kinesis:SubscribeToShard',
];

/** What a producer needs: CDK's write actions (`ListShards` for producers that route by shard, like the KPL). */
export const STREAM_WRITE_ACTIONS = ['kinesis:ListShards', 'kinesis:PutRecord', 'kinesis:PutRecords'];

/** What a registered consumer (enhanced fan-out) adds, on the consumer's ARN. */
export const STREAM_CONSUMER_ACTIONS = ['kinesis:DescribeStreamConsumer', 'kinesis:SubscribeToShard'];

/**
 * Read access to `stream` (and, with enhanced fan-out, to its registered `consumer`), and only
 * `kms:Decrypt` on a customer managed key: one combined grant. CDK's `grantRead` returns the stream's
 * grant alone and leaves the key's out of it.
 */
export function grantStreamRead(stream: kinesis.IStream, grantee: iam.IGrantable, consumer?: kinesis.IStreamConsumer): iam.Grant {
  return combineGrants(
    grantee,
    [
      stream.grant(grantee, ...STREAM_READ_ACTIONS),
      consumer?.grant(grantee, ...STREAM_CONSUMER_ACTIONS),
      stream.encryptionKey?.grant(grantee, 'kms:Decrypt'),
    ],
    'nothing to grant',
  );
}

/**
 * Write access to `stream`, and only `kms:GenerateDataKey` on a customer managed key (what Kinesis
 * asks a producer for; CDK's `grantWrite` adds `kms:Encrypt`, `kms:ReEncrypt*` and
 * `kms:GenerateDataKey*`, which a producer does not need and cdk-nag flags).
 */
export function grantStreamWrite(stream: kinesis.IStream, grantee: iam.IGrantable): iam.Grant {
  return combineGrants(
    grantee,
    [stream.grant(grantee, ...STREAM_WRITE_ACTIONS), stream.encryptionKey?.grant(grantee, 'kms:GenerateDataKey')],
    'nothing to grant',
  );
}

/**
 * The on-failure destination of the event source mapping: an SQS queue. Unlike CDK's `SqsDlq`, it
 * grants nothing when bound: the construct grants the consumer least-privilege sending itself,
 * before the mapping is created (Lambda checks the permission when it creates the mapping).
 */
export class OnFailureQueueDestination implements lambda.IEventSourceDlq {
  constructor(private readonly queue: sqs.IQueue) {}

  public bind(): lambda.DlqDestinationConfig {
    return { destination: this.queue.queueArn };
  }
}
