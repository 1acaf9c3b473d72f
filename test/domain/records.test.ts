// CRM records as far as pipelines care (src/domain/records.ts): property names per type, client
// input, the stage-entry bookkeeping of writes and the properties a response shows.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DomainError } from '../../src/domain/errors.js';
import type { ErrorDetail } from '../../src/domain/errors.js';
import { resolveObjectType } from '../../src/domain/object-types.js';
import type { ObjectType } from '../../src/domain/object-types.js';
import {
  applyRecordWrite,
  propertyNames,
  readPropertyInput,
  selectProperties,
} from '../../src/domain/records.js';
import type { CrmRecord, PropertiesInput, PropertyChanges } from '../../src/domain/records.js';
import { APPOINTMENTS, CONTACTS, CUSTOM, DEALS, NOW, PORTAL, T0, TICKETS, deepFreeze } from './fixtures.js';
import { HUBSPOT_DEFAULT_PROPERTIES } from '../helpers/hubspot-defaults.js';

const COMPANIES = resolveObjectType('companies', PORTAL);
const ORDERS = resolveObjectType('orders', PORTAL);
const LEADS = resolveObjectType('leads', PORTAL);

/** HubSpot's property timestamps: ISO-8601 UTC with milliseconds. */
const iso = (ms: number): string => new Date(ms).toISOString();

/** The errors[] of the VALIDATION_ERROR that `fn` throws. */
function inputErrors(fn: () => unknown): ErrorDetail[] {
  let details: ErrorDetail[] | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DomainError, `expected a DomainError, got: ${String(err)}`);
    assert.equal(err.category, 'VALIDATION_ERROR');
    assert.match(err.message, /^Property values were not valid: /);
    details = err.extras.errors;
    return true;
  });
  assert.ok(details !== undefined && details.length > 0, 'errors[] is missing or empty');
  return details;
}

const codes = (details: ErrorDetail[]) => details.map((d) => [d.in, d.code]);

const noChanges: PropertyChanges = { set: {}, clear: [], pipeline: undefined, stage: undefined };
const changes = (overrides: Partial<PropertyChanges> = {}): PropertyChanges => ({
  ...noChanges,
  ...overrides,
});

describe('propertyNames', () => {
  it('deals: pipeline and dealstage, createdate and hs_lastmodifieddate, HubSpot’s default set', () => {
    const n = propertyNames(DEALS);
    assert.equal(n.pipeline, 'pipeline');
    assert.equal(n.stage, 'dealstage');
    assert.equal(n.created, 'createdate');
    assert.equal(n.modified, 'hs_lastmodifieddate');
    assert.deepEqual(n.defaults, [...HUBSPOT_DEFAULT_PROPERTIES.deals]);
  });

  it('tickets: hs_pipeline and hs_pipeline_stage, HubSpot’s default set', () => {
    const n = propertyNames(TICKETS);
    assert.equal(n.pipeline, 'hs_pipeline');
    assert.equal(n.stage, 'hs_pipeline_stage');
    assert.equal(n.created, 'createdate');
    assert.equal(n.modified, 'hs_lastmodifieddate');
    assert.deepEqual(n.defaults, [...HUBSPOT_DEFAULT_PROPERTIES.tickets]);
  });

  for (const type of [CONTACTS, COMPANIES]) {
    it(`${type.name}: the lifecycle stage, and no pipeline property`, () => {
      const n = propertyNames(type);
      assert.equal(n.pipeline, null);
      assert.equal(n.stage, 'lifecyclestage');
      assert.equal(n.created, 'createdate');
      for (const name of ['pipeline', 'hs_pipeline', 'dealstage', 'hs_pipeline_stage']) {
        assert.ok(!n.defaults.includes(name), `${name} is among the defaults of ${type.name}`);
      }
      for (const name of ['createdate', n.modified, 'hs_object_id']) assert.ok(n.defaults.includes(name));
    });
  }

  it('contacts use lastmodifieddate, companies hs_lastmodifieddate', () => {
    assert.equal(propertyNames(CONTACTS).modified, 'lastmodifieddate');
    assert.equal(propertyNames(COMPANIES).modified, 'hs_lastmodifieddate');
    for (const name of ['email', 'firstname', 'lastname'])
      assert.ok(propertyNames(CONTACTS).defaults.includes(name));
    for (const name of ['domain', 'name']) assert.ok(propertyNames(COMPANIES).defaults.includes(name));
  });

  for (const type of [APPOINTMENTS, ORDERS, LEADS, CUSTOM]) {
    it(`${type.key} (${type.name}): hs_pipeline, hs_pipeline_stage and hs_createdate`, () => {
      const n = propertyNames(type);
      assert.equal(n.pipeline, 'hs_pipeline');
      assert.equal(n.stage, 'hs_pipeline_stage');
      assert.equal(n.created, 'hs_createdate');
      assert.equal(n.modified, 'hs_lastmodifieddate');
      assert.deepEqual(n.defaults, [
        'hs_createdate',
        'hs_lastmodifieddate',
        'hs_object_id',
        'hs_pipeline',
        'hs_pipeline_stage',
      ]);
    });
  }

  it('lists the defaults sorted, each once', () => {
    for (const type of [DEALS, TICKETS, CONTACTS, COMPANIES, CUSTOM]) {
      const d = propertyNames(type).defaults;
      assert.deepEqual([...d].sort(), d);
      assert.equal(new Set(d).size, d.length);
    }
  });
});

