import { KeyQueue } from '../../../../lambda/runtime/idempotency/private/key-queue';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Class: KeyQueue', () => {
  it('runs tasks of one key one after the other, tasks of different keys concurrently, and forgets idle keys', async () => {
    const queue = new KeyQueue();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await tick(ms);
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run('k', task('k1', 20, true)),
      queue.run('k', task('k2', 1)),
      queue.run('j', task('j1', 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('start k2')).toBeGreaterThan(log.indexOf('end k1')); // a failure does not block the next task
    expect(log.indexOf('start j1')).toBeLessThan(log.indexOf('end k1'));
    await tick(1);
    expect(queue.pending).toBe(0);
  });
});
