import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DEFAULT_PIPELINES } from '../../src/domain/default-pipelines.js';
import type { Pipeline } from '../../src/domain/model.js';
import { checkPipelineInvariants } from '../../src/domain/pipeline-rules.js';
import { pipelineView } from '../../src/domain/views.js';

function defaultOf(typeKey: string): Pipeline {
  const found = DEFAULT_PIPELINES.find((d) => d.type.key === typeKey);
  assert.ok(found, `no default pipeline for ${typeKey}`);
  return found.pipeline;
}

describe('default pipelines', () => {
  it('gives deals the Sales Pipeline of FIDELITY §4', () => {
    const view = pipelineView(defaultOf('0-3'));
    assert.equal(view.id, 'default');
    assert.equal(view.label, 'Sales Pipeline');
    assert.equal(view.displayOrder, 0);
    assert.equal(view.createdAt, '1970-01-01T00:00:00Z');
    assert.equal(view.updatedAt, '1970-01-01T00:00:00Z');
    assert.deepEqual(
      view.stages.map((s) => [s.id, s.label, s.metadata.probability, s.metadata.isClosed, s.displayOrder]),
      [
        ['appointmentscheduled', 'Appointment Scheduled', '0.2', 'false', 0],
        ['qualifiedtobuy', 'Qualified To Buy', '0.4', 'false', 1],
        ['presentationscheduled', 'Presentation Scheduled', '0.6', 'false', 2],
        ['decisionmakerboughtin', 'Decision Maker Bought-In', '0.8', 'false', 3],
        ['contractsent', 'Contract Sent', '0.9', 'false', 4],
        ['closedwon', 'Closed Won', '1.0', 'true', 5],
        ['closedlost', 'Closed Lost', '0.0', 'true', 6],
      ],
    );
    for (const s of view.stages) {
      assert.equal(s.writePermissions, 'CRM_PERMISSIONS_ENFORCEMENT');
      assert.deepEqual(Object.keys(s.metadata).sort(), ['isClosed', 'probability']);
    }
  });

  it('gives tickets the Support Pipeline', () => {
    const view = pipelineView(defaultOf('0-5'));
    assert.equal(view.id, '0');
    assert.equal(view.label, 'Support Pipeline');
    assert.deepEqual(
      view.stages.map((s) => [s.id, s.label, s.metadata.ticketState, s.metadata.isClosed]),
      [
        ['1', 'New', 'OPEN', 'false'],
        ['2', 'Waiting on contact', 'OPEN', 'false'],
        ['3', 'Waiting on us', 'OPEN', 'false'],
        ['4', 'Closed', 'CLOSED', 'true'],
      ],
    );
  });

  it('gives contacts the lifecycle pipeline with state metadata, only `other` closed', () => {
    const view = pipelineView(defaultOf('0-1'));
    assert.equal(view.id, 'contacts-lifecycle-pipeline');
    assert.equal(view.label, 'Lifecycle Stage Pipeline');
    assert.deepEqual(
      view.stages.map((s) => s.id),
      [
        'subscriber',
        'lead',
        'marketingqualifiedlead',
        'salesqualifiedlead',
        'opportunity',
        'customer',
        'evangelist',
        'other',
      ],
    );
    for (const s of view.stages) {
      const closed = s.id === 'other';
      assert.deepEqual(s.metadata, { isClosed: String(closed), state: closed ? 'CLOSED' : 'OPEN' });
    }
  });

  it('satisfies the pipeline invariants of its own type', () => {
    assert.ok(DEFAULT_PIPELINES.length >= 3);
    for (const { type, pipeline } of DEFAULT_PIPELINES) {
      assert.doesNotThrow(() => checkPipelineInvariants(type, pipeline), type.name);
      assert.ok(pipeline.stages.every((s) => s.archivedAt === null && s.createdAt === 0));
    }
  });
});
