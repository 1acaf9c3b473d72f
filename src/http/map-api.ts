/** The only file that knows both the wire shapes and the domain inputs. */
import type { FromSchema } from 'json-schema-to-ts';

import type { DeleteChecks, DeleteFlagRule } from '../app/pipeline-service.js';
import type { PipelineInput, PipelinePatch, StageInput, StagePatch } from '../domain/model.js';
import type * as S from './schemas.js';

type StageInputBody = FromSchema<typeof S.PipelineStageInput>;
type PipelineInputBody = FromSchema<typeof S.PipelineInput>;
type DeleteChecksQuery = FromSchema<ReturnType<typeof S.deleteChecksQuery>>;

const stageInput = (b: StageInputBody): StageInput => ({
  stageId: b.stageId,
  label: b.label,
  displayOrder: b.displayOrder,
  metadata: b.metadata,
});

export const toPipelineInput = (b: PipelineInputBody): PipelineInput => ({
  pipelineId: b.pipelineId,
  label: b.label,
  displayOrder: b.displayOrder,
  stages: b.stages.map(stageInput),
});

/** A stage PUT replaces the stage: its id comes from the path, never the body. */
export const toStageReplaceInput = (b: StageInputBody): StageInput => ({
  ...stageInput(b),
  stageId: undefined,
});

export const toStageInput = stageInput;

export const toPipelinePatch = (b: FromSchema<typeof S.PipelinePatchInput>): PipelinePatch => ({
  label: b.label,
  displayOrder: b.displayOrder,
  archived: b.archived,
});

export const toStagePatch = (b: FromSchema<typeof S.PipelineStagePatchInput>): StagePatch => ({
  label: b.label,
  displayOrder: b.displayOrder,
  metadata: b.metadata,
  archived: b.archived,
});

/** Absent flags were filled with the API version's default by the query schema. */
export const toDeleteChecks = (q: DeleteChecksQuery, rule: DeleteFlagRule): DeleteChecks => ({
  validateReferences: q.validateReferencesBeforeDelete ?? false,
  validateDealStageUsages: q.validateDealStageUsagesBeforeDelete ?? false,
  rule,
});
