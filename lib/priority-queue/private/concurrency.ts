/**
 * Splits a total concurrency between priority levels in proportion to their weights, with a floor
 * per level (water-filling: a level whose proportional share is below its floor gets its floor, and
 * the rest is shared among the others by weight). Integer results, summing exactly to `total`;
 * rounding remainders go to the largest fractions, higher levels first on ties.
 *
 * Precondition: the floors sum to at most `total`, and weights are positive.
 *
 * @param total the concurrency to share
 * @param weights one per level, highest priority first
 * @param floors one per level, integers
 */
export function allocateConcurrency(total: number, weights: readonly number[], floors: readonly number[]): number[] {
  const n = weights.length;
  const pinned = new Set<number>();
  for (;;) {
    const free = total - [...pinned].reduce((s, i) => s + floors[i], 0);
    const freeWeight = weights.reduce((s, w, i) => (pinned.has(i) ? s : s + w), 0);
    let changed = false;
    for (let i = 0; i < n; i++) {
      if (!pinned.has(i) && (free * weights[i]) / freeWeight < floors[i]) {
        pinned.add(i);
        changed = true;
      }
    }
    if (!changed || pinned.size === n) break;
  }

  const caps = floors.map((f, i) => (pinned.has(i) ? f : 0));
  const open = [...Array(n).keys()].filter((i) => !pinned.has(i));
  if (open.length === 0) return caps;
  const free = total - caps.reduce((s, c) => s + c, 0);
  const freeWeight = open.reduce((s, i) => s + weights[i], 0);
  const exact = new Map(open.map((i) => [i, (free * weights[i]) / freeWeight]));
  for (const i of open) caps[i] = Math.floor(exact.get(i)!);
  let left = free - open.reduce((s, i) => s + caps[i], 0);
  const byFraction = [...open].sort(
    (a, b) => exact.get(b)! - Math.floor(exact.get(b)!) - (exact.get(a)! - Math.floor(exact.get(a)!)) || a - b,
  );
  for (const i of byFraction) {
    if (left <= 0) break;
    caps[i] += 1;
    left -= 1;
  }
  return caps;
}
