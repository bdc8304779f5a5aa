/**
 * Every benchmark, in one run against the same LocalStack (`npm run bench` bundles and runs this).
 * Each prints its table of ratios against a baseline measured in the same run. Choose some with
 * BENCH_ONLY=idempotency,publish.
 */
import { main as benchIdempotency } from './idempotency';
import { benchOutbox } from './outbox';
import { benchPublish } from './publish';
import { benchSaga } from './saga';

const BENCHES: Record<string, () => Promise<void>> = {
  idempotency: benchIdempotency,
  publish: async () => {
    await benchPublish();
  },
  saga: async () => {
    await benchSaga();
  },
  outbox: benchOutbox,
};

export async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const [name, run] of Object.entries(BENCHES)) {
    if (only && !only.includes(name)) continue;
    console.log(`\n## bench: ${name}\n`);
    await run();
  }
}
