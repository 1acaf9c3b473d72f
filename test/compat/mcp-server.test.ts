// HubSpot's own MCP server (@hubspot/mcp-server) driven against Stageline: the server is spawned
// over stdio with BASE_URL_OVERRIDE pointing at an in-process Stageline and a private-app token,
// and spoken to with the official MCP client (initialize, tools/list, tools/call), as an AI
// assistant would. Every tool it exposes that touches pipelines, objects, properties or the
// account is called here.
//

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { startStageline, type RunningStageline } from '../../src/index.js';
import type { WirePipeline } from '../helpers/wire-types.js';

/** Every tool of @hubspot/mcp-server 0.4, and why the ones not called here are not. */
const TOOLS: Record<string, 'called here' | string> = {
  'hubspot-get-user-details': 'called here',
  'hubspot-get-link': 'called here',
  'hubspot-list-objects': 'called here',
  'hubspot-search-objects': 'called here',
  'hubspot-batch-read-objects': 'called here',
  'hubspot-batch-create-objects': 'called here',
  'hubspot-batch-update-objects': 'called here',
  'hubspot-get-schemas': 'called here',
  'hubspot-list-properties': 'called here',
  'hubspot-get-property': 'called here',
  'hubspot-create-property': 'called here',
  'hubspot-update-property': 'called here',
  'hubspot-list-associations': 'called here',
  'hubspot-get-association-definitions': 'called here',
  'hubspot-batch-create-associations': 'called here',
  'hubspot-create-engagement':
    'engagements (/engagements/v1): notes and tasks, which Stageline does not keep',
  'hubspot-get-engagement': 'engagements (/engagements/v1): notes and tasks, which Stageline does not keep',
  'hubspot-update-engagement':
    'engagements (/engagements/v1): notes and tasks, which Stageline does not keep',
  'hubspot-list-workflows': 'workflows (/automation/v4): not a Stageline API',
  'hubspot-get-workflow': 'workflows (/automation/v4): not a Stageline API',
  'hubspot-generate-feedback-link': 'makes no request: a link to HubSpot’s feedback form',
};

interface ToolResult {
  content: { type: string; text?: string }[];
  isError?: boolean;
}

interface WireRecord {
  id: string;
  properties: Record<string, string | null>;
}

let server: RunningStageline;
let mcp: Client;
const token = `mcp-${randomUUID()}`;

before(async () => {
  server = await startStageline();
  const entry = createRequire(import.meta.url).resolve('@hubspot/mcp-server');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry],
    // Not this repository: the server loads a .env from its working directory.
    cwd: tmpdir(),
    env: { ...getDefaultEnvironment(), PRIVATE_APP_ACCESS_TOKEN: token, BASE_URL_OVERRIDE: server.url },
    stderr: 'ignore',
  });
  mcp = new Client({ name: 'stageline-compat', version: '1.0.0' });
  await mcp.connect(transport);
});

after(async () => {
  await mcp?.close();
  await server?.close();
});

async function callTool(name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await mcp.callTool({ name, arguments: args })) as ToolResult;
}

const texts = (result: ToolResult): string[] => result.content.map((c) => c.text ?? '');

