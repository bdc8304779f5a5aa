import { Annotations, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DEFAULT_STREAM_RETENTION } from '../../core/defaults';

/** What {@link buildStream} returns. */
export interface BuiltStream {
  readonly stream: kinesis.IStream;
  /** The customer managed key encrypting the stream, if any. */
  readonly encryptionKey?: kms.IKey;
  /** The stream's retention, when the kit can know it (a stream it creates, or an existing `kinesis.Stream` of this app). */
  readonly retentionPeriod?: Duration;
  readonly created: boolean;
}

/**
 * The retention of an existing stream, when it is a `kinesis.Stream` of this app with a resolved
 * `RetentionPeriodHours`; `undefined` for an imported stream (the caller assumes Kinesis's minimum,
 * 24 hours, which no stream is below).
 */
export function retentionOfExisting(stream: kinesis.IStream): Duration | undefined {
  if (!(stream instanceof kinesis.Stream)) return undefined;
  const cfn = stream.node.defaultChild as kinesis.CfnStream | undefined;
  const hours = cfn?.retentionPeriodHours;
  if (hours === undefined || Token.isUnresolved(hours)) return undefined;
  return Duration.hours(hours);
}

/**
 * The stream of a pipeline: `existing` as it is (with a warning when it is a stream of this app
 * created unencrypted), or a new one with the kit's defaults, then the user's `streamProps`, then
 * what the kit requires:
 * - on-demand capacity, unless `shardCount` asks for provisioned shards;
 * - 24-hour retention;
 * - server-side encryption: a customer managed key with rotation created here (removed with the
 *   stream: same removal policy), the user's key, or the AWS managed `alias/aws/kinesis` key with
 *   `encryption: MANAGED`; never unencrypted (the validator rejects it).
 */
export function buildStream(
  scope: Construct,
  existing: kinesis.IStream | undefined,
  streamProps: kinesis.StreamProps | undefined,
): BuiltStream {
  if (existing) {
    if (existing instanceof kinesis.Stream) {
      const cfn = existing.node.defaultChild as kinesis.CfnStream | undefined;
      if (cfn && cfn.streamEncryption === undefined) {
        Annotations.of(scope).addWarningV2(
          'cdk-messaging-patterns:existingStreamUnencrypted',
          `existingStream ${existing.node.path} is not encrypted at rest: the kit uses it as it is. Create it with encryption KMS or MANAGED, or let the pattern create the stream.`,
        );
      }
    }
    return { stream: existing, encryptionKey: existing.encryptionKey, retentionPeriod: retentionOfExisting(existing), created: false };
  }

  const props = streamProps ?? {};
  const managed = props.encryption === kinesis.StreamEncryption.MANAGED;
  const encryptionKey: kms.IKey | undefined = managed
    ? undefined
    : (props.encryptionKey ??
      new kms.Key(scope, 'Key', {
        enableKeyRotation: true,
        description: `Encrypts the stream of ${scope.node.path}`,
        // The key goes with the stream: a retained stream stays readable.
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      }));
  const retentionPeriod = props.retentionPeriod ?? DEFAULT_STREAM_RETENTION;
  const stream = new kinesis.Stream(scope, 'Resource', {
    ...props,
    retentionPeriod,
    streamMode: props.streamMode ?? (props.shardCount === undefined ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED),
    // required
    encryption: managed ? kinesis.StreamEncryption.MANAGED : kinesis.StreamEncryption.KMS,
    encryptionKey,
  });
  if (encryptionKey) {
    // cdk-nag's AwsSolutions-KDS3 (a warning, which still fails synth) asks for alias/aws/kinesis.
    Validations.of(stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        "A customer managed key with rotation on, chosen over the AWS managed aws/kinesis key: its policy and grants are the app's (least-privilege kms:GenerateDataKey / kms:Decrypt per producer and consumer, cross-account access possible), and its use is in CloudTrail.",
    });
  }
  return { stream, encryptionKey, retentionPeriod: retentionPeriod.isUnresolved() ? undefined : retentionPeriod, created: true };
}
