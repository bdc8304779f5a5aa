/**
 * The claim (the reference sent instead of a large payload) and how to recognise one.
 *
 * A claim is a JSON object with a single `claimCheck` member, so it is a valid SQS or SNS body and a
 * valid EventBridge `detail`:
 *
 *     {"claimCheck":{"v":1,"bucket":"...","key":"...","bytes":5242880,"sha256":"<hex>","contentType":"application/json"}}
 *
 * Claims written by the AWS "extended client" libraries (Java, Python) are read as well:
 * `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"...","s3Key":"..."}]`.
 */

/** Where a payload was stored, and what it must look like when read back. */
export interface ClaimReference {
  readonly bucket: string;
  readonly key: string;
  /** Size of the payload in bytes, when the producer recorded it. */
  readonly bytes?: number;
  /** Hex SHA-256 of the payload, when the producer recorded it. */
  readonly sha256?: string;
  readonly contentType?: string;
}

/** The member name that marks a claim. */
export const CLAIM_MEMBER = 'claimCheck';
const EXTENDED_CLIENT_POINTER = 'software.amazon.payloadoffloading.PayloadS3Pointer';
/** A claim is a few hundred bytes; anything much longer is a payload, not worth parsing. */
const MAX_CLAIM_CHARS = 4096;

/** The JSON of a claim. */
export function encodeClaim(ref: ClaimReference): string {
  return JSON.stringify({ [CLAIM_MEMBER]: { v: 1, ...ref } });
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The claim in an already parsed value (an EventBridge `detail`), or undefined when it is not one. */
export function claimFromValue(value: unknown): ClaimReference | undefined {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== CLAIM_MEMBER || !isObject(value[CLAIM_MEMBER])) return undefined;
    const c = value[CLAIM_MEMBER];
    if (c.v !== 1 || typeof c.bucket !== 'string' || typeof c.key !== 'string' || c.bucket === '' || c.key === '') return undefined;
    if (c.bytes !== undefined && !(Number.isInteger(c.bytes) && (c.bytes as number) >= 0)) return undefined;
    if (c.sha256 !== undefined && !(typeof c.sha256 === 'string' && /^[0-9a-f]{64}$/.test(c.sha256))) return undefined;
    if (c.contentType !== undefined && typeof c.contentType !== 'string') return undefined;
    return {
      bucket: c.bucket,
      key: c.key,
      bytes: c.bytes as number | undefined,
      sha256: c.sha256 as string | undefined,
      contentType: c.contentType as string | undefined,
    };
  }
  if (Array.isArray(value) && value.length === 2 && value[0] === EXTENDED_CLIENT_POINTER && isObject(value[1])) {
    const p = value[1];
    if (typeof p.s3BucketName === 'string' && typeof p.s3Key === 'string') return { bucket: p.s3BucketName, key: p.s3Key };
  }
  return undefined;
}

/** The claim in a message body, or undefined when the body is the payload itself. */
export function claimFromText(text: string): ClaimReference | undefined {
  if (text.length > MAX_CLAIM_CHARS) return undefined;
  const start = text.trimStart()[0];
  if (start !== '{' && start !== '[') return undefined;
  try {
    return claimFromValue(JSON.parse(text));
  } catch {
    return undefined;
  }
}
