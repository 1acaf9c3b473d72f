/**
 * How stale what this process keeps may be after another connection's commit (an admin command
 * on the same SQLite file). Asking SQLite costs a read transaction (several system calls), which
 * per request was a tenth of a cached read.
 */
export const EXTERNAL_CHECK_MS = 1;

/**
 * Notices commits made by other connections through the store's data version, asking the
 * store at most every `everyMs` (0: every time). For what this process keeps in memory between
 * requests (cached answers, principals, pipelines): it must go when someone else changed the data.
 */
export class ExternalChanges {
  private seen: number;
  private checkedAt = performance.now();

  constructor(
    private readonly version: () => number,
    private readonly everyMs = EXTERNAL_CHECK_MS,
  ) {
    this.seen = version();
  }

  /** True once for each change seen: another connection committed since the last one. */
  changed(): boolean {
    const now = performance.now();
    if (now - this.checkedAt < this.everyMs) return false;
    this.checkedAt = now;
    const version = this.version();
    if (version === this.seen) return false;
    this.seen = version;
    return true;
  }
}
