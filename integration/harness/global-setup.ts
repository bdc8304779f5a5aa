/**
 * Jest global setup of the integration suite: makes sure LocalStack runs (starting it with the
 * project's script when none is running), then bootstraps it for cdklocal once.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, applyEmulatorEnv, endpoint } from './env';
import { ensureBootstrapped } from './deploy';

const MARKER = path.join(os.tmpdir(), `cmp-integration-started-${process.ppid}`);

async function healthy(): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint()}/_localstack/health`, { signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  process.env.CMP_RUN_ID = `${process.pid}-${Date.now()}`;
  if (!(await healthy())) {
    execFileSync('bash', [path.join(ROOT, 'scripts', 'localstack.sh'), 'start'], { stdio: 'inherit' });
    fs.writeFileSync(MARKER, 'started');
  }
  applyEmulatorEnv();
  await ensureBootstrapped();
}

export { MARKER };
