// The record properties derived from pipeline stages (src/domain/stage-properties.ts and their use
// in records.ts): stage facts from metadata, the hs_v2_ stamps of a record's moves, the close
// dates, and what a read computes from the current stage. Time is passed in, never read.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { applyRecordWrite, readPropertyInput, withStageProperties } from '../../src/domain/records.js';
import type { CrmRecord, Placement, PropertyChanges } from '../../src/domain/records.js';
import { currentStageProperties, stageFacts } from '../../src/domain/stage-properties.js';
import { APPOINTMENTS, CONTACTS, DEALS, T0, TICKETS, assertInvalid, deepFreeze } from './fixtures.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const noChanges: PropertyChanges = { set: {}, clear: [], pipeline: undefined, stage: undefined };
const at = (stageId: string, closed = false): Placement => ({ pipelineId: 'p', stageId, closed });

/** A record written at T0 into `first`, then moved through `moves` ([stageId, ms after T0, closed]). */
function journey(
  type = DEALS,
  first: Placement = at('a'),
  moves: readonly (readonly [string, number, boolean?])[] = [],
  set: Record<string, string> = {},
): CrmRecord {
  let record = applyRecordWrite(type, undefined, '1', { ...noChanges, set }, first, T0);
  for (const [stageId, after, closed] of moves) {
    record = applyRecordWrite(type, deepFreeze(record), '1', noChanges, at(stageId, closed), T0 + after);
  }
  return record;
}

describe('stageFacts', () => {
  it('deals: closed as stored in isClosed, whatever the probability, and the probability', () => {
    assert.deepEqual(stageFacts('deal', { isClosed: 'true', probability: '1.0' }), {
      closed: true,
      probability: 1,
    });
    assert.deepEqual(stageFacts('deal', { isClosed: 'false', probability: '0.0' }), {
      closed: false,
      probability: 0,
    });
    // A sent isClosed is kept as sent: a closed stage at 0.8 is closed.
    assert.deepEqual(stageFacts('deal', { isClosed: 'true', probability: '0.8' }), {
      closed: true,
      probability: 0.8,
    });
    assert.deepEqual(stageFacts('deal', { isClosed: 'false' }), { closed: false });
  });

  it('tickets follow ticketState; other types state; isClosed only where those are missing', () => {
    assert.deepEqual(stageFacts('ticket', { ticketState: 'CLOSED' }), { closed: true });
    assert.deepEqual(stageFacts('ticket', { ticketState: 'OPEN', isClosed: 'true' }), { closed: false });
    assert.deepEqual(stageFacts('ticket', { isClosed: 'true' }), { closed: true });
    assert.deepEqual(stageFacts('state', { state: 'CLOSED', isClosed: 'false' }), { closed: true });
    assert.deepEqual(stageFacts('state', { state: 'OPEN' }), { closed: false });
    assert.deepEqual(stageFacts('state', { isClosed: 'true' }), { closed: true });
  });
});

