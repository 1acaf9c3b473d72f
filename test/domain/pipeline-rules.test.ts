import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DomainError } from '../../src/domain/errors.js';
import type { PipelineInput, StageInput } from '../../src/domain/model.js';
import {
  addStage,
  archivePipeline,
  archiveStage,
  checkClientId,
  clientStageIds,
  createPipeline,
  idsNeeded,
  labelKey,
  patchPipeline,
  patchStage,
  replacePipeline,
  replaceStage,
} from '../../src/domain/pipeline-rules.js';
import {
  APPOINTMENTS,
  CUSTOM,
  DEALS,
  NOW,
  T0,
  TICKETS,
  assertInvalid,
  assertNotFound,
  dealMeta,
  dealPipeline,
  deepFreeze,
  liveIds,
  pipeline,
  stage,
  stageOf,
  ticketMeta,
  ticketPipeline,
} from './fixtures.js';

const dealStage = (
  label: string,
  displayOrder: number,
  probability: unknown,
  stageId?: string,
): StageInput =>
  stageId === undefined
    ? { label, displayOrder, metadata: { probability } }
    : { stageId, label, displayOrder, metadata: { probability } };

const ticketStage = (
  label: string,
  displayOrder: number,
  ticketState: string,
  stageId?: string,
): StageInput =>
  stageId === undefined
    ? { label, displayOrder, metadata: { ticketState } }
    : { stageId, label, displayOrder, metadata: { ticketState } };

const stateStages = (n: number): StageInput[] =>
  Array.from({ length: n }, (_, i) => ({ label: `Stage ${i}`, displayOrder: i, metadata: {} }));

const ids = (n: number, from = 1000): string[] => Array.from({ length: n }, (_, i) => String(from + i));

const dealInput = (stages: StageInput[], overrides: Partial<PipelineInput> = {}): PipelineInput => ({
  label: 'New deals',
  displayOrder: 1,
  stages,
  ...overrides,
});

const LABEL_EXISTS = 'PipelineError.STAGE_LABEL_EXISTS';
const NEEDS_CLOSED = 'A ticket pipeline must have at least one CLOSED stage';
const ONE_STAGE = 'Pipeline must have at least one stage';

describe('labelKey', () => {
  it('trims and lower-cases', () => {
    assert.equal(labelKey('  Closed WON '), 'closed won');
  });
});

describe('checkClientId', () => {
  it('accepts ids up to 36 (pipeline) and 100 (stage) characters', () => {
    assert.equal(checkClientId('pipelineId', 'p'.repeat(36)), 'p'.repeat(36));
    assert.equal(checkClientId('stageId', 's'.repeat(100)), 's'.repeat(100));
    assert.equal(checkClientId('stageId', 'closed-won_2.x:y'), 'closed-won_2.x:y');
  });

  it('refuses empty and overlong ids', () => {
    assertInvalid(
      () => checkClientId('pipelineId', 'p'.repeat(37)),
      'pipelineId must be 1 to 36 characters long',
    );
    assertInvalid(
      () => checkClientId('stageId', 's'.repeat(101)),
      'stageId must be 1 to 100 characters long',
    );
    assertInvalid(() => checkClientId('stageId', ''), 'stageId must be 1 to 100 characters long');
  });

  it('refuses ids with other characters or a leading symbol', () => {
    for (const id of ['a b', '-abc', 'a/b', 'é']) {
      assertInvalid(() => checkClientId('pipelineId', id), /^pipelineId may contain only/);
    }
  });
});

describe('clientStageIds and idsNeeded', () => {
  it('collects client stage ids in order and counts the ids to generate', () => {
    const stages = [dealStage('A', 0, 0.1, 'a'), dealStage('B', 1, 0.2), dealStage('C', 2, 0.3, 'c')];
    assert.deepEqual(clientStageIds(stages), ['a', 'c']);
    assert.equal(idsNeeded(stages), 1);
    assert.equal(idsNeeded(stages, true), 2);
    assert.equal(idsNeeded([], true), 1);
  });

  it('refuses a stage id given twice', () => {
    assertInvalid(
      () => clientStageIds([dealStage('A', 0, 0.1, 'x'), dealStage('B', 1, 0.2, 'x')]),
      'stageId x appears more than once',
    );
  });
});

