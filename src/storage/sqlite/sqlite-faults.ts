import { StorageUnavailableError } from '../../domain/ports.js';
import type { StorageFault } from '../../domain/storage-faults.js';

/** SQLite's primary result codes that mean the storage, not the request, failed. */
const FAULTS: Readonly<Record<string, StorageFault>> = {
  SQLITE_FULL: 'full',
  SQLITE_IOERR: 'io',
  SQLITE_READONLY: 'read-only',
  SQLITE_BUSY: 'busy',
  SQLITE_LOCKED: 'busy',
};

/**
 * The cause of a better-sqlite3 error, by its code: the primary code of extended ones
 * (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED, SQLITE_BUSY_SNAPSHOT…) decides. Undefined for
 * anything else (a constraint, a bug of ours), which stays what it is.
 */
export function sqliteFault(err: unknown): StorageFault | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0];
  return primary === undefined ? undefined : FAULTS[primary];
}

/** A storage fault as a StorageUnavailableError carrying it; any other error as it is. */
export function asStorageError(err: unknown): unknown {
  if (err instanceof StorageUnavailableError) return err;
  const fault = sqliteFault(err);
  if (fault === undefined) return err;
  return new StorageUnavailableError(`SQLite: ${(err as Error).message}`, { cause: err, fault });
}
