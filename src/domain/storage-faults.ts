/**
 * Why storage refused a request, independent of the backend. Each adapter classifies its
 * driver's errors into these causes (by error code, never by message text); the HTTP layer
 * answers each with a 503 naming it, and the storage health logs each once per episode.
 */
export type StorageFault =
  /** No space left (SQLITE_FULL; PostgreSQL 53100). */
  | 'full'
  /** The device failed a read or write (SQLITE_IOERR and its extended codes). */
  | 'io'
  /** The database refuses writes (SQLITE_READONLY*; PostgreSQL 25006, a hot standby). */
  | 'read-only'
  /** Another writer held a lock past the timeout (SQLITE_BUSY, SQLITE_LOCKED; PostgreSQL 55P03). */
  | 'busy'
  /** PostgreSQL has no connection slot left (53300). */
  | 'too-many-connections'
  /** PostgreSQL is starting, shutting down or recovering from a crash (57P03). */
  | 'recovering'
  /** The database cannot be reached or dropped the connection (class 08, 57P01, 57P02, sockets). */
  | 'unreachable'
  /** The database did not answer in time (57014, connect and query timeouts). */
  | 'timeout'
  /** A write could not be made durable (a failed sync): nothing is served until a restart. */
  | 'not-durable';

export interface StorageFaultInfo {
  /** The answer's message: what happened and what became of the request. */
  readonly message: string;
  /** What `/health` and the log say while the fault lasts. */
  readonly reason: string;
  /** The `Retry-After` header, in seconds. */
  readonly retryAfterSeconds: number;
  /**
   * What ends an episode of the fault: only a write that succeeds (the database answers reads
   * meanwhile), or any operation that reaches the database.
   */
  readonly endedBy: 'write' | 'any';
}

export const STORAGE_FAULTS: Readonly<Record<StorageFault, StorageFaultInfo>> = {
  full: {
    message: 'Storage is full: the write was not saved',
    reason: 'storage is full: writes are not saved',
    retryAfterSeconds: 5,
    endedBy: 'write',
  },
  io: {
    message: 'Storage reported an I/O error: nothing was saved',
    reason: 'storage reports I/O errors',
    retryAfterSeconds: 5,
    endedBy: 'write',
  },
  'read-only': {
    message: 'Storage is read-only: the write was not saved',
    reason: 'storage is read-only: writes are not saved',
    retryAfterSeconds: 5,
    endedBy: 'write',
  },
  busy: {
    message: 'The database is locked by another writer: nothing was saved; retry shortly',
    reason: 'the database stays locked by another writer',
    retryAfterSeconds: 1,
    endedBy: 'write',
  },
  'too-many-connections': {
    message: 'The database has no free connection: retry shortly',
    reason: 'the database has no free connection',
    retryAfterSeconds: 1,
    endedBy: 'any',
  },
  recovering: {
    message: 'The database is starting up or recovering: retry shortly',
    reason: 'the database is starting up or recovering',
    retryAfterSeconds: 1,
    endedBy: 'any',
  },
  unreachable: {
    message: 'The database is temporarily unavailable: retry shortly',
    reason: 'the database is not reachable',
    retryAfterSeconds: 1,
    endedBy: 'any',
  },
  timeout: {
    message: 'The database did not answer in time: retry shortly',
    reason: 'the database does not answer in time',
    retryAfterSeconds: 1,
    endedBy: 'any',
  },
  'not-durable': {
    message: 'The database could not make a write durable: the server must be restarted',
    reason: 'a write could not be made durable: restart the server',
    retryAfterSeconds: 5,
    endedBy: 'write',
  },
};
