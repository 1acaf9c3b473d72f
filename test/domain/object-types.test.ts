import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { STANDARD_TYPES, resolveObjectType } from '../../src/domain/object-types.js';
import { assertWritable } from '../../src/domain/pipeline-rules.js';
import { assertInvalid } from './fixtures.js';

const PORTAL = 4242;

// [name, singular, type id, stage limit, metadata rules, read-only]
const STANDARD: ReadonlyArray<readonly [string, string, string, number, string, boolean]> = [
  ['contacts', 'contact', '0-1', 100, 'state', true],
  ['companies', 'company', '0-2', 100, 'state', true],
  ['deals', 'deal', '0-3', 100, 'deal', false],
  ['tickets', 'ticket', '0-5', 100, 'ticket', false],
  ['orders', 'order', '0-123', 30, 'state', false],
  ['leads', 'lead', '0-136', 30, 'state', false],
  ['services', 'service', '0-162', 30, 'state', false],
  ['courses', 'course', '0-410', 30, 'state', false],
  ['listings', 'listing', '0-420', 30, 'state', false],
  ['appointments', 'appointment', '0-421', 30, 'state', false],
];

describe('resolveObjectType', () => {
  for (const [name, singular, id, limit, rules, readOnly] of STANDARD) {
    it(`resolves ${name}, ${singular} and ${id} to the same type`, () => {
      const byName = resolveObjectType(name, PORTAL);
      const byId = resolveObjectType(id, PORTAL);
      assert.deepEqual(byName, byId);
      assert.deepEqual(resolveObjectType(singular, PORTAL), byId);
      assert.deepEqual(resolveObjectType(singular.toUpperCase(), PORTAL), byId);
      assert.equal(byName.key, id);
      assert.equal(byName.name, name);
      assert.equal(byName.stageLimit, limit);
      assert.equal(byName.rules, rules);
      assert.equal(byName.readOnly, readOnly);
    });
  }

  it('has 30-stage limits for appointments, courses, listings, leads, orders, services and 100 for the rest', () => {
    const thirty = STANDARD_TYPES.filter((t) => t.stageLimit === 30)
      .map((t) => t.name)
      .sort();
    assert.deepEqual(thirty, ['appointments', 'courses', 'leads', 'listings', 'orders', 'services']);
    for (const t of STANDARD_TYPES.filter((x) => x.stageLimit !== 30)) assert.equal(t.stageLimit, 100);
  });

  it('lists every standard type exactly once', () => {
    assert.deepEqual(STANDARD_TYPES.map((t) => t.key).sort(), STANDARD.map(([, , id]) => id).sort());
  });

  it('resolves custom object type ids 2-<n> to a custom type keyed by the id', () => {
    const custom = resolveObjectType('2-12345', PORTAL);
    assert.equal(custom.key, '2-12345');
    assert.equal(custom.name, 'custom');
    assert.equal(custom.stageLimit, 100);
    assert.equal(custom.rules, 'state');
    assert.equal(custom.readOnly, false);
    assert.notEqual(resolveObjectType('2-1', PORTAL).key, custom.key);
  });

  it("resolves p<portalId>_<name> for the caller's portal only", () => {
    const custom = resolveObjectType(`p${PORTAL}_cars`, PORTAL);
    assert.equal(custom.key, `p${PORTAL}_cars`);
    assert.equal(custom.name, 'custom');
    assert.equal(custom.stageLimit, 100);
    assertInvalid(
      () => resolveObjectType('p999_cars', PORTAL),
      'Unable to infer object type from: p999_cars',
    );
  });

  for (const [value, id, name] of [
    ['invoices', '0-53', 'invoices'],
    ['invoice', '0-53', 'invoices'],
    ['0-53', '0-53', 'invoices'],
    ['Quotes', '0-14', 'quotes'],
    ['line_item', '0-8', 'line_items'],
    ['calls', '0-48', 'calls'],
  ]) {
    it(`names ${value} as a type without pipelines, and for records as a type it cannot infer`, () => {
      assertInvalid(
        () => resolveObjectType(value!, PORTAL),
        `Object type ${id} (${name}) does not support pipelines`,
      );
      assertInvalid(
        () => resolveObjectType(value!, PORTAL, 'records'),
        `Unable to infer object type from: ${value}`,
      );
    });
  }

  for (const value of ['x', 'deal-pipelines', '0-4', '0-999', '2-', '2-abc', '', 'p_cars', '3-1']) {
    it(`rejects ${JSON.stringify(value)} with HubSpot's message`, () => {
      assertInvalid(() => resolveObjectType(value, PORTAL), `Unable to infer object type from: ${value}`);
    });
  }

  it('gives deals the crm.objects / crm.schemas read scopes and the schema write scope', () => {
    const deals = resolveObjectType('deals', PORTAL);
    assert.deepEqual(
      [...deals.readScopes].sort(),
      [
        'crm.objects.deals.read',
        'crm.objects.deals.write',
        'crm.schemas.deals.read',
        'crm.schemas.deals.write',
      ].sort(),
    );
    assert.deepEqual([...deals.writeScopes], ['crm.schemas.deals.write']);
  });

  it('lets tickets also use the legacy tickets scope', () => {
    const tickets = resolveObjectType('0-5', PORTAL);
    assert.ok(tickets.readScopes.includes('tickets'));
    assert.ok(tickets.readScopes.includes('crm.objects.tickets.read'));
    assert.deepEqual([...tickets.writeScopes].sort(), ['crm.schemas.tickets.write', 'tickets'].sort());
  });

  it('lets orders use crm.pipelines.orders.* and e-commerce', () => {
    const orders = resolveObjectType('orders', PORTAL);
    for (const scope of ['crm.objects.orders.read', 'crm.pipelines.orders.read', 'e-commerce']) {
      assert.ok(orders.readScopes.includes(scope), scope);
    }
    assert.deepEqual(
      [...orders.writeScopes].sort(),
      ['crm.pipelines.orders.write', 'crm.schemas.orders.write', 'e-commerce'].sort(),
    );
  });

  it('uses the custom scopes for custom objects, whichever way they are named', () => {
    for (const value of ['2-99', `p${PORTAL}_boats`]) {
      const custom = resolveObjectType(value, PORTAL);
      assert.deepEqual([...custom.writeScopes], ['crm.schemas.custom.write']);
      assert.deepEqual(
        [...custom.readScopes].sort(),
        [
          'crm.objects.custom.read',
          'crm.objects.custom.write',
          'crm.schemas.custom.read',
          'crm.schemas.custom.write',
        ].sort(),
      );
    }
  });

  it('never grants one type with another type’s scopes', () => {
    const deals = resolveObjectType('deals', PORTAL);
    const tickets = resolveObjectType('tickets', PORTAL);
    assert.ok(!deals.readScopes.includes('tickets'));
    assert.ok(!tickets.writeScopes.includes('crm.schemas.deals.write'));
  });
});

describe('assertWritable', () => {
  it('refuses contacts and companies', () => {
    assertInvalid(() => assertWritable(resolveObjectType('0-1', PORTAL)), /contacts.*read-only/);
    assertInvalid(() => assertWritable(resolveObjectType('companies', PORTAL)), /companies.*read-only/);
  });

  it('accepts deals, tickets and custom objects', () => {
    for (const value of ['deals', 'tickets', '2-3', 'appointments']) {
      assert.doesNotThrow(() => assertWritable(resolveObjectType(value, PORTAL)));
    }
  });
});
