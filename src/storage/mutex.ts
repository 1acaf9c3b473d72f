/**
 * A FIFO lock for a single connection. SQLite work is synchronous, but the repository
 * contract is async, so without this two requests' transactions could interleave on the
 * one connection.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