describe('createPipeline', () => {
  it('builds the pipeline from the input, fresh ids and now', () => {
    const input = deepFreeze(
      dealInput([dealStage('  Open ', 0, 0.2), dealStage('Won', 1, '1', 'won'), dealStage('Lost', 2, 0)], {
        label: '  Big deals  ',
      }),
    );
    const fresh = deepFreeze(['501', '502']);
    const p = createPipeline(DEALS, input, 'p9', fresh, NOW);
    assert.deepEqual(p, {
      id: 'p9',
      label: 'Big deals',
      displayOrder: 1,
      createdAt: NOW,
      updatedAt: NOW,
      archivedAt: null,
      stages: [
        stage('501', 'Open', 0, dealMeta('0.2'), { createdAt: NOW, updatedAt: NOW }),
        stage('won', 'Won', 1, dealMeta('1.0'), { createdAt: NOW, updatedAt: NOW }),
        stage('502', 'Lost', 2, dealMeta('0.0'), { createdAt: NOW, updatedAt: NOW }),
      ],
    });
  });

  it('accepts displayOrder 0 and refuses a negative one', () => {
    const stages = [dealStage('A', 0, 0.5)];
    assert.equal(
      createPipeline(DEALS, dealInput(stages, { displayOrder: 0 }), 'p', ids(1), NOW).displayOrder,
      0,
    );
    assertInvalid(
      () => createPipeline(DEALS, dealInput(stages, { displayOrder: -1 }), 'p', ids(1), NOW),
      'Pipeline display order cannot be negative',
    );
  });

  it('refuses a negative stage displayOrder', () => {
    assertInvalid(
      () => createPipeline(DEALS, dealInput([dealStage('A', -2, 0.5)]), 'p', ids(1), NOW),
      'Stage display order cannot be negative',
    );
  });

  for (const label of ['', '   ']) {
    it(`refuses the pipeline label ${JSON.stringify(label)}`, () => {
      assertInvalid(
        () => createPipeline(DEALS, dealInput([dealStage('A', 0, 0.5)], { label }), 'p', ids(1), NOW),
        'Pipeline label cannot be empty',
      );
    });
  }

  it('refuses an empty stage label', () => {
    assertInvalid(
      () => createPipeline(DEALS, dealInput([dealStage(' ', 0, 0.5)]), 'p', ids(1), NOW),
      'Stage label cannot be empty',
    );
  });

  it('accepts a 255-character label and refuses a longer one', () => {
    const ok = createPipeline(
      DEALS,
      dealInput([dealStage('A', 0, 0.5)], { label: 'x'.repeat(255) }),
      'p',
      ids(1),
      NOW,
    );
    assert.equal(ok.label.length, 255);
    assertInvalid(
      () =>
        createPipeline(
          DEALS,
          dealInput([dealStage('A', 0, 0.5)], { label: 'x'.repeat(256) }),
          'p',
          ids(1),
          NOW,
        ),
      /Pipeline label cannot be longer than 255/,
    );
  });

  it('refuses a pipeline without stages', () => {
    assertInvalid(() => createPipeline(DEALS, dealInput([]), 'p', [], NOW), ONE_STAGE);
  });

  it('validates deal stage metadata', () => {
    assertInvalid(
      () =>
        createPipeline(DEALS, dealInput([{ label: 'A', displayOrder: 0, metadata: {} }]), 'p', ids(1), NOW),
      'must specify probability when writing a dealstage',
    );
    assertInvalid(
      () => createPipeline(DEALS, dealInput([dealStage('A', 0, 1.5)]), 'p', ids(1), NOW),
      'dealstage probability is not valid, must be between 0.0 and 1.0 (inclusive)',
    );
  });

  for (const [type, limit] of [
    [APPOINTMENTS, 30],
    [DEALS, 100],
    [TICKETS, 100],
    [CUSTOM, 100],
  ] as const) {
    it(`allows ${limit} stages for ${type.name} and refuses ${limit + 1}`, () => {
      const build = (n: number): StageInput[] =>
        Array.from({ length: n }, (_, i) => ({
          label: `Stage ${i}`,
          displayOrder: i,
          metadata: { probability: '0.5', ticketState: i === 0 ? 'CLOSED' : 'OPEN' },
        }));
      const ok = createPipeline(type, dealInput(build(limit)), 'p', ids(limit), NOW);
      assert.equal(ok.stages.length, limit);
      assertInvalid(
        () => createPipeline(type, dealInput(build(limit + 1)), 'p', ids(limit + 1), NOW),
        new RegExp(`at most ${limit} stages`),
        'PipelineError.STAGE_LIMIT_EXCEEDED',
      );
    });
  }

  it('refuses duplicate stage labels, case-insensitively after trimming', () => {
    assertInvalid(
      () =>
        createPipeline(
          DEALS,
          dealInput([dealStage('Won', 0, 1), dealStage('  wON ', 1, 1)]),
          'p',
          ids(2),
          NOW,
        ),
      'Stage with label wON already exists',
      LABEL_EXISTS,
    );
  });

  it('allows labels that differ only inside', () => {
    const p = createPipeline(
      DEALS,
      dealInput([dealStage('Won', 0, 1), dealStage('Won 2', 1, 1)]),
      'p',
      ids(2),
      NOW,
    );
    assert.equal(p.stages.length, 2);
  });

  it('refuses a ticket pipeline without a CLOSED stage', () => {
    assertInvalid(
      () =>
        createPipeline(
          TICKETS,
          dealInput([ticketStage('New', 0, 'OPEN'), { label: 'Default', displayOrder: 1, metadata: {} }]),
          'p',
          ids(2),
          NOW,
        ),
      NEEDS_CLOSED,
    );
    const ok = createPipeline(
      TICKETS,
      dealInput([ticketStage('New', 0, 'OPEN'), ticketStage('Done', 1, 'CLOSED')]),
      'p',
      ids(2),
      NOW,
    );
    assert.deepEqual(
      ok.stages.map((s) => s.metadata),
      [ticketMeta('OPEN'), ticketMeta('CLOSED')],
    );
  });

  it('does not need a closed stage for deals or custom objects', () => {
    assert.doesNotThrow(() => createPipeline(DEALS, dealInput([dealStage('A', 0, 0.5)]), 'p', ids(1), NOW));
    assert.doesNotThrow(() => createPipeline(CUSTOM, dealInput(stateStages(1)), 'p', ids(1), NOW));
  });
});

