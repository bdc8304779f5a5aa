import { createS3Client, customS3EndpointConfigured, s3ForcePathStyle } from '../../../../lambda/runtime/internal/s3-client';

describe('Function: customS3EndpointConfigured', () => {
  it.each<[NodeJS.ProcessEnv, boolean]>([
    [{}, false],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, true],
    [{ AWS_ENDPOINT_URL_S3: 'http://minio:9000' }, true],
    [{ AWS_ENDPOINT_URL: 'http://x', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'TRUE' }, false],
    [{ AWS_ENDPOINT_URL: 'http://x', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' }, true],
  ])('%p: %p', (env, expected) => {
    expect(customS3EndpointConfigured(env)).toBe(expected);
  });
});

describe('Function: s3ForcePathStyle', () => {
  it.each<[NodeJS.ProcessEnv, boolean]>([
    [{}, false],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, true],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, false],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_S3_FORCE_PATH_STYLE: 'false' }, false],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_S3_FORCE_PATH_STYLE: '' }, true],
    [{ AWS_S3_FORCE_PATH_STYLE: '1' }, true],
    [{ AWS_S3_FORCE_PATH_STYLE: 'True' }, true],
  ])('%p: %p', (env, expected) => {
    expect(s3ForcePathStyle(env)).toBe(expected);
  });
});

describe('Function: createS3Client', () => {
  it('takes forcePathStyle from the environment given, unless told', async () => {
    expect(await createS3Client({ env: { AWS_S3_FORCE_PATH_STYLE: 'true' } }).config.forcePathStyle).toBe(true);
    expect(await createS3Client({ env: { AWS_S3_FORCE_PATH_STYLE: 'true' }, forcePathStyle: false }).config.forcePathStyle).toBe(false);
  });
});
