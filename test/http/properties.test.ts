// The read-only properties API (`/crm/v3/properties/{objectType}`): HubSpot's property shape,
// every default property the objects API returns, options that follow the portal's live pipelines,
// stages and owners, the per-stage date properties, groups, errors, and the scopes per type.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { LightMyRequestResponse } from 'fastify';

import type { Stageline } from '../../src/stageline.js';
import { HUBSPOT_DEFAULTS } from '../helpers/hubspot-defaults.js';
import type { WireCollection, WirePipeline } from '../helpers/wire-types.js';
import {
  BASE,
  ISO_UTC,
  assertError,
  assertMissingScopes,
  buildStageline,
  call,
  createPipeline,
  dealPipeline,
  json,
  must,
  newToken,
  statePipeline,
  ticketPipeline,
} from './support.js';

interface WireOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
}

interface WireProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  description: string;
  groupName: string;
  options: WireOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined: boolean;
  formField: boolean;
  modificationMetadata: {
    archivable: boolean;
    readOnlyDefinition: boolean;
    readOnlyValue: boolean;
    readOnlyOptions?: boolean;
  };
  referencedObjectType?: string;
  createdAt?: string;
  updatedAt?: string;
  archived: boolean;
}

interface WireGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

const PROPS = '/crm/v3/properties';
const TYPES = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool'];
const FIELD_TYPES = ['text', 'textarea', 'number', 'date', 'select', 'radio', 'checkbox', 'booleancheckbox'];

/** Checks HubSpot's `Property` shape, field by field. */
function assertPropertyShape(p: WireProperty): void {
  const where = `property ${p.name}`;
  for (const key of ['name', 'label', 'description', 'groupName'] as const) {
    assert.equal(typeof p[key], 'string', `${where}: ${key}`);
    assert.ok(p[key].length > 0, `${where}: ${key} is empty`);
  }
  assert.ok(TYPES.includes(p.type), `${where}: type ${p.type}`);
  assert.ok(FIELD_TYPES.includes(p.fieldType), `${where}: fieldType ${p.fieldType}`);
  for (const key of [
    'calculated',
    'externalOptions',
    'hasUniqueValue',
    'hidden',
    'hubspotDefined',
    'formField',
    'archived',
  ] as const) {
    assert.equal(typeof p[key], 'boolean', `${where}: ${key}`);
  }
  assert.ok(Number.isInteger(p.displayOrder), `${where}: displayOrder`);
  assert.equal(p.hubspotDefined, true);
  assert.equal(p.archived, false);
  const meta = p.modificationMetadata;
  assert.equal(typeof meta.archivable, 'boolean', `${where}: archivable`);
  assert.equal(meta.readOnlyDefinition, true, `${where}: readOnlyDefinition`);
  assert.equal(typeof meta.readOnlyValue, 'boolean', `${where}: readOnlyValue`);
  assert.ok(Array.isArray(p.options), `${where}: options`);
  if (p.type === 'enumeration' || p.type === 'bool') {
    assert.equal(meta.readOnlyOptions, true, `${where}: readOnlyOptions`);
  } else {
    assert.deepEqual(p.options, [], `${where}: only enumerations have options`);
  }
  for (const o of p.options) {
    assert.deepEqual(Object.keys(o).sort(), ['displayOrder', 'hidden', 'label', 'value'], where);
    assert.equal(typeof o.label, 'string');
    assert.equal(typeof o.value, 'string');
    assert.ok(Number.isInteger(o.displayOrder));
    assert.equal(o.hidden, false);
  }
  if (p.createdAt !== undefined) assert.match(p.createdAt, ISO_UTC);
  if (p.updatedAt !== undefined) assert.match(p.updatedAt, ISO_UTC);
}

const optionValues = (p: WireProperty) => p.options.map((o) => o.value);
const byName = (list: WireProperty[], name: string) =>
  must(
    list.find((p) => p.name === name),
    `property ${name}`,
  );

