/**
 * How stale what this process keeps may be after another connection's commit (an admin command
 * on the same SQLite file). Asking SQLite costs a read transaction (several system calls), which
 * per request was a tenth of a cached read.
 */
export const EXTERNAL_CHECK_MS = 1;

/** Milliseconds from an arbitrary origin, never going back (`performance.now` in production). */
export type MonotonicClock = () => number;

/** What a cache of this process watches to learn that another connection committed. */
export interface DataVersionWatch {
  /** The store's data version: it changes whenever another connection commits. */
  readonly version: () => number;
  /** Asked before the version, which is read at most every EXTERNAL_CHECK_MS. */
  readonly now: MonotonicClock;
}

/**
 * Notices commits made by other connections through the store's data version: every time it is
 * asked, or with a clock, at most every EXTERNAL_CHECK_MS. For what this process keeps in memory
 * between requests (cached answers, principals, pipelines): it must go when someone else changed
 * the data.
 */
export class ExternalChanges {
  private seen: number;
  private checkedAt: number;

  constructor(
    private readonly version: () => number,
    private readonly now?: MonotonicClock,
  ) {
    this.seen = version();
    this.checkedAt = now?.() ?? 0;
  }

  static throttled(watch: DataVersionWatch): ExternalChanges {
    return new ExternalChanges(watch.version, watch.now);
  }

  /** True once for each change seen: another connection committed since the last one. */
  changed(): boolean {
    if (this.now !== undefined) {
      const now = this.now();
      if (now - this.checkedAt < EXTERNAL_CHECK_MS) return false;
      this.checkedAt = now;
    }
    const version = this.version();
    if (version === this.seen) return false;
    this.seen = version;
    return true;
  }
}

/**
 * Commits of other processes, as they happen (PostgreSQL's LISTEN/NOTIFY): a portal id, or
 * undefined for "anything may have changed" (the feed was down, or a change was not about one
 * portal). While the feed is not live, changes may go unseen: nothing may be served from memory.
 */
export interface ChangeFeed {
  /** Whether changes are being heard right now. */
  live(): boolean;
  /** Calls `listener` for each change heard; returns the unsubscribe function. */
  subscribe(listener: (portalId: number | undefined) => void): () => void;
}