describe('readPropertyInput', () => {
  it('turns numbers and booleans into strings and separates the pipeline and stage', () => {
    const input = deepFreeze({
      dealname: 'Big deal',
      amount: 1500,
      discount: 0.25,
      negative: -3,
      hot: true,
      cold: false,
      pipeline: 'default',
      dealstage: 'closedwon',
    });
    assert.deepEqual(readPropertyInput(DEALS, input), {
      set: {
        dealname: 'Big deal',
        amount: '1500',
        discount: '0.25',
        negative: '-3',
        hot: 'true',
        cold: 'false',
      },
      clear: [],
      pipeline: 'default',
      stage: 'closedwon',
    });
  });

  it('keeps numeric pipeline and stage values as strings', () => {
    const got = readPropertyInput(TICKETS, { hs_pipeline: 0, hs_pipeline_stage: 4, subject: 'Help' });
    assert.equal(got.pipeline, '0');
    assert.equal(got.stage, '4');
    assert.deepEqual(got.set, { subject: 'Help' });
  });

  it('null and "" clear a property', () => {
    const got = readPropertyInput(DEALS, { description: null, amount: '', dealname: 'kept' });
    assert.deepEqual(got.set, { dealname: 'kept' });
    assert.deepEqual([...got.clear].sort(), ['amount', 'description']);
    assert.equal(got.pipeline, undefined);
    assert.equal(got.stage, undefined);
  });

  it('keeps whitespace-only and "0" values as values', () => {
    const got = readPropertyInput(DEALS, { a: ' ', b: '0', c: 0 });
    assert.deepEqual(got.set, { a: ' ', b: '0', c: '0' });
    assert.deepEqual(got.clear, []);
  });

  it('answers empty changes for empty input', () => {
    assert.deepEqual(readPropertyInput(DEALS, {}), noChanges);
  });

  it('uses each type’s own pipeline and stage property names', () => {
    // For tickets, `pipeline` and `dealstage` are plain properties, and the other way round for deals.
    const tickets = readPropertyInput(TICKETS, {
      hs_pipeline: '0',
      hs_pipeline_stage: '1',
      pipeline: 'x',
      dealstage: 'y',
    });
    assert.deepEqual(tickets, {
      set: { pipeline: 'x', dealstage: 'y' },
      clear: [],
      pipeline: '0',
      stage: '1',
    });

    const deals = readPropertyInput(DEALS, { hs_pipeline: 'x', hs_pipeline_stage: 'y' });
    assert.deepEqual(deals, {
      set: { hs_pipeline: 'x', hs_pipeline_stage: 'y' },
      clear: [],
      pipeline: undefined,
      stage: undefined,
    });

    const custom = readPropertyInput(CUSTOM, { hs_pipeline: 'p', hs_pipeline_stage: 's' });
    assert.equal(custom.pipeline, 'p');
    assert.equal(custom.stage, 's');
  });

  it('contacts and companies: lifecyclestage is the stage, and no property is the pipeline', () => {
    for (const type of [CONTACTS, COMPANIES]) {
      const got = readPropertyInput(type, { lifecyclestage: 'lead', pipeline: 'p', hs_pipeline: 'q' });
      assert.equal(got.stage, 'lead');
      assert.equal(got.pipeline, undefined);
      assert.deepEqual(got.set, { pipeline: 'p', hs_pipeline: 'q' });
    }
  });

  it('refuses every read-only property with READ_ONLY_VALUE, all of them at once', () => {
    const details = inputErrors(() =>
      readPropertyInput(DEALS, {
        dealname: 'fine',
        hs_object_id: '5',
        createdate: '2024-01-01T00:00:00Z',
        hs_lastmodifieddate: '2024-01-01T00:00:00Z',
        hs_date_entered_closedwon: '2024-01-01T00:00:00Z',
        hs_date_exited_appointmentscheduled: '2024-01-01T00:00:00Z',
      }),
    );
    assert.deepEqual(codes(details), [
      ['hs_object_id', 'READ_ONLY_VALUE'],
      ['createdate', 'READ_ONLY_VALUE'],
      ['hs_lastmodifieddate', 'READ_ONLY_VALUE'],
      ['hs_date_entered_closedwon', 'READ_ONLY_VALUE'],
      ['hs_date_exited_appointmentscheduled', 'READ_ONLY_VALUE'],
    ]);
    for (const d of details) assert.match(d.message, /read-only/);
  });

  it('refuses a read-only property even when clearing it', () => {
    for (const value of [null, '']) {
      assert.deepEqual(codes(inputErrors(() => readPropertyInput(DEALS, { hs_object_id: value }))), [
        ['hs_object_id', 'READ_ONLY_VALUE'],
      ]);
    }
  });

  it('knows each type’s own created and modified properties', () => {
    assert.deepEqual(codes(inputErrors(() => readPropertyInput(CUSTOM, { hs_createdate: 'x' }))), [
      ['hs_createdate', 'READ_ONLY_VALUE'],
    ]);
    assert.deepEqual(
      codes(inputErrors(() => readPropertyInput(APPOINTMENTS, { hs_lastmodifieddate: 'x' }))),
      [['hs_lastmodifieddate', 'READ_ONLY_VALUE']],
    );
    assert.deepEqual(codes(inputErrors(() => readPropertyInput(CONTACTS, { lastmodifieddate: 'x' }))), [
      ['lastmodifieddate', 'READ_ONLY_VALUE'],
    ]);
    assert.deepEqual(codes(inputErrors(() => readPropertyInput(TICKETS, { createdate: 'x' }))), [
      ['createdate', 'READ_ONLY_VALUE'],
    ]);
  });

  it('refuses invalid property names', () => {
    const bad = ['with space', 'with-dash', 'dot.ted', '', 'x'.repeat(101), 'émoji', 'semi;colon'];
    for (const name of bad) {
      const details = inputErrors(() => readPropertyInput(DEALS, { [name]: 'v' }));
      assert.deepEqual(codes(details), [[name, 'INVALID_PROPERTY']], `name ${JSON.stringify(name)}`);
    }
    // The longest allowed name, digits and underscores are fine.
    const ok = 'a'.repeat(100);
    assert.deepEqual(readPropertyInput(DEALS, { [ok]: 'v', _x_1: 'w', '9lives': 'z' }).set, {
      [ok]: 'v',
      _x_1: 'w',
      '9lives': 'z',
    });
  });

  it('refuses objects and arrays as values', () => {
    const details = inputErrors(() =>
      readPropertyInput(DEALS, { nested: { a: 1 }, list: ['a'], dealstage: { id: 'x' } } as PropertiesInput),
    );
    assert.deepEqual(codes(details), [
      ['nested', 'INVALID_TYPE'],
      ['list', 'INVALID_TYPE'],
      ['dealstage', 'INVALID_TYPE'],
    ]);
  });

  it('refuses clearing the pipeline or the stage', () => {
    for (const [type, input, name] of [
      [DEALS, { pipeline: null }, 'pipeline'],
      [DEALS, { pipeline: '' }, 'pipeline'],
      [DEALS, { dealstage: null }, 'dealstage'],
      [DEALS, { dealstage: '' }, 'dealstage'],
      [TICKETS, { hs_pipeline_stage: null }, 'hs_pipeline_stage'],
      [CUSTOM, { hs_pipeline: '' }, 'hs_pipeline'],
    ] as Array<[ObjectType, PropertiesInput, string]>) {
      assert.deepEqual(codes(inputErrors(() => readPropertyInput(type, input))), [[name, 'INVALID_OPTION']]);
    }
  });

  it('collects errors of different kinds in input order', () => {
    const details = inputErrors(() =>
      readPropertyInput(DEALS, { 'bad name': 1, createdate: 'x', obj: {}, dealstage: null, fine: 'ok' }),
    );
    assert.deepEqual(codes(details), [
      ['bad name', 'INVALID_PROPERTY'],
      ['createdate', 'READ_ONLY_VALUE'],
      ['obj', 'INVALID_TYPE'],
      ['dealstage', 'INVALID_OPTION'],
    ]);
  });
});

