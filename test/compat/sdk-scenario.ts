// The compatibility scenario every major of HubSpot's official Node SDK (@hubspot/api-client) runs
// against an in-process Stageline: pipelines, stages and audits, deals and tickets in them,
// search, properties, owners and token info, and HubSpot's errors. Each test file runs it for one
// major (installed side by side as npm aliases, see package.json), one server per file; the tests
// of a file run concurrently, each in its own portal (a fresh bearer token in open mode).
//
// The majors' TypeScript types differ in details this suite does not depend on (8 and 10 type
// search's `after` as a number, 8 names the token call `getAccessToken`), so each client is used
// through `CompatClient`, the calls this suite makes: the SDK's own code runs unchanged.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';

import { startStageline, type RunningStageline } from '../../src/index.js';

interface Collection<T> {
  results: T[];
}

interface SdkStage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  archived: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface SdkPipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: SdkStage[];
  archived: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface SdkAudit {
  portalId: number;
  identifier: string;
  action: string;
  timestamp: Date;
  message: string;
  fromUserId: number;
}

interface SdkRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: Date;
  updatedAt: Date;
  archived?: boolean;
}

interface StageInput {
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
}

interface PipelineInput {
  label: string;
  displayOrder: number;
  stages: StageInput[];
}

interface PipelinesApi {
  getAll(objectType: string): Promise<Collection<SdkPipeline>>;
  getById(objectType: string, pipelineId: string): Promise<SdkPipeline>;
  create(objectType: string, input: PipelineInput): Promise<SdkPipeline>;
  update(objectType: string, pipelineId: string, patch: { label?: string }): Promise<SdkPipeline>;
  replace(objectType: string, pipelineId: string, input: PipelineInput): Promise<SdkPipeline>;
  archive(objectType: string, pipelineId: string): Promise<void>;
}

interface StagesApi {
  getAll(objectType: string, pipelineId: string): Promise<Collection<SdkStage>>;
  getById(objectType: string, pipelineId: string, stageId: string): Promise<SdkStage>;
  create(objectType: string, pipelineId: string, input: StageInput): Promise<SdkStage>;
  update(
    objectType: string,
    pipelineId: string,
    stageId: string,
    patch: Partial<StageInput>,
  ): Promise<SdkStage>;
  archive(objectType: string, pipelineId: string, stageId: string): Promise<void>;
}

interface SearchRequest {
  filterGroups: { filters: { propertyName: string; operator: string; value: string }[] }[];
  sorts: string[];
  properties: string[];
  limit: number;
  after: string | number;
}

interface RecordsApi {
  basicApi: {
    create(input: { properties: Record<string, string> }): Promise<SdkRecord>;
    getById(id: string, properties?: string[]): Promise<SdkRecord>;
    update(id: string, input: { properties: Record<string, string> }): Promise<SdkRecord>;
    archive(id: string): Promise<void>;
  };
  batchApi: {
    read(input: {
      inputs: { id: string }[];
      properties: string[];
      propertiesWithHistory: string[];
    }): Promise<Collection<SdkRecord>>;
  };
  searchApi: {
    doSearch(request: SearchRequest): Promise<{ total: number; results: SdkRecord[]; paging?: Paging }>;
  };
}

interface Paging {
  next?: { after: string };
}

interface SdkProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description: string;
  options: { label: string; value: string; displayOrder?: number; hidden: boolean }[];
  calculated?: boolean;
  externalOptions?: boolean;
  referencedObjectType?: string;
  modificationMetadata?: { readOnlyValue: boolean };
  createdAt?: Date;
}

interface SdkOwner {
  id: string;
  email?: string;
  userId?: number;
  firstName?: string;
  lastName?: string;
  archived: boolean;
  createdAt: Date;
  teams?: unknown[];
}

interface SdkTokenInfo {
  hubId: number;
  userId: number;
  appId: number;
  scopes: string[];
  token: string;
  tokenType: string;
}

