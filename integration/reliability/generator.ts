/**
 * The seeded message generator of the ledger suite: the same seed always plans the same messages,
 * faults and duplicate deliveries, so a failing run is replayed with LEDGER_SEED=<seed>.
 */

export type Scenario = 'duplicates' | 'crashes' | 'poison' | 'fifo' | 'lock';

/** How a duplicate delivery is produced. */
export type Copy =
  | 'same-batch' // the same message sent again right after the original (usually the same Lambda batch)
  | 'later' // sent again after the original's effect was applied
  | 'concurrent'; // the same SQS record handed to two concurrent direct invocations, racing the real delivery

export interface PlannedMessage {
  /** Logical id: the payment id or order id, also the `idempotencyKey` message attribute. */
  readonly id: string;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly body: string;
  readonly expectation: 'process' | 'dead-letter';
  /** What the message is: healthy, a poison kind, or the fault it injects on its first delivery. */
  readonly kind: string;
  readonly copies: readonly Copy[];
  /** Payments: the account (the FIFO message group). */
  readonly accountId?: string;
  readonly amountCents?: number;
}

/** mulberry32: a small, good-enough seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Assigns `counts` of each kind to distinct indexes among `n` (the rest 'healthy'). */
function assignKinds(n: number, counts: Record<string, number>, rnd: () => number): string[] {
  const kinds: string[] = [];
  for (const [kind, count] of Object.entries(counts)) for (let i = 0; i < count; i++) kinds.push(kind);
  while (kinds.length < n) kinds.push('healthy');
  return shuffle(kinds, rnd);
}

/** Picks 30 % of the healthy messages for a duplicate delivery, of the given copy types, round robin. */
function assignCopies(kinds: string[], types: Copy[], rnd: () => number): Copy[][] {
  const healthyish = kinds.map((k, i) => (k === 'malformed' || k === 'invalid' ? -1 : i)).filter((i) => i >= 0);
  const chosen = shuffle(healthyish, rnd).slice(0, Math.round(0.3 * kinds.length));
  const copies: Copy[][] = kinds.map(() => []);
  chosen.forEach((index, n) => copies[index].push(types[n % types.length]));
  return copies;
}

function paymentBody(id: string, accountId: string, amountCents: number, kind: string, rnd: () => number): string {
  if (kind === 'malformed') return `{"paymentId": "${id}", "accountId": "${accountId}", "amountCents": `;
  if (kind === 'invalid') {
    return JSON.stringify(rnd() < 0.5 ? { paymentId: id, accountId, amountCents: -amountCents } : { paymentId: id, amountCents });
  }
  return JSON.stringify({ paymentId: id, accountId, amountCents, ...(kind === 'healthy' ? {} : { fault: kind }) });
}

function payments(scenario: Scenario, seed: number, n: number, counts: Record<string, number>, copyTypes: Copy[]): PlannedMessage[] {
  const rnd = prng(seed * 7919 + scenario.length);
  const kinds = assignKinds(n, counts, rnd);
  const copies = assignCopies(kinds, copyTypes, rnd);
  return kinds.map((kind, i) => {
    const id = `${scenario}-s${seed}-p${i}`;
    const accountId = `${scenario}-s${seed}-a${Math.floor(rnd() * 3)}`;
    const amountCents = 1 + Math.floor(rnd() * 10_000);
    const poison = kind === 'malformed' || kind === 'invalid';
    return {
      id,
      scenario,
      seed,
      kind,
      accountId,
      amountCents,
      body: paymentBody(id, accountId, amountCents, kind, rnd),
      expectation: poison ? 'dead-letter' : 'process',
      copies: copies[i],
    };
  });
}

/** Plans one scenario for one seed. */
export function plan(scenario: Scenario, seed: number): PlannedMessage[] {
  switch (scenario) {
    case 'duplicates':
      // 20 payments, 30 % delivered twice: in the same batch, later, or to two concurrent invocations.
      return payments(scenario, seed, 20, {}, ['same-batch', 'later', 'concurrent']);
    case 'crashes':
      // The process exits (or the handler throws) right after the commit, or fails before it.
      return payments(scenario, seed, 16, { 'crash-after-commit': 2, 'throw-after-commit': 3, 'fail-before-commit': 2 }, [
        'same-batch',
        'later',
      ]);
    case 'poison':
      return payments(scenario, seed, 16, { malformed: 3, invalid: 3 }, ['same-batch', 'later']);
    case 'fifo': {
      // 4 accounts (message groups) x 4 payments, in order; failures and crashes on first delivery.
      const rnd = prng(seed * 104729 + 5);
      const kinds = assignKinds(16, { 'fail-before-commit': 2, 'crash-after-commit': 1, 'throw-after-commit': 2 }, rnd);
      const copies = assignCopies(kinds, ['later'], rnd);
      return kinds.map((kind, i) => {
        const accountId = `fifo-s${seed}-a${i % 4}`;
        const id = `fifo-s${seed}-p${i}`;
        const amountCents = 1 + Math.floor(rnd() * 10_000);
        return {
          id,
          scenario,
          seed,
          kind,
          accountId,
          amountCents,
          body: paymentBody(id, accountId, amountCents, kind, rnd),
          expectation: 'process',
          copies: copies[i],
        };
      });
    }
    case 'lock': {
      const rnd = prng(seed * 15485863 + 11);
      const kinds = assignKinds(16, { 'fail-before-publish': 2, 'crash-after-complete': 2, malformed: 2, invalid: 2 }, rnd);
      const copies = assignCopies(kinds, ['same-batch', 'later'], rnd);
      return kinds.map((kind, i) => {
        const id = `lock-s${seed}-o${i}`;
        let body: string;
        if (kind === 'malformed') body = `{"orderId": "${id}", "status": "pa`;
        else if (kind === 'invalid') body = JSON.stringify({ orderId: id, status: 'lost' });
        else body = JSON.stringify({ orderId: id, status: 'paid', ...(kind === 'healthy' ? {} : { fault: kind }) });
        const poison = kind === 'malformed' || kind === 'invalid';
        return { id, scenario, seed, kind, body, expectation: poison ? 'dead-letter' : 'process', copies: copies[i] };
      });
    }
  }
}

/** The seeds of this run: LEDGER_SEEDS of them (default 3), from LEDGER_SEED (default 1). */
export function seeds(): number[] {
  const count = Number(process.env.LEDGER_SEEDS ?? '3');
  const first = Number(process.env.LEDGER_SEED ?? '1');
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(first)) {
    throw new Error(
      `LEDGER_SEEDS must be a positive integer and LEDGER_SEED an integer (given ${process.env.LEDGER_SEEDS}, ${process.env.LEDGER_SEED})`,
    );
  }
  return Array.from({ length: count }, (_, i) => first + i);
}
