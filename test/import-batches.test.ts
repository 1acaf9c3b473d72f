// `stageline import` of a large export: 50,000 audit entries and 5,000 records go in
// IMPORT_BATCH rows per statement, each batch reported once applied, and a re-export gives back
// the same document, on SQLite and on PostgreSQL. The command prints a line per batch on stderr.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { IMPORT_BATCH, exportData, importData } from '../src/app/transfer.js';
import type { ExportDocument, ImportProgress } from '../src/app/transfer.js';
import { DEFAULTS, loadConfig } from '../src/config.js';
import { createStageline, openStore } from '../src/stageline.js';
import { spawnCli } from './helpers/cli-process.js';
import { freshPostgresUrl, postgresSkipReason } from './helpers/postgres.js';

const AUDIT_ENTRIES = 50_000;
const RECORDS = 5_000;

const dir = mkdtempSync(join(tmpdir(), 'stageline-import-batches-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An export of one portal, made through the API on SQLite, then grown to the sizes above. */
async function largeExport(): Promise<ExportDocument> {
  const s = await createStageline(
    loadConfig({ database: join(dir, 'source.db'), auth: 'open', logLevel: 'silent' }, {}),
  );
  let doc: ExportDocument;
  try {
    const headers = { authorization: 'Bearer import-batches' };
    const created = await s.app.inject({
      method: 'POST',
      url: '/crm/v3/pipelines/deals',
      headers,
      payload: {
        label: 'Big',
        displayOrder: 1,
        stages: [{ label: 'Open', displayOrder: 0, metadata: { probability: '0.2' } }],
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const deal = await s.app.inject({
      method: 'POST',
      url: '/crm/v3/objects/deals',
      headers,
      payload: { properties: { dealname: 'Template' } },
    });
    assert.equal(deal.statusCode, 201, deal.body);
    doc = await exportData(s.store);
  } finally {
    await s.close();
  }
  const portal = doc.portals[0]!;
  const [auditTemplate] = portal.audit;
  const [recordTemplate] = portal.records;
  assert.ok(auditTemplate !== undefined && recordTemplate !== undefined);
  const firstId = portal.nextId;
  return {
    ...doc,
    portals: [
      {
        ...portal,
        nextId: firstId + RECORDS,
        records: [
          ...portal.records,
          ...Array.from({ length: RECORDS }, (_, i) => ({
            objectTypeKey: recordTemplate.objectTypeKey,
            record: {
              ...recordTemplate.record,
              id: String(firstId + i),
              properties: { ...recordTemplate.record.properties, dealname: `Deal ${i}` },
            },
          })),
        ],
        audit: [
          ...portal.audit,
          ...Array.from({ length: AUDIT_ENTRIES - portal.audit.length }, (_, i) => ({
            ...auditTemplate,
            rawObject: JSON.stringify({ entry: i }),
            timestamp: auditTemplate.timestamp + i,
          })),
        ],
      },
    ],
  };
}

/** Imports into the store at `database`, checks the batches reported and the re-export. */
async function importAndCompare(database: string, doc: ExportDocument): Promise<void> {
  const store = await openStore(database, DEFAULTS);
  try {
    const progress: ImportProgress[] = [];
    const counts = await importData(store, doc, (p) => progress.push(p));
    const portal = doc.portals[0]!;
    assert.deepEqual(counts, {
      portals: 1,
      pipelines: portal.pipelines.length,
      records: RECORDS + 1,
      audit: AUDIT_ENTRIES,
    });
    const audit = progress.filter((p) => p.kind === 'audit');
    assert.equal(audit.length, Math.ceil(AUDIT_ENTRIES / IMPORT_BATCH));
    assert.ok(audit.every((p, i) => p.done === Math.min((i + 1) * IMPORT_BATCH, AUDIT_ENTRIES)));
    assert.ok(audit.every((p) => p.total === AUDIT_ENTRIES && p.portalId === portal.id));
    assert.equal(progress.filter((p) => p.kind === 'records').at(-1)?.done, RECORDS + 1);

    const back = await exportData(store);
    assert.equal(back.portals[0]!.audit.length, AUDIT_ENTRIES);
    assert.equal(back.portals[0]!.records.length, RECORDS + 1);
    assert.deepEqual({ ...back, exportedAt: doc.exportedAt }, doc);
  } finally {
    await store.close();
  }
}

/** Made once, for every test of the file. */
const exported = largeExport();

describe('importing 50,000 audit entries in batches', () => {
  let doc: ExportDocument;
  before(async () => {
    doc = await exported;
  });

  it('into SQLite: the counts and a re-export match the document', async () => {
    await importAndCompare(join(dir, 'target.db'), doc);
  });

  it('into PostgreSQL: the counts and a re-export match the document', async (t) => {
    const skip = await postgresSkipReason();
    if (skip !== undefined) return t.skip(skip);
    await importAndCompare(freshPostgresUrl(), doc);
  });
});

/** The output of a finished child process. */
function output(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('stageline import', () => {
  it('prints a line per batch on stderr and the totals on stdout', async () => {
    const doc = await exported;
    const portal = doc.portals[0]!;
    const audit = IMPORT_BATCH + 500;
    const file = join(dir, 'small.json');
    writeFileSync(
      file,
      JSON.stringify({ ...doc, portals: [{ ...portal, records: [], audit: portal.audit.slice(0, audit) }] }),
    );
    const r = await output(spawnCli(['import', file, '--database', join(dir, 'cli.db')]));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Imported 1 portal\(s\): \d+ pipelines, 0 records, 2500 audit entries\.\n$/);
    assert.match(r.stderr, new RegExp(`^Portal ${portal.id}: audit ${IMPORT_BATCH} of ${audit}$`, 'm'));
    assert.match(r.stderr, new RegExp(`^Portal ${portal.id}: audit ${audit} of ${audit}$`, 'm'));
  });
});
