import { type ClaimCheckMessage, claimFromText, claimFromValue, encodeClaim, unwrapMessage } from '../../../../lambda/runtime/claim-check';

const valid = { v: 1, bucket: 'b', key: 'claims/k', bytes: 10, sha256: 'a'.repeat(64), contentType: 'application/json' };

describe('Function: claimFromValue', () => {
  it('reads a claim it wrote, and round-trips through encodeClaim', () => {
    const { v: _v, ...ref } = valid;
    expect(claimFromValue({ claimCheck: valid })).toEqual(ref);
    expect(claimFromText(encodeClaim(ref))).toEqual(ref);
  });

  it.each([
    ['another member next to claimCheck', { claimCheck: valid, other: 1 }],
    ['another version', { claimCheck: { ...valid, v: 2 } }],
    ['an empty key', { claimCheck: { ...valid, key: '' } }],
    ['a bucket that is not a string', { claimCheck: { ...valid, bucket: 5 } }],
    ['a negative size', { claimCheck: { ...valid, bytes: -1 } }],
    ['a fractional size', { claimCheck: { ...valid, bytes: 1.5 } }],
    ['a hash that is not hex SHA-256', { claimCheck: { ...valid, sha256: 'abc' } }],
    ['a content type that is not a string', { claimCheck: { ...valid, contentType: 1 } }],
    ['claimCheck that is not an object', { claimCheck: 'yes' }],
    ['an array that is not an extended-client pointer', ['something', { s3BucketName: 'b', s3Key: 'k' }]],
    ['an extended-client pointer without a key', ['software.amazon.payloadoffloading.PayloadS3Pointer', { s3BucketName: 'b' }]],
    ['a string', 'claimCheck'],
    ['null', null],
  ])('treats a value with %s as a payload, not a claim', (_what, value) => {
    expect(claimFromValue(value)).toBeUndefined();
  });
});

describe('Function: claimFromText', () => {
  it('does not parse text that cannot be a claim', () => {
    expect(claimFromText('plain')).toBeUndefined();
    expect(claimFromText('{not json')).toBeUndefined();
    expect(claimFromText(JSON.stringify({ claimCheck: { ...valid, pad: 'x'.repeat(5000) } }))).toBeUndefined();
    expect(claimFromText(`  ${encodeClaim({ bucket: 'b', key: 'k' })}`)).toEqual({ bucket: 'b', key: 'k' });
  });
});

describe('Function: unwrapMessage', () => {
  it('leaves bodies that only look like envelopes alone', () => {
    const hint = '{"Type": "Notification", "TopicArn": 1, "Message": "x"}';
    expect(unwrapMessage(hint)).toEqual({ text: hint });
    const broken = '{"detail-type": ';
    expect(unwrapMessage(broken)).toEqual({ text: broken });
    const plainJson = '{"id": 1}';
    expect(unwrapMessage(plainJson)).toEqual({ text: plainJson });
  });

  it('unwraps an SNS notification object and an EventBridge event object', () => {
    expect(unwrapMessage({ Type: 'Notification', Message: 'm', TopicArn: 'arn' } as never)).toEqual({ text: 'm' });
    expect(unwrapMessage({ 'detail-type': 't', source: 's', detail: { a: 1 } } as never)).toEqual({ value: { a: 1 } });
  });

  it('types an SNS notification object with the TopicArn it needs to be recognised', () => {
    const notification: ClaimCheckMessage = { Type: 'Notification', Message: 'm', TopicArn: 'arn:aws:sns:us-east-1:0:t' };
    expect(unwrapMessage(notification)).toEqual({ text: 'm' });
    // @ts-expect-error without TopicArn it is not an SNS notification (and unwrapMessage rejects it)
    const incomplete: ClaimCheckMessage = { Type: 'Notification', Message: 'm' };
    expect(() => unwrapMessage(incomplete)).toThrow(TypeError);
  });
});
