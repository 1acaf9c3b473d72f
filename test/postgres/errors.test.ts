// How the PostgreSQL store tells an outage from a bad request: only the driver's and the socket's
// errors, by code, are "the database is not reachable" (503). A pipeline called "timeout" is not an
// outage, and a refused write rolls back and hands its connection back. An import with more audit
// entries than PostgreSQL takes parameters in one statement goes through.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { exportData, importData } from '../../src/app/transfer.js';
import { loadConfig } from '../../src/config.js';
import { DomainError } from '../../src/domain/errors.js';
import { createStageline } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import { isUnavailable } from '../../src/storage/postgres/postgres-store.js';
import { freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isUnavailable', () => {
  it('counts the driver’s and the socket’s errors by code', () => {
    for (const err of [
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is in recovery mode', '57P03'),
      withCode('could not extend file "base/16385/16413": No space left on device', '53100'),
      withCode('sorry, too many clients already', '53300'),
      withCode('canceling statement due to statement timeout', '57014'),
      withCode('connection failure', '08006'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
    ]) {
      assert.equal(isUnavailable(err), true, err.message);
    }
  });

  it('never counts a message alone, nor Stageline’s own errors', () => {
    for (const err of [
      new DomainError('OBJECT_NOT_FOUND', 'Unable to find pipeline timeout for object type deals'),
      new DomainError('VALIDATION_ERROR', 'An active pipeline with label Timeout already exists.'),
      new Error('the export timeout setting is wrong'),
      withCode('duplicate key value violates unique constraint', '23505'),
      'Connection terminated',
      undefined,
    ]) {
      assert.equal(isUnavailable(err), false, String(err));
    }
  });
});

describe('PostgreSQL errors over HTTP', { skip }, () => {
  let s: Stageline;
  const url = skip === undefined ? freshPostgresUrl() : '';
  const call = (method: 'GET' | 'POST', path: string, payload?: object) =>
    s.app.inject({ method, url: path, headers: { authorization: 'Bearer errors-portal' }, payload });
  const pipeline = (label: string) => ({
    label,
    displayOrder: 1,
    stages: [{ label: 'Open', displayOrder: 0, metadata: { probability: 0.5 } }],
  });

  before(async () => {
    // One connection: a refused write that kept its transaction open would block the next one.
    s = await createStageline(
      loadConfig({ database: url, auth: 'open', logLevel: 'silent', poolSize: 1 }, {}),
    );
  });
  after(() => s?.close());

  it('GET of a pipeline called "timeout" is a 404, not a 503', async () => {
    const res = await call('GET', '/crm/v3/pipelines/deals/timeout');
    assert.equal(res.statusCode, 404, res.body);
    assert.equal(res.json<{ category: string }>().category, 'OBJECT_NOT_FOUND');
  });

  it('a second pipeline labelled "Timeout" is a 400; the refused write rolled back', async () => {
    assert.equal((await call('POST', '/crm/v3/pipelines/deals', pipeline('Timeout'))).statusCode, 201);
    const again = await call('POST', '/crm/v3/pipelines/deals', pipeline('Timeout'));
    assert.equal(again.statusCode, 400, again.body);
    assert.match(again.json<{ message: string }>().message, /Timeout already exists/);
    // The single connection came back usable, outside any transaction: on an aborted one left
    // open, this write would fail.
    assert.equal((await call('POST', '/crm/v3/pipelines/deals', pipeline('After'))).statusCode, 201);
  });

  it('imports a portal with more audit entries than one statement takes parameters', async () => {
    const doc = await exportData(s.store);
    const portal = doc.portals[0]!;
    const entries = 10_000;
    const template = portal.audit[0]!;
    const big = {
      ...doc,
      portals: [
        {
          ...portal,
          id: portal.id + 1,
          tokens: [],
          audit: Array.from({ length: entries }, (_, i) => ({
            ...template,
            portalId: portal.id + 1,
            timestamp: i,
          })),
        },
      ],
    };
    const target = await createStageline(
      loadConfig({ database: freshPostgresUrl(), auth: 'open', logLevel: 'silent' }, {}),
    );
    try {
      const result = await importData(target.store, big);
      assert.equal(result.audit, entries);
      const back = await exportData(target.store, portal.id + 1);
      assert.equal(back.portals[0]!.audit.length, entries);
      assert.deepEqual(
        back.portals[0]!.audit.slice(0, 3).map((e) => e.timestamp),
        [0, 1, 2],
      );
    } finally {
      await target.close();
    }
  });
});