describe('replacePipeline', () => {
  const current = deepFreeze(dealPipeline());

  it('keeps named stages, restores a named archived one, archives the rest, creates new ones', () => {
    const input = deepFreeze(
      dealInput(
        [
          dealStage('Open', 0, '0.2', 's1'), // unchanged
          dealStage('Lost', 5, 0, 's3'), // archived, named again
          dealStage('Maybe', 3, 0.5), // new
        ],
        { label: ' Renamed ', displayOrder: 7 },
      ),
    );
    const { pipeline: next, changes } = replacePipeline(DEALS, current, input, deepFreeze(['900']), NOW);

    assert.equal(next.id, 'p1');
    assert.equal(next.label, 'Renamed');
    assert.equal(next.displayOrder, 7);
    assert.equal(next.createdAt, T0);
    assert.equal(next.updatedAt, NOW);
    assert.equal(next.archivedAt, null);

    assert.deepEqual(
      changes.created.map((s) => s.id),
      ['900'],
    );
    assert.deepEqual(
      changes.updated.map((s) => s.id),
      ['s3'],
    );
    assert.deepEqual(
      changes.archived.map((s) => s.id),
      ['s2'],
    );

    assert.deepEqual(stageOf(next, 's1'), stageOf(current, 's1'));
    assert.deepEqual(stageOf(next, 's2'), { ...stageOf(current, 's2'), archivedAt: NOW, updatedAt: NOW });
    assert.deepEqual(
      stageOf(next, 's3'),
      stage('s3', 'Lost', 5, dealMeta('0.0'), { createdAt: T0, updatedAt: NOW, archivedAt: null }),
    );
    assert.deepEqual(
      stageOf(next, '900'),
      stage('900', 'Maybe', 3, dealMeta('0.5'), { createdAt: NOW, updatedAt: NOW }),
    );
    assert.deepEqual(liveIds(next), ['900', 's1', 's3']);
    assert.equal(next.stages.length, 4);
  });

  it('reports a kept stage whose content changed as updated, keeping createdAt', () => {
    const { pipeline: next, changes } = replacePipeline(
      DEALS,
      current,
      dealInput([dealStage('Open now', 0, 0.2, 's1'), dealStage('Won', 1, 1, 's2')]),
      [],
      NOW,
    );
    assert.deepEqual(
      changes.updated.map((s) => s.id),
      ['s1'],
    );
    assert.deepEqual(changes.created, []);
    assert.deepEqual(changes.archived, []);
    assert.deepEqual(stageOf(next, 's1'), stage('s1', 'Open now', 0, dealMeta('0.2'), { updatedAt: NOW }));
    assert.deepEqual(stageOf(next, 's2'), stageOf(current, 's2'));
  });

  it('does not report a stage sent with the same content in another form as updated', () => {
    const { changes, pipeline: next } = replacePipeline(
      DEALS,
      current,
      dealInput([dealStage(' Open ', 0, 0.2, 's1'), dealStage('Won', 1, '1', 's2')]),
      [],
      NOW,
    );
    assert.deepEqual(changes, { created: [], updated: [], archived: [] });
    assert.equal(stageOf(next, 's1').updatedAt, T0);
  });

  it('leaves an already archived stage that is left out as it was', () => {
    const { pipeline: next, changes } = replacePipeline(
      DEALS,
      current,
      dealInput([dealStage('Open', 0, 0.2, 's1'), dealStage('Won', 1, 1, 's2')]),
      [],
      NOW,
    );
    assert.ok(!changes.archived.some((s) => s.id === 's3'));
    assert.deepEqual(stageOf(next, 's3'), stageOf(current, 's3'));
  });

  it('lets a new stage take the label of a stage that is left out', () => {
    const { pipeline: next } = replacePipeline(
      DEALS,
      current,
      dealInput([dealStage('Won', 0, 1), dealStage('Open', 1, 0.2, 's1')]),
      ['901'],
      NOW,
    );
    assert.deepEqual(liveIds(next), ['901', 's1']);
    assert.equal(stageOf(next, 's2').archivedAt, NOW);
  });

  it('creates a stage named by an id this pipeline does not have, without using a fresh id', () => {
    const { pipeline: next, changes } = replacePipeline(
      DEALS,
      current,
      dealInput([dealStage('Brand new', 0, 0.1, 'mine')]),
      [],
      NOW,
    );
    assert.deepEqual(
      changes.created.map((s) => s.id),
      ['mine'],
    );
    assert.deepEqual(liveIds(next), ['mine']);
  });

  it('refuses a definition without stages', () => {
    assertInvalid(() => replacePipeline(DEALS, current, dealInput([]), [], NOW), ONE_STAGE);
  });

  it('refuses duplicate labels in the definition', () => {
    assertInvalid(
      () =>
        replacePipeline(
          DEALS,
          current,
          dealInput([dealStage('Open', 0, 0.2, 's1'), dealStage('OPEN', 1, 0.3)]),
          ['9'],
          NOW,
        ),
      'Stage with label OPEN already exists',
      LABEL_EXISTS,
    );
  });

  it('refuses a ticket definition without a CLOSED stage', () => {
    assertInvalid(
      () =>
        replacePipeline(
          TICKETS,
          deepFreeze(ticketPipeline()),
          dealInput([ticketStage('New', 0, 'OPEN', 't1')]),
          [],
          NOW,
        ),
      NEEDS_CLOSED,
    );
  });

  it('refuses a negative displayOrder or an empty label', () => {
    const stages = [dealStage('Open', 0, 0.2, 's1')];
    assertInvalid(
      () => replacePipeline(DEALS, current, dealInput(stages, { displayOrder: -5 }), [], NOW),
      'Pipeline display order cannot be negative',
    );
    assertInvalid(
      () => replacePipeline(DEALS, current, dealInput(stages, { label: '' }), [], NOW),
      'Pipeline label cannot be empty',
    );
  });

  it('never changes the pipeline id or creation time', () => {
    const { pipeline: next } = replacePipeline(
      DEALS,
      current,
      dealInput([dealStage('Open', 0, 0.2, 's1')], { pipelineId: 'other' }),
      [],
      NOW,
    );
    assert.equal(next.id, 'p1');
    assert.equal(next.createdAt, T0);
  });
});