describe('properties API (open mode)', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline({ auth: 'open' });
  });
  after(async () => {
    await s.close();
  });

  const list = async (token: string, type: string, query?: Record<string, string>) => {
    const res = await call(s, 'GET', `${PROPS}/${type}`, { token, query });
    assert.equal(res.statusCode, 200, res.body);
    return json<WireCollection<WireProperty>>(res).results;
  };

  /** The default properties the objects API shows for a new record of the type. */
  const recordDefaults = async (token: string, type: string): Promise<string[]> => {
    const created = await call(s, 'POST', `/crm/v3/objects/${type}`, { token, body: { properties: {} } });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = json<{ id: string }>(created);
    const read = await call(s, 'GET', `/crm/v3/objects/${type}/${id}`, { token });
    return Object.keys(json<{ properties: Record<string, unknown> }>(read).properties);
  };

  it('lists every default property the objects API returns, for every kind of type', async () => {
    const token = newToken();
    await createPipeline(s, token, 'orders', statePipeline('Orders'));
    await createPipeline(s, token, '2-7', statePipeline('Custom'));
    for (const type of ['deals', 'tickets', 'contacts', 'companies', 'orders', '2-7']) {
      const names = new Set((await list(token, type)).map((p) => p.name));
      const defaults = await recordDefaults(token, type);
      assert.ok(defaults.length >= 4, `${type}: ${defaults.join(', ')}`);
      for (const name of defaults) assert.ok(names.has(name), `${type}: ${name} is not listed`);
    }
  });

  it("answers in HubSpot's property shape, sorted by name, names unique", async () => {
    const token = newToken();
    for (const type of ['deals', 'tickets', 'contacts', 'companies', 'leads', '0-3']) {
      const all = await list(token, type);
      assert.ok(all.length > 0);
      for (const p of all) assertPropertyShape(p);
      const names = all.map((p) => p.name);
      assert.deepEqual(names, [...names].sort(), `${type}: sorted`);
      assert.equal(new Set(names).size, names.length, `${type}: unique`);
    }
    const deals = await list(token, 'deals');
    // The system properties cannot be written; dealname can.
    for (const name of ['createdate', 'hs_lastmodifieddate', 'hs_object_id', 'hs_date_entered_closedwon']) {
      assert.equal(byName(deals, name).modificationMetadata.readOnlyValue, true, name);
    }
    assert.equal(byName(deals, 'dealname').modificationMetadata.readOnlyValue, false);
    assert.equal(byName(deals, 'amount').type, 'number');
    assert.equal(byName(deals, 'closedate').type, 'datetime');
  });

  it('deal pipeline and stage options are the live pipelines and every stage of them, in order', async () => {
    const token = newToken();
    const zeta = await createPipeline(s, token, 'deals', dealPipeline('Zeta', 2, ['Z open', 'Z won']));
    const alpha = await createPipeline(
      s,
      token,
      'deals',
      dealPipeline('Alpha', 1, ['A open', 'A mid', 'A won']),
    );
    const defaultStages = json<WirePipeline>(await call(s, 'GET', `${BASE}/deals/default`, { token })).stages;

    let deals = await list(token, 'deals');
    const pipeline = byName(deals, 'pipeline');
    assert.equal(pipeline.type, 'enumeration');
    assert.equal(pipeline.externalOptions, true);
    assert.deepEqual(
      pipeline.options.map((o) => [o.label, o.value, o.displayOrder]),
      [
        ['Sales Pipeline', 'default', 0],
        ['Alpha', alpha.id, 1],
        ['Zeta', zeta.id, 2],
      ],
    );
    const stage = byName(deals, 'dealstage');
    assert.equal(stage.externalOptions, true);
    assert.deepEqual(
      stage.options.map((o) => [o.label, o.value, o.displayOrder]),
      [defaultStages, alpha.stages, zeta.stages].flatMap((stages) =>
        stages.map((x) => [x.label, x.id, x.displayOrder]),
      ),
    );

    // One entered and one exited date per live stage, labelled with stage and pipeline.
    const aOpen = must(alpha.stages[0]);
    const entered = byName(deals, `hs_date_entered_${aOpen.id}`);
    assert.equal(entered.label, 'Date entered "A open (Alpha)"');
    assert.equal(entered.type, 'datetime');
    assert.equal(entered.calculated, true);
    assert.equal(entered.createdAt, aOpen.createdAt);
    assert.equal(byName(deals, `hs_date_exited_${aOpen.id}`).label, 'Date exited "A open (Alpha)"');
    assert.equal(
      byName(deals, 'hs_date_entered_closedwon').label,
      'Date entered "Closed Won (Sales Pipeline)"',
    );

    // Archived stages and pipelines drop out of the options and their date properties go.
    const aMid = must(alpha.stages[1]);
    assert.equal(
      (await call(s, 'DELETE', `${BASE}/deals/${alpha.id}/stages/${aMid.id}`, { token })).statusCode,
      204,
    );
    assert.equal((await call(s, 'DELETE', `${BASE}/deals/${zeta.id}`, { token })).statusCode, 204);
    deals = await list(token, 'deals');
    assert.deepEqual(optionValues(byName(deals, 'pipeline')), ['default', alpha.id]);
    assert.deepEqual(optionValues(byName(deals, 'dealstage')), [
      ...defaultStages.map((x) => x.id),
      must(alpha.stages[0]).id,
      must(alpha.stages[2]).id,
    ]);
    const names = deals.map((p) => p.name);
    for (const gone of [aMid.id, ...zeta.stages.map((x) => x.id)]) {
      assert.ok(!names.includes(`hs_date_entered_${gone}`), gone);
      assert.ok(!names.includes(`hs_date_exited_${gone}`), gone);
    }
    // Renaming a pipeline renames its options at once.
    await call(s, 'PATCH', `${BASE}/deals/${alpha.id}`, { token, body: { label: 'Alpha 2' } });
    const renamed = await call(s, 'GET', `${PROPS}/deals/pipeline`, { token });
    assert.equal(must(json<WireProperty>(renamed).options[1]).label, 'Alpha 2');
  });

  it("another portal's pipelines never show", async () => {
    const a = newToken();
    const b = newToken();
    const mine = await createPipeline(s, a, 'deals', dealPipeline('Only in A'));
    const theirs = await list(b, 'deals');
    assert.deepEqual(optionValues(byName(theirs, 'pipeline')), ['default']);
    assert.ok(!optionValues(byName(theirs, 'dealstage')).includes(must(mine.stages[0]).id));
  });

  it('tickets use hs_pipeline and hs_pipeline_stage; contacts and companies lifecyclestage', async () => {
    const token = newToken();
    const tickets = await list(token, 'tickets');
    assert.deepEqual(
      byName(tickets, 'hs_pipeline').options.map((o) => [o.label, o.value]),
      [['Support Pipeline', '0']],
    );
    assert.deepEqual(
      byName(tickets, 'hs_pipeline_stage').options.map((o) => [o.value, o.label]),
      HUBSPOT_DEFAULTS.tickets.stages.map(([id, label]) => [id, label]),
    );
    assert.deepEqual(optionValues(byName(tickets, 'hs_ticket_priority')), [
      'LOW',
      'MEDIUM',
      'HIGH',
      'URGENT',
    ]);
    assert.equal(byName(tickets, 'hs_ticket_priority').externalOptions, false);
    const second = await createPipeline(s, token, 'tickets', ticketPipeline('Escalations'));
    const withSecond = await list(token, 'tickets');
    assert.deepEqual(optionValues(byName(withSecond, 'hs_pipeline')), ['0', second.id]);
    assert.deepEqual(optionValues(byName(withSecond, 'hs_pipeline_stage')), [
      ...HUBSPOT_DEFAULTS.tickets.stages.map(([id]) => id),
      ...second.stages.map((x) => x.id),
    ]);

    for (const type of ['contacts', 'companies']) {
      const all = await list(token, type);
      assert.deepEqual(
        optionValues(byName(all, 'lifecyclestage')),
        HUBSPOT_DEFAULTS.lifecycle.stageIds,
        type,
      );
      assert.equal(byName(all, 'lifecyclestage').options[1]?.label, 'Lead');
      const names = all.map((p) => p.name);
      assert.ok(
        !names.includes('pipeline') && !names.includes('hs_pipeline'),
        `${type} has no pipeline property`,
      );
      assert.equal(
        byName(all, 'hs_date_entered_lead').label,
        'Date entered "Lead (Lifecycle Stage Pipeline)"',
        type,
      );
    }
  });

  it('other pipeline types and custom objects list their own pipelines', async () => {
    const token = newToken();
    for (const type of ['orders', 'leads', '2-31', '0-421']) {
      let all = await list(token, type);
      assert.deepEqual(byName(all, 'hs_pipeline').options, [], `${type}: no pipelines yet`);
      assert.deepEqual(byName(all, 'hs_pipeline_stage').options, []);
      const created = await createPipeline(s, token, type, statePipeline(`${type} pipeline`, 3));
      all = await list(token, type);
      assert.deepEqual(optionValues(byName(all, 'hs_pipeline')), [created.id], type);
      assert.deepEqual(
        optionValues(byName(all, 'hs_pipeline_stage')),
        created.stages.map((x) => x.id),
      );
      assert.ok(
        all.some((p) => p.name === 'hs_createdate'),
        `${type}: hs_createdate`,
      );
    }
  });

  it("hubspot_owner_id's options are the portal's owners", async () => {
    const token = newToken();
    const owners = json<WireCollection<{ id: string; firstName: string; lastName: string }>>(
      await call(s, 'GET', '/crm/v3/owners', { token }),
    ).results;
    for (const type of ['deals', 'tickets', 'contacts', 'companies', 'orders']) {
      const owner = byName(await list(token, type), 'hubspot_owner_id');
      assert.equal(owner.type, 'enumeration');
      assert.equal(owner.referencedObjectType, 'OWNER');
      assert.equal(owner.externalOptions, true);
      assert.deepEqual(
        owner.options.map((o) => [o.value, o.label]),
        owners.map((o) => [o.id, `${o.firstName} ${o.lastName}`]),
      );
    }
  });

  it("lists the derived deal properties HubSpot's integrations read", async () => {
    const deals = await list(newToken(), 'deals');
    for (const [name, type] of [
      ['hs_is_closed', 'bool'],
      ['hs_is_closed_won', 'bool'],
      ['hs_deal_stage_probability', 'number'],
      ['hs_v2_date_entered_current_stage', 'datetime'],
    ] as const) {
      const p = byName(deals, name);
      assert.equal(p.type, type, name);
      assert.equal(p.calculated, true, name);
      assert.equal(p.modificationMetadata.readOnlyValue, true, name);
    }
    assert.deepEqual(optionValues(byName(deals, 'hs_is_closed')), ['true', 'false']);
    const tickets = (await list(newToken(), 'tickets')).map((p) => p.name);
    assert.ok(!tickets.includes('hs_deal_stage_probability'));
  });

  it('lists closed_date, time_to_close and hs_is_closed for tickets and the other pipeline types', async () => {
    const token = newToken();
    for (const type of ['tickets', 'orders', 'leads', 'services', '2-7']) {
      const props = await list(token, type);
      for (const [name, kind] of [
        ['closed_date', 'datetime'],
        ['time_to_close', 'number'],
        ['hs_is_closed', 'bool'],
      ] as const) {
        const p = byName(props, name);
        assert.equal(p.type, kind, `${type}: ${name}`);
        assert.equal(p.calculated, true, `${type}: ${name}`);
        assert.equal(p.modificationMetadata.readOnlyValue, true, `${type}: ${name}`);
      }
    }
    // Deals close with closedate; contacts and companies have no close stamps.
    for (const type of ['deals', 'contacts', 'companies']) {
      const names = (await list(token, type)).map((p) => p.name);
      assert.ok(!names.includes('closed_date') && !names.includes('time_to_close'), type);
    }
  });

  it('gets one property as the list shows it, or a 404', async () => {
    const token = newToken();
    const deals = await list(token, 'deals');
    for (const p of deals) {
      const res = await call(s, 'GET', `${PROPS}/deals/${p.name}`, { token });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(json<WireProperty>(res), p);
    }
    // Type ids and names are the same type.
    const byId = await call(s, 'GET', `${PROPS}/0-3/dealstage`, { token });
    assert.deepEqual(json<WireProperty>(byId), byName(deals, 'dealstage'));

    assertError(
      await call(s, 'GET', `${PROPS}/deals/no_such_property`, { token }),
      404,
      'OBJECT_NOT_FOUND',
      /no_such_property/,
    );
    // A ticket property is not a deal property.
    assertError(
      await call(s, 'GET', `${PROPS}/deals/hs_ticket_priority`, { token }),
      404,
      'OBJECT_NOT_FOUND',
    );
    // Nothing is archived.
    assertError(
      await call(s, 'GET', `${PROPS}/deals/dealname`, { token, query: { archived: 'true' } }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assert.deepEqual(await list(token, 'deals', { archived: 'true' }), []);
  });

  it('`properties` narrows the list to the names given', async () => {
    const token = newToken();
    const some = await list(token, 'deals', { properties: 'dealstage, pipeline,nope' });
    assert.deepEqual(
      some.map((p) => p.name),
      ['dealstage', 'pipeline'],
    );
    assert.equal(
      (await list(token, 'deals', { includeHidden: 'true' })).length,
      (await list(token, 'deals')).length,
    );
  });

  it("lists the type's property groups; every property is in one of them", async () => {
    const token = newToken();
    const cases: [type: string, group: string][] = [
      ['deals', 'dealinformation'],
      ['tickets', 'ticketinformation'],
      ['contacts', 'contactinformation'],
      ['companies', 'companyinformation'],
      ['orders', 'orderinformation'],
    ];
    for (const [type, name] of cases) {
      const res = await call(s, 'GET', `${PROPS}/${type}/groups`, { token });
      assert.equal(res.statusCode, 200, res.body);
      const groups = json<WireCollection<WireGroup>>(res).results;
      assert.deepEqual(
        groups.map((g) => g.name),
        [name],
      );
      const group = must(groups[0]);
      assert.equal(typeof group.label, 'string');
      assert.equal(group.archived, false);
      assert.ok(Number.isInteger(group.displayOrder));
      const names = new Set(groups.map((g) => g.name));
      for (const p of await list(token, type)) assert.ok(names.has(p.groupName), `${type}: ${p.groupName}`);
      const one = await call(s, 'GET', `${PROPS}/${type}/groups/${name}`, { token });
      assert.deepEqual(json<WireGroup>(one), group);
    }
    assertError(await call(s, 'GET', `${PROPS}/deals/groups/nope`, { token }), 404, 'OBJECT_NOT_FOUND');
  });

  it('errors: no token, unknown type, bad flags, and every write', async () => {
    const token = newToken();
    assertError(await call(s, 'GET', `${PROPS}/deals`, { token: null }), 401, 'INVALID_AUTHENTICATION');
    assertError(
      await call(s, 'GET', `${PROPS}/nonsense`, { token }),
      400,
      'VALIDATION_ERROR',
      'Unable to infer object type from: nonsense',
    );
    assertError(
      await call(s, 'GET', `${PROPS}/nonsense/dealstage`, { token }),
      400,
      'VALIDATION_ERROR',
      'Unable to infer object type from: nonsense',
    );
    assertError(
      await call(s, 'GET', `${PROPS}/deals`, { token, query: { archived: 'sometimes' } }),
      400,
      'VALIDATION_ERROR',
    );
    const writes: [string, string][] = [
      ['POST', `${PROPS}/deals`],
      ['PATCH', `${PROPS}/deals/dealname`],
      ['DELETE', `${PROPS}/deals/dealname`],
      ['POST', `${PROPS}/deals/groups`],
      ['DELETE', `${PROPS}/deals/groups/dealinformation`],
    ];
    for (const [method, url] of writes) {
      const res: LightMyRequestResponse = await call(s, method as 'POST', url, {
        token,
        body: { name: 'x' },
      });
      assertError(res, 405, 'VALIDATION_ERROR');
      assert.match(String(res.headers.allow), /GET/);
    }
  });
});