/** The SDK calls this suite makes, as every major from 8 to 14 offers them. */
export interface CompatClient {
  crm: {
    pipelines: {
      pipelinesApi: PipelinesApi;
      pipelineStagesApi: StagesApi;
      pipelineAuditsApi: { getAudit(objectType: string, pipelineId: string): Promise<Collection<SdkAudit>> };
      pipelineStageAuditsApi: {
        getAudit(objectType: string, stageId: string): Promise<Collection<SdkAudit>>;
      };
    };
    deals: RecordsApi;
    tickets: RecordsApi;
    properties: {
      coreApi: {
        getAll(objectType: string, archived?: boolean): Promise<Collection<SdkProperty>>;
        getByName(objectType: string, propertyName: string, archived?: boolean): Promise<SdkProperty>;
      };
      groupsApi: { getAll(objectType: string): Promise<Collection<{ name: string; label: string }>> };
    };
    owners: {
      ownersApi: {
        getPage(
          email?: string,
          after?: string,
          limit?: number,
          archived?: boolean,
        ): Promise<Collection<SdkOwner>>;
        getById(ownerId: number, idProperty?: 'id' | 'userId', archived?: boolean): Promise<SdkOwner>;
      };
    };
  };
  oauth: {
    accessTokensApi: {
      get?(token: string): Promise<SdkTokenInfo>;
      /** Major 8's name for `get`. */
      getAccessToken?(token: string): Promise<SdkTokenInfo>;
    };
  };
}

export interface SdkMajor {
  readonly major: number;
  /** The npm alias the major is installed under. */
  readonly module: string;
  /** `new Client({ accessToken, basePath })` of that major. */
  readonly connect: (accessToken: string, basePath: string) => CompatClient;
}

/** An SDK error as every major throws it: `code` is the HTTP status, `body` the parsed answer. */
interface SdkError {
  code: number;
  body: { status?: string; category?: string; message?: string; correlationId?: string };
}

async function expectSdkError(call: Promise<unknown>, code: number, category: string): Promise<SdkError> {
  try {
    await call;
  } catch (err) {
    const e = err as SdkError;
    assert.equal(e.code, code, `expected HTTP ${code}: ${String(err)}`);
    assert.equal(e.body.status, 'error');
    assert.equal(e.body.category, category);
    assert.match(e.body.correlationId ?? '', /^[0-9a-f-]{36}$/);
    return e;
  }
  assert.fail(`expected an SDK error with HTTP ${code}`);
}

const dealStages = (...labels: string[]): StageInput[] =>
  labels.map((label, i) => ({
    label,
    displayOrder: i,
    metadata: { probability: i === labels.length - 1 ? '1.0' : '0.5' },
  }));

