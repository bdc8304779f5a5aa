/**
 * Runs tasks with the same key one after the other inside this process (tasks with different keys
 * run concurrently). Two copies of a message in one batch then meet a completed record instead of
 * a held lock, and the second is acknowledged as a duplicate rather than failed and retried.
 */
export class KeyQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  public run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with queued or running tasks. */
  public get pending(): number {
    return this.tails.size;
  }
}
