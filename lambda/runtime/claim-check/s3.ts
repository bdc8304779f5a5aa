import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../../lib/core/wire';
import { checkBoolean, checkBucket, checkClient } from '../internal/options';
import { createS3Client, customS3EndpointConfigured as customEndpointConfigured } from '../internal/s3-client';
import { BaseClaimCheck, type ClaimCheckOptions, failClaimCheckOption as fail } from './claim-check';
import { ClaimNotFoundError } from './errors';
import type { ClaimReference } from './reference';

/** Options of {@link S3ClaimCheck}. */
export interface S3ClaimCheckOptions extends ClaimCheckOptions {
  /**
   * The claim check bucket.
   *
   * @default - `CLAIM_CHECK_BUCKET_NAME` (set by the construct's `environment`)
   */
  readonly bucketName?: string;
  /**
   * Further buckets whose claims this consumer reads (claims written by another producer).
   *
   * @default - only `bucketName`
   */
  readonly trustedBuckets?: readonly string[];
  /**
   * The S3 client. Inject one to share it or to configure it yourself.
   *
   * @default - a new `S3Client` with the environment's configuration and `forcePathStyle` as below
   */
  readonly client?: Pick<S3Client, 'send'>;
  /**
   * Whether the default client addresses buckets by path (`https://endpoint/bucket/key`) rather
   * than by host name (`https://bucket.endpoint/key`).
   *
   * @default - `AWS_S3_FORCE_PATH_STYLE` when set, else true when a custom endpoint is configured
   * (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, as emulators such as LocalStack set them), false in AWS
   */
  readonly forcePathStyle?: boolean;
}

/**
 * Whether the environment points the SDK at a custom endpoint (an emulator): `AWS_ENDPOINT_URL_S3`
 * or `AWS_ENDPOINT_URL` set (and not ignored with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`). Such
 * endpoints have no wildcard DNS for `bucket.endpoint`, so S3 must be addressed by path. In AWS
 * neither variable is set and the SDK keeps virtual-hosted addressing, which AWS recommends.
 */
export function customS3EndpointConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return customEndpointConfigured(env);
}

const isNotFound = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * Claim check on S3: payloads above the threshold are stored in the claim check bucket.
 *
 * @example
 * // producer (environment and grants from the ClaimCheck construct)
 * const claims = new S3ClaimCheck();
 * await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: await claims.checkIn(report) }));
 * // consumer
 * const report = await claims.checkOutJson<Report>(record);
 */
export class S3ClaimCheck extends BaseClaimCheck {
  /** The claim check bucket. */
  public readonly bucketName: string;
  private readonly trusted: ReadonlySet<string>;
  private readonly options: S3ClaimCheckOptions;
  private client?: Pick<S3Client, 'send'>;

  constructor(options: S3ClaimCheckOptions = {}) {
    super(options);
    const given = options.bucketName ?? process.env[ENV.claimCheckBucketName];
    if (!given) {
      fail(
        'bucketName',
        `S3ClaimCheck needs a bucket: pass bucketName, or set ${ENV.claimCheckBucketName} (the ClaimCheck construct's \`environment\`)`,
        given,
      );
    }
    const bucketName = checkBucket(fail, options.bucketName !== undefined ? 'bucketName' : ENV.claimCheckBucketName, given);
    const trustedBuckets = options.trustedBuckets ?? [];
    if (!Array.isArray(trustedBuckets)) fail('trustedBuckets', `trustedBuckets must be a list of bucket names`, trustedBuckets);
    trustedBuckets.forEach((bucket, i) => checkBucket(fail, `trustedBuckets[${i}]`, bucket));
    checkClient(fail, 'client', options.client);
    checkBoolean(fail, 'forcePathStyle', options.forcePathStyle);
    this.bucketName = bucketName;
    this.trusted = new Set([bucketName, ...trustedBuckets]);
    this.options = options;
    this.client = options.client;
  }

  protected bucketFor(): string {
    return this.bucketName;
  }

  protected trusts(bucket: string): boolean {
    return this.trusted.has(bucket);
  }

  protected async _putPayload(claim: ClaimReference, body: Uint8Array): Promise<void> {
    await this.s3().send(
      new PutObjectCommand({
        Bucket: claim.bucket,
        Key: claim.key,
        Body: body,
        ContentType: claim.contentType,
        // S3 checks the upload against this and stores it with the object.
        ChecksumSHA256: Buffer.from(claim.sha256!, 'hex').toString('base64'),
      }),
    );
  }

  protected async _getPayload(claim: ClaimReference): Promise<Uint8Array> {
    try {
      const res = await this.s3().send(new GetObjectCommand({ Bucket: claim.bucket, Key: claim.key }));
      if (!res.Body) throw new ClaimNotFoundError(claim.bucket, claim.key);
      return await res.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) throw new ClaimNotFoundError(claim.bucket, claim.key, { cause: error });
      throw error;
    }
  }

  protected async _deletePayload(claim: ClaimReference): Promise<void> {
    await this.s3().send(new DeleteObjectCommand({ Bucket: claim.bucket, Key: claim.key }));
  }

  private s3(): Pick<S3Client, 'send'> {
    this.client ??= createS3Client({ forcePathStyle: this.options.forcePathStyle });
    return this.client;
  }
}