describe('properties API scopes (tokens mode)', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline({ auth: 'tokens' });
  });
  after(async () => {
    await s.close();
  });

  /**
   * The scopes HubSpot's security blocks of the property reads list, per type: the type's
   * object scopes, its schema read scope, and the legacy equivalents.
   */
  const ACCEPTED: Record<string, string[]> = {
    deals: ['crm.objects.deals.read', 'crm.objects.deals.write', 'crm.schemas.deals.read'],
    tickets: ['crm.objects.tickets.read', 'crm.objects.tickets.write', 'crm.schemas.tickets.read', 'tickets'],
    contacts: ['crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.schemas.contacts.read'],
    orders: [
      'crm.objects.orders.read',
      'crm.objects.orders.write',
      'crm.schemas.orders.read',
      'e-commerce',
      'crm.pipelines.orders.read',
    ],
    '2-9': ['crm.objects.custom.read', 'crm.objects.custom.write', 'crm.schemas.custom.read'],
  };
  const ALL = [...new Set(Object.values(ACCEPTED).flat())];

  let portal = 7000;
  for (const [type, accepted] of Object.entries(ACCEPTED)) {
    it(`${type}: each accepted scope alone reads; every other scope gets 403`, async () => {
      for (const scope of accepted) {
        const { token } = await s.auth.issueToken({ portalId: ++portal, scopes: [scope] });
        const res = await call(s, 'GET', `${PROPS}/${type}`, { token });
        assert.equal(res.statusCode, 200, `${scope}: ${res.body}`);
        const one = await call(s, 'GET', `${PROPS}/${type}/hs_object_id`, { token });
        assert.equal(one.statusCode, 200, `${scope}: ${one.body}`);
      }
      // Writing the schema is not reading it, and no other type's scope will do.
      const others = [...ALL.filter((x) => !accepted.includes(x)), `crm.schemas.${type}.write`, 'oauth'];
      const { token } = await s.auth.issueToken({ portalId: ++portal, scopes: others });
      for (const url of [`${PROPS}/${type}`, `${PROPS}/${type}/hs_object_id`, `${PROPS}/${type}/groups`]) {
        assertMissingScopes(await call(s, 'GET', url, { token }), accepted);
      }
    });
  }
});
