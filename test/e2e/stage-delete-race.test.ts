// Concurrency: record moves into a stage racing a reference-checked delete of that stage (and of its
// pipeline), over a real socket, on a file database and on a memory database.
//
// Whatever the interleaving, the outcome must be one of the serial ones:
// - no live record ever sits in an archived stage or pipeline;
// - a delete that succeeded saw no records: once any move into the stage succeeded, every
//   validateReferencesBeforeDelete=true delete of it is refused (no record moves out during a round);
// - a refused delete lists exactly records that sit in the stage, changes nothing and writes no audit
//   entry; a successful one writes exactly one DELETE entry;
// - moves that lose the race are refused with a 400 naming the stage, never a 5xx.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startStageline, type RunningStageline } from '../../src/index.js';
import {
  auditSnapshot,
  byNumericId,
  parseBracketList,
  stageInUseMessage,
  type WireBatch,
  type WireRecord,
  type WireSearchPage,
} from '../helpers/records.js';
import { isRecord, must, randomToken, rawRequest, type RawResponse } from '../helpers/wire.js';
import type { WireError, WirePipeline } from '../helpers/wire-types.js';

const DEALS = 30;
const REFS = 'validateReferencesBeforeDelete=true';

interface Tally {
  deleted: number;
  refused: number;
  movedIn: number;
  moveRefused: number;
}

