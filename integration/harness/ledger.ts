/**
 * The reliability ledger: every message sent is accounted for — processed exactly once, or in a
 * dead-letter queue with its reason. Anything else (lost, processed twice, dead-lettered although
 * healthy) is a failure the test reports in full.
 */
export type Expectation = 'process' | 'dead-letter';

export interface LedgerTotals {
  sent: number;
  appliedOnce: number;
  inDlq: number;
  lost: number;
  appliedTwice: number;
  unexpected: number;
}

export class Ledger {
  private readonly expected = new Map<string, Expectation>();
  private readonly applied = new Map<string, number>();
  private readonly deadLettered = new Map<string, string>();

  /** Records a message sent, and what should become of it. */
  public sent(id: string, expectation: Expectation): void {
    if (this.expected.has(id)) throw new Error(`ledger: ${id} sent twice`);
    this.expected.set(id, expectation);
  }

  /** Records one application of a message's effect. */
  public appliedEffect(id: string): void {
    this.applied.set(id, (this.applied.get(id) ?? 0) + 1);
  }

  /** Records a message found in a dead-letter queue, with the reason recorded for it. */
  public inDeadLetterQueue(id: string, reason = 'unknown'): void {
    this.deadLettered.set(id, reason);
  }

  /** How many distinct messages had their effect applied (at least once). */
  public get appliedCount(): number {
    return this.applied.size; // appliedEffect is the only writer, and it never stores 0
  }

  /** Whether every message has reached its expected end (processed, or dead-lettered). */
  public get settled(): boolean {
    for (const [id, e] of this.expected) {
      if (e === 'process' && !this.applied.has(id)) return false;
      if (e === 'dead-letter' && !this.deadLettered.has(id)) return false;
    }
    return true;
  }

  public totals(): LedgerTotals {
    let appliedOnce = 0;
    let inDlq = 0;
    let lost = 0;
    let appliedTwice = 0;
    let unexpected = 0;
    for (const [id, expectation] of this.expected) {
      const n = this.applied.get(id) ?? 0;
      const dl = this.deadLettered.has(id);
      if (n > 1) appliedTwice += 1;
      if (n === 1 && !dl) appliedOnce += 1;
      if (dl && n === 0) inDlq += 1;
      if (n === 0 && !dl) lost += 1;
      if ((expectation === 'process' && dl) || (expectation === 'dead-letter' && n > 0)) unexpected += 1;
    }
    for (const id of [...this.applied.keys(), ...this.deadLettered.keys()]) if (!this.expected.has(id)) unexpected += 1;
    return { sent: this.expected.size, appliedOnce, inDlq, lost, appliedTwice, unexpected };
  }

  /** Problems, one line per message, for a readable failure. */
  public problems(): string[] {
    const out: string[] = [];
    for (const [id, expectation] of this.expected) {
      const n = this.applied.get(id) ?? 0;
      const dl = this.deadLettered.get(id);
      if (n > 1) out.push(`${id}: applied ${n} times`);
      if (n === 0 && dl === undefined) out.push(`${id}: lost (expected ${expectation})`);
      if (expectation === 'process' && dl !== undefined) out.push(`${id}: dead-lettered although healthy (${dl})`);
      if (expectation === 'dead-letter' && n > 0) out.push(`${id}: applied although poison`);
    }
    return out;
  }

  /** One line for the test report. */
  public report(name: string): string {
    const t = this.totals();
    return `ledger ${name}: sent ${t.sent}, applied once ${t.appliedOnce}, in DLQ ${t.inDlq}, lost ${t.lost}, applied twice ${t.appliedTwice}, unexpected ${t.unexpected}`;
  }
}
