// Moving between backends: a SQLite database exported and imported into PostgreSQL keeps ids,
// order, timestamps, records and the audit trail, and serves the same answers. Through the CLI,
// in the line format: SQLite to PostgreSQL and back re-exports the same lines, and a file cut
// short is refused with nothing loaded.

import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ImportError, exportData, importData, importFile } from '../../src/app/transfer.js';
import { DEFAULTS, loadConfig } from '../../src/config.js';
import { createStageline, openStore } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import { runCli } from '../helpers/cli-process.js';
import { freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'stageline-transfer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOKENS = ['transfer-portal-a', 'transfer-portal-b'];

async function call(s: Stageline, token: string, method: string, url: string, payload?: unknown) {
  const res = await s.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload !== undefined && { payload: payload as object }),
  });
  assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.statusCode === 204 ? undefined : (res.json() as Record<string, unknown>);
}

/** Pipelines, stages, records and a history of changes in two portals. */
async function populate(s: Stageline): Promise<void> {
  for (const token of TOKENS) {
    const created = (await call(s, token, 'POST', '/crm/v3/pipelines/deals', {
      label: `Enterprise ${token}`,
      displayOrder: 3,
      stages: [
        { label: 'Lead', displayOrder: 0, metadata: { probability: 0.1 } },
        { label: 'Won', displayOrder: 1, metadata: { probability: 1 } },
      ],
    })) as { id: string; stages: { id: string }[] };
    const [lead, won] = created.stages;
    await call(s, token, 'PATCH', `/crm/v3/pipelines/deals/${created.id}`, { label: `Renamed ${token}` });
    await call(s, token, 'POST', `/crm/v3/pipelines/deals/${created.id}/stages`, {
      label: 'Lost',
      displayOrder: 2,
      metadata: { probability: 0 },
    });
    await call(s, token, 'DELETE', `/crm/v3/pipelines/deals/${created.id}/stages/${won!.id}`);
    await call(s, token, 'POST', '/crm/v3/pipelines/tickets', {
      label: 'Escalations',
      displayOrder: 1,
      stages: [{ label: 'Open', displayOrder: 0, metadata: { ticketState: 'CLOSED' } }],
    });
    const contact = (await call(s, token, 'POST', '/crm/v3/objects/contacts', {
      properties: { email: `${token}@example.com` },
    })) as { id: string };
    const deal = (await call(s, token, 'POST', '/crm/v3/objects/deals', {
      properties: { dealname: 'Acme', pipeline: created.id, dealstage: lead!.id },
      associations: [
        { to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] },
      ],
    })) as { id: string };
    await call(s, token, 'PATCH', `/crm/v3/objects/deals/${deal.id}`, { properties: { amount: '42' } });
    await call(s, token, 'DELETE', '/crm/v3/pipelines/tickets/0');
  }
}

/** What a client can observe of a portal. */
async function observe(s: Stageline, token: string) {
  const pipelines = (await call(s, token, 'GET', '/crm/v3/pipelines/deals')) as { results: { id: string }[] };
  const audits = [];
  for (const p of pipelines.results)
    audits.push(await call(s, token, 'GET', `/crm/v3/pipelines/deals/${p.id}/audit`));
  audits.push(await call(s, token, 'GET', '/crm/v3/pipelines/tickets/0/audit'));
  const records = await call(
    s,
    token,
    'GET',
    '/crm/v3/objects/deals?properties=dealname,amount,dealstage,pipeline&associations=contacts',
  );
  const tickets = await call(s, token, 'GET', '/crm/v3/pipelines/tickets');
  return { pipelines, audits, records, tickets };
}

describe('export from SQLite, import into PostgreSQL', { skip }, () => {
  it('preserves ids, order, records and audit', async () => {
    const sqliteConfig = loadConfig(
      { database: join(dir, 'source.db'), auth: 'open', logLevel: 'silent' },
      {},
    );
    const source = await createStageline(sqliteConfig);
    let before;
    let exported;
    try {
      await populate(source);
      before = await Promise.all(TOKENS.map((t) => observe(source, t)));
      // Each portal's deal reads back its contact, so the comparison below covers associations.
      assert.ok(before.every((b) => JSON.stringify(b.records).includes('"type":"deal_to_contact"')));
      exported = await exportData(source.store);
    } finally {
      await source.close();
    }
    assert.equal(exported.portals.length, 2);
    assert.ok(
      exported.portals.every(
        (p) =>
          p.audit.length > 5 &&
          p.records.length === 2 &&
          p.associations?.length === 2 &&
          p.tokens.length === 1,
      ),
    );

    const url = freshPostgresUrl();
    const target = await openStore(url, DEFAULTS);
    try {
      const counts = await importData(target, JSON.parse(JSON.stringify(exported)));
      assert.deepEqual(counts, {
        portals: 2,
        pipelines: exported.portals.reduce((n, p) => n + p.pipelines.length, 0),
        records: 4,
        audit: exported.portals.reduce((n, p) => n + p.audit.length, 0),
      });
      const reexported = await exportData(target);
      assert.deepEqual({ ...reexported, exportedAt: '' }, { ...exported, exportedAt: '' });
      await assert.rejects(importData(target, exported), /already exist/);
    } finally {
      await target.close();
    }

    const served = await createStageline(loadConfig({ database: url, auth: 'open', logLevel: 'silent' }, {}));
    try {
      const afterMove = await Promise.all(TOKENS.map((t) => observe(served, t)));
      assert.deepEqual(afterMove, before);
      // New ids continue the portal's sequence instead of reusing one.
      const fresh = (await call(served, TOKENS[0]!, 'POST', '/crm/v3/objects/deals', {
        properties: { dealname: 'After the move' },
      })) as { id: string };
      const ids = exported.portals[0]!.records.map((r) => Number(r.record.id));
      assert.ok(Number(fresh.id) > Math.max(...ids));
    } finally {
      await served.close();
    }
  });

  it('refuses a file that is not an export', async () => {
    const target = await openStore(freshPostgresUrl(), DEFAULTS);
    try {
      await assert.rejects(importData(target, { hello: 'world' }), /Not a Stageline export/);
      await assert.rejects(
        importData(target, { format: 'stageline-export', version: 99, portals: [] }),
        /Unsupported export version/,
      );
    } finally {
      await target.close();
    }
  });
});