function harness(server: () => RunningStageline) {
  const token = randomToken();
  const call = <T = unknown>(method: string, path: string, body?: unknown): Promise<RawResponse<T>> =>
    rawRequest<T>(server().url, method, path, { token, body });

  async function createPipeline(label: string, stageCount: number): Promise<WirePipeline> {
    const res = await call<WirePipeline>('POST', '/crm/v3/pipelines/deals', {
      label,
      displayOrder: 1,
      stages: Array.from({ length: stageCount }, (_, i) => ({
        label: `S${i}`,
        displayOrder: i,
        metadata: { probability: '0.5' },
      })),
    });
    assert.equal(res.status, 201, res.text);
    return res.json;
  }

  async function createDeals(stageId: string): Promise<string[]> {
    const res = await call<WireBatch>('POST', '/crm/v3/objects/deals/batch/create', {
      inputs: Array.from({ length: DEALS }, (_, i) => ({
        properties: { dealname: `racer ${i}`, dealstage: stageId },
      })),
    });
    assert.equal(res.status, 201, res.text);
    return byNumericId(res.json.results.map((r) => r.id));
  }

  /** Every deal's pipeline and stage, read back one by one. */
  async function placements(ids: readonly string[], stageId: string) {
    const out = new Map<
      string,
      { pipeline: string; stage: string; entered: string | null; exited: string | null }
    >();
    for (const id of ids) {
      const res = await call<WireRecord>(
        'GET',
        `/crm/v3/objects/deals/${id}?properties=pipeline,dealstage,hs_date_entered_${stageId},hs_date_exited_${stageId}`,
      );
      assert.equal(res.status, 200, res.text);
      const p = res.json.properties;
      out.set(id, {
        pipeline: must(p.pipeline, 'pipeline'),
        stage: must(p.dealstage, 'dealstage'),
        entered: p[`hs_date_entered_${stageId}`] ?? null,
        exited: p[`hs_date_exited_${stageId}`] ?? null,
      });
    }
    return out;
  }

  function checkMoveRefusal(res: RawResponse, stageId: string, what: string): void {
    assert.equal(res.status, 400, `${what}: a lost race is a 400, got ${res.status} ${res.text}`);
    const body = res.json as WireError;
    assert.equal(body.category, 'VALIDATION_ERROR', what);
    assert.ok(body.message.includes(stageId), `${what}: the message names the stage: ${body.message}`);
  }

  function checkDeleteRefusal(res: RawResponse, stageIds: readonly string[], what: string): string[] {
    const body = res.json as WireError;
    assert.ok(isRecord(body), what);
    assert.equal(body.subCategory, 'PipelineError.STAGE_ID_IN_USE', `${what}: ${res.text}`);
    const listedStages = parseBracketList(body.context?.stageIds?.[0]);
    const listedObjects = parseBracketList(body.context?.objectIds?.[0]);
    for (const s of listedStages) assert.ok(stageIds.includes(s), `${what}: ${s} is not a removed stage`);
    assert.ok(listedObjects.length > 0, `${what}: a refusal lists the referencing records`);
    assert.equal(body.message, stageInUseMessage(listedStages, listedObjects), what);
    return listedObjects;
  }

  /**
   * One round: `DEALS` concurrent moves into `stageId` (single PATCHes, or batch updates of 5) and
   * delete attempts of that stage with validateReferencesBeforeDelete=true, each started once the
   * given number of moves has been answered (0: with the moves), while the other moves are still in
   * flight. Then checks the invariants against what the server now says.
   */
  async function stageRound(
    pipelineId: string,
    stageId: string,
    ids: readonly string[],
    deleteAfter: readonly number[],
    batched: boolean,
    tally: Tally,
  ): Promise<void> {
    const auditBefore = await auditSnapshot(server().url, token, 'deals', pipelineId, [stageId]);
    const deletes: Promise<RawResponse>[] = [];
    const pending = [...deleteAfter].sort((a, b) => a - b);
    let answered = 0;
    const startDeletes = () => {
      while (pending.length > 0 && pending[0]! <= answered) {
        pending.shift();
        deletes.push(call('DELETE', `/crm/v3/pipelines/deals/${pipelineId}/stages/${stageId}?${REFS}`));
      }
    };
    const groups = batched ? chunk(ids, 5) : ids.map((id) => [id]);
    assert.ok(
      pending.every((n) => n <= groups.length),
      'every delete starts',
    );
    startDeletes();
    const moves = groups.map((group) =>
      (batched
        ? call('POST', '/crm/v3/objects/deals/batch/update', {
            inputs: group.map((id) => ({ id, properties: { dealstage: stageId } })),
          })
        : call('PATCH', `/crm/v3/objects/deals/${group[0]}`, { properties: { dealstage: stageId } })
      ).then((res) => {
        answered += 1;
        startDeletes();
        return { ids: [...group], res };
      }),
    );
    const moveResults = await Promise.all(moves);
    const deleteResults = await Promise.all(deletes);

    const movedIn = new Set<string>();
    for (const { ids: group, res } of moveResults) {
      assert.ok(res.status < 500, `move: no 5xx (${res.status} ${res.text})`);
      if (res.status === 200) group.forEach((id) => movedIn.add(id));
      else checkMoveRefusal(res, stageId, `move of ${group.join(',')}`);
    }
    let succeeded = 0;
    const refusedListing: string[][] = [];
    for (const res of deleteResults) {
      assert.ok(res.status < 500, `delete: no 5xx (${res.status} ${res.text})`);
      if (res.status === 204) succeeded += 1;
      else if (res.status === 404) assert.equal((res.json as WireError).category, 'OBJECT_NOT_FOUND');
      else {
        assert.equal(res.status, 400, `delete: ${res.text}`);
        refusedListing.push(checkDeleteRefusal(res, [stageId], 'refused delete'));
      }
    }
    assert.ok(succeeded <= 1, 'a stage is deleted at most once');

    // What the server says now.
    const now = await placements(ids, stageId);
    const inStage = [...now].filter(([, p]) => p.stage === stageId).map(([id]) => id);
    const stageGet = await call('GET', `/crm/v3/pipelines/deals/${pipelineId}/stages/${stageId}`);
    const auditAfter = await auditSnapshot(server().url, token, 'deals', pipelineId, [stageId]);
    const newEntries = must(auditAfter.stages[stageId], 'stage audit').slice(
      0,
      must(auditAfter.stages[stageId], 'a').length - must(auditBefore.stages[stageId], 'b').length,
    );

    assert.deepEqual(
      byNumericId(inStage),
      byNumericId(movedIn),
      'exactly the accepted moves landed in the stage',
    );
    for (const id of inStage) {
      const p = must(now.get(id), id);
      assert.equal(p.pipeline, pipelineId);
      assert.notEqual(p.entered, null, `${id} has hs_date_entered_${stageId}`);
      assert.equal(p.exited, null, `${id} has not left ${stageId}`);
    }
    if (succeeded === 1) {
      assert.equal(stageGet.status, 404, 'the deleted stage answers 404');
      assert.deepEqual(inStage, [], 'no live record sits in the deleted stage');
      assert.equal(
        movedIn.size,
        0,
        'a delete that succeeded saw no records: no move into the stage succeeded',
      );
      assert.deepEqual(
        newEntries.map((e) => e.action),
        ['DELETE'],
        'one DELETE audit entry',
      );
      tally.deleted += 1;
    } else {
      assert.equal(stageGet.status, 200, `the stage is still there: ${stageGet.text}`);
      assert.deepEqual(newEntries, [], 'refused deletes write no audit entry');
      assert.deepEqual(auditAfter.pipeline, auditBefore.pipeline, 'nor pipeline audit entries');
    }
    for (const listed of refusedListing) {
      for (const id of listed)
        assert.ok(inStage.includes(id), `a refusal listed ${id}, which is not in the stage`);
      tally.refused += 1;
    }
    tally.movedIn += movedIn.size;
    tally.moveRefused += ids.length - movedIn.size;

    // The search agrees with the reads.
    const search = await call<WireSearchPage>('POST', '/crm/v3/objects/deals/search', {
      filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: 'EQ', value: stageId }] }],
      limit: 100,
    });
    assert.equal(search.status, 200, search.text);
    assert.equal(search.json.total, inStage.length, 'search total matches the records in the stage');
  }

  return { call, createPipeline, createDeals, placements, stageRound, checkMoveRefusal, checkDeleteRefusal };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

