import { useEffect, useMemo, useState } from 'react';
import { DndContext, DragOverlay } from '@dnd-kit/core';
import type { DragEndEvent, DragStartEvent } from '@dnd-kit/core';
import { SortableContext, horizontalListSortingStrategy } from '@dnd-kit/sortable';

import { byDisplayOrder, groupByStage, moveItem } from './board-math.js';
import { CardBody, recordName } from './Card.js';
import { Column } from './Column.js';
import {
  SCREEN_READER_INSTRUCTIONS,
  announcementsFor,
  collisions,
  dragData,
  useBoardSensors,
} from './dnd.js';
import type { CrmRecord, ObjectTypeInfo, Pipeline, Stage } from './model.js';
import { OWNER_PROPERTY } from './model.js';
import { StageForm } from './StageForm.js';
import type { StageDraft } from './StageForm.js';

/** Days in stage change slowly: the cards' clock moves every minute, not at every render. */
const CLOCK_STEP_MS = 60_000;

/** One now for every card, moved on every `stepMs`: cards re-render when it moves, not before. */
function useClock(stepMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), stepMs);
    return () => clearInterval(timer);
  }, [stepMs]);
  return now;
}

interface Props {
  type: ObjectTypeInfo;
  pipeline: Pipeline;
  records: readonly CrmRecord[];
  ownerNames: ReadonlyMap<string, string>;
  onMoveRecord(recordId: string, stageId: string): void;
  onReorderStages(orderedIds: string[]): void;
  onEditStage(stage: Stage, draft: StageDraft): Promise<boolean>;
  onArchiveStage(stage: Stage): void;
  onAddStage(draft: StageDraft): Promise<boolean>;
  onStageHistory(stage: Stage): void;
}

/** The pipeline's stages as columns in display order, each with its records as cards. */
export function Board(props: Props) {
  const { type, pipeline, records, ownerNames } = props;
  const stages = useMemo(() => byDisplayOrder(pipeline.stages), [pipeline.stages]);
  const stageIds = useMemo(() => stages.map((s) => s.id), [stages]);
  const groups = useMemo(
    () => groupByStage(records, type.stageProperty, stageIds),
    [records, type, stageIds],
  );
  const label = useMemo(() => new Map(stages.map((s) => [s.id, s.label])), [stages]);
  const sensors = useBoardSensors();
  const [activeCard, setActiveCard] = useState<CrmRecord | undefined>();
  const [adding, setAdding] = useState(false);
  const now = useClock(CLOCK_STEP_MS);

  // Cards are `card:<recordId>`, columns their stage id.
  const announcements = useMemo(
    () =>
      announcementsFor((id) => {
        const text = String(id);
        if (!text.startsWith('card:')) return `stage ${label.get(text) ?? text}`;
        const record = records.find((r) => r.id === text.slice(5));
        return record === undefined ? 'the card' : recordName(record, type);
      }),
    [label, records, type],
  );

  function dragStart(event: DragStartEvent) {
    const data = dragData(event.active.data.current);
    if (data?.type === 'card') setActiveCard(records.find((r) => r.id === data.recordId));
  }

  function dragEnd({ active, over }: DragEndEvent) {
    setActiveCard(undefined);
    const data = dragData(active.data.current);
    if (over === null || data === undefined) return;
    const target = String(over.id);
    if (data.type === 'card') {
      if (target !== data.stageId && label.has(target)) props.onMoveRecord(data.recordId, target);
      return;
    }
    const from = stageIds.indexOf(String(active.id));
    const to = stageIds.indexOf(target);
    if (from >= 0 && to >= 0 && from !== to) props.onReorderStages(moveItem(stageIds, from, to));
  }

  const activeOwner = activeCard?.properties[OWNER_PROPERTY];
  return (
    <DndContext
      sensors={sensors}
      collisionDetection={collisions}
      onDragStart={dragStart}
      onDragEnd={dragEnd}
      onDragCancel={() => setActiveCard(undefined)}
      accessibility={{
        announcements,
        screenReaderInstructions: SCREEN_READER_INSTRUCTIONS,
      }}
    >
      <div className="board" role="region" aria-label={`Board of ${pipeline.label}`}>
        <SortableContext items={stageIds} strategy={horizontalListSortingStrategy}>
          {stages.map((stage) => (
            <Column
              key={stage.id}
              type={type}
              stage={stage}
              records={groups.get(stage.id) ?? []}
              ownerNames={ownerNames}
              now={now}
              onEdit={props.onEditStage}
              onArchive={props.onArchiveStage}
              onHistory={props.onStageHistory}
            />
          ))}
        </SortableContext>
        <section className="column add-stage" aria-label="Add a stage">
          {adding ? (
            <StageForm
              kind={type.metadata}
              submitLabel="Add stage"
              onCancel={() => setAdding(false)}
              onSubmit={(draft) => void props.onAddStage(draft).then((ok) => ok && setAdding(false))}
            />
          ) : (
            <button type="button" className="secondary" onClick={() => setAdding(true)}>
              + Add stage
            </button>
          )}
        </section>
      </div>
      <DragOverlay>
        {activeCard !== undefined && (
          <div className="card overlay">
            <CardBody
              record={activeCard}
              type={type}
              stageId=""
              stageLabel=""
              ownerName={activeOwner ? ownerNames.get(activeOwner) : undefined}
              now={now}
            />
          </div>
        )}
      </DragOverlay>
    </DndContext>
  );
}
