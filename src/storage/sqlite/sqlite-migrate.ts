import type Database from 'better-sqlite3';
import { loadMigrations } from '../migrations.js';

/**
 * Applies the migrations not yet applied, each in its own write transaction. Safe when several
 * processes open one new file together: whether a migration is applied is decided under the
 * write lock that applies it, so a second opener waits for the first and then skips it.
 */
export function migrate(db: Database.Database): void {
  // An autocommit write: it waits for the write lock, and if another connection created the
  // table meanwhile SQLite prepares it again and it does nothing.
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of loadMigrations('sqlite')) {
    // A migration once applied stays applied: skipping it needs no lock, so opening a database
    // that is up to date takes no write lock.
    if (isApplied.get(m.version) !== undefined) continue;
    db.transaction(() => {
      if (isApplied.get(m.version) !== undefined) return; // applied by another connection meanwhile
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }).immediate();
  }
}