describe('patchPipeline', () => {
  const live = deepFreeze(dealPipeline());
  const archived = deepFreeze({ ...dealPipeline(), archivedAt: T0 + 50, updatedAt: T0 + 50 });
  const ARCHIVED_MSG = 'archived can only be set to false, to restore an archived pipeline';

  it('changes only the fields sent', () => {
    const { pipeline: next, restored } = patchPipeline(DEALS, live, { label: '  Renamed ' }, NOW);
    assert.equal(restored, false);
    assert.deepEqual(next, { ...live, label: 'Renamed', updatedAt: NOW });

    const ordered = patchPipeline(DEALS, live, { displayOrder: 9 }, NOW).pipeline;
    assert.deepEqual(ordered, { ...live, displayOrder: 9, updatedAt: NOW });
  });

  it('accepts an empty patch', () => {
    assert.deepEqual(patchPipeline(DEALS, live, {}, NOW).pipeline, { ...live, updatedAt: NOW });
  });

  it('refuses a negative displayOrder and an empty label', () => {
    assertInvalid(
      () => patchPipeline(DEALS, live, { displayOrder: -1 }, NOW),
      'Pipeline display order cannot be negative',
    );
    assertInvalid(() => patchPipeline(DEALS, live, { label: ' ' }, NOW), 'Pipeline label cannot be empty');
  });

  it('restores an archived pipeline with {archived: false}', () => {
    const { pipeline: next, restored } = patchPipeline(DEALS, archived, { archived: false }, NOW);
    assert.equal(restored, true);
    assert.equal(next.archivedAt, null);
    assert.equal(next.updatedAt, NOW);
    assert.equal(next.label, 'Deals');
    assert.deepEqual(next.stages, archived.stages);
  });

  it('restores and relabels in one patch', () => {
    const { pipeline: next, restored } = patchPipeline(
      DEALS,
      archived,
      { archived: false, label: 'Back' },
      NOW,
    );
    assert.equal(restored, true);
    assert.equal(next.label, 'Back');
    assert.equal(next.archivedAt, null);
  });

  it('refuses archived: true or archived: false on a live pipeline with a 400', () => {
    assertInvalid(() => patchPipeline(DEALS, live, { archived: true }, NOW), ARCHIVED_MSG);
    assertInvalid(() => patchPipeline(DEALS, live, { archived: false }, NOW), ARCHIVED_MSG);
    assertInvalid(() => patchPipeline(DEALS, live, { archived: true, label: 'x' }, NOW), ARCHIVED_MSG);
  });

  it('never archives again or restores with archived: true on an archived pipeline', () => {
    // FIDELITY §5 calls any other use of `archived` a 400; a 404 (the pipeline is gone) is also
    // defensible. Either way it must be refused.
    assert.throws(
      () => patchPipeline(DEALS, archived, { archived: true }, NOW),
      (err: unknown) =>
        err instanceof DomainError && ['VALIDATION_ERROR', 'OBJECT_NOT_FOUND'].includes(err.category),
    );
  });

  it('answers 404 to a patch of an archived pipeline that does not restore it', () => {
    assertNotFound(
      () => patchPipeline(DEALS, archived, { label: 'x' }, NOW),
      'Unable to find pipeline p1 for object type deals',
    );
    assertNotFound(() => patchPipeline(DEALS, archived, {}, NOW), /Unable to find pipeline p1/);
  });
});

