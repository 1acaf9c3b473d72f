// The storage contract of src/domain/ports.ts, as one suite every adapter runs.
//
// Usage: runRepositoryContract('SqliteStore', () => new SqliteStore(':memory:')).
// `makeStore` is called once per test and must return an empty, migrated store; the suite closes
// it after the test. Nothing here depends on how an adapter stores rows or numbers its ids.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import type { RecordAssociation } from '../../src/domain/associations.js';
import type { AuditEntry, Pipeline, Stage } from '../../src/domain/model.js';
import type { Repository, Store, TokenRecord } from '../../src/domain/ports.js';
import type { CrmRecord } from '../../src/domain/records.js';
import { modelBuilders } from '../helpers/model-builders.js';

const P1 = 101;
const P2 = 202;
const DEALS = '0-3';
const TICKETS = '0-5';
const T0 = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z: a realistic ms timestamp

/** A live record of a type, with nothing but its id. */
const bare = (id: string, archivedAt: number | null = null): CrmRecord => ({
  id,
  properties: { hs_object_id: id },
  pipelineId: null,
  stageId: null,
  createdAt: T0,
  updatedAt: T0,
  archivedAt,
});
const link = (
  fromTypeKey: string,
  fromId: string,
  toTypeKey: string,
  toId: string,
  typeId: number,
): RecordAssociation => ({ fromTypeKey, fromId, toTypeKey, toId, category: 'HUBSPOT_DEFINED', typeId });

const build = modelBuilders(T0);
const { pipeline } = build;

function stage(id: string, label: string, overrides: Partial<Stage> = {}): Stage {
  return build.stage(id, label, 0, { isClosed: 'false', probability: '0.5' }, overrides);
}

const liveOnly = (p: Pipeline): Pipeline => ({ ...p, stages: p.stages.filter((s) => s.archivedAt === null) });

/** A deal pipeline with a live, a closed and an archived stage. */
function salesPipeline(id = 'sales', label = 'Sales'): Pipeline {
  return pipeline(
    id,
    label,
    [
      stage(`${id}-open`, 'Open', { displayOrder: 0, metadata: { isClosed: 'false', probability: '0.2' } }),
      stage(`${id}-won`, 'Won', {
        displayOrder: 1,
        metadata: { isClosed: 'true', probability: '1.0' },
        writePermissions: 'READ_ONLY',
        updatedAt: T0 + 5,
      }),
      stage(`${id}-old`, 'Old', { displayOrder: 2, archivedAt: T0 + 9, updatedAt: T0 + 9 }),
    ],
    { displayOrder: 3, updatedAt: T0 + 9 },
  );
}

function auditEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    portalId: P1,
    objectTypeKey: DEALS,
    kind: 'pipeline',
    objectId: 'sales',
    action: 'CREATE',
    message: 'User defined. pipeline created',
    rawObject: JSON.stringify({ id: 'sales', label: 'Sales' }),
    userId: 7,
    timestamp: T0,
    ...overrides,
  };
}

function token(id: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id,
    hash: `hash-of-${id}`.padEnd(64, '0'),
    portalId: P1,
    userId: 1,
    scopes: null,
    createdAt: T0,
    revokedAt: null,
    ...overrides,
  };
}

/** Stage order inside a pipeline is not part of the contract: compare by id. */
const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const canonical = (p: Pipeline | undefined): Pipeline | undefined =>
  p === undefined ? undefined : { ...p, stages: [...p.stages].sort(byId) };
const canonicalAll = (ps: Pipeline[]): Pipeline[] => ps.map((p) => canonical(p)!).sort(byId);

async function put(repo: Repository, portalId: number, typeKey: string, p: Pipeline): Promise<void> {
  await repo.savePipeline(portalId, typeKey, p);
  await repo.saveStages(portalId, typeKey, p.id, p.stages);
}