/** The JSON a successful tool answered with (after the label some tools put before it). */
async function toolJson<T>(name: string, args: Record<string, unknown> = {}, part = 0): Promise<T> {
  const result = await callTool(name, args);
  assert.notEqual(result.isError, true, `${name} failed: ${texts(result).join('\n')}`);
  const text = must(texts(result)[part], `part ${part} of ${name}`);
  return JSON.parse(text.slice(text.search(/[[{]/))) as T;
}

/** A tool's error text, asserting it failed. */
async function toolError(name: string, args: Record<string, unknown>): Promise<string> {
  const result = await callTool(name, args);
  assert.equal(result.isError, true, `${name} should fail: ${texts(result).join('\n')}`);
  return texts(result).join('\n');
}

function must<T>(value: T | undefined | null, what: string): T {
  assert.ok(value !== undefined && value !== null, `${what} is missing`);
  return value;
}

/** Stageline's own API, with the MCP server's token (the same portal). */
async function stageline<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

async function dealPipeline(label: string): Promise<WirePipeline> {
  return stageline<WirePipeline>('POST', '/crm/v3/pipelines/deals', {
    label,
    displayOrder: 1,
    stages: [
      { label: 'Open', displayOrder: 0, metadata: { probability: '0.5' } },
      { label: 'Won', displayOrder: 1, metadata: { probability: '1.0' } },
    ],
  });
}

async function createDeals(names: string[], properties: Record<string, string> = {}): Promise<WireRecord[]> {
  const created = await toolJson<{ status: string; results: WireRecord[] }>('hubspot-batch-create-objects', {
    objectType: 'deals',
    inputs: names.map((dealname) => ({ properties: { dealname, ...properties } })),
  });
  assert.equal(created.status, 'COMPLETE');
  return created.results;
}

async function createContact(): Promise<WireRecord> {
  const created = await toolJson<{ results: WireRecord[] }>('hubspot-batch-create-objects', {
    objectType: 'contacts',
    inputs: [{ properties: { email: `mcp-${randomUUID()}@example.com` } }],
  });
  return must(created.results[0], 'contact');
}

describe('@hubspot/mcp-server against Stageline', () => {
  it('lists the tools this suite knows, each called here or out of scope for a reason', async () => {
    const { tools } = await mcp.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), Object.keys(TOOLS).sort());
  });

  it("hubspot-get-user-details: token info, the user's owner and the account", async () => {
    const tokenInfo = await toolJson<{ hubId: number; userId: number; appId: number; scopes: string[] }>(
      'hubspot-get-user-details',
    );
    const owner = await toolJson<{ id: string; userId: number; email: string } | null>(
      'hubspot-get-user-details',
      {},
      1,
    );
    const account = await toolJson<{ portalId: number; uiDomain: string; timeZone: string } | null>(
      'hubspot-get-user-details',
      {},
      2,
    );
    const details = await stageline<{ portalId: number }>('GET', '/account-info/v3/details');
    assert.equal(tokenInfo.hubId, details.portalId);
    assert.ok(tokenInfo.scopes.includes('crm.objects.deals.write'));
    // The tool swallows owner and account errors into null: a null here is a failed call.
    assert.equal(must(owner, 'OwnerInfo').userId, tokenInfo.userId);
    assert.equal(must(account, 'AccountInfo').portalId, tokenInfo.hubId);
    assert.equal(account!.uiDomain, new URL(server.url).host);
  });

  it('hubspot-get-link: builds record links from the account details', async () => {
    const account = must(
      await toolJson<{ portalId: number; uiDomain: string } | null>('hubspot-get-user-details', {}, 2),
      'AccountInfo',
    );
    const links = await toolJson<{ url: string }[]>('hubspot-get-link', {
      portalId: String(account.portalId),
      uiDomain: account.uiDomain,
      pageRequests: [{ pagetype: 'record', objectTypeId: '0-3', objectId: '123' }],
    });
    assert.equal(
      must(links[0], 'link').url,
      `https://${account.uiDomain}/contacts/${account.portalId}/record/0-3/123`,
    );
  });

  it('hubspot-list-properties and hubspot-get-property: stage options follow the pipelines', async () => {
    const pipeline = await dealPipeline('MCP properties');
    const listed = await toolJson<{
      results: { name: string; label: string; type: string; groupName: string }[];
    }>('hubspot-list-properties', { objectType: 'deals' });
    const names = listed.results.map((p) => p.name);
    for (const name of ['dealname', 'dealstage', 'pipeline', 'amount', 'hubspot_owner_id']) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    assert.equal(listed.results.find((p) => p.name === 'dealstage')?.groupName, 'dealinformation');
    const stage = await toolJson<{ options: { value: string; label: string }[] }>('hubspot-get-property', {
      objectType: 'deals',
      propertyName: 'dealstage',
    });
    assert.deepEqual(
      stage.options.slice(-2).map((o) => [o.value, o.label]),
      pipeline.stages.map((s) => [s.id, s.label]),
    );
    const ticketStage = await toolJson<{ options: { value: string }[] }>('hubspot-get-property', {
      objectType: 'tickets',
      propertyName: 'hs_pipeline_stage',
    });
    assert.deepEqual(
      ticketStage.options.map((o) => o.value),
      ['1', '2', '3', '4'],
    );
    assert.match(
      await toolError('hubspot-get-property', { objectType: 'deals', propertyName: 'no_such_property' }),
      /404/,
    );
  });

  it('hubspot-create-property and hubspot-update-property: refused, the properties API is read-only', async () => {
    const create = await toolError('hubspot-create-property', {
      objectType: 'deals',
      name: 'mcp_custom',
      label: 'MCP custom',
      type: 'string',
      fieldType: 'text',
      groupName: 'dealinformation',
    });
    assert.match(create, /405/);
    const update = await toolError('hubspot-update-property', {
      objectType: 'deals',
      propertyName: 'dealname',
      label: 'Renamed',
    });
    assert.match(update, /405/);
    const dealname = await toolJson<{ label: string }>('hubspot-get-property', {
      objectType: 'deals',
      propertyName: 'dealname',
    });
    assert.equal(dealname.label, 'Deal Name');
  });

  it('batch create, read and update, list and search deals', async () => {
    const pipeline = await dealPipeline('MCP records');
    const [open, won] = pipeline.stages;
    const made = await createDeals(['MCP one', 'MCP two'], { dealstage: open!.id });
    assert.equal(made.length, 2);
    for (const deal of made) assert.equal(deal.properties.pipeline, pipeline.id);

    const read = await toolJson<{ results: WireRecord[] }>('hubspot-batch-read-objects', {
      objectType: 'deals',
      inputs: made.map((d) => ({ id: d.id })),
      properties: ['dealname', 'dealstage'],
    });
    assert.deepEqual(read.results.map((d) => d.properties.dealname).sort(), ['MCP one', 'MCP two']);

    const updated = await toolJson<{ status: string; results: WireRecord[] }>(
      'hubspot-batch-update-objects',
      {
        objectType: 'deals',
        inputs: [{ id: made[0]!.id, properties: { dealstage: won!.id } }],
      },
    );
    assert.equal(updated.results[0]?.properties.dealstage, won!.id);

    const listed = await toolJson<{ results: WireRecord[] }>('hubspot-list-objects', {
      objectType: 'deals',
      properties: ['dealname', 'dealstage'],
    });
    const mine = listed.results.filter((d) => made.some((m) => m.id === d.id));
    assert.deepEqual(mine.map((d) => d.properties.dealstage).sort(), [open!.id, won!.id].sort());

    const found = await toolJson<{ results: WireRecord[] }>('hubspot-search-objects', {
      objectType: 'deals',
      filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: 'EQ', value: open!.id }] }],
      sorts: [{ propertyName: 'dealname', direction: 'ASCENDING' }],
      properties: ['dealname'],
    });
    assert.deepEqual(
      found.results.map((d) => d.properties.dealname),
      ['MCP two'],
    );
    const tickets = await toolJson<{ results: WireRecord[] }>('hubspot-search-objects', {
      objectType: 'tickets',
      filterGroups: [{ filters: [{ propertyName: 'hs_pipeline', operator: 'EQ', value: '0' }] }],
    });
    assert.ok(Array.isArray(tickets.results));
  });

  it('a deal created for the owner get-user-details names is found by owner', async () => {
    const owner = must(await toolJson<{ id: string } | null>('hubspot-get-user-details', {}, 1), 'OwnerInfo');
    const [deal] = await createDeals(['MCP owned'], { hubspot_owner_id: owner.id });
    const found = await toolJson<{ results: WireRecord[] }>('hubspot-search-objects', {
      objectType: 'deals',
      filterGroups: [{ filters: [{ propertyName: 'hubspot_owner_id', operator: 'EQ', value: owner.id }] }],
    });
    assert.deepEqual(
      found.results.map((d) => d.id),
      [must(deal, 'deal').id],
    );
  });

  it('hubspot-batch-read-objects with propertiesWithHistory: refused in so many words', async () => {
    const [deal] = await createDeals(['MCP history']);
    const error = await toolError('hubspot-batch-read-objects', {
      objectType: 'deals',
      inputs: [{ id: must(deal, 'deal').id }],
      propertiesWithHistory: ['dealstage'],
    });
    assert.match(error, /400/);
    assert.match(error, /propertiesWithHistory/);
  });

  it('hubspot-search-objects with a query', async () => {
    await createDeals(['Zanzibar expansion', 'Other deal']);
    const found = await toolJson<{ results: WireRecord[] }>('hubspot-search-objects', {
      objectType: 'deals',
      query: 'Zanzibar',
      properties: ['dealname'],
    });
    assert.deepEqual(
      found.results.map((d) => d.properties.dealname),
      ['Zanzibar expansion'],
    );
  });

  it('hubspot-batch-create-objects with associations, then list-objects and list-associations', async () => {
    const contact = await createContact();
    const created = await toolJson<{ results: WireRecord[] }>('hubspot-batch-create-objects', {
      objectType: 'deals',
      inputs: [
        {
          properties: { dealname: 'MCP associated' },
          // HubSpot's deal-to-contact association type.
          associations: [
            {
              types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }],
              to: { id: contact.id },
            },
          ],
        },
      ],
    });
    const deal = must(created.results[0], 'deal');
    const listed = await toolJson<{ results: (WireRecord & { associations?: unknown })[] }>(
      'hubspot-list-objects',
      { objectType: 'deals', associations: ['contacts'] },
    );
    assert.ok(
      JSON.stringify(listed.results.find((d) => d.id === deal.id)?.associations).includes(contact.id),
      'list-objects shows the association',
    );
    const associations = await toolJson<{ results: { toObjectId: number | string }[] }>(
      'hubspot-list-associations',
      { objectType: 'deals', objectId: deal.id, toObjectType: 'contacts' },
    );
    assert.deepEqual(
      associations.results.map((a) => String(a.toObjectId)),
      [contact.id],
    );
  });

  it('hubspot-list-properties and hubspot-get-property with singular type names', async () => {
    const listed = await toolJson<{ results: { name: string }[] }>('hubspot-list-properties', {
      objectType: 'deal',
    });
    assert.ok(listed.results.some((p) => p.name === 'dealstage'));
    const stage = await toolJson<{ name: string }>('hubspot-get-property', {
      objectType: 'ticket',
      propertyName: 'hs_pipeline_stage',
    });
    assert.equal(stage.name, 'hs_pipeline_stage');
  });

  it('hubspot-get-association-definitions and hubspot-batch-create-associations', async () => {
    const labels = await toolJson<{ results: { typeId: number; category: string }[] }>(
      'hubspot-get-association-definitions',
      { fromObjectType: 'deals', toObjectType: 'contacts' },
    );
    assert.ok(labels.results.some((l) => l.typeId === 3 && l.category === 'HUBSPOT_DEFINED'));
    const [deal] = await createDeals(['MCP to associate']);
    const contact = await createContact();
    const made = await toolJson<{ status: string }>('hubspot-batch-create-associations', {
      fromObjectType: 'deals',
      toObjectType: 'contacts',
      types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }],
      inputs: [{ from: { id: must(deal, 'deal').id }, to: { id: contact.id } }],
    });
    assert.equal(made.status, 'COMPLETE');
    const listed = await toolJson<{ results: { toObjectId: number }[] }>('hubspot-list-associations', {
      objectType: 'deals',
      objectId: must(deal, 'deal').id,
      toObjectType: 'contacts',
    });
    assert.deepEqual(
      listed.results.map((a) => String(a.toObjectId)),
      [contact.id],
    );
  });

  it('hubspot-get-schemas: no custom object schemas', async () => {
    const schemas = await toolJson<{ results: unknown[] }>('hubspot-get-schemas', {}, 1);
    assert.deepEqual(schemas.results, []);
  });
});