describe('archivePipeline', () => {
  it('sets archivedAt and updatedAt and keeps everything else', () => {
    const live = deepFreeze(dealPipeline());
    assert.deepEqual(archivePipeline(live, NOW), { ...live, archivedAt: NOW, updatedAt: NOW });
  });
});

describe('addStage', () => {
  const current = deepFreeze(dealPipeline());

  it('adds a normalised stage and touches the pipeline', () => {
    const { pipeline: next, stage: added } = addStage(
      DEALS,
      current,
      dealStage(' Maybe ', 4, 0.5),
      'n1',
      NOW,
    );
    assert.deepEqual(added, stage('n1', 'Maybe', 4, dealMeta('0.5'), { createdAt: NOW, updatedAt: NOW }));
    assert.deepEqual(stageOf(next, 'n1'), added);
    assert.equal(next.stages.length, current.stages.length + 1);
    assert.equal(next.updatedAt, NOW);
    assert.deepEqual(stageOf(next, 's1'), stageOf(current, 's1'));
  });

  it('refuses a label already used by a live stage, reporting the label sent', () => {
    assertInvalid(
      () => addStage(DEALS, current, dealStage(' won ', 4, 1), 'n1', NOW),
      'Stage with label won already exists',
      LABEL_EXISTS,
    );
  });

  it('allows the label of an archived stage', () => {
    const { pipeline: next } = addStage(DEALS, current, dealStage('Lost', 4, 0), 'n1', NOW);
    assert.deepEqual(liveIds(next), ['n1', 's1', 's2']);
  });

  it('validates the stage', () => {
    assertInvalid(
      () => addStage(DEALS, current, { label: 'X', displayOrder: 0, metadata: {} }, 'n1', NOW),
      'must specify probability when writing a dealstage',
    );
    assertInvalid(
      () => addStage(DEALS, current, dealStage('X', -1, 0.1), 'n1', NOW),
      'Stage display order cannot be negative',
    );
    assertInvalid(
      () => addStage(DEALS, current, dealStage('', 0, 0.1), 'n1', NOW),
      'Stage label cannot be empty',
    );
  });

  it('counts live stages only against the stage limit', () => {
    const full = deepFreeze(
      pipeline(
        'ap',
        'Appointments',
        Array.from({ length: 30 }, (_, i) =>
          stage(`a${i}`, `A${i}`, i, { isClosed: 'false', state: 'OPEN' }),
        ),
      ),
    );
    assertInvalid(
      () => addStage(APPOINTMENTS, full, { label: 'One more', displayOrder: 0, metadata: {} }, 'x', NOW),
      /at most 30 stages/,
      'PipelineError.STAGE_LIMIT_EXCEEDED',
    );
    const withArchived = deepFreeze({
      ...full,
      stages: full.stages.map((s, i) => (i === 0 ? { ...s, archivedAt: T0 } : s)),
    });
    const { pipeline: next } = addStage(
      APPOINTMENTS,
      withArchived,
      { label: 'One more', displayOrder: 0, metadata: {} },
      'x',
      NOW,
    );
    assert.equal(liveIds(next).length, 30);
  });
});

