import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { pipelineView, stageView } from '../../src/domain/views.js';
import { dealMeta, deepFreeze, pipeline, stage } from './fixtures.js';

const CREATED = 1_572_406_217_883; // 2019-10-30T03:30:17.883Z
const UPDATED = 1_572_406_218_000; // 2019-10-30T03:30:18Z
const ARCHIVED = 1_572_406_219_500; // 2019-10-30T03:30:19.500Z

describe('stageView', () => {
  it('renders a live stage without archivedAt', () => {
    const view = stageView(
      stage('s1', 'Open', 3, dealMeta('0.2'), {
        createdAt: CREATED,
        updatedAt: UPDATED,
        writePermissions: 'READ_ONLY',
      }),
    );
    assert.deepEqual(view, {
      id: 's1',
      label: 'Open',
      displayOrder: 3,
      metadata: { isClosed: 'false', probability: '0.2' },
      createdAt: '2019-10-30T03:30:17.883Z',
      updatedAt: '2019-10-30T03:30:18Z',
      archived: false,
      writePermissions: 'READ_ONLY',
    });
    assert.equal(Object.hasOwn(view, 'archivedAt'), false);
  });

  it('renders an archived stage with archived true and archivedAt', () => {
    const view = stageView(
      stage('s1', 'Open', 0, dealMeta('0.2'), {
        createdAt: CREATED,
        updatedAt: ARCHIVED,
        archivedAt: ARCHIVED,
      }),
    );
    assert.equal(view.archived, true);
    assert.equal(view.archivedAt, '2019-10-30T03:30:19.500Z');
    assert.equal(view.updatedAt, '2019-10-30T03:30:19.500Z');
  });

  it('renders an empty metadata map as {}', () => {
    assert.deepEqual(stageView(stage('s', 'S', 0, {})).metadata, {});
  });
});

describe('pipelineView', () => {
  const source = deepFreeze(
    pipeline(
      'p1',
      'Sales',
      [
        stage('c', 'Charlie', 1, dealMeta('0.5')),
        stage('gone', 'Archived', 0, dealMeta('0.5'), { archivedAt: ARCHIVED }),
        stage('b', 'bravo', 1, dealMeta('0.5')),
        stage('z', 'Zulu', 0, dealMeta('0.5')),
        stage('a', 'Alpha', 2, dealMeta('0.5')),
      ],
      { displayOrder: 4, createdAt: 0, updatedAt: UPDATED },
    ),
  );

  it('lists live stages only, by displayOrder then label', () => {
    const view = pipelineView(source);
    assert.deepEqual(
      view.stages.map((s) => s.id),
      ['z', 'b', 'c', 'a'],
    );
    assert.ok(view.stages.every((s) => !s.archived));
  });

  it('renders the pipeline fields, without archivedAt while live', () => {
    const view = pipelineView(source);
    assert.equal(view.id, 'p1');
    assert.equal(view.label, 'Sales');
    assert.equal(view.displayOrder, 4);
    assert.equal(view.createdAt, '1970-01-01T00:00:00Z');
    assert.equal(view.updatedAt, '2019-10-30T03:30:18Z');
    assert.equal(view.archived, false);
    assert.equal(Object.hasOwn(view, 'archivedAt'), false);
    assert.deepEqual(Object.keys(view).sort(), [
      'archived',
      'createdAt',
      'displayOrder',
      'id',
      'label',
      'stages',
      'updatedAt',
    ]);
  });

  it('renders an archived pipeline with archivedAt', () => {
    const view = pipelineView({ ...source, archivedAt: ARCHIVED });
    assert.equal(view.archived, true);
    assert.equal(view.archivedAt, '2019-10-30T03:30:19.500Z');
  });

  it('does not reorder or change the pipeline it renders', () => {
    const before = structuredClone(source);
    pipelineView(source);
    assert.deepEqual(source, before);
  });
});
