/**
 * The public representation of pipelines and stages (HubSpot's `Pipeline` and `PipelineStage`).
 * It lives in the domain because audit entries store it, as a string, at the time of the change.
 */
import type { Metadata } from './metadata.js';
import { isLive } from './model.js';
import type { Pipeline, Stage, WritePermission } from './model.js';
import { sortByDisplayOrder } from './ordering.js';
import { formatTimestamp } from './time.js';

export interface StageView {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Metadata;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  writePermissions: WritePermission;
}

export interface PipelineView {
  id: string;
  label: string;
  displayOrder: number;
  stages: StageView[];
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export function stageView(stage: Stage): StageView {
  const view: StageView = {
    id: stage.id,
    label: stage.label,
    displayOrder: stage.displayOrder,
    metadata: stage.metadata,
    createdAt: formatTimestamp(stage.createdAt),
    updatedAt: formatTimestamp(stage.updatedAt),
    archived: stage.archivedAt !== null,
    writePermissions: stage.writePermissions,
  };
  if (stage.archivedAt !== null) view.archivedAt = formatTimestamp(stage.archivedAt);
  return view;
}

/** Live stages only, in display order. */
export function pipelineView(pipeline: Pipeline): PipelineView {
  const view: PipelineView = {
    id: pipeline.id,
    label: pipeline.label,
    displayOrder: pipeline.displayOrder,
    stages: sortByDisplayOrder(pipeline.stages.filter(isLive)).map(stageView),
    createdAt: formatTimestamp(pipeline.createdAt),
    updatedAt: formatTimestamp(pipeline.updatedAt),
    archived: pipeline.archivedAt !== null,
  };
  if (pipeline.archivedAt !== null) view.archivedAt = formatTimestamp(pipeline.archivedAt);
  return view;
}
