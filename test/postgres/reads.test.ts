// Reads on PostgreSQL: an API read is one statement, sent alone (no BEGIN, no COMMIT); a read of
// several statements runs in one REPEATABLE READ READ ONLY snapshot, so a commit landing between
// its statements is not seen by the later ones. An export starts in that snapshot and runs once.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import pg from 'pg';

import { exportData } from '../../src/app/transfer.js';
import { loadConfig } from '../../src/config.js';
import { createStageline } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import { POSTGRES_URL, freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';
import type { WireAudit, WireCollection, WirePipeline } from '../helpers/wire-types.js';

const skip = await postgresSkipReason();

/** The text of every statement any pg client of this process sends, while recording. */
const sent: string[] = [];
let recording = false;
const original = pg.Client.prototype.query;
function recordQueries(): void {
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const text = typeof first === 'string' ? first : (first.text ?? '');
    // The change feed's heartbeat is not a read.
    if (recording && text !== 'SELECT 1') sent.push(text.replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pg.Client.prototype.query;
}

describe('reads on PostgreSQL', { skip }, () => {
  const url = skip === undefined ? freshPostgresUrl() : '';
  let s: Stageline;
  let pipeline: WirePipeline;
  const headers = { authorization: 'Bearer reads-portal' };

  async function statementsOf(method: 'GET', path: string): Promise<string[]> {
    sent.length = 0;
    recording = true;
    try {
      const res = await s.app.inject({ method, url: path, headers });
      assert.equal(res.statusCode, 200, res.body);
    } finally {
      recording = false;
    }
    return [...sent];
  }

  before(async () => {
    recordQueries();
    s = await createStageline(loadConfig({ database: url, auth: 'open', logLevel: 'silent' }, {}));
    const created = await s.app.inject({
      method: 'POST',
      url: '/crm/v3/pipelines/deals',
      headers,
      payload: {
        label: 'Read',
        displayOrder: 0,
        stages: [{ label: 'A', displayOrder: 0, metadata: { probability: '0.1' } }],
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    pipeline = created.json<WirePipeline>();
  });
  after(async () => {
    pg.Client.prototype.query = original;
    await s?.close();
  });
  // A write empties the portal's cached answers: each test reads from the database.
  beforeEach(async () => {
    const res = await s.app.inject({
      method: 'PATCH',
      url: `/crm/v3/pipelines/deals/${pipeline.id}`,
      headers,
      payload: { displayOrder: 1 },
    });
    assert.equal(res.statusCode, 200, res.body);
  });

  for (const [name, path] of [
    ['list pipelines', () => '/crm/v3/pipelines/deals'],
    ['get pipeline', () => `/crm/v3/pipelines/deals/${pipeline.id}`],
    ['list stages', () => `/crm/v3/pipelines/deals/${pipeline.id}/stages`],
    ['get stage', () => `/crm/v3/pipelines/deals/${pipeline.id}/stages/${pipeline.stages[0]!.id}`],
    ['pipeline audit', () => `/crm/v3/pipelines/deals/${pipeline.id}/audit`],
    ['stage audit', () => `/crm/v3/pipelines/deals/${pipeline.id}/stages/${pipeline.stages[0]!.id}/audit`],
  ] as const) {
    it(`${name}: one statement, no transaction`, async () => {
      const statements = await statementsOf('GET', path());
      assert.equal(statements.length, 1, statements.join('\n'));
      assert.match(statements[0]!, /^SELECT /);
    });
  }

  it('audits: one statement still tells a missing pipeline or stage (404) from an empty audit', async () => {
    const missing = await s.app.inject({ method: 'GET', url: '/crm/v3/pipelines/deals/nope/audit', headers });
    assert.equal(missing.statusCode, 404, missing.body);
    const stageElsewhere = await s.app.inject({
      method: 'GET',
      url: `/crm/v3/pipelines/deals/default/stages/${pipeline.stages[0]!.id}/audit`,
      headers,
    });
    assert.equal(stageElsewhere.statusCode, 404, stageElsewhere.body);
    const audit = await s.app.inject({
      method: 'GET',
      url: `/crm/v3/pipelines/deals/${pipeline.id}/audit`,
      headers,
    });
    const actions = audit.json<WireCollection<WireAudit>>().results.map((e) => e.action);
    assert.equal(actions.at(-1), 'CREATE');
    assert.ok(actions.length >= 2, actions.join());
  });

  it('a read of several statements sees one snapshot', async () => {
    const schema = new URL(url).searchParams.get('schema')!;
    const other = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path="${schema}"` });
    await other.connect();
    try {
      const portalId = (await s.auth.authenticate('reads-portal'))!.portalId;
      let n = 0;
      const [first, second] = await s.store.read(async (repo) => {
        const a = await repo.getPipeline(portalId, '0-3', pipeline.id);
        // Another connection commits between the two statements.
        n += 1;
        await other.query('UPDATE pipelines SET label = $1 WHERE id = $2', [`Changed ${n}`, pipeline.id]);
        const b = await repo.getPipeline(portalId, '0-3', pipeline.id);
        return [a?.label, b?.label];
      });
      assert.equal(second, first, 'the second statement saw the same snapshot as the first');
      const now = await other.query<{ label: string }>('SELECT label FROM pipelines WHERE id = $1', [
        pipeline.id,
      ]);
      assert.notEqual(now.rows[0]!.label, first, 'the other connection did commit meanwhile');
    } finally {
      await other.end();
    }
  });

  it('an export runs in one REPEATABLE READ READ ONLY transaction, once, from its first statement', async () => {
    sent.length = 0;
    recording = true;
    try {
      const doc = await exportData(s.store);
      assert.equal(doc.portals.length, 1);
    } finally {
      recording = false;
    }
    const begin = sent.indexOf('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // Not tried outside the transaction first, as a read is: an export writes as it reads.
    assert.equal(begin, 0, sent.join('\n'));
    assert.equal(sent.filter((q) => q.startsWith('BEGIN')).length, 1, sent.join('\n'));
    assert.equal(sent.at(-1), 'COMMIT');
    assert.ok(sent.length - begin > 4, 'every statement of the export after the BEGIN');
  });
});