describe('replaceStage', () => {
  const current = deepFreeze(dealPipeline());

  it('replaces the stage, keeping its id, createdAt and writePermissions', () => {
    const withPerm = deepFreeze({
      ...dealPipeline(),
      stages: dealPipeline().stages.map((s) =>
        s.id === 's1' ? { ...s, writePermissions: 'READ_ONLY' as const } : s,
      ),
    });
    const { pipeline: next, stage: replaced } = replaceStage(
      DEALS,
      withPerm,
      's1',
      dealStage('Qualified', 7, '0.6'),
      NOW,
    );
    assert.deepEqual(
      replaced,
      stage('s1', 'Qualified', 7, dealMeta('0.6'), { updatedAt: NOW, writePermissions: 'READ_ONLY' }),
    );
    assert.deepEqual(stageOf(next, 's1'), replaced);
    assert.equal(next.updatedAt, NOW);
    assert.equal(next.stages.length, 3);
  });

  it('replaces metadata as a whole: a deal stage without probability is refused', () => {
    assertInvalid(
      () => replaceStage(DEALS, current, 's1', { label: 'Open', displayOrder: 0, metadata: {} }, NOW),
      'must specify probability when writing a dealstage',
    );
  });

  it('lets a stage keep its own label under another case', () => {
    const { stage: replaced } = replaceStage(DEALS, current, 's2', dealStage('WON', 1, 1), NOW);
    assert.equal(replaced.label, 'WON');
  });

  it("refuses another live stage's label", () => {
    assertInvalid(
      () => replaceStage(DEALS, current, 's1', dealStage('won', 0, 0.2), NOW),
      'Stage with label won already exists',
      LABEL_EXISTS,
    );
  });

  it('answers 404 for an unknown or archived stage', () => {
    assertNotFound(
      () => replaceStage(DEALS, current, 'nope', dealStage('X', 0, 0.1), NOW),
      'Unable to find stage nope in pipeline p1',
    );
    assertNotFound(
      () => replaceStage(DEALS, current, 's3', dealStage('X', 0, 0.1), NOW),
      'Unable to find stage s3 in pipeline p1',
    );
  });

  it('refuses to turn the last CLOSED ticket stage OPEN', () => {
    assertInvalid(
      () => replaceStage(TICKETS, deepFreeze(ticketPipeline()), 't2', ticketStage('Closed', 1, 'OPEN'), NOW),
      NEEDS_CLOSED,
    );
  });
});

