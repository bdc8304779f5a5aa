/** The properties every publish must keep, checked against what the fake service stored. */
import type { PublishResult } from '../../../../lambda/runtime/publish/result';

export interface InputEntry {
  readonly id: string;
  readonly key?: string;
}

/** Ids of each key, in input order. */
export function idsByKey(input: readonly InputEntry[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const e of input) if (e.key !== undefined) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e.id]);
  return byKey;
}

/**
 * Nothing lost (every entry published or failed, never both), published = what the service stored
 * (once each), every failure has a reason, and per key the stored sequence is a prefix of the input.
 */
export function expectPublishInvariants(
  input: readonly InputEntry[],
  result: PublishResult,
  stored: ReadonlyArray<{ readonly id: string; readonly key?: string }>,
): void {
  const published = result.published.map((p) => p.id);
  const failed = result.failed.map((f) => f.id);
  expect(new Set([...published, ...failed]).size).toBe(input.length);
  expect(published.length + failed.length).toBe(input.length);
  expect([...published].sort()).toEqual(stored.map((s) => s.id).sort());

  const position = new Map(input.map((e, i) => [e.id, i]));
  const keyOf = new Map(input.map((e) => [e.id, e.key]));
  for (const f of result.failed) {
    expect(f.errorCode).toMatch(/\S/);
    expect(typeof f.errorMessage).toBe('string');
    expect(f.attempts).toBeGreaterThanOrEqual(0);
    if (f.errorCode === 'HeldBack') {
      expect(f.errorMessage).toBe(`held back behind ${f.heldBackBehind}`);
      expect(keyOf.get(f.heldBackBehind!)).toBe(keyOf.get(f.id));
      expect(position.get(f.heldBackBehind!)!).toBeLessThan(position.get(f.id)!);
      expect(failed).toContain(f.heldBackBehind);
    }
  }

  for (const [key, ids] of idsByKey(input)) {
    const storedIds = stored.filter((s) => s.key === key).map((s) => s.id);
    expect(storedIds).toEqual(ids.slice(0, storedIds.length));
  }
}