/** Registers the scenario's tests for one major; call at the top level of its test file. */
export function sdkScenario({ major, module, connect }: SdkMajor): void {
  let server: RunningStageline;
  before(async () => {
    server = await startStageline();
  });
  after(async () => {
    await server?.close();
  });
  /** A client on a fresh portal, with its token. */
  const portal = () => {
    const token = `compat-${major}-${randomUUID()}`;
    return { token, client: connect(token, server.url) };
  };

  describe(`@hubspot/api-client ${major}`, { concurrency: true }, () => {
    it(`${module} is major ${major}`, () => {
      const { name, version } = createRequire(import.meta.url)(`${module}/package.json`) as {
        name: string;
        version: string;
      };
      assert.equal(name, '@hubspot/api-client');
      assert.equal(version.split('.')[0], String(major));
    });

    it('pipelines, stages and their audits', async () => {
      const { client } = portal();
      const { pipelinesApi, pipelineStagesApi, pipelineAuditsApi, pipelineStageAuditsApi } =
        client.crm.pipelines;
      const defaults = await pipelinesApi.getAll('deals');
      assert.deepEqual(
        defaults.results.map((p) => p.id),
        ['default'],
      );
      assert.ok(defaults.results[0]!.createdAt instanceof Date);

      const created = await pipelinesApi.create('deals', {
        label: 'Compat',
        displayOrder: 1,
        stages: dealStages('Open', 'Won'),
      });
      assert.match(created.id, /^\d+$/);
      assert.deepEqual(
        created.stages.map((s) => [s.label, s.metadata.probability]),
        [
          ['Open', '0.5'],
          ['Won', '1.0'],
        ],
      );
      assert.equal((await pipelinesApi.getById('deals', created.id)).label, 'Compat');
      assert.equal((await pipelinesApi.update('deals', created.id, { label: 'Compat 2' })).label, 'Compat 2');

      const stage = await pipelineStagesApi.create('deals', created.id, {
        label: 'Demo',
        displayOrder: 1,
        metadata: { probability: '0.7' },
      });
      assert.equal(
        (await pipelineStagesApi.update('deals', created.id, stage.id, { label: 'Demo 2' })).label,
        'Demo 2',
      );
      assert.equal((await pipelineStagesApi.getById('deals', created.id, stage.id)).label, 'Demo 2');
      assert.deepEqual(
        (await pipelineStagesApi.getAll('deals', created.id)).results.map((s) => s.label),
        ['Open', 'Demo 2', 'Won'],
      );
      await pipelineStagesApi.archive('deals', created.id, stage.id);
      await expectSdkError(pipelineStagesApi.getById('deals', created.id, stage.id), 404, 'OBJECT_NOT_FOUND');

      const replaced = await pipelinesApi.replace('deals', created.id, {
        label: 'Compat 3',
        displayOrder: 2,
        stages: dealStages('Only', 'Done'),
      });
      assert.deepEqual(
        replaced.stages.map((s) => s.label),
        ['Only', 'Done'],
      );

      // Newest first: the create, then at least the rename and the replace.
      const audit = await pipelineAuditsApi.getAudit('deals', created.id);
      assert.equal(audit.results.at(-1)?.action, 'CREATE');
      assert.equal(audit.results[0]?.action, 'UPDATE');
      assert.ok(audit.results.length >= 3, `pipeline audit: ${audit.results.length} entries`);
      for (const entry of audit.results) {
        assert.equal(entry.identifier, `${entry.portalId}:${created.id}`);
        assert.ok(entry.timestamp instanceof Date);
      }
      // The SDK never fills {pipelineId} in the stage audit path; Stageline serves it anyway.
      const stageAudit = await pipelineStageAuditsApi.getAudit('deals', stage.id);
      assert.deepEqual(
        stageAudit.results.map((e) => e.action),
        ['DELETE', 'UPDATE', 'CREATE'],
      );

      await pipelinesApi.archive('deals', created.id);
      await expectSdkError(pipelinesApi.getById('deals', created.id), 404, 'OBJECT_NOT_FOUND');
      const refused = await expectSdkError(
        pipelinesApi.create('deals', { label: 'No probability', displayOrder: 3, stages: [] }),
        400,
        'VALIDATION_ERROR',
      );
      assert.equal(typeof refused.body.message, 'string');

      const tickets = await pipelinesApi.getAll('tickets');
      assert.deepEqual(
        tickets.results[0]?.stages.map((s) => s.metadata.ticketState),
        ['OPEN', 'OPEN', 'OPEN', 'CLOSED'],
      );
    });

    it('deals and tickets move through stages, and search finds them', async () => {
      const { client } = portal();
      const pipeline = await client.crm.pipelines.pipelinesApi.create('deals', {
        label: 'Records',
        displayOrder: 1,
        stages: dealStages('Lead', 'Proposal', 'Won'),
      });
      const [lead, proposal] = pipeline.stages;
      const deals = client.crm.deals;
      const made = await Promise.all(
        ['A', 'B', 'C'].map((name) =>
          deals.basicApi.create({ properties: { dealname: `Deal ${name}`, dealstage: lead!.id } }),
        ),
      );
      for (const deal of made) {
        assert.equal(deal.properties.pipeline, pipeline.id, 'a stage implies its pipeline');
        assert.ok(deal.createdAt instanceof Date);
      }
      const moved = await deals.basicApi.update(made[0]!.id, { properties: { dealstage: proposal!.id } });
      assert.equal(moved.properties.dealstage, proposal!.id);
      const read = await deals.basicApi.getById(made[0]!.id, [
        'dealstage',
        `hs_date_entered_${proposal!.id}`,
      ]);
      assert.ok(read.properties[`hs_date_entered_${proposal!.id}`], 'the stage entry is stamped');

      const batch = await deals.batchApi.read({
        inputs: made.map((d) => ({ id: d.id })),
        properties: ['dealname'],
        propertiesWithHistory: [],
      });
      assert.deepEqual(batch.results.map((d) => d.properties.dealname).sort(), [
        'Deal A',
        'Deal B',
        'Deal C',
      ]);

      const inLead = (after: string | number): SearchRequest => ({
        filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: 'EQ', value: lead!.id }] }],
        sorts: ['dealname'],
        properties: ['dealname'],
        limit: 1,
        after: typeof after === 'number' || major <= 10 ? Number(after) : after,
      });
      const first = await deals.searchApi.doSearch(inLead(0));
      assert.equal(first.total, 2);
      assert.deepEqual(
        first.results.map((d) => d.properties.dealname),
        ['Deal B'],
      );
      const next = await deals.searchApi.doSearch(inLead(first.paging!.next!.after));
      assert.deepEqual(
        next.results.map((d) => d.properties.dealname),
        ['Deal C'],
      );

      await deals.basicApi.archive(made[2]!.id);
      await expectSdkError(deals.basicApi.getById(made[2]!.id), 404, 'OBJECT_NOT_FOUND');
      await expectSdkError(
        deals.basicApi.update(made[1]!.id, { properties: { dealstage: 'no-such-stage' } }),
        400,
        'VALIDATION_ERROR',
      );

      const ticket = await client.crm.tickets.basicApi.create({
        properties: { subject: 'Printer', hs_pipeline_stage: '1' },
      });
      assert.equal(ticket.properties.hs_pipeline, '0');
      const closed = await client.crm.tickets.basicApi.update(ticket.id, {
        properties: { hs_pipeline_stage: '4' },
      });
      assert.equal(closed.properties.hs_pipeline_stage, '4');
    });

    it('properties list the live pipelines and stages as options', async () => {
      const { client } = portal();
      const { coreApi, groupsApi } = client.crm.properties;
      const pipeline = await client.crm.pipelines.pipelinesApi.create('deals', {
        label: 'Options',
        displayOrder: 1,
        stages: dealStages('First', 'Last'),
      });
      const all = await coreApi.getAll('deals', false);
      const dealstage = all.results.find((p) => p.name === 'dealstage');
      assert.ok(dealstage, 'dealstage is listed');
      assert.equal(dealstage.type, 'enumeration');
      assert.deepEqual(
        dealstage.options.slice(-2).map((o) => [o.label, o.value]),
        pipeline.stages.map((s) => [s.label, s.id]),
      );
      const byName = await coreApi.getByName('deals', 'pipeline');
      assert.deepEqual(
        byName.options.map((o) => o.value),
        ['default', pipeline.id],
      );
      const entered = await coreApi.getByName('deals', `hs_date_entered_${pipeline.stages[0]!.id}`);
      assert.equal(entered.label, 'Date entered "First (Options)"');
      assert.ok(entered.createdAt instanceof Date);

      const ticketStage = await coreApi.getByName('tickets', 'hs_pipeline_stage');
      assert.deepEqual(
        ticketStage.options.map((o) => o.value),
        ['1', '2', '3', '4'],
      );
      assert.deepEqual(
        (await groupsApi.getAll('deals')).results.map((g) => g.name),
        ['dealinformation'],
      );
      await expectSdkError(coreApi.getByName('deals', 'no_such_property'), 404, 'OBJECT_NOT_FOUND');
      await expectSdkError(coreApi.getAll('nonsense'), 400, 'VALIDATION_ERROR');
    });

    it("owners and token info describe the token's user and portal", async () => {
      const { client, token } = portal();
      const api = client.oauth.accessTokensApi;
      const info = await (api.get ?? api.getAccessToken)!.call(api, token);
      assert.equal(info.token, token);
      assert.equal(info.tokenType, 'access');
      assert.ok(info.scopes.includes('crm.schemas.deals.write'));
      const { ownersApi } = client.crm.owners;
      const owners = await ownersApi.getPage(undefined, undefined, 100, false);
      assert.equal(owners.results.length, 1);
      const owner = owners.results[0]!;
      assert.equal(owner.userId, info.userId);
      assert.ok(owner.createdAt instanceof Date);
      assert.deepEqual(await ownersApi.getById(Number(owner.id)), owner);
      assert.deepEqual(await ownersApi.getById(info.userId, 'userId', false), owner);

      const deal = await client.crm.deals.basicApi.create({
        properties: { dealname: 'Owned', hubspot_owner_id: owner.id },
      });
      const owned = await client.crm.deals.basicApi.getById(deal.id, ['hubspot_owner_id']);
      assert.equal(owned.properties.hubspot_owner_id, owner.id);
      // The portal the token reports is the one its pipelines audit under.
      const created = await client.crm.pipelines.pipelinesApi.create('deals', {
        label: 'Audited',
        displayOrder: 1,
        stages: dealStages('Won'),
      });
      const audit = await client.crm.pipelines.pipelineAuditsApi.getAudit('deals', created.id);
      assert.equal(audit.results[0]?.portalId, info.hubId);
      assert.equal(audit.results[0]?.fromUserId, info.userId);
    });
  });
}
