import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DEFAULT_PIPELINES } from '../../src/domain/default-pipelines.js';
import type { Pipeline } from '../../src/domain/model.js';
import { checkPipelineInvariants } from '../../src/domain/pipeline-rules.js';
import { pipelineView } from '../../src/domain/views.js';
import { HUBSPOT_DEFAULTS } from '../helpers/hubspot-defaults.js';

function defaultOf(typeKey: string): Pipeline {
  const found = DEFAULT_PIPELINES.find((d) => d.type.key === typeKey);
  assert.ok(found, `no default pipeline for ${typeKey}`);
  return found.pipeline;
}

describe('default pipelines', () => {
  it('gives deals the Sales Pipeline of FIDELITY §4', () => {
    const view = pipelineView(defaultOf('0-3'));
    assert.equal(view.id, HUBSPOT_DEFAULTS.deals.id);
    assert.equal(view.label, HUBSPOT_DEFAULTS.deals.label);
    assert.equal(view.displayOrder, HUBSPOT_DEFAULTS.deals.displayOrder);
    assert.equal(view.createdAt, HUBSPOT_DEFAULTS.timestamp);
    assert.equal(view.updatedAt, HUBSPOT_DEFAULTS.timestamp);
    assert.deepEqual(
      view.stages.map((s) => [s.id, s.label, s.metadata.probability, s.metadata.isClosed, s.displayOrder]),
      HUBSPOT_DEFAULTS.deals.stages.map((row, displayOrder) => [...row, displayOrder]),
    );
    for (const s of view.stages) {
      assert.equal(s.writePermissions, 'CRM_PERMISSIONS_ENFORCEMENT');
      assert.deepEqual(Object.keys(s.metadata).sort(), ['isClosed', 'probability']);
    }
  });

  it('gives tickets the Support Pipeline', () => {
    const view = pipelineView(defaultOf('0-5'));
    assert.equal(view.id, HUBSPOT_DEFAULTS.tickets.id);
    assert.equal(view.label, HUBSPOT_DEFAULTS.tickets.label);
    assert.deepEqual(
      view.stages.map((s) => [s.id, s.label, s.metadata]),
      HUBSPOT_DEFAULTS.tickets.stages.map(([id, label, ticketState]) => [id, label, { ticketState }]),
    );
  });

  it('gives contacts the lifecycle pipeline with state metadata, only `other` closed', () => {
    const view = pipelineView(defaultOf('0-1'));
    assert.equal(view.id, HUBSPOT_DEFAULTS.lifecycle.ids.contacts);
    assert.equal(view.label, HUBSPOT_DEFAULTS.lifecycle.label);
    assert.deepEqual(
      view.stages.map((s) => s.id),
      HUBSPOT_DEFAULTS.lifecycle.stageIds,
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
