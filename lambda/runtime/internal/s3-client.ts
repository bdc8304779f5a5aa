/**
 * The S3 client the runtime helpers create when none is injected. Not a public entry point: the
 * claim check (`customS3EndpointConfigured`) and the failure-reason store (`s3ClientFromEnvironment`)
 * expose it under their own names.
 */
import { S3Client } from '@aws-sdk/client-s3';

/**
 * Whether the environment points the SDK at a custom endpoint (an emulator): `AWS_ENDPOINT_URL_S3`
 * or `AWS_ENDPOINT_URL` set, and not ignored with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (which
 * the SDK honours too). Such endpoints have no wildcard DNS for `bucket.endpoint`, so S3 must be
 * addressed by path. In AWS neither variable is set and the SDK keeps virtual-hosted addressing,
 * which AWS recommends.
 */
export function customS3EndpointConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return false;
  return Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
}

/**
 * Whether a default S3 client addresses buckets by path: `AWS_S3_FORCE_PATH_STYLE=true|1|false|0`
 * when set, else {@link customS3EndpointConfigured}.
 */
export function s3ForcePathStyle(env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = env.AWS_S3_FORCE_PATH_STYLE;
  return flag !== undefined && flag !== '' ? /^(1|true)$/i.test(flag) : customS3EndpointConfigured(env);
}

/** A new S3 client with the environment's settings; `forcePathStyle` defaults to {@link s3ForcePathStyle}. */
export function createS3Client(options: { readonly forcePathStyle?: boolean; readonly env?: NodeJS.ProcessEnv } = {}): S3Client {
  return new S3Client({ forcePathStyle: options.forcePathStyle ?? s3ForcePathStyle(options.env) });
}