describe('patchStage', () => {
  const current = deepFreeze(dealPipeline());
  const ARCHIVED_MSG = 'archived can only be set to false, to restore an archived stage';

  it('merges metadata key by key and re-derives isClosed', () => {
    const { stage: patched, restored } = patchStage(
      DEALS,
      current,
      's1',
      { metadata: { probability: 1 } },
      NOW,
    );
    assert.equal(restored, false);
    assert.deepEqual(patched, stage('s1', 'Open', 0, dealMeta('1.0'), { updatedAt: NOW }));
  });

  it('keeps metadata when none is sent and changes only the fields sent', () => {
    const { stage: patched, pipeline: next } = patchStage(DEALS, current, 's1', { label: 'Opened' }, NOW);
    assert.deepEqual(patched, { ...stageOf(current, 's1'), label: 'Opened', updatedAt: NOW });
    assert.deepEqual(stageOf(next, 's1'), patched);
    assert.equal(next.updatedAt, NOW);
    const moved = patchStage(DEALS, current, 's1', { displayOrder: 9 }, NOW).stage;
    assert.deepEqual(moved, { ...stageOf(current, 's1'), displayOrder: 9, updatedAt: NOW });
  });

  it('stores a sent isClosed as sent and drops unknown keys', () => {
    const { stage: patched } = patchStage(
      DEALS,
      current,
      's1',
      { metadata: { isClosed: 'true', foo: 'x' } },
      NOW,
    );
    assert.deepEqual(patched.metadata, { isClosed: 'true', probability: '0.2' });
  });

  it('keeps the ticketState when other keys are patched', () => {
    const tickets = deepFreeze(ticketPipeline());
    const { stage: patched } = patchStage(TICKETS, tickets, 't2', { metadata: { unknown: 1 } }, NOW);
    assert.deepEqual(patched.metadata, ticketMeta('CLOSED'));
    const reopened = patchStage(TICKETS, tickets, 't1', { metadata: { ticketState: 'CLOSED' } }, NOW).stage;
    assert.deepEqual(reopened.metadata, ticketMeta('CLOSED'));
  });

  it('validates the merged metadata', () => {
    assertInvalid(
      () => patchStage(DEALS, current, 's1', { metadata: { probability: '7' } }, NOW),
      'dealstage probability is not valid, must be between 0.0 and 1.0 (inclusive)',
    );
  });

  it('restores an archived stage with {archived: false}', () => {
    const {
      stage: patched,
      restored,
      pipeline: next,
    } = patchStage(DEALS, current, 's3', { archived: false }, NOW);
    assert.equal(restored, true);
    assert.deepEqual(patched, { ...stageOf(current, 's3'), archivedAt: null, updatedAt: NOW });
    assert.deepEqual(liveIds(next), ['s1', 's2', 's3']);
  });

  it('restores and changes in one patch', () => {
    const { stage: patched } = patchStage(
      DEALS,
      current,
      's3',
      { archived: false, label: 'Lost for good', metadata: { probability: 0.1 } },
      NOW,
    );
    assert.deepEqual(patched, stage('s3', 'Lost for good', 2, dealMeta('0.1'), { updatedAt: NOW }));
  });

  it('refuses to restore a stage whose label a live stage now has', () => {
    const clash = deepFreeze({
      ...dealPipeline(),
      stages: dealPipeline().stages.map((s) => (s.id === 's1' ? { ...s, label: 'LOST' } : s)),
    });
    assertInvalid(
      () => patchStage(DEALS, clash, 's3', { archived: false }, NOW),
      /Stage with label .* already exists/,
      LABEL_EXISTS,
    );
  });

  it('refuses archived: true or false on a live stage with a 400', () => {
    assertInvalid(() => patchStage(DEALS, current, 's1', { archived: true }, NOW), ARCHIVED_MSG);
    assertInvalid(() => patchStage(DEALS, current, 's1', { archived: false }, NOW), ARCHIVED_MSG);
  });

  it('answers 404 for an archived stage unless restoring, and for an unknown stage', () => {
    assertNotFound(
      () => patchStage(DEALS, current, 's3', { label: 'x' }, NOW),
      'Unable to find stage s3 in pipeline p1',
    );
    assertNotFound(
      () => patchStage(DEALS, current, 's3', { archived: true }, NOW),
      'Unable to find stage s3 in pipeline p1',
    );
    assertNotFound(
      () => patchStage(DEALS, current, 'nope', {}, NOW),
      'Unable to find stage nope in pipeline p1',
    );
    assertNotFound(
      () => patchStage(DEALS, current, 'nope', { archived: false }, NOW),
      /Unable to find stage nope/,
    );
  });

  it("refuses another live stage's label", () => {
    assertInvalid(
      () => patchStage(DEALS, current, 's1', { label: ' Won' }, NOW),
      'Stage with label Won already exists',
      LABEL_EXISTS,
    );
  });

  it('refuses to reopen the last CLOSED ticket stage', () => {
    assertInvalid(
      () =>
        patchStage(TICKETS, deepFreeze(ticketPipeline()), 't2', { metadata: { ticketState: 'OPEN' } }, NOW),
      NEEDS_CLOSED,
    );
  });
});