/** A file's lines, the header's export time blanked. */
function linesOf(text: string): string[] {
  assert.ok(text.endsWith('\n'));
  const lines = text.slice(0, -1).split('\n');
  const header = JSON.parse(lines[0]!) as { format: string; version: number; exportedAt: string };
  assert.equal(header.format, 'stageline-export');
  assert.equal(header.version, 2);
  assert.ok(!Number.isNaN(Date.parse(header.exportedAt)));
  return [JSON.stringify({ ...header, exportedAt: '' }), ...lines.slice(1)];
}

describe('the CLI in the line format', { skip }, () => {
  /** `stageline export` of two populated SQLite portals. */
  const first = join(dir, 'first.jsonl');

  before(async () => {
    const database = join(dir, 'cli-source.db');
    const source = await createStageline(loadConfig({ database, auth: 'open', logLevel: 'silent' }, {}));
    try {
      await populate(source);
    } finally {
      await source.close();
    }
    const r = await runCli(['export', '--database', database, '-o', first]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Exported 2 portal\(s\), \d+ lines\.\n$/);
  });

  it('SQLite to PostgreSQL and back: each re-export has the same lines, but for the time', async () => {
    const exported = linesOf(readFileSync(first, 'utf8'));
    const end = JSON.parse(exported.at(-1)!) as { end: { portals: number; lines: number } };
    assert.deepEqual(end, { end: { portals: 2, lines: exported.length - 1 } });
    assert.equal(exported.filter((l) => l.startsWith('{"audit":')).length > 10, true);
    assert.equal(exported.filter((l) => l.startsWith('{"association":')).length, 4);

    const url = freshPostgresUrl();
    const imported = await runCli(['import', first, '--database', url]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(
      imported.stdout,
      /^Imported 2 portal\(s\): \d+ pipelines, 4 records, \d+ audit entries\.\n$/,
    );
    const second = join(dir, 'second.jsonl');
    const fromPostgres = await runCli(['export', '--database', url, '-o', second]);
    assert.equal(fromPostgres.code, 0, fromPostgres.stderr);
    assert.deepEqual(linesOf(readFileSync(second, 'utf8')), exported);

    const back = join(dir, 'back.db');
    const reimported = await runCli(['import', second, '--database', back]);
    assert.equal(reimported.code, 0, reimported.stderr);
    // To stdout this time.
    const fromSqlite = await runCli(['export', '--database', back]);
    assert.equal(fromSqlite.code, 0, fromSqlite.stderr);
    assert.deepEqual(linesOf(fromSqlite.stdout), exported);
  });

  it('refuses a file cut short, wherever it is cut, and loads nothing of it', async () => {
    const text = readFileSync(first, 'utf8');
    const lines = text.slice(0, -1).split('\n');
    const url = freshPostgresUrl();

    // Cut at a line's end: the end line is missing.
    const noEnd = join(dir, 'no-end.jsonl');
    writeFileSync(noEnd, `${lines.slice(0, -1).join('\n')}\n`);
    const r = await runCli(['import', noEnd, '--database', url]);
    assert.equal(r.code, 2, r.stderr);
    // The batches sent before the end was found are reported, then rolled back.
    assert.equal(
      r.stderr.split('\n').at(-2) + '\n',
      `stageline: The export ends at line ${lines.length - 1} without its end line: the file is truncated, nothing was imported\n`,
    );
    assert.equal(r.stdout, '');

    const target = await openStore(url, DEFAULTS);
    try {
      // Cut inside a line.
      const halfLine = join(dir, 'half-line.jsonl');
      const lastAudit = text.lastIndexOf('{"audit":');
      writeFileSync(halfLine, text.slice(0, lastAudit + 40));
      const auditLine = text.slice(0, lastAudit).split('\n').length;
      await assert.rejects(
        importFile(target, halfLine),
        (err: unknown) =>
          err instanceof ImportError &&
          err.message.startsWith(`Line ${auditLine} of the export is not JSON`) &&
          err.message.endsWith('the file is damaged or truncated, nothing was imported'),
      );
      // A portal's last audit line missing, its end line kept.
      const firstPortalEnd = lines.findIndex((l, i) => i > 1 && l.startsWith('{"portal":'));
      const lastAuditOfFirst =
        firstPortalEnd -
        1 -
        [...lines.slice(0, firstPortalEnd)].reverse().findIndex((l) => l.startsWith('{"audit":'));
      const gap = join(dir, 'gap.jsonl');
      writeFileSync(gap, `${lines.filter((_, i) => i !== lastAuditOfFirst).join('\n')}\n`);
      await assert.rejects(importFile(target, gap), (err: unknown) => {
        assert.ok(err instanceof ImportError);
        assert.match(
          err.message,
          /^Line \d+ of the export: portal \d+ declared \d+ audit but \d+ came before this line/,
        );
        return true;
      });
      assert.deepEqual(await target.read((repo) => repo.listPortals()), []);
      assert.equal(await target.read((repo) => repo.countTokens()), 0);
    } finally {
      await target.close();
    }
  });
});