describe('applyRecordWrite', () => {
  const open = { pipelineId: 'default', stageId: 'appointmentscheduled' };
  const qualified = { pipelineId: 'default', stageId: 'qualifiedtobuy' };

  const created = (): CrmRecord =>
    applyRecordWrite(DEALS, undefined, '101', changes({ set: { dealname: 'A', amount: '10' } }), open, T0);

  it('creates a record with its system properties, placement and entry stamp', () => {
    const record = created();
    assert.deepEqual(record, {
      id: '101',
      properties: {
        dealname: 'A',
        amount: '10',
        hs_object_id: '101',
        createdate: iso(T0),
        hs_lastmodifieddate: iso(T0),
        pipeline: 'default',
        dealstage: 'appointmentscheduled',
        hs_date_entered_appointmentscheduled: iso(T0),
        hs_v2_date_entered_appointmentscheduled: iso(T0),
      },
      pipelineId: 'default',
      stageId: 'appointmentscheduled',
      createdAt: T0,
      updatedAt: T0,
      archivedAt: null,
    });
    assert.match(record.properties.createdate!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('creates a record with no placement when the type has no pipeline', () => {
    const record = applyRecordWrite(CUSTOM, undefined, '7', changes({ set: { name: 'x' } }), null, T0);
    assert.deepEqual(record, {
      id: '7',
      properties: { name: 'x', hs_object_id: '7', hs_createdate: iso(T0), hs_lastmodifieddate: iso(T0) },
      pipelineId: null,
      stageId: null,
      createdAt: T0,
      updatedAt: T0,
      archivedAt: null,
    });
  });

  it('writes the type’s own pipeline and stage properties', () => {
    const ticket = applyRecordWrite(
      TICKETS,
      undefined,
      '8',
      noChanges,
      { pipelineId: '0', stageId: '1' },
      T0,
    );
    assert.equal(ticket.properties.hs_pipeline, '0');
    assert.equal(ticket.properties.hs_pipeline_stage, '1');
    assert.equal(ticket.properties.hs_date_entered_1, iso(T0));
    assert.equal(ticket.properties.createdate, iso(T0));
    assert.equal(ticket.properties.pipeline, undefined);

    const custom = applyRecordWrite(CUSTOM, undefined, '9', noChanges, { pipelineId: 'p', stageId: 's' }, T0);
    assert.equal(custom.properties.hs_pipeline, 'p');
    assert.equal(custom.properties.hs_pipeline_stage, 's');
    assert.equal(custom.properties.hs_createdate, iso(T0));
    assert.equal(custom.properties.createdate, undefined);
  });

  it('contacts: sets lifecyclestage but no pipeline property, and keeps the pipeline on the record', () => {
    const placement = { pipelineId: 'contacts-lifecycle-pipeline', stageId: 'lead' };
    const contact = applyRecordWrite(CONTACTS, undefined, '10', noChanges, placement, T0);
    assert.deepEqual(contact.properties, {
      hs_object_id: '10',
      createdate: iso(T0),
      lastmodifieddate: iso(T0),
      lifecyclestage: 'lead',
      hs_date_entered_lead: iso(T0),
      hs_v2_date_entered_lead: iso(T0),
    });
    assert.equal(contact.pipelineId, 'contacts-lifecycle-pipeline');
    assert.equal(contact.stageId, 'lead');
  });

  it('keeps createdate and createdAt on update and refreshes the modified date', () => {
    const updated = applyRecordWrite(DEALS, created(), '101', changes({ set: { dealname: 'B' } }), null, NOW);
    assert.equal(updated.properties.createdate, iso(T0));
    assert.equal(updated.properties.hs_lastmodifieddate, iso(NOW));
    assert.equal(updated.properties.dealname, 'B');
    assert.equal(updated.properties.amount, '10');
    assert.equal(updated.createdAt, T0);
    assert.equal(updated.updatedAt, NOW);
  });

  it('merges set properties and removes cleared ones', () => {
    const updated = applyRecordWrite(
      DEALS,
      created(),
      '101',
      changes({ set: { closedate: '2030-01-01' }, clear: ['amount', 'never_set'] }),
      null,
      NOW,
    );
    assert.equal(updated.properties.closedate, '2030-01-01');
    assert.equal(updated.properties.dealname, 'A');
    assert.ok(!('amount' in updated.properties));
    assert.ok(!('never_set' in updated.properties));
  });

  it('without a placement keeps the pipeline, stage and stamps as they were', () => {
    const before = created();
    const updated = applyRecordWrite(DEALS, before, '101', changes({ set: { dealname: 'B' } }), null, NOW);
    assert.equal(updated.pipelineId, 'default');
    assert.equal(updated.stageId, 'appointmentscheduled');
    assert.equal(updated.properties.dealstage, 'appointmentscheduled');
    assert.equal(updated.properties.pipeline, 'default');
    assert.equal(updated.properties.hs_date_entered_appointmentscheduled, iso(T0));
    assert.deepEqual(
      Object.keys(updated.properties).filter((k) => k.startsWith('hs_date_')),
      ['hs_date_entered_appointmentscheduled'],
    );
  });

  it('adds no stamps when the placement names the current stage', () => {
    const updated = applyRecordWrite(DEALS, created(), '101', changes({ stage: open.stageId }), open, NOW);
    assert.equal(updated.properties.hs_date_entered_appointmentscheduled, iso(T0));
    assert.equal(updated.properties.hs_date_exited_appointmentscheduled, undefined);
    assert.deepEqual(
      Object.keys(updated.properties).filter((k) => k.startsWith('hs_date_')),
      ['hs_date_entered_appointmentscheduled'],
    );
  });

  it('stamps the stage left and the stage entered on a move', () => {
    const moved = applyRecordWrite(
      DEALS,
      created(),
      '101',
      changes({ stage: 'qualifiedtobuy' }),
      qualified,
      NOW,
    );
    assert.equal(moved.stageId, 'qualifiedtobuy');
    assert.equal(moved.pipelineId, 'default');
    assert.equal(moved.properties.dealstage, 'qualifiedtobuy');
    assert.equal(moved.properties.hs_date_entered_appointmentscheduled, iso(T0));
    assert.equal(moved.properties.hs_date_exited_appointmentscheduled, iso(NOW));
    assert.equal(moved.properties.hs_date_entered_qualifiedtobuy, iso(NOW));
    assert.equal(moved.properties.hs_date_exited_qualifiedtobuy, undefined);
  });

  it('re-entering a stage stamps it again and clears its old exit stamp', () => {
    const moved = applyRecordWrite(DEALS, created(), '101', noChanges, qualified, NOW);
    const back = applyRecordWrite(DEALS, moved, '101', noChanges, open, NOW + 5);
    assert.equal(back.stageId, 'appointmentscheduled');
    assert.equal(back.properties.hs_date_entered_appointmentscheduled, iso(NOW + 5));
    assert.equal(back.properties.hs_date_exited_appointmentscheduled, undefined);
    assert.ok(!('hs_date_exited_appointmentscheduled' in back.properties));
    assert.equal(back.properties.hs_date_entered_qualifiedtobuy, iso(NOW));
    assert.equal(back.properties.hs_date_exited_qualifiedtobuy, iso(NOW + 5));
  });

  it('moves across pipelines, stamping both stages', () => {
    const other = { pipelineId: 'other', stageId: 'o1' };
    const moved = applyRecordWrite(DEALS, created(), '101', noChanges, other, NOW);
    assert.equal(moved.pipelineId, 'other');
    assert.equal(moved.properties.pipeline, 'other');
    assert.equal(moved.properties.dealstage, 'o1');
    assert.equal(moved.properties.hs_date_exited_appointmentscheduled, iso(NOW));
    assert.equal(moved.properties.hs_date_entered_o1, iso(NOW));
  });

  it('keeps an archived record archived', () => {
    const archived = { ...created(), archivedAt: T0 + 1 };
    assert.equal(applyRecordWrite(DEALS, archived, '101', noChanges, null, NOW).archivedAt, T0 + 1);
  });

  it('never mutates its inputs', () => {
    const current = deepFreeze(created());
    const snapshot = structuredClone(current);
    const change = deepFreeze(
      changes({ set: { dealname: 'C' }, clear: ['amount'], stage: 'qualifiedtobuy' }),
    );
    const placement = deepFreeze({ ...qualified });
    const next = applyRecordWrite(DEALS, current, '101', change, placement, NOW);
    assert.deepEqual(current, snapshot);
    assert.notEqual(next.properties, current.properties);
    assert.equal(next.properties.dealname, 'C');
    // A create with frozen input works too.
    applyRecordWrite(DEALS, undefined, '102', change, placement, NOW);
  });
});

describe('selectProperties', () => {
  const record = applyRecordWrite(
    DEALS,
    undefined,
    '55',
    changes({ set: { dealname: 'Deal', custom_prop: 'c' } }),
    { pipelineId: 'default', stageId: 'closedwon' },
    T0,
  );

  it('shows the requested properties, null when unset, plus the system ones', () => {
    assert.deepEqual(selectProperties(DEALS, record, ['dealname', 'custom_prop', 'missing']), {
      dealname: 'Deal',
      custom_prop: 'c',
      missing: null,
      createdate: iso(T0),
      hs_lastmodifieddate: iso(T0),
      hs_object_id: '55',
    });
  });

  it('shows stamps and placement only when asked', () => {
    const got = selectProperties(DEALS, record, ['hs_date_entered_closedwon', 'dealstage']);
    assert.equal(got.hs_date_entered_closedwon, iso(T0));
    assert.equal(got.dealstage, 'closedwon');
    assert.ok(!('pipeline' in got));
    assert.ok(!('dealname' in got));
  });

  it('shows the type’s defaults when none are requested', () => {
    assert.deepEqual(selectProperties(DEALS, record, undefined), {
      amount: null,
      closedate: null,
      createdate: iso(T0),
      dealname: 'Deal',
      dealstage: 'closedwon',
      hs_lastmodifieddate: iso(T0),
      hs_object_id: '55',
      pipeline: 'default',
    });
  });

  it('shows only the system properties for an empty request', () => {
    assert.deepEqual(selectProperties(DEALS, record, []), {
      createdate: iso(T0),
      hs_lastmodifieddate: iso(T0),
      hs_object_id: '55',
    });
  });

  it('uses the type’s own system property names', () => {
    const contact = applyRecordWrite(
      CONTACTS,
      undefined,
      '3',
      changes({ set: { email: 'a@b.c' } }),
      null,
      T0,
    );
    assert.deepEqual(selectProperties(CONTACTS, contact, ['email']), {
      email: 'a@b.c',
      createdate: iso(T0),
      lastmodifieddate: iso(T0),
      hs_object_id: '3',
    });
    const custom = applyRecordWrite(CUSTOM, undefined, '4', noChanges, null, T0);
    assert.deepEqual(selectProperties(CUSTOM, custom, []), {
      hs_createdate: iso(T0),
      hs_lastmodifieddate: iso(T0),
      hs_object_id: '4',
    });
  });
});