for (const storage of ['file', 'memory'] as const) {
  describe(`stage delete racing record moves (${storage} database)`, () => {
    let server: RunningStageline;
    let dir: string | undefined;

    before(async () => {
      if (storage === 'file') dir = mkdtempSync(join(tmpdir(), 'stageline-race-'));
      server = await startStageline({
        host: '127.0.0.1',
        port: 0,
        database: dir === undefined ? ':memory:' : join(dir, 'race.db'),
      });
    });

    after(async () => {
      await server?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('never leaves a live record in a deleted stage, whatever the interleaving', async () => {
      const h = harness(() => server);
      const pipeline = await h.createPipeline('Race', 8);
      const stages = pipeline.stages.map((s) => s.id);
      const [home, ...targets] = stages as [string, ...string[]];
      const ids = await h.createDeals(home);
      const tally: Tally = { deleted: 0, refused: 0, movedIn: 0, moveRefused: 0 };

      // Deletes before, among and after the moves; single PATCHes and batch updates.
      const plans: Array<{ deleteAfter: number[]; batched: boolean }> = [
        { deleteAfter: [0], batched: false },
        { deleteAfter: [1], batched: false },
        { deleteAfter: [0, 5, 10, 20, DEALS], batched: false },
        { deleteAfter: [0, 1, 3], batched: true },
        { deleteAfter: [DEALS / 2], batched: false },
        { deleteAfter: [0, 2, 4], batched: true },
      ];
      for (const [i, plan] of plans.entries()) {
        const stage = must(targets[i], `target stage ${i}`);
        await h.stageRound(pipeline.id, stage, ids, plan.deleteAfter, plan.batched, tally);
      }

      // A stage emptied by moving its records out can then be deleted with the flag.
      const last = must(targets[plans.length], 'last stage');
      const moveAll = await h.call('POST', '/crm/v3/objects/deals/batch/update', {
        inputs: ids.map((id) => ({ id, properties: { dealstage: last } })),
      });
      assert.equal(moveAll.status, 200, moveAll.text);
      const occupied = await h.call(
        'DELETE',
        `/crm/v3/pipelines/deals/${pipeline.id}/stages/${last}?${REFS}`,
      );
      assert.equal(occupied.status, 400);
      h.checkDeleteRefusal(occupied, [last], 'occupied stage');
      assert.deepEqual(parseBracketList((occupied.json as WireError).context?.objectIds?.[0]), ids);
      const back = await h.call('POST', '/crm/v3/objects/deals/batch/update', {
        inputs: ids.map((id) => ({ id, properties: { dealstage: home } })),
      });
      assert.equal(back.status, 200, back.text);
      const emptied = await h.call('DELETE', `/crm/v3/pipelines/deals/${pipeline.id}/stages/${last}?${REFS}`);
      assert.equal(emptied.status, 204, emptied.text);

      // Global invariant: every record sits in a live stage of a live pipeline.
      const live = await h.call<WirePipeline>('GET', `/crm/v3/pipelines/deals/${pipeline.id}`);
      const liveStages = new Set(live.json.stages.map((s) => s.id));
      for (const [id, p] of await h.placements(ids, home)) {
        assert.ok(liveStages.has(p.stage), `deal ${id} sits in ${p.stage}, which is not a live stage`);
      }
      // The rounds exercised both outcomes, so the invariants above were not vacuous.
      assert.ok(tally.deleted >= 1, `no round saw a successful delete: ${JSON.stringify(tally)}`);
      assert.ok(tally.refused >= 1, `no round saw a refused delete: ${JSON.stringify(tally)}`);
      assert.ok(tally.movedIn >= 1 && tally.moveRefused >= 1, JSON.stringify(tally));
    });

    it('never leaves a live record in a deleted pipeline when moves race a pipeline delete', async () => {
      const h = harness(() => server);
      const outcomes = { deleted: 0, refused: 0 };
      for (let round = 0; round < 4; round += 1) {
        const source = await h.createPipeline(`Source ${round}`, 1);
        const target = await h.createPipeline(`Target ${round}`, 3);
        const ids = await h.createDeals(must(source.stages[0], 'source stage').id);
        const targetStages = target.stages.map((s) => s.id);
        // The delete starts once this many moves have been answered (0: together with the moves).
        const deleteAfter = [0, 1, 0, DEALS / 2][round]!;
        let answered = 0;
        let del: Promise<RawResponse> | undefined;
        const startDelete = () => {
          if (del === undefined && answered >= deleteAfter) {
            del = h.call('DELETE', `/crm/v3/pipelines/deals/${target.id}?${REFS}`);
          }
        };
        startDelete();
        const moves = ids.map((id, i) =>
          // A stage alone: the record's pipeline follows it.
          h
            .call('PATCH', `/crm/v3/objects/deals/${id}`, { properties: { dealstage: targetStages[i % 3] } })
            .then((res) => {
              answered += 1;
              startDelete();
              return res;
            }),
        );
        const moveRes = await Promise.all(moves);
        const delRes = await must(del, 'the delete was started');
        const accepted = moveRes.filter((r) => r.status === 200).length;
        moveRes.forEach((r, i) => {
          if (r.status !== 200) h.checkMoveRefusal(r, must(targetStages[i % 3], 'stage'), `move ${i}`);
        });

        const now = await h.placements(ids, must(targetStages[0], 'stage'));
        const inTarget = [...now].filter(([, p]) => p.pipeline === target.id).map(([id]) => id);
        assert.equal(inTarget.length, accepted, 'exactly the accepted moves landed in the target pipeline');
        const get = await h.call('GET', `/crm/v3/pipelines/deals/${target.id}`);
        if (delRes.status === 204) {
          outcomes.deleted += 1;
          assert.equal(get.status, 404);
          assert.deepEqual(inTarget, [], 'no live record sits in the deleted pipeline');
          assert.equal(accepted, 0, 'a pipeline delete that succeeded saw no records');
        } else {
          outcomes.refused += 1;
          assert.equal(delRes.status, 400, delRes.text);
          const listed = h.checkDeleteRefusal(delRes, targetStages, 'refused pipeline delete');
          for (const id of listed) assert.ok(inTarget.includes(id), `${id} listed but not in the pipeline`);
          assert.equal(get.status, 200, 'a refused pipeline delete leaves the pipeline');
          const audit = await h.call<{ results: { action: string }[] }>(
            'GET',
            `/crm/v3/pipelines/deals/${target.id}/audit`,
          );
          assert.deepEqual(
            audit.json.results.map((e) => e.action),
            ['CREATE'],
            'a refused pipeline delete writes no audit entry',
          );
        }
      }
      assert.ok(
        outcomes.deleted >= 1 && outcomes.refused >= 1,
        `both outcomes seen: ${JSON.stringify(outcomes)}`,
      );
    });
  });
}
