// Associations given on record create (src/domain/associations.ts): HubSpot-defined types, their
// direction and inverse, the unlabeled companion of a labeled type, and the v3 and v4 read shapes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  associationRows,
  invalidAssociationTargets,
  readAssociationInput,
  v3Association,
  v4Associations,
} from '../../src/domain/associations.js';
import type { AssociationInput, RecordAssociation } from '../../src/domain/associations.js';
import { DomainError } from '../../src/domain/errors.js';
import { CONTACTS, DEALS, TICKETS, assertInvalid } from './fixtures.js';

const HUBSPOT = 'HUBSPOT_DEFINED';
const to = (id: string | number, ...typeIds: number[]): AssociationInput => ({
  to: { id },
  types: typeIds.map((associationTypeId) => ({ associationCategory: HUBSPOT, associationTypeId })),
});

describe('readAssociationInput', () => {
  it('resolves the target type from the association type id', () => {
    assert.deepEqual(readAssociationInput(DEALS, [to('201', 3), to(301, 27)]), [
      { toTypeKey: '0-1', toTypeLabel: 'CONTACT', toId: '201', typeId: 3 },
      { toTypeKey: '0-5', toTypeLabel: 'TICKET', toId: '301', typeId: 27 },
    ]);
    assert.deepEqual(readAssociationInput(TICKETS, [to('9', 339)]), [
      { toTypeKey: '0-2', toTypeLabel: 'COMPANY', toId: '9', typeId: 339 },
    ]);
  });

  it('adds the unlabeled type to a labeled (primary) one, once', () => {
    assert.deepEqual(
      readAssociationInput(DEALS, [to('9', 5), to('9', 341)]).map((r) => r.typeId),
      [5, 341],
    );
    assert.deepEqual(
      readAssociationInput(CONTACTS, [to('9', 1)]).map((r) => r.typeId),
      [1, 279],
    );
  });

  it('takes nothing from no associations or an empty list', () => {
    assert.deepEqual(readAssociationInput(DEALS, undefined), []);
    assert.deepEqual(readAssociationInput(DEALS, []), []);
  });

  it('refuses an unknown type id, a type that starts at another object type, and other categories', () => {
    assertInvalid(() => readAssociationInput(DEALS, [to('1', 999)]), /One or more associations are invalid/);
    // 1 is contact → company: not a deal's.
    assertInvalid(() => readAssociationInput(DEALS, [to('1', 1)]), /does not exist from deals/);
    assertInvalid(
      () =>
        readAssociationInput(DEALS, [
          { to: { id: '1' }, types: [{ associationCategory: 'USER_DEFINED', associationTypeId: 3 }] },
        ]),
      /USER_DEFINED 3/,
    );
  });
});

describe('stored rows and read shapes', () => {
  const request = readAssociationInput(DEALS, [to('201', 3)])[0]!;

  it('stores a link with its inverse, so both records list it', () => {
    assert.deepEqual(associationRows('0-3', '7', request), [
      { fromTypeKey: '0-3', fromId: '7', toTypeKey: '0-1', toId: '201', category: HUBSPOT, typeId: 3 },
      { fromTypeKey: '0-1', fromId: '201', toTypeKey: '0-3', toId: '7', category: HUBSPOT, typeId: 4 },
    ]);
    const primary = readAssociationInput(DEALS, [to('9', 5)]);
    assert.deepEqual(
      primary.flatMap((r) => associationRows('0-3', '7', r)).map((a) => a.typeId),
      [5, 6, 341, 342],
    );
  });

  const link = (toId: string, typeId: number): RecordAssociation => ({
    fromTypeKey: '0-3',
    fromId: '7',
    toTypeKey: '0-2',
    toId,
    category: HUBSPOT,
    typeId,
  });

  it('v3: { id, type } with HubSpot’s type names', () => {
    assert.deepEqual(v3Association(link('9', 5)), { id: '9', type: 'deal_to_company' });
    assert.deepEqual(v3Association(link('9', 341)), { id: '9', type: 'deal_to_company_unlabeled' });
  });

  it('v4: one entry per target with every type, numeric toObjectId, null label when unlabeled', () => {
    assert.deepEqual(v4Associations([link('9', 5), link('9', 341), link('12', 341)]), [
      {
        toObjectId: 9,
        associationTypes: [
          { category: HUBSPOT, typeId: 5, label: 'Deal with Primary Company' },
          { category: HUBSPOT, typeId: 341, label: null },
        ],
      },
      { toObjectId: 12, associationTypes: [{ category: HUBSPOT, typeId: 341, label: null }] },
    ]);
  });

  it('names missing targets as HubSpot does', () => {
    const err = invalidAssociationTargets([request]);
    assert.ok(err instanceof DomainError);
    assert.equal(err.message, 'One or more associations are invalid');
    assert.deepEqual(err.extras.context, {
      INVALID_OBJECT_IDS: ['CONTACT=201 is not valid'],
      objectId: ['201'],
      objectType: ['CONTACT'],
    });
  });
});