export function runRepositoryContract(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`Repository contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
    });

    /** Creates the portals and saves the pipelines in one committed write. */
    const seed = (portalId: number, typeKey: string, ...pipelines: Pipeline[]) =>
      store.write(async (repo) => {
        await repo.ensurePortal(portalId, T0);
        for (const p of pipelines) await put(repo, portalId, typeKey, p);
      });

    describe('store', () => {
      it('answers ping', async () => {
        await store.ping();
      });

      it('can be closed more than once (the afterEach closes it again)', async () => {
        await Promise.all([store.close(), store.close()]);
        await store.close();
      });

      it('returns what the callbacks of write and read return', async () => {
        assert.deepEqual(await store.write(async () => ({ answer: 42 })), { answer: 42 });
        assert.equal(await store.read(async () => 'read'), 'read');
      });

      it('rejects write and read with the error their callbacks throw', async () => {
        const boom = new Error('boom');
        await assert.rejects(
          store.write(async () => {
            throw boom;
          }),
          (err) => err === boom,
        );
        await assert.rejects(
          store.read(async () => {
            throw boom;
          }),
          (err) => err === boom,
        );
      });
    });

    describe('portals', () => {
      it('ensurePortal creates a portal once and reports whether it did', async () => {
        assert.equal(await store.read((repo) => repo.portalExists(P1)), false);
        assert.equal(await store.write((repo) => repo.ensurePortal(P1, T0)), true);
        assert.equal(await store.write((repo) => repo.ensurePortal(P1, T0 + 1)), false);
        assert.equal(
          await store.write(
            async (repo) => (await repo.ensurePortal(P2, T0)) && !(await repo.ensurePortal(P2, T0)),
          ),
          true,
        );
        assert.equal(await store.read((repo) => repo.portalExists(P1)), true);
        assert.equal(await store.read((repo) => repo.portalExists(P2)), true);
        assert.equal(await store.read((repo) => repo.portalExists(303)), false);
        assert.equal(await store.read((repo) => repo.countPortals()), 2);
      });
    });

    describe('allocateIds', () => {
      it('returns the number of distinct numeric ids asked for, never twice', async () => {
        await seed(P1, DEALS);
        const first = await store.write((repo) => repo.allocateIds(P1, 40));
        const second = await store.write((repo) => repo.allocateIds(P1, 40));
        const third = await store.write(async (repo) => [
          ...(await repo.allocateIds(P1, 1)),
          ...(await repo.allocateIds(P1, 1)),
        ]);
        assert.equal(first.length, 40);
        assert.equal(second.length, 40);
        const all = [...first, ...second, ...third];
        for (const id of all) assert.match(id, /^\d+$/);
        assert.equal(new Set(all).size, all.length);
        assert.deepEqual(await store.write((repo) => repo.allocateIds(P1, 0)), []);
      });

      it('skips ids that client-chosen pipeline and stage ids already use', async () => {
        await seed(P1, DEALS);
        const [probe] = await store.write((repo) => repo.allocateIds(P1, 1));
        assert.ok(probe !== undefined && /^\d+$/.test(probe));
        const n = Number(probe);
        const used = Array.from({ length: 8 }, (_, i) => String(n + 1 + i));
        const u = (i: number): string => used[i]!;
        await store.write(async (repo) => {
          await put(
            repo,
            P1,
            DEALS,
            pipeline(u(0), 'Numeric', [
              stage(u(1), 'A'),
              stage(u(2), 'B', { archivedAt: T0 }),
              stage(u(3), 'C'),
            ]),
          );
          await put(repo, P1, DEALS, pipeline(u(4), 'Archived', [stage(u(5), 'A')], { archivedAt: T0 }));
          // Other object types of the same portal count too: ids are unique within the portal.
          await put(repo, P1, TICKETS, pipeline(u(6), 'Tickets', [stage(u(7), 'Closed')]));
        });
        const fresh = await store.write((repo) => repo.allocateIds(P1, 12));
        assert.equal(fresh.length, 12);
        assert.equal(new Set(fresh).size, 12);
        for (const id of fresh) {
          assert.match(id, /^\d+$/);
          assert.ok(!used.includes(id), `allocated ${id}, already used by a client-chosen id`);
          assert.notEqual(id, probe);
        }
      });
    });

    describe('pipelines', () => {
      it('saves and gets a pipeline with all its stages, archived ones included', async () => {
        const sales = salesPipeline();
        await seed(P1, DEALS, sales);
        const got = await store.read((repo) => repo.getPipeline(P1, DEALS, 'sales'));
        assert.deepEqual(canonical(got), canonical(sales));
      });

      it('answers undefined for an unknown pipeline, or one of another type or portal', async () => {
        await seed(P1, DEALS, salesPipeline());
        await seed(P2, DEALS);
        await store.read(async (repo) => {
          assert.equal(await repo.getPipeline(P1, DEALS, 'nope'), undefined);
          assert.equal(await repo.getPipeline(P1, TICKETS, 'sales'), undefined);
          assert.equal(await repo.getPipeline(P2, DEALS, 'sales'), undefined);
        });
      });

      it('savePipeline writes the pipeline row only, never its stages', async () => {
        await store.write(async (repo) => {
          await repo.ensurePortal(P1, T0);
          await repo.savePipeline(P1, DEALS, salesPipeline());
        });
        const got = await store.read((repo) => repo.getPipeline(P1, DEALS, 'sales'));
        assert.deepEqual(got, { ...salesPipeline(), stages: [] });
      });

      it('lists the live pipelines of a type, each with its live stages', async () => {
        const a = salesPipeline('a', 'Alpha');
        const b = pipeline('b', 'Beta', [stage('b1', 'Only')], { displayOrder: 1 });
        const gone = pipeline('gone', 'Gone', [stage('g1', 'G')], { archivedAt: T0 + 1 });
        await seed(P1, DEALS, a, b, gone);
        await seed(P1, TICKETS, pipeline('t', 'Tickets', [stage('t1', 'Closed')]));
        const deals = await store.read((repo) => repo.listPipelines(P1, DEALS));
        assert.deepEqual(canonicalAll(deals), canonicalAll([liveOnly(a), b]));
        const tickets = await store.read((repo) => repo.listPipelines(P1, TICKETS));
        assert.deepEqual(
          tickets.map((p) => p.id),
          ['t'],
        );
        assert.deepEqual(await store.read((repo) => repo.listPipelines(P1, '2-5')), []);
      });

      it('gets an archived pipeline, with archivedAt', async () => {
        const gone = pipeline('gone', 'Gone', [stage('g1', 'G')], { archivedAt: T0 + 1, updatedAt: T0 + 1 });
        await seed(P1, DEALS, gone);
        assert.deepEqual(await store.read((repo) => repo.getPipeline(P1, DEALS, 'gone')), gone);
      });

      it('savePipeline updates an existing pipeline and keeps its stages', async () => {
        const sales = salesPipeline();
        await seed(P1, DEALS, sales);
        const changed = { ...sales, label: 'Renamed', displayOrder: 8, updatedAt: T0 + 100 };
        await store.write((repo) => repo.savePipeline(P1, DEALS, changed));
        assert.deepEqual(
          canonical(await store.read((repo) => repo.getPipeline(P1, DEALS, 'sales'))),
          canonical(changed),
        );

        const archived = { ...changed, archivedAt: T0 + 200, updatedAt: T0 + 200 };
        await store.write((repo) => repo.savePipeline(P1, DEALS, archived));
        assert.deepEqual(await store.read((repo) => repo.listPipelines(P1, DEALS)), []);
        assert.deepEqual(
          canonical(await store.read((repo) => repo.getPipeline(P1, DEALS, 'sales'))),
          canonical(archived),
        );

        const restored = { ...archived, archivedAt: null, updatedAt: T0 + 300 };
        await store.write((repo) => repo.savePipeline(P1, DEALS, restored));
        assert.deepEqual(canonicalAll(await store.read((repo) => repo.listPipelines(P1, DEALS))), [
          canonical(liveOnly(restored)),
        ]);
      });

      it('gets a pipeline with its live stages only when asked', async () => {
        const sales = salesPipeline();
        assert.ok(
          sales.stages.some((s) => s.archivedAt !== null),
          'the fixture has an archived stage',
        );
        await seed(P1, DEALS, sales);
        const live = await store.read((repo) =>
          repo.getPipeline(P1, DEALS, 'sales', { archivedStages: false }),
        );
        assert.deepEqual(canonical(live), canonical(liveOnly(sales)));
        const gone = { ...sales, archivedAt: T0 + 5, updatedAt: T0 + 5 };
        await store.write((repo) => repo.savePipeline(P1, DEALS, gone));
        const archived = await store.read((repo) =>
          repo.getPipeline(P1, DEALS, 'sales', { archivedStages: false }),
        );
        assert.deepEqual(canonical(archived), canonical(liveOnly(gone)), 'an archived pipeline too');
        const empty = pipeline('empty', 'Empty', [stage('e1', 'E', { archivedAt: T0 })]);
        await seed(P1, DEALS, empty);
        const none = await store.read((repo) =>
          repo.getPipeline(P1, DEALS, 'empty', { archivedStages: false }),
        );
        assert.deepEqual(none?.stages, []);
      });

      it('finds a stage of the type in whichever pipeline holds it, archived or not', async () => {
        await seed(P1, DEALS, salesPipeline('a', 'Alpha'), salesPipeline('b', 'Beta'));
        await store.read(async (repo) => {
          assert.deepEqual(await repo.findStage(P1, DEALS, 'b-won'), {
            pipelineId: 'b',
            stage: salesPipeline('b').stages[1],
          });
          assert.deepEqual(await repo.findStage(P1, DEALS, 'a-old'), {
            pipelineId: 'a',
            stage: salesPipeline('a').stages[2],
          });
          assert.equal(await repo.findStage(P1, DEALS, 'nope'), undefined);
          assert.equal(await repo.findStage(P1, TICKETS, 'a-won'), undefined);
          assert.equal(await repo.findStage(P2, DEALS, 'a-won'), undefined);
        });
      });

      it('finds a live pipeline by its label key, ignoring archived ones', async () => {
        await seed(
          P1,
          DEALS,
          pipeline('old', 'Sales PIPELINE', [stage('o1', 'A')], { archivedAt: T0 }),
          pipeline('live', 'Sales PIPELINE', [stage('l1', 'A')]),
          pipeline('lonely', 'Only Archived', [stage('x1', 'A')], { archivedAt: T0 }),
        );
        await store.read(async (repo) => {
          assert.equal(await repo.findLivePipelineByLabel(P1, DEALS, 'sales pipeline'), 'live');
          assert.equal(await repo.findLivePipelineByLabel(P1, DEALS, 'only archived'), undefined);
          assert.equal(await repo.findLivePipelineByLabel(P1, DEALS, 'sales'), undefined);
          assert.equal(await repo.findLivePipelineByLabel(P1, TICKETS, 'sales pipeline'), undefined);
          assert.equal(await repo.findLivePipelineByLabel(P2, DEALS, 'sales pipeline'), undefined);
        });
      });

      it('follows a relabel and an archive in the label lookup', async () => {
        const p = pipeline('p', 'First', [stage('p1', 'A')]);
        await seed(P1, DEALS, p);
        await store.write((repo) => repo.savePipeline(P1, DEALS, { ...p, label: 'Second Name' }));
        await store.read(async (repo) => {
          assert.equal(await repo.findLivePipelineByLabel(P1, DEALS, 'first'), undefined);
          assert.equal(await repo.findLivePipelineByLabel(P1, DEALS, 'second name'), 'p');
        });
        await store.write((repo) =>
          repo.savePipeline(P1, DEALS, { ...p, label: 'Second Name', archivedAt: T0 }),
        );
        assert.equal(
          await store.read((repo) => repo.findLivePipelineByLabel(P1, DEALS, 'second name')),
          undefined,
        );
      });

      it('checks pipeline and stage ids within the portal and object type, archived ones included', async () => {
        await seed(
          P1,
          DEALS,
          salesPipeline(),
          pipeline('gone', 'Gone', [stage('g1', 'G')], { archivedAt: T0 }),
        );
        await seed(P2, DEALS);
        await store.read(async (repo) => {
          assert.equal(await repo.pipelineIdExists(P1, DEALS, 'sales'), true);
          assert.equal(await repo.pipelineIdExists(P1, DEALS, 'gone'), true);
          assert.equal(await repo.pipelineIdExists(P1, DEALS, 'nope'), false);
          assert.equal(await repo.pipelineIdExists(P1, TICKETS, 'sales'), false);
          assert.equal(await repo.pipelineIdExists(P2, DEALS, 'sales'), false);

          assert.equal(await repo.stageIdExists(P1, DEALS, 'sales-open'), true);
          assert.equal(await repo.stageIdExists(P1, DEALS, 'sales-old'), true);
          assert.equal(await repo.stageIdExists(P1, DEALS, 'g1'), true);
          assert.equal(await repo.stageIdExists(P1, DEALS, 'sales'), false);
          assert.equal(await repo.stageIdExists(P1, TICKETS, 'sales-open'), false);
          assert.equal(await repo.stageIdExists(P2, DEALS, 'sales-open'), false);
        });
      });

      it('keeps the same ids in different object types apart', async () => {
        const deal = pipeline('same', 'Deal side', [stage('s', 'Deal stage')]);
        const ticket = pipeline('same', 'Ticket side', [
          stage('s', 'Ticket stage', { metadata: { isClosed: 'true', ticketState: 'CLOSED' } }),
        ]);
        await seed(P1, DEALS, deal);
        await seed(P1, TICKETS, ticket);
        await store.read(async (repo) => {
          assert.deepEqual(await repo.getPipeline(P1, DEALS, 'same'), deal);
          assert.deepEqual(await repo.getPipeline(P1, TICKETS, 'same'), ticket);
          assert.equal((await repo.findStage(P1, TICKETS, 's'))?.stage.label, 'Ticket stage');
        });
      });
    });

    describe('saveStages', () => {
      it('inserts new stages and updates existing ones in one call', async () => {
        const sales = salesPipeline();
        await seed(P1, DEALS, sales);
        const [open, won, old] = sales.stages as [Stage, Stage, Stage];
        const changedOpen: Stage = {
          ...open,
          label: 'Opened',
          displayOrder: 5,
          metadata: { isClosed: 'true', probability: '0.0' },
          writePermissions: 'INTERNAL_ONLY',
          updatedAt: T0 + 50,
        };
        const restoredOld: Stage = { ...old, archivedAt: null, updatedAt: T0 + 50 };
        const archivedWon: Stage = { ...won, archivedAt: T0 + 50, updatedAt: T0 + 50 };
        const added = stage('sales-new', 'New', { displayOrder: 9, createdAt: T0 + 50, updatedAt: T0 + 50 });
        await store.write((repo) =>
          repo.saveStages(P1, DEALS, 'sales', [changedOpen, restoredOld, archivedWon, added]),
        );
        const got = await store.read((repo) => repo.getPipeline(P1, DEALS, 'sales'));
        assert.deepEqual(
          canonical(got),
          canonical({ ...sales, stages: [changedOpen, archivedWon, restoredOld, added] }),
        );
      });

      it('keeps metadata keys and values exactly, including an empty map', async () => {
        const odd = stage('odd', 'Odd', {
          metadata: { state: 'CLOSED', isClosed: 'true', note: 'ünïcødé "q"' },
        });
        const empty = stage('empty', 'Empty', { metadata: {} });
        await seed(P1, TICKETS, pipeline('t', 'T', [odd, empty]));
        await store.read(async (repo) => {
          assert.deepEqual((await repo.findStage(P1, TICKETS, 'odd'))?.stage, odd);
          assert.deepEqual((await repo.findStage(P1, TICKETS, 'empty'))?.stage, empty);
        });
      });

      it('refuses a stage id that belongs to another pipeline, and leaves that stage alone', async () => {
        await seed(P1, DEALS, salesPipeline('a', 'Alpha'), salesPipeline('b', 'Beta'));
        await assert.rejects(
          store.write((repo) =>
            repo.saveStages(P1, DEALS, 'b', [stage('a-open', 'Stolen', { updatedAt: T0 + 1 })]),
          ),
        );
        await store.read(async (repo) => {
          assert.deepEqual(await repo.findStage(P1, DEALS, 'a-open'), {
            pipelineId: 'a',
            stage: salesPipeline('a').stages[0],
          });
          assert.deepEqual(
            canonical(await repo.getPipeline(P1, DEALS, 'b')),
            canonical(salesPipeline('b', 'Beta')),
          );
        });
      });

      it('settled: a failed write has failed by the time settled() answers, and writes since are applied', async () => {
        await seed(P1, DEALS, salesPipeline('a', 'Alpha'), salesPipeline('b', 'Beta'));
        let reached = false;
        await assert.rejects(
          store.write(async (repo) => {
            await repo.saveStages(P1, DEALS, 'b', [stage('a-open', 'Stolen', { updatedAt: T0 + 1 })]);
            await repo.settled();
            reached = true;
          }),
        );
        assert.equal(reached, false);
        const seen = await store.write(async (repo) => {
          await repo.savePipeline(P1, DEALS, { ...salesPipeline('b'), label: 'Settled' });
          await repo.settled();
          return (await repo.getPipeline(P1, DEALS, 'b'))?.label;
        });
        assert.equal(seen, 'Settled');
      });
    });

    describe('audit', () => {
      it('lists the entries of one object newest first, with every field intact', async () => {
        await seed(P1, DEALS);
        const created = auditEntry({ timestamp: T0 });
        const updated1 = auditEntry({
          action: 'UPDATE',
          message: 'Pipeline update',
          rawObject: '{"v":1}',
          timestamp: T0 + 10,
        });
        const updated2 = auditEntry({
          action: 'UPDATE',
          message: 'Pipeline update',
          rawObject: '{"v":2}',
          timestamp: T0 + 20,
        });
        // Same timestamp: the one appended later is the newer.
        const deleted = auditEntry({
          action: 'DELETE',
          message: 'Pipeline deleted',
          timestamp: T0 + 20,
          userId: 9,
        });
        await store.write((repo) => repo.appendAudit([created]));
        await store.write((repo) => repo.appendAudit([updated1]));
        await store.write((repo) => repo.appendAudit([updated2, deleted]));
        assert.deepEqual(await store.read((repo) => repo.listAudit(P1, DEALS, 'pipeline', 'sales')), [
          deleted,
          updated2,
          updated1,
          created,
        ]);
      });

      it('scopes entries by portal, object type, kind and object id', async () => {
        await seed(P1, DEALS);
        await seed(P2, DEALS);
        const mine = auditEntry();
        await store.write((repo) =>
          repo.appendAudit([
            mine,
            auditEntry({ kind: 'stage', message: 'stage' }),
            auditEntry({ objectTypeKey: TICKETS, message: 'tickets' }),
            auditEntry({ portalId: P2, message: 'other portal' }),
            auditEntry({ objectId: 'other', message: 'other object' }),
          ]),
        );
        await store.read(async (repo) => {
          assert.deepEqual(await repo.listAudit(P1, DEALS, 'pipeline', 'sales'), [mine]);
          assert.deepEqual(
            (await repo.listAudit(P1, DEALS, 'stage', 'sales')).map((e) => e.message),
            ['stage'],
          );
          assert.deepEqual(
            (await repo.listAudit(P1, TICKETS, 'pipeline', 'sales')).map((e) => e.message),
            ['tickets'],
          );
          assert.deepEqual(
            (await repo.listAudit(P2, DEALS, 'pipeline', 'sales')).map((e) => e.message),
            ['other portal'],
          );
          assert.deepEqual(await repo.listAudit(P1, DEALS, 'pipeline', 'nothing'), []);
        });
      });

      it('keeps the audit of a pipeline after it is archived', async () => {
        const p = pipeline('p', 'P', [stage('s', 'S')]);
        await seed(P1, DEALS, p);
        const entry = auditEntry({ objectId: 'p' });
        await store.write((repo) => repo.appendAudit([entry]));
        await store.write((repo) => repo.savePipeline(P1, DEALS, { ...p, archivedAt: T0 + 1 }));
        assert.deepEqual(await store.read((repo) => repo.listAudit(P1, DEALS, 'pipeline', 'p')), [entry]);
      });
    });

    describe('tokens', () => {
      it('inserts, finds by hash, lists and counts tokens', async () => {
        const open = token('tok_a');
        const scoped = token('tok_b', {
          portalId: P2,
          userId: 55,
          scopes: ['crm.schemas.deals.read', 'tickets'],
          createdAt: T0 + 1,
        });
        await store.write(async (repo) => {
          await repo.insertToken(open);
          await repo.insertToken(scoped);
        });
        await store.read(async (repo) => {
          assert.deepEqual(await repo.findTokenByHash(open.hash), open);
          assert.deepEqual(await repo.findTokenByHash(scoped.hash), scoped);
          assert.equal(await repo.findTokenByHash('0'.repeat(64)), undefined);
          assert.deepEqual((await repo.listTokens()).sort(byId), [open, scoped]);
          assert.equal(await repo.countTokens(), 2);
        });
      });

      it('keeps an empty scope list apart from "every scope"', async () => {
        const none = token('tok_none', { scopes: [] });
        await store.write((repo) => repo.insertToken(none));
        assert.deepEqual(await store.read((repo) => repo.findTokenByHash(none.hash)), none);
      });

      it('revokes a live token once', async () => {
        const t = token('tok_r');
        await store.write((repo) => repo.insertToken(t));
        assert.equal(await store.write((repo) => repo.revokeToken('tok_r', T0 + 10)), true);
        assert.equal(await store.write((repo) => repo.revokeToken('tok_r', T0 + 20)), false);
        assert.equal(await store.write((repo) => repo.revokeToken('tok_unknown', T0 + 20)), false);
        await store.read(async (repo) => {
          assert.deepEqual(await repo.findTokenByHash(t.hash), { ...t, revokedAt: T0 + 10 });
          assert.deepEqual(await repo.listTokens(), [{ ...t, revokedAt: T0 + 10 }]);
          assert.equal(await repo.countTokens(), 1);
        });
      });

      it('starts with no tokens', async () => {
        await store.read(async (repo) => {
          assert.equal(await repo.countTokens(), 0);
          assert.deepEqual(await repo.listTokens(), []);
        });
      });
    });

    describe('records', () => {
      /** A deal in `stageId` of the sales pipeline; `overrides` win. */
      function record(id: string, stageId: string | null = 'sales-open', overrides: Partial<CrmRecord> = {}) {
        const r: CrmRecord = {
          id,
          properties: {
            hs_object_id: id,
            dealname: `Deal ${id}`,
            ...(stageId !== null && { pipeline: 'sales', dealstage: stageId }),
          },
          pipelineId: stageId === null ? null : 'sales',
          stageId,
          createdAt: T0,
          updatedAt: T0,
          archivedAt: null,
          ...overrides,
        };
        return r;
      }

      const saveAll = (portalId: number, typeKey: string, ...records: CrmRecord[]) =>
        store.write(async (repo) => {
          for (const r of records) await repo.saveRecord(portalId, typeKey, r);
        });

      const idsOf = (records: CrmRecord[]) => records.map((r) => r.id);

      beforeEach(async () => {
        await seed(P1, DEALS, salesPipeline());
      });

      it('saves and gets a record with every field intact', async () => {
        const r = record('101', 'sales-open', {
          properties: {
            hs_object_id: '101',
            dealname: 'ünïcødé "quoted" \\ back',
            amount: '1500.50',
            empty: '',
            pipeline: 'sales',
            dealstage: 'sales-open',
            hs_date_entered_sales_open: '2026-01-01T00:00:00.123Z',
          },
          createdAt: T0 + 1,
          updatedAt: T0 + 2,
        });
        await saveAll(P1, DEALS, r);
        assert.deepEqual(await store.read((repo) => repo.getRecord(P1, DEALS, '101')), r);
      });

      it('keeps a record without pipeline or stage', async () => {
        const r = record('7', null, { properties: { hs_object_id: '7' } });
        await saveAll(P1, DEALS, r);
        assert.deepEqual(await store.read((repo) => repo.getRecord(P1, DEALS, '7')), r);
      });

      it('saveRecord updates an existing record in place', async () => {
        await saveAll(P1, DEALS, record('5'), record('6'));
        const moved = record('5', 'sales-won', {
          properties: { hs_object_id: '5', pipeline: 'sales', dealstage: 'sales-won', note: 'new' },
          updatedAt: T0 + 10,
        });
        await saveAll(P1, DEALS, moved);
        await store.read(async (repo) => {
          assert.deepEqual(await repo.getRecord(P1, DEALS, '5'), moved);
          assert.deepEqual(await repo.getRecord(P1, DEALS, '6'), record('6'));
          assert.deepEqual(idsOf(await repo.liveRecords(P1, DEALS)), ['5', '6']);
        });
        // Dropped properties are gone, not merged back.
        const fewer = { ...moved, properties: { hs_object_id: '5' }, updatedAt: T0 + 20 };
        await saveAll(P1, DEALS, fewer);
        assert.deepEqual(await store.read((repo) => repo.getRecord(P1, DEALS, '5')), fewer);
      });

      it('gets archived records, and archives and restores through saveRecord', async () => {
        const archived = record('9', 'sales-open', { archivedAt: T0 + 5, updatedAt: T0 + 5 });
        await saveAll(P1, DEALS, archived);
        assert.deepEqual(await store.read((repo) => repo.getRecord(P1, DEALS, '9')), archived);
        const restored = { ...archived, archivedAt: null, updatedAt: T0 + 6 };
        await saveAll(P1, DEALS, restored);
        assert.deepEqual(await store.read((repo) => repo.getRecord(P1, DEALS, '9')), restored);
      });

      it('answers undefined for unknown, non-numeric and out-of-range ids', async () => {
        await saveAll(P1, DEALS, record('12'));
        await store.read(async (repo) => {
          for (const id of [
            '13',
            '0',
            '-12',
            'abc',
            '',
            ' 12',
            '12abc',
            '1.5',
            'NaN',
            '99999999999999999999999',
          ]) {
            assert.equal(await repo.getRecord(P1, DEALS, id), undefined, `id ${JSON.stringify(id)}`);
          }
          assert.equal((await repo.getRecord(P1, DEALS, '12'))?.id, '12');
        });
      });

      it('lists live records in numeric id order, a page at a time after an id', async () => {
        const ids = ['100', '9', '10', '2', '11', '1000'];
        await saveAll(P1, DEALS, ...ids.map((id) => record(id)));
        const page = (afterId: number, limit: number) =>
          store.read(async (repo) =>
            idsOf(await repo.listRecords(P1, DEALS, { archived: false, afterId, limit })),
          );
        assert.deepEqual(await page(0, 100), ['2', '9', '10', '11', '100', '1000']);
        assert.deepEqual(await page(0, 2), ['2', '9']);
        assert.deepEqual(await page(9, 2), ['10', '11']);
        assert.deepEqual(await page(11, 2), ['100', '1000']);
        assert.deepEqual(await page(12, 10), ['100', '1000']);
        assert.deepEqual(await page(1000, 10), []);
        assert.deepEqual(await page(0, 1), ['2']);
      });

      it('lists live and archived records apart', async () => {
        await saveAll(
          P1,
          DEALS,
          record('1'),
          record('2', 'sales-won', { archivedAt: T0 + 1 }),
          record('3'),
          record('4', null, { archivedAt: T0 + 2 }),
          record('5', 'sales-old', { archivedAt: T0 + 3 }),
        );
        await store.read(async (repo) => {
          const live = await repo.listRecords(P1, DEALS, { archived: false, afterId: 0, limit: 10 });
          assert.deepEqual(live, [record('1'), record('3')]);
          const archived = await repo.listRecords(P1, DEALS, { archived: true, afterId: 0, limit: 10 });
          assert.deepEqual(idsOf(archived), ['2', '4', '5']);
          assert.deepEqual(archived[1], record('4', null, { archivedAt: T0 + 2 }));
          assert.deepEqual(
            idsOf(await repo.listRecords(P1, DEALS, { archived: true, afterId: 2, limit: 1 })),
            ['4'],
          );
        });
      });

      it('liveRecords returns every live record in numeric id order, without archived ones', async () => {
        await saveAll(
          P1,
          DEALS,
          record('30'),
          record('4', 'sales-won'),
          record('200', 'sales-won', { archivedAt: T0 + 1 }),
          record('100', null),
        );
        const live = await store.read((repo) => repo.liveRecords(P1, DEALS));
        assert.deepEqual(live, [record('4', 'sales-won'), record('30'), record('100', null)]);
        assert.deepEqual(await store.read((repo) => repo.liveRecords(P1, TICKETS)), []);
      });

      it('stagesInUse names every occupied stage, in the order asked, and the records in them', async () => {
        await saveAll(
          P1,
          DEALS,
          record('20', 'sales-won'),
          record('3', 'sales-open'),
          record('100', 'sales-old'),
          record('9', 'sales-won'),
        );
        const used = await store.read((repo) =>
          repo.stagesInUse(P1, DEALS, ['sales-won', 'unused', 'sales-old', 'sales-open'], 100),
        );
        assert.deepEqual(used, {
          stageIds: ['sales-won', 'sales-old', 'sales-open'],
          objectIds: ['3', '9', '20', '100'],
        });
        const reversed = await store.read((repo) =>
          repo.stagesInUse(P1, DEALS, ['sales-open', 'sales-old', 'sales-won'], 100),
        );
        assert.deepEqual(reversed.stageIds, ['sales-open', 'sales-old', 'sales-won']);
        const some = await store.read((repo) => repo.stagesInUse(P1, DEALS, ['sales-won'], 100));
        assert.deepEqual(some, { stageIds: ['sales-won'], objectIds: ['9', '20'] });
      });

      it('stagesInUse lists at most `limit` record ids, the first ones by id, yet every stage', async () => {
        // The first ids by number sit in one stage; another stage holds only later ids.
        const ids = ['8', '9', '10', '11', '12', '1000', '99'];
        await saveAll(
          P1,
          DEALS,
          ...ids.map((id) => record(id, 'sales-open')),
          record('5000', 'sales-won'),
          record('20000', 'sales-old'),
        );
        const used = await store.read((repo) =>
          repo.stagesInUse(P1, DEALS, ['sales-old', 'sales-open', 'sales-won'], 3),
        );
        assert.deepEqual(used, {
          stageIds: ['sales-old', 'sales-open', 'sales-won'],
          objectIds: ['8', '9', '10'],
        });
        const one = await store.read((repo) => repo.stagesInUse(P1, DEALS, ['sales-won', 'sales-open'], 1));
        assert.deepEqual(one, { stageIds: ['sales-won', 'sales-open'], objectIds: ['8'] });
      });

      it('stagesInUse ignores archived records and answers nothing for free stages', async () => {
        await saveAll(
          P1,
          DEALS,
          record('1', 'sales-won', { archivedAt: T0 + 1 }),
          record('2', 'sales-open', { archivedAt: T0 + 1 }),
          record('3', 'sales-open'),
          record('4', null),
        );
        await store.read(async (repo) => {
          assert.deepEqual(await repo.stagesInUse(P1, DEALS, ['sales-won', 'sales-old'], 100), {
            stageIds: [],
            objectIds: [],
          });
          assert.deepEqual(await repo.stagesInUse(P1, DEALS, ['sales-won', 'sales-open'], 100), {
            stageIds: ['sales-open'],
            objectIds: ['3'],
          });
          assert.deepEqual(await repo.stagesInUse(P1, DEALS, [], 100), { stageIds: [], objectIds: [] });
        });
      });

      it('keeps records of each portal and object type apart', async () => {
        await seed(P2, DEALS, salesPipeline());
        await seed(P1, TICKETS, salesPipeline());
        const mine = record('1', 'sales-open', { properties: { hs_object_id: '1', who: 'P1 deal' } });
        const theirs = record('1', 'sales-won', { properties: { hs_object_id: '1', who: 'P2 deal' } });
        const ticket = record('1', 'sales-old', { properties: { hs_object_id: '1', who: 'P1 ticket' } });
        await saveAll(P1, DEALS, mine, record('2', 'sales-open'));
        await saveAll(P2, DEALS, theirs, record('3', 'sales-won'));
        await saveAll(P1, TICKETS, ticket, record('4', 'sales-open', { archivedAt: T0 }));
        await store.read(async (repo) => {
          assert.deepEqual(await repo.getRecord(P1, DEALS, '1'), mine);
          assert.deepEqual(await repo.getRecord(P2, DEALS, '1'), theirs);
          assert.deepEqual(await repo.getRecord(P1, TICKETS, '1'), ticket);
          assert.equal(await repo.getRecord(P1, DEALS, '3'), undefined);
          assert.equal(await repo.getRecord(P2, DEALS, '2'), undefined);
          assert.equal(await repo.getRecord(P1, TICKETS, '2'), undefined);
          assert.equal(await repo.getRecord(P1, '2-5', '1'), undefined);

          assert.deepEqual(idsOf(await repo.liveRecords(P1, DEALS)), ['1', '2']);
          assert.deepEqual(idsOf(await repo.liveRecords(P2, DEALS)), ['1', '3']);
          assert.deepEqual(idsOf(await repo.liveRecords(P1, TICKETS)), ['1']);
          const page = { archived: false, afterId: 0, limit: 10 };
          assert.deepEqual(idsOf(await repo.listRecords(P2, DEALS, page)), ['1', '3']);
          assert.deepEqual(idsOf(await repo.listRecords(P1, TICKETS, { ...page, archived: true })), ['4']);
          assert.deepEqual(await repo.listRecords(P1, DEALS, { ...page, archived: true }), []);

          const stages = ['sales-open', 'sales-won', 'sales-old'];
          assert.deepEqual(await repo.stagesInUse(P1, DEALS, stages, 100), {
            stageIds: ['sales-open'],
            objectIds: ['1', '2'],
          });
          assert.deepEqual(await repo.stagesInUse(P2, DEALS, stages, 100), {
            stageIds: ['sales-won'],
            objectIds: ['1', '3'],
          });
          assert.deepEqual(await repo.stagesInUse(P1, TICKETS, stages, 100), {
            stageIds: ['sales-old'],
            objectIds: ['1'],
          });
        });
        // An update in one portal leaves the same id in the other alone.
        await saveAll(P2, DEALS, { ...theirs, archivedAt: T0 + 1 });
        assert.deepEqual(await store.read((repo) => repo.getRecord(P1, DEALS, '1')), mine);
      });

      it('rolls back records saved in a failed write', async () => {
        await saveAll(P1, DEALS, record('1'));
        await assert.rejects(
          store.write(async (repo) => {
            await repo.saveRecord(P1, DEALS, record('2'));
            await repo.saveRecord(P1, DEALS, record('1', 'sales-won', { archivedAt: T0 + 1 }));
            assert.equal((await repo.getRecord(P1, DEALS, '2'))?.id, '2');
            throw new Error('after writing');
          }),
        );
        await store.read(async (repo) => {
          assert.equal(await repo.getRecord(P1, DEALS, '2'), undefined);
          assert.deepEqual(await repo.getRecord(P1, DEALS, '1'), record('1'));
          assert.deepEqual(await repo.stagesInUse(P1, DEALS, ['sales-won'], 10), {
            stageIds: [],
            objectIds: [],
          });
        });
      });
    });

    describe('associations', () => {
      const CONTACTS = '0-1';
      const byKey = (a: RecordAssociation, b: RecordAssociation) => {
        const k = (x: RecordAssociation) => [
          x.fromTypeKey,
          x.fromId.padStart(20),
          x.toTypeKey,
          x.toId.padStart(20),
          x.typeId,
        ];
        const [x, y] = [k(a).join('|'), k(b).join('|')];
        return x < y ? -1 : x > y ? 1 : 0;
      };

      beforeEach(async () => {
        await seed(P1, DEALS);
        await seed(P2, DEALS);
        await store.write(async (repo) => {
          for (const id of ['5', '40', '300']) await repo.saveRecord(P1, CONTACTS, bare(id));
          await repo.saveRecord(P1, CONTACTS, bare('41', T0 + 1));
          await repo.saveRecord(P1, DEALS, bare('7'));
          await repo.saveRecord(P2, CONTACTS, bare('5'));
        });
      });

      it('lists a record’s links to one type by target id, then type id, with every field', async () => {
        await store.write((repo) =>
          repo.saveAssociations(P1, [
            link(DEALS, '7', CONTACTS, '300', 3),
            link(DEALS, '7', CONTACTS, '40', 3),
            link(DEALS, '7', CONTACTS, '5', 449),
            link(DEALS, '7', CONTACTS, '5', 3),
            link(DEALS, '8', CONTACTS, '5', 3),
          ]),
        );
        const links = await store.read((repo) => repo.listAssociations(P1, DEALS, '7', CONTACTS));
        assert.deepEqual(links, [
          link(DEALS, '7', CONTACTS, '5', 3),
          link(DEALS, '7', CONTACTS, '5', 449),
          link(DEALS, '7', CONTACTS, '40', 3),
          link(DEALS, '7', CONTACTS, '300', 3),
        ]);
        assert.deepEqual(await store.read((repo) => repo.listAssociations(P1, DEALS, '7', TICKETS)), []);
        assert.deepEqual(await store.read((repo) => repo.listAssociations(P1, DEALS, 'x', CONTACTS)), []);
      });

      it('stores a link once however often it is saved', async () => {
        const once = link(DEALS, '7', CONTACTS, '40', 3);
        await store.write((repo) => repo.saveAssociations(P1, [once, once]));
        await store.write((repo) => repo.saveAssociations(P1, [once]));
        assert.deepEqual(await store.read((repo) => repo.listAssociations(P1, DEALS, '7', CONTACTS)), [once]);
        assert.deepEqual(await store.read((repo) => repo.portalAssociations(P1)), [once]);
      });

      it('leaves out links to archived records, and to records that do not exist', async () => {
        await store.write((repo) =>
          repo.saveAssociations(P1, [
            link(DEALS, '7', CONTACTS, '41', 3),
            link(DEALS, '7', CONTACTS, '999', 3),
            link(DEALS, '7', CONTACTS, '40', 3),
          ]),
        );
        assert.deepEqual(await store.read((repo) => repo.listAssociations(P1, DEALS, '7', CONTACTS)), [
          link(DEALS, '7', CONTACTS, '40', 3),
        ]);
        // Restored, the archived record is linked again: the link itself was kept.
        await store.write((repo) => repo.saveRecord(P1, CONTACTS, bare('41')));
        const after = await store.read((repo) => repo.listAssociations(P1, DEALS, '7', CONTACTS));
        assert.deepEqual(
          after.map((a) => a.toId),
          ['40', '41'],
        );
      });

      it('keeps each portal’s links apart and exports them all, archived targets’ included', async () => {
        const mine = [
          link(DEALS, '7', CONTACTS, '5', 3),
          link(CONTACTS, '5', DEALS, '7', 4),
          link(DEALS, '7', CONTACTS, '41', 3),
        ];
        await store.write(async (repo) => {
          await repo.saveAssociations(P1, mine);
          await repo.saveAssociations(P2, [link(DEALS, '7', CONTACTS, '5', 341)]);
        });
        await store.read(async (repo) => {
          assert.deepEqual(await repo.listAssociations(P2, DEALS, '7', CONTACTS), [
            link(DEALS, '7', CONTACTS, '5', 341),
          ]);
          assert.deepEqual(await repo.listAssociations(P1, DEALS, '7', CONTACTS), [mine[0]]);
          assert.deepEqual(await repo.listAssociations(P1, CONTACTS, '5', DEALS), [mine[1]]);
          assert.deepEqual([...(await repo.portalAssociations(P1))].sort(byKey), [...mine].sort(byKey));
          assert.deepEqual(await repo.portalAssociations(P2), [link(DEALS, '7', CONTACTS, '5', 341)]);
        });
      });

      it('saves nothing when the write fails', async () => {
        await assert.rejects(
          store.write(async (repo) => {
            await repo.saveAssociations(P1, [link(DEALS, '7', CONTACTS, '5', 3)]);
            throw new Error('abort');
          }),
          /abort/,
        );
        assert.deepEqual(await store.read((repo) => repo.portalAssociations(P1)), []);
      });
    });

    describe('control plane: clearing, next ids and starting states', () => {
      const deal = (id: string, typeStage = 'sales-open'): CrmRecord => ({
        id,
        properties: { hs_object_id: id },
        pipelineId: 'sales',
        stageId: typeStage,
        createdAt: T0,
        updatedAt: T0,
        archivedAt: null,
      });
      const ticketPipeline = () => pipeline('support', 'Support', [stage('t1', 'T1')]);

      /** Two portals with pipelines, records, links and audit of deals and tickets. */
      async function fill(): Promise<void> {
        await seed(P1, DEALS, salesPipeline());
        await seed(P1, TICKETS, ticketPipeline());
        await seed(P2, DEALS, salesPipeline());
        await store.write(async (repo) => {
          for (const portalId of [P1, P2]) {
            await repo.saveRecord(portalId, DEALS, deal('11'));
            await repo.saveRecord(portalId, TICKETS, { ...deal('12'), pipelineId: 'support', stageId: 't1' });
            await repo.saveAssociations(portalId, [
              {
                fromTypeKey: DEALS,
                fromId: '11',
                toTypeKey: TICKETS,
                toId: '12',
                category: 'HUBSPOT_DEFINED',
                typeId: 27,
              },
              {
                fromTypeKey: TICKETS,
                fromId: '12',
                toTypeKey: DEALS,
                toId: '11',
                category: 'HUBSPOT_DEFINED',
                typeId: 28,
              },
            ]);
            await repo.appendAudit([
              auditEntry({ portalId }),
              auditEntry({ portalId, objectTypeKey: TICKETS, objectId: 'support' }),
            ]);
          }
        });
      }

      it('clears every type of one portal, and only that portal; tokens stay', async () => {
        await fill();
        await store.write((repo) => repo.insertToken(token('tok-1')));
        await store.write((repo) => repo.clearPortal(P1));
        await store.read(async (repo) => {
          assert.deepEqual(await repo.portalPipelines(P1), []);
          assert.deepEqual(await repo.portalRecords(P1), []);
          assert.deepEqual(await repo.portalAssociations(P1), []);
          assert.deepEqual(await repo.portalAudit(P1), []);
          assert.equal(await repo.getPipeline(P1, DEALS, 'sales', { archivedStages: false }), undefined);
          assert.ok(await repo.portalExists(P1));
          assert.equal((await repo.findTokenByHash(token('tok-1').hash))?.id, 'tok-1');
          assert.equal((await repo.portalPipelines(P2)).length, 1);
          assert.equal((await repo.portalRecords(P2)).length, 2);
          assert.equal((await repo.portalAssociations(P2)).length, 2);
          assert.equal((await repo.portalAudit(P2)).length, 2);
        });
      });

      it('clears only the given types, with the links that touch them', async () => {
        await fill();
        await store.write((repo) => repo.clearPortal(P1, [TICKETS]));
        await store.read(async (repo) => {
          assert.deepEqual(
            (await repo.portalPipelines(P1)).map((p) => p.objectTypeKey),
            [DEALS],
          );
          assert.deepEqual(
            (await repo.portalRecords(P1)).map((r) => r.objectTypeKey),
            [DEALS],
          );
          assert.deepEqual(await repo.portalAssociations(P1), []);
          assert.deepEqual(
            (await repo.portalAudit(P1)).map((e) => e.objectTypeKey),
            [DEALS],
          );
          // The cached live pipeline of the type that stays is still right.
          assert.equal(
            (await repo.getPipeline(P1, DEALS, 'sales', { archivedStages: false }))?.stages.length,
            2,
          );
        });
      });

      it('a cleared pipeline can be saved again with the same ids in the same transaction', async () => {
        await seed(P1, DEALS, salesPipeline());
        await store.write(async (repo) => {
          await repo.getPipeline(P1, DEALS, 'sales', { archivedStages: false });
          await repo.clearPortal(P1);
          await put(repo, P1, DEALS, salesPipeline('sales', 'Sales again'));
        });
        const live = await store.read((repo) =>
          repo.getPipeline(P1, DEALS, 'sales', { archivedStages: false }),
        );
        assert.equal(live?.label, 'Sales again');
      });

      it('sets the next id exactly, down as well as up, and reads the portal', async () => {
        await seed(P1, DEALS);
        await store.write((repo) => repo.allocateIds(P1, 5));
        await store.write((repo) => repo.setNextId(P1, 100_000_001));
        assert.deepEqual(await store.write((repo) => repo.allocateIds(P1, 1)), ['100000001']);
        await store.write((repo) => repo.setNextId(P1, 900_000_000));
        assert.equal((await store.read((repo) => repo.getPortal(P1)))?.nextId, 900_000_000);
        assert.equal(await store.read((repo) => repo.getPortal(P2)), undefined);
        await assert.rejects(store.write((repo) => repo.setNextId(P2, 5)));
      });

      it('keeps one starting state per portal, replaced on each set', async () => {
        await seed(P1, DEALS);
        await seed(P2, DEALS);
        assert.equal(await store.read((repo) => repo.portalSeed(P1)), undefined);
        await store.write((repo) => repo.setPortalSeed(P1, '{"objectTypes":{}}'));
        await store.write((repo) => repo.setPortalSeed(P1, '{"objectTypes":{"deals":{}}}'));
        assert.equal(await store.read((repo) => repo.portalSeed(P1)), '{"objectTypes":{"deals":{}}}');
        assert.equal(await store.read((repo) => repo.portalSeed(P2)), undefined);
      });

      it("rewrites the health probe's row, as often as asked, in a write of no portal", async () => {
        await store.write((repo) => repo.writeHealthProbe(1));
        await store.write((repo) => repo.writeHealthProbe(2));
        await Promise.all([3, 4, 5].map((at) => store.write((repo) => repo.writeHealthProbe(at))));
      });
    });

    describe('export pages', () => {
      const CONTACTS = '0-1';

      /** Two portals whose records, links and audit entries interleave; ids sort apart as text and number. */
      async function fill(): Promise<void> {
        await seed(P1, DEALS);
        await seed(P2, DEALS);
        await store.write(async (repo) => {
          for (const id of ['9', '10', '100']) {
            await repo.saveRecord(P1, DEALS, bare(id, id === '10' ? T0 + 1 : null));
            await repo.saveRecord(P1, CONTACTS, bare(id));
            await repo.saveRecord(P2, DEALS, bare(id));
          }
          await repo.saveAssociations(P1, [
            link(DEALS, '9', CONTACTS, '100', 3),
            link(CONTACTS, '100', DEALS, '9', 4),
            link(DEALS, '10', CONTACTS, '9', 3),
            link(DEALS, '9', CONTACTS, '10', 3),
            link(DEALS, '9', CONTACTS, '10', 5),
          ]);
          await repo.saveAssociations(P2, [link(DEALS, '9', DEALS, '10', 1)]);
          for (let i = 0; i < 7; i++) {
            await repo.appendAudit([auditEntry({ portalId: P1, objectId: `p${i}`, timestamp: T0 + i })]);
            await repo.appendAudit([auditEntry({ portalId: P2, objectId: `q${i}`, timestamp: T0 + i })]);
          }
        });
      }

      /** Every page of one of the paged reads, `limit` rows at a time, concatenated. */
      async function allPages<T>(read: (after: T | undefined) => Promise<T[]>, limit: number): Promise<T[]> {
        const out: T[] = [];
        for (let after: T | undefined; ;) {
          const page = await read(after);
          assert.ok(page.length <= limit);
          out.push(...page);
          if (page.length < limit) return out;
          after = page.at(-1);
        }
      }

      for (const limit of [1, 2, 1000]) {
        it(`pages of ${limit} give what the whole reads give, portal by portal`, async () => {
          await fill();
          await store.read(async (repo) => {
            for (const portalId of [P1, P2]) {
              const records = await allPages<{ objectTypeKey: string; record: CrmRecord }>(
                (after) =>
                  repo.portalRecordsPage(
                    portalId,
                    after && { objectTypeKey: after.objectTypeKey, id: after.record.id },
                    limit,
                  ),
                limit,
              );
              assert.deepEqual(records, await repo.portalRecords(portalId));
              const links = await allPages<RecordAssociation>(
                (after) => repo.portalAssociationsPage(portalId, after, limit),
                limit,
              );
              assert.deepEqual(links, await repo.portalAssociations(portalId));
              const audit = await allPages<{ seq: number; entry: AuditEntry }>(
                (after) => repo.portalAuditPage(portalId, after?.seq ?? 0, limit),
                limit,
              );
              assert.deepEqual(
                audit.map((a) => a.entry),
                await repo.portalAudit(portalId),
              );
              const seqs = audit.map((a) => a.seq);
              assert.deepEqual(
                seqs,
                [...seqs].sort((a, b) => a - b),
              );
              assert.deepEqual(await repo.portalCounts(portalId), {
                records: records.length,
                associations: links.length,
                audit: audit.length,
              });
            }
            // The numeric order of ids within a type, types apart, archived records included.
            assert.deepEqual(
              (await repo.portalRecords(P1)).map((r) => `${r.objectTypeKey}/${r.record.id}`),
              [
                `${CONTACTS}/9`,
                `${CONTACTS}/10`,
                `${CONTACTS}/100`,
                `${DEALS}/9`,
                `${DEALS}/10`,
                `${DEALS}/100`,
              ],
            );
            assert.equal((await repo.portalAudit(P1)).length, 7);
            assert.deepEqual(await repo.portalCounts(303), { records: 0, associations: 0, audit: 0 });
          });
        });
      }

      it('snapshot runs its work once, and a write committed meanwhile stays unseen by it', async () => {
        await fill();
        let runs = 0;
        let writing: Promise<void> | undefined;
        const seen = await store.snapshot(async (repo) => {
          runs += 1;
          const before = await repo.portalCounts(P1);
          writing = store.write((w) => w.appendAudit([auditEntry({ portalId: P1, objectId: 'late' })]), {
            portalId: P1,
          });
          // SQLite's write waits for the snapshot to end; PostgreSQL's commits at once.
          await delay(50);
          const after = await repo.portalCounts(P1);
          const audit = await repo.portalAuditPage(P1, 0, 1000);
          return { before, after, audit: audit.length };
        });
        await writing;
        assert.equal(runs, 1);
        assert.deepEqual(seen.after, seen.before);
        assert.equal(seen.audit, 7);
        assert.equal((await store.read((repo) => repo.portalCounts(P1))).audit, 8);
      });
    });

    describe('portal isolation', () => {
      it("never shows one portal's pipelines, stages or labels to another", async () => {
        const mine = pipeline('default', 'Mine', [
          stage('closedwon', 'Won here', { metadata: { isClosed: 'true', probability: '1.0' } }),
        ]);
        const theirs = pipeline('default', 'Theirs', [
          stage('closedwon', 'Won there', { metadata: { isClosed: 'false', probability: '0.9' } }),
          stage('extra', 'Extra'),
        ]);
        await seed(P1, DEALS, mine);
        await seed(P2, DEALS, theirs);
        await store.read(async (repo) => {
          assert.deepEqual(await repo.getPipeline(P1, DEALS, 'default'), mine);
          assert.deepEqual(canonical(await repo.getPipeline(P2, DEALS, 'default')), canonical(theirs));
          assert.deepEqual(await repo.listPipelines(P1, DEALS), [mine]);
          assert.deepEqual(
            (await repo.listPipelines(P2, DEALS)).map((p) => p.label),
            ['Theirs'],
          );
          assert.equal((await repo.findStage(P1, DEALS, 'closedwon'))?.stage.label, 'Won here');
          assert.equal(await repo.findStage(P1, DEALS, 'extra'), undefined);
          assert.equal(await repo.stageIdExists(P1, DEALS, 'extra'), false);
          assert.equal(await repo.findLivePipelineByLabel(P1, DEALS, 'theirs'), undefined);
          assert.equal(await repo.findLivePipelineByLabel(P2, DEALS, 'theirs'), 'default');
        });
      });

      it("writes to one portal's stages never touch another's", async () => {
        await seed(P1, DEALS, pipeline('default', 'Mine', [stage('s', 'Mine')]));
        await seed(P2, DEALS, pipeline('default', 'Theirs', [stage('s', 'Theirs')]));
        await store.write((repo) =>
          repo.saveStages(P2, DEALS, 'default', [stage('s', 'Theirs, changed', { archivedAt: T0 + 1 })]),
        );
        await store.write((repo) =>
          repo.savePipeline(P2, DEALS, pipeline('default', 'Gone', [], { archivedAt: T0 })),
        );
        assert.deepEqual(
          await store.read((repo) => repo.getPipeline(P1, DEALS, 'default')),
          pipeline('default', 'Mine', [stage('s', 'Mine')]),
        );
      });
    });

    describe('transactions', () => {
      it('leaves no trace of a write whose callback throws after writing', async () => {
        const existing = salesPipeline();
        await seed(P1, DEALS, existing);
        const boom = new Error('after writing');
        await assert.rejects(
          store.write(async (repo) => {
            await repo.ensurePortal(P2, T0);
            await put(repo, P2, DEALS, pipeline('new', 'New', [stage('n1', 'N')]));
            await put(repo, P1, DEALS, pipeline('also-new', 'Also new', [stage('n2', 'N')]));
            await repo.savePipeline(P1, DEALS, { ...existing, label: 'Changed', archivedAt: T0 + 1 });
            await repo.saveStages(P1, DEALS, 'sales', [{ ...existing.stages[0]!, label: 'Changed' }]);
            await repo.appendAudit([auditEntry({ message: 'rolled back' })]);
            await repo.insertToken(token('tok_rolled_back'));
            await repo.allocateIds(P1, 3);
            // The write saw its own changes before failing.
            assert.equal((await repo.getPipeline(P1, DEALS, 'sales'))?.label, 'Changed');
            throw boom;
          }),
          (err) => err === boom,
        );
        await store.read(async (repo) => {
          assert.equal(await repo.portalExists(P2), false);
          assert.equal(await repo.getPipeline(P2, DEALS, 'new'), undefined);
          assert.equal(await repo.pipelineIdExists(P1, DEALS, 'also-new'), false);
          assert.equal(await repo.stageIdExists(P1, DEALS, 'n2'), false);
          assert.deepEqual(canonical(await repo.getPipeline(P1, DEALS, 'sales')), canonical(existing));
          assert.deepEqual(await repo.listAudit(P1, DEALS, 'pipeline', 'sales'), []);
          assert.equal(await repo.findTokenByHash(token('tok_rolled_back').hash), undefined);
          assert.equal(await repo.countTokens(), 0);
        });
      });

      it('rolls back the earlier writes of a transaction when a repository call fails', async () => {
        await seed(P1, DEALS, salesPipeline('a', 'Alpha'), salesPipeline('b', 'Beta'));
        await assert.rejects(
          store.write(async (repo) => {
            await put(repo, P1, DEALS, pipeline('c', 'Gamma', [stage('c1', 'C')]));
            await repo.saveStages(P1, DEALS, 'b', [stage('a-open', 'Stolen')]);
          }),
        );
        assert.equal(await store.read((repo) => repo.getPipeline(P1, DEALS, 'c')), undefined);
      });

      it('stays usable after a failed write', async () => {
        await assert.rejects(
          store.write(async (repo) => {
            await repo.ensurePortal(P1, T0);
            throw new Error('first');
          }),
        );
        await seed(P1, DEALS, salesPipeline());
        assert.equal(await store.read((repo) => repo.pipelineIdExists(P1, DEALS, 'sales')), true);
      });

      it('serialises concurrent writes of one portal that read, wait and then write', async () => {
        const p = pipeline('counter', 'Counter', [stage('c1', 'C')], { displayOrder: 0 });
        await seed(P1, DEALS, p);
        const log: string[] = [];
        const increment = (name: string) =>
          store.write(
            async (repo) => {
              // What is serialised is the statements: an adapter may start the work before it
              // holds the portal's lock, as long as its first read waits for it.
              const current = await repo.getPipeline(P1, DEALS, 'counter');
              log.push(`${name}:start`);
              assert.ok(current);
              await delay(20);
              await repo.savePipeline(P1, DEALS, { ...current, displayOrder: current.displayOrder + 1 });
              log.push(`${name}:end`);
              return current.displayOrder;
            },
            { portalId: P1 },
          );
        const seen = await Promise.all([increment('a'), increment('b'), increment('c')]);
        assert.deepEqual([...seen].sort(), [0, 1, 2]);
        assert.equal((await store.read((repo) => repo.getPipeline(P1, DEALS, 'counter')))?.displayOrder, 3);
        for (let i = 0; i < log.length; i += 2) {
          const [start, end] = [log[i], log[i + 1]];
          assert.equal(start?.split(':')[0], end?.split(':')[0], `interleaved: ${log.join(', ')}`);
        }
      });

      it('gives concurrent writes of one portal each its own outcome: a failed one leaves no trace', async () => {
        await seed(P1, DEALS, salesPipeline('a', 'Alpha'), salesPipeline('b', 'Beta'));
        const refused = new Error('refused by its own rules');
        const write = <T>(work: (repo: Repository) => Promise<T>) => store.write(work, { portalId: P1 });
        // Sent in one go, so an adapter that groups a portal's writes groups these.
        const outcomes = await Promise.allSettled([
          write(async (repo) => {
            await repo.getPipeline(P1, DEALS, 'a');
            await delay(20); // the others queue meanwhile
            return 'first';
          }),
          write(async (repo) => {
            await repo.savePipeline(P1, DEALS, { ...salesPipeline('a'), label: 'One' });
            return 'renamed';
          }),
          // A statement the database refuses, its answer not awaited by the work.
          write((repo) =>
            repo.saveStages(P1, DEALS, 'b', [stage('a-open', 'Stolen', { updatedAt: T0 + 1 })]),
          ),
          write(async (repo) => {
            await repo.appendAudit([auditEntry({ objectId: 'a', message: 'rolled back' })]);
            throw refused;
          }),
          write(async (repo) => {
            const label = (await repo.getPipeline(P1, DEALS, 'a'))?.label;
            await repo.appendAudit([auditEntry({ objectId: 'a', message: 'kept' })]);
            return label;
          }),
        ]);
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled'],
        );
        assert.equal((outcomes[3] as PromiseRejectedResult).reason, refused);
        assert.deepEqual(
          outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value),
          ['first', 'renamed', 'One'],
        );
        await store.read(async (repo) => {
          assert.equal((await repo.getPipeline(P1, DEALS, 'a'))?.label, 'One');
          assert.deepEqual(await repo.findStage(P1, DEALS, 'a-open'), {
            pipelineId: 'a',
            stage: salesPipeline('a').stages[0],
          });
          assert.deepEqual(
            (await repo.listAudit(P1, DEALS, 'pipeline', 'a')).map((e) => e.message),
            ['kept'],
          );
        });
      });

      it('never lets a read see a write half done', async () => {
        const p = pipeline('p', 'before', [stage('s', 'S')]);
        await seed(P1, DEALS, p);
        let started!: () => void;
        const inside = new Promise<void>((resolve) => {
          started = resolve;
        });
        const writing = store.write(async (repo) => {
          await repo.savePipeline(P1, DEALS, { ...p, label: 'half done' });
          started();
          await delay(30);
          await repo.savePipeline(P1, DEALS, { ...p, label: 'after' });
        });
        await inside;
        const seen = await store.read(async (repo) => (await repo.getPipeline(P1, DEALS, 'p'))?.label);
        await writing;
        assert.ok(seen === 'before' || seen === 'after', `read saw ${String(seen)}`);
        assert.equal((await store.read((repo) => repo.getPipeline(P1, DEALS, 'p')))?.label, 'after');
      });
    });
  });
}
