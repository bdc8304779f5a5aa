/**
 * Where the emulator is, and the SDK settings every integration test uses.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const REGION = process.env.AWS_REGION ?? 'us-east-1';
export const ACCOUNT = '000000000000';

/** The LocalStack endpoint: the user's, else the port the project's script uses. */
export function endpoint(): string {
  return process.env.LOCALSTACK_ENDPOINT ?? process.env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${process.env.LOCALSTACK_PORT ?? '4566'}`;
}

/** SDK v3 client config for the emulator. */
export function clientConfig(): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
} {
  return {
    endpoint: endpoint(),
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
  };
}

/** The variables `scripts/localstack.sh env` prints, as an object (for child processes like cdklocal). */
export function emulatorEnv(): Record<string, string> {
  const out = execFileSync('bash', [path.join(ROOT, 'scripts', 'localstack.sh'), 'env'], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
  }
  return env;
}

/** Applies the emulator variables to this process, so SDK clients built without config reach it too. */
export function applyEmulatorEnv(): void {
  Object.assign(process.env, emulatorEnv());
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
}
