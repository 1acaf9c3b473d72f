// Which storage the HTTP and end-to-end suites run on: SQLite in memory by default, a fresh
// PostgreSQL schema per server when STAGELINE_TEST_BACKEND=postgres (npm run test:pg).

import { freshPostgresUrl } from './postgres.js';

export const TEST_BACKEND: 'sqlite' | 'postgres' =
  process.env.STAGELINE_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

/** A database setting for one new server: empty, and its own. */
export const testDatabase = (): string => (TEST_BACKEND === 'postgres' ? freshPostgresUrl() : ':memory:');
