/**
 * The emulator canaries run first (see sequencer.js). When they fail, every later suite stops at
 * once with a pointer to them, instead of failing in confusing ways of its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const marker = (): string => path.join(os.tmpdir(), `cmp-canaries-${process.env.CMP_RUN_ID ?? 'adhoc'}.json`);

export function recordCanaries(status: 'running' | 'passed' | 'failed', detail = ''): void {
  fs.writeFileSync(marker(), JSON.stringify({ status, detail }));
}

/** Throws when the canaries of this run did not pass. Suites call it in beforeAll. */
export function requireHealthyEmulator(): void {
  if (!fs.existsSync(marker())) return; // canaries not part of this run (a single suite was selected)
  const { status, detail } = JSON.parse(fs.readFileSync(marker(), 'utf8')) as { status: string; detail: string };
  if (status !== 'passed') {
    throw new Error(
      `the emulator canaries did not pass (${status}${detail ? `: ${detail}` : ''}); see integration/canaries for what the emulator got wrong`,
    );
  }
}
