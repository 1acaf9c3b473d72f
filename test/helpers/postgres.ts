// PostgreSQL for tests: a throwaway schema per store or server, dropped at the end of the file.
// Outside CI an unreachable server skips the PostgreSQL tests with a printed reason; in CI
// (CI=true) it is a failure, since CI starts PostgreSQL itself.

import { randomBytes } from 'node:crypto';
import { after } from 'node:test';

import pg from 'pg';

export const POSTGRES_URL =
  process.env.STAGELINE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probe: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers; otherwise why the PostgreSQL tests are skipped. */
export function postgresSkipReason(): Promise<string | undefined> {
  probe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (err) {
      const reason = `PostgreSQL not reachable at ${POSTGRES_URL} (${(err as Error).message}); set STAGELINE_TEST_POSTGRES_URL`;
      if (process.env.CI === 'true') throw new Error(`${reason}. In CI PostgreSQL is required.`);
      console.log(`# skipping PostgreSQL tests: ${reason}`);
      return reason;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probe;
}

const schemas: string[] = [];
// Registered when this module is first imported, so at the test file's root: the schemas a
// file made are dropped once all of its tests are done, whoever asked for them.
after(dropTestSchemas);

/** A database URL pointing at a new, empty schema; the schema is dropped after the test file. */
export function freshPostgresUrl(): string {
  const schema = `stageline_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

async function dropTestSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