describe('archiveStage', () => {
  it('archives a stage and keeps it in the pipeline', () => {
    const current = deepFreeze(dealPipeline());
    const { pipeline: next, stage: gone } = archiveStage(DEALS, current, 's1', NOW);
    assert.deepEqual(gone, { ...stageOf(current, 's1'), archivedAt: NOW, updatedAt: NOW });
    assert.deepEqual(liveIds(next), ['s2']);
    assert.equal(next.stages.length, 3);
    assert.equal(next.updatedAt, NOW);
  });

  it('refuses to archive the last live stage', () => {
    const current = deepFreeze(dealPipeline());
    const { pipeline: one } = archiveStage(DEALS, current, 's1', NOW);
    assertInvalid(() => archiveStage(DEALS, deepFreeze(one), 's2', NOW + 1), ONE_STAGE);
  });

  it('refuses to archive the last CLOSED ticket stage, but not one of two', () => {
    const tickets = deepFreeze(ticketPipeline());
    assertInvalid(() => archiveStage(TICKETS, tickets, 't2', NOW), NEEDS_CLOSED);
    const twoClosed = deepFreeze({
      ...ticketPipeline(),
      stages: [...ticketPipeline().stages, stage('t3', 'Solved', 2, ticketMeta('CLOSED'))],
    });
    const { pipeline: next } = archiveStage(TICKETS, twoClosed, 't2', NOW);
    assert.deepEqual(liveIds(next), ['t1', 't3']);
    assert.doesNotThrow(() => archiveStage(TICKETS, tickets, 't1', NOW));
  });

  it('answers 404 for an archived or unknown stage', () => {
    const current = deepFreeze(dealPipeline());
    assertNotFound(() => archiveStage(DEALS, current, 's3', NOW), 'Unable to find stage s3 in pipeline p1');
    assertNotFound(() => archiveStage(DEALS, current, 'x', NOW), 'Unable to find stage x in pipeline p1');
  });
});

describe('updaters never mutate their inputs', () => {
  it('leaves the current pipeline, the input and the fresh ids as they were', () => {
    const current = deepFreeze(dealPipeline());
    const snapshot = structuredClone(current);
    const stageInput = deepFreeze(dealStage('Fresh', 3, 0.3));
    const pipelineInput = deepFreeze(dealInput([dealStage('Open', 0, 0.9, 's1'), dealStage('New', 1, 0.1)]));
    const fresh = deepFreeze(['77']);
    const inputSnapshot = structuredClone(pipelineInput);

    createPipeline(DEALS, pipelineInput, 'px', fresh, NOW);
    replacePipeline(DEALS, current, pipelineInput, fresh, NOW);
    patchPipeline(DEALS, current, deepFreeze({ label: 'L', displayOrder: 3 }), NOW);
    archivePipeline(current, NOW);
    addStage(DEALS, current, stageInput, 'n', NOW);
    replaceStage(DEALS, current, 's1', stageInput, NOW);
    patchStage(DEALS, current, 's1', deepFreeze({ metadata: { probability: 1 } }), NOW);
    patchStage(DEALS, current, 's3', deepFreeze({ archived: false }), NOW);
    archiveStage(DEALS, current, 's1', NOW);

    assert.deepEqual(current, snapshot);
    assert.deepEqual(pipelineInput, inputSnapshot);
    assert.deepEqual(fresh, ['77']);
  });

  it('returns new objects rather than the current ones when something changed', () => {
    const current = deepFreeze(dealPipeline());
    const { pipeline: next } = patchStage(DEALS, current, 's1', { label: 'Other' }, NOW);
    assert.notEqual(next, current);
    assert.notEqual(next.stages, current.stages);
    assert.equal(stageOf(current, 's1').label, 'Open');
  });
});
