#!/usr/bin/env node
// Runs the HTTP, end-to-end and fuzz suites a second time with PostgreSQL as the storage backend
// (STAGELINE_TEST_BACKEND=postgres). Outside CI an unreachable PostgreSQL skips the run with a
// printed reason; in CI (CI=true) it fails, since .ci/run starts PostgreSQL.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

import pg from 'pg';

const url = process.env.STAGELINE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
try {
  await client.connect();
  await client.end();
} catch (err) {
  const reason = `PostgreSQL not reachable at ${url} (${err.message})`;
  if (process.env.CI === 'true') {
    console.error(`test:pg: ${reason}; CI requires it.`);
    process.exit(1);
  }
  console.log(`test:pg: skipped, ${reason}. Set STAGELINE_TEST_POSTGRES_URL to run it.`);
  process.exit(0);
}

const files = ['test/http', 'test/e2e', 'test/fuzz'].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f}`),
);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, STAGELINE_TEST_BACKEND: 'postgres' },
});
process.exit(run.status ?? 1);