describe('stage stamps of a record’s moves', () => {
  it('entering a stage stamps hs_v2_date_entered_<stage> with the write’s time', () => {
    const r = journey();
    assert.equal(r.properties.hs_v2_date_entered_a, iso(T0));
    assert.equal(r.properties.hs_date_entered_a, iso(T0));
    assert.equal(r.properties.hs_v2_date_exited_a, undefined);
    assert.equal(r.properties.hs_v2_latest_time_in_a, undefined);
    assert.equal(r.properties.hs_v2_cumulative_time_in_a, undefined);
  });

  it('leaving a stage stamps its exit, the visit’s length in ms (latest) and adds it up (cumulative)', () => {
    const r = journey(DEALS, at('a'), [['b', 90 * MINUTE]]);
    assert.equal(r.properties.hs_v2_date_exited_a, iso(T0 + 90 * MINUTE));
    assert.equal(r.properties.hs_v2_latest_time_in_a, String(90 * MINUTE));
    assert.equal(r.properties.hs_v2_cumulative_time_in_a, String(90 * MINUTE));
    assert.equal(r.properties.hs_v2_date_entered_b, iso(T0 + 90 * MINUTE));
    assert.equal(r.properties.hs_v2_cumulative_time_in_b, undefined);
  });

  it('re-entering a stage: latest is the last visit, cumulative every visit, the last exit is kept', () => {
    // a: 0 → 1 h, b: 1 h → 3 h, a: 3 h → 3 h 30, then b again from 3 h 30.
    const r = journey(DEALS, at('a'), [
      ['b', HOUR],
      ['a', 3 * HOUR],
      ['b', 3.5 * HOUR],
    ]);
    assert.equal(r.properties.hs_v2_latest_time_in_a, String(0.5 * HOUR));
    assert.equal(r.properties.hs_v2_cumulative_time_in_a, String(1.5 * HOUR));
    assert.equal(r.properties.hs_v2_date_exited_a, iso(T0 + 3.5 * HOUR));
    assert.equal(r.properties.hs_v2_date_entered_b, iso(T0 + 3.5 * HOUR));
    // b's open visit is not counted yet; its last exit and latest time stay until it leaves again.
    assert.equal(r.properties.hs_v2_cumulative_time_in_b, String(2 * HOUR));
    assert.equal(r.properties.hs_v2_latest_time_in_b, String(2 * HOUR));
    assert.equal(r.properties.hs_v2_date_exited_b, iso(T0 + 3 * HOUR));
    // The v1 exit stamp of the stage entered again is cleared, as before.
    assert.equal(r.properties.hs_date_exited_b, undefined);
  });

  it('a write that keeps the stage stamps nothing new', () => {
    const before = journey(DEALS, at('a'), [['b', HOUR]]);
    const after = applyRecordWrite(DEALS, before, '1', noChanges, at('b'), T0 + 2 * HOUR);
    assert.equal(after.properties.hs_v2_date_entered_b, iso(T0 + HOUR));
    assert.equal(after.properties.hs_v2_cumulative_time_in_b, undefined);
  });

  it('counts a visit from the v1 entry stamp of records stamped before hs_v2_ existed', () => {
    const legacy: CrmRecord = {
      ...journey(),
      properties: { hs_object_id: '1', dealstage: 'a', hs_date_entered_a: iso(T0) },
    };
    const moved = applyRecordWrite(DEALS, legacy, '1', noChanges, at('b'), T0 + HOUR);
    assert.equal(moved.properties.hs_v2_latest_time_in_a, String(HOUR));
  });
});

describe('close dates', () => {
  it('deals: closedate is set when a deal first enters a closed stage', () => {
    const r = journey(DEALS, at('a'), [['won', HOUR, true]]);
    assert.equal(r.properties.closedate, iso(T0 + HOUR));
    // Reopened and closed again: the first close date stays.
    const again = journey(DEALS, at('a'), [
      ['won', HOUR, true],
      ['a', 2 * HOUR],
      ['lost', 3 * HOUR, true],
    ]);
    assert.equal(again.properties.closedate, iso(T0 + HOUR));
  });

  it('deals: a close date the deal already has is kept, and open stages set none', () => {
    assert.equal(
      journey(DEALS, at('a'), [['won', HOUR, true]], { closedate: '2030-01-01' }).properties.closedate,
      '2030-01-01',
    );
    assert.equal(journey(DEALS, at('a'), [['b', HOUR]]).properties.closedate, undefined);
  });

  it('deals created straight into a closed stage get their close date at creation', () => {
    assert.equal(journey(DEALS, at('won', true)).properties.closedate, iso(T0));
  });

  it('tickets: closed_date and time_to_close (ms since creation) when first closed', () => {
    const r = journey(TICKETS, at('1'), [['4', 5 * HOUR, true]]);
    assert.equal(r.properties.closed_date, iso(T0 + 5 * HOUR));
    assert.equal(r.properties.time_to_close, String(5 * HOUR));
    assert.equal(r.properties.closedate, undefined);
  });

  it('other pipeline types get closed_date and time_to_close as tickets do', () => {
    const r = journey(APPOINTMENTS, at('x'), [['done', HOUR, true]]);
    assert.equal(r.properties.closed_date, iso(T0 + HOUR));
    assert.equal(r.properties.time_to_close, String(HOUR));
    assert.equal(r.properties.closedate, undefined);
  });

  it('contacts (lifecycle stages) get no close stamps, even in a closed stage', () => {
    const r = journey(CONTACTS, at('lead'), [['other', HOUR, true]]);
    assert.equal(r.properties.closed_date, undefined);
    assert.equal(r.properties.time_to_close, undefined);
  });
});

