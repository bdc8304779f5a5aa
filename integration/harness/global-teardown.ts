/** Stops LocalStack if the global setup started it. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './env';
import { MARKER } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  if (fs.existsSync(MARKER)) {
    fs.rmSync(MARKER);
    execFileSync('bash', [path.join(ROOT, 'scripts', 'localstack.sh'), 'stop'], { stdio: 'inherit' });
  }
}