describe('properties computed on read', () => {
  const wonFacts = { closed: true, probability: 1 };

  it('deals: hs_is_closed, hs_is_closed_won, hs_is_closed_lost and hs_deal_stage_probability from the stage', () => {
    const props = (facts: { closed: boolean; probability?: number }) =>
      currentStageProperties(DEALS, 'a', {}, facts);
    assert.deepEqual(props(wonFacts), {
      hs_is_closed: 'true',
      hs_is_closed_won: 'true',
      hs_is_closed_lost: 'false',
      hs_deal_stage_probability: '1',
    });
    assert.deepEqual(props({ closed: true, probability: 0 }), {
      hs_is_closed: 'true',
      hs_is_closed_won: 'false',
      hs_is_closed_lost: 'true',
      hs_deal_stage_probability: '0',
    });
    assert.deepEqual(props({ closed: false, probability: 0.2 }), {
      hs_is_closed: 'false',
      hs_is_closed_won: 'false',
      hs_is_closed_lost: 'false',
      hs_deal_stage_probability: '0.2',
    });
  });

  it('hs_v2_date_entered_current_stage and hs_v2_time_in_current_stage: the entry into the current stage', () => {
    const r = journey(DEALS, at('a'), [
      ['b', HOUR],
      ['a', 2 * HOUR],
    ]);
    const seen = withStageProperties(DEALS, r, { closed: false, probability: 0.2 });
    assert.equal(seen.properties.hs_v2_date_entered_current_stage, iso(T0 + 2 * HOUR));
    // HubSpot returns the time-since property as the instant it counts from (a captured create
    // response shows both equal), so a read's answer does not depend on when it is made.
    assert.equal(seen.properties.hs_v2_time_in_current_stage, iso(T0 + 2 * HOUR));
  });

  it('falls back to the v1 entry stamp, and computes nothing without a stage', () => {
    assert.deepEqual(currentStageProperties(CONTACTS, 'lead', { hs_date_entered_lead: iso(T0) }, undefined), {
      hs_v2_date_entered_current_stage: iso(T0),
      hs_v2_time_in_current_stage: iso(T0),
    });
    assert.deepEqual(currentStageProperties(DEALS, null, {}, undefined), {});
  });

  it('tickets and the other pipeline types get hs_is_closed; contacts no closed flags', () => {
    assert.deepEqual(currentStageProperties(TICKETS, null, {}, { closed: true }), { hs_is_closed: 'true' });
    assert.deepEqual(currentStageProperties(APPOINTMENTS, null, {}, { closed: false }), {
      hs_is_closed: 'false',
    });
    assert.deepEqual(currentStageProperties(CONTACTS, null, {}, { closed: true }), {});
  });

  it('a computed value wins over a stored one of the same name, and the record is not changed', () => {
    const stored = deepFreeze({
      ...journey(),
      properties: { ...journey().properties, hs_is_closed: 'maybe' },
    });
    assert.equal(withStageProperties(DEALS, stored, wonFacts).properties.hs_is_closed, 'true');
    assert.equal(stored.properties.hs_is_closed, 'maybe');
  });
});

describe('derived properties are read-only', () => {
  for (const name of [
    'hs_is_closed',
    'hs_is_closed_won',
    'hs_is_closed_lost',
    'hs_deal_stage_probability',
    'hs_v2_date_entered_current_stage',
    'hs_v2_time_in_current_stage',
    'hs_v2_date_entered_a',
    'hs_v2_date_exited_a',
    'hs_v2_latest_time_in_a',
    'hs_v2_cumulative_time_in_a',
    'time_to_close',
  ]) {
    it(`${name} cannot be written`, () => {
      assertInvalid(() => readPropertyInput(DEALS, { [name]: '1' }), /read-only/);
    });
  }

  it('closedate and closed_date can be written', () => {
    assert.deepEqual(readPropertyInput(DEALS, { closedate: '2030-01-01' }).set, { closedate: '2030-01-01' });
    assert.deepEqual(readPropertyInput(TICKETS, { closed_date: '2030-01-01' }).set, {
      closed_date: '2030-01-01',
    });
  });
});
