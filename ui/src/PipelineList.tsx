import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import type { DragEndEvent } from '@dnd-kit/core';
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';

import { moveItem } from './board-math.js';
import { Action, ArchivedList, DragHandle } from './controls.js';
import type { ArchivedItem } from './controls.js';
import { SCREEN_READER_INSTRUCTIONS, announcementsFor } from './dnd.js';
import type { Pipeline } from './model.js';

interface Props {
  pipelines: readonly Pipeline[];
  selectedId: string | undefined;
  readOnly: boolean;
  showArchived: boolean;
  archived: readonly ArchivedItem[] | undefined;
  /** Whether `archived` is every archived pipeline (from the control plane), or only this tab's. */
  archivedComplete: boolean;
  onSelect(id: string): void;
  onCreate(label: string): Promise<boolean>;
  onRename(pipeline: Pipeline, label: string): Promise<boolean>;
  onReorder(orderedIds: string[]): void;
  onArchive(pipeline: Pipeline): void;
  onRestore(id: string): void;
  onHistory(pipeline: Pipeline): void;
  onToggleArchived(show: boolean): void;
}

/** The type's pipelines: pick, create, rename, reorder (drag or keyboard), archive and restore. */
export function PipelineList(props: Props) {
  const id = useId();
  const [label, setLabel] = useState('');
  const [renamingId, setRenamingId] = useState<string | undefined>();
  const selected = props.pipelines.find((p) => p.id === props.selectedId);
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const ids = props.pipelines.map((p) => p.id);
  const announcements = announcementsFor(
    (pipelineId) => `pipeline ${props.pipelines.find((p) => p.id === pipelineId)?.label ?? pipelineId}`,
  );

  function dragEnd({ active, over }: DragEndEvent) {
    if (over === null) return;
    const from = ids.indexOf(String(active.id));
    const to = ids.indexOf(String(over.id));
    if (from >= 0 && to >= 0 && from !== to) props.onReorder(moveItem(ids, from, to));
  }

  async function create(event: FormEvent) {
    event.preventDefault();
    if (await props.onCreate(label)) setLabel('');
  }

  return (
    <nav className="pipelines" aria-label="Pipelines">
      <h2>Pipelines</h2>
      <DndContext
        sensors={sensors}
        collisionDetection={closestCenter}
        onDragEnd={dragEnd}
        accessibility={{ announcements, screenReaderInstructions: SCREEN_READER_INSTRUCTIONS }}
      >
        <SortableContext items={ids} strategy={verticalListSortingStrategy}>
          <ul>
            {props.pipelines.map((p) => (
              <PipelineItem
                key={p.id}
                pipeline={p}
                selected={p.id === props.selectedId}
                renaming={p.id === renamingId}
                onRenamed={() => setRenamingId(undefined)}
                {...props}
              />
            ))}
          </ul>
        </SortableContext>
      </DndContext>
      {selected !== undefined && renamingId !== selected.id && (
        <div className="row actions" aria-label={`Actions on pipeline ${selected.label}`} role="group">
          {!props.readOnly && (
            <>
              <Action label={`Rename pipeline ${selected.label}`} onClick={() => setRenamingId(selected.id)}>
                Rename
              </Action>
              <Action label={`Archive pipeline ${selected.label}`} onClick={() => props.onArchive(selected)}>
                Archive
              </Action>
            </>
          )}
          <Action label={`History of pipeline ${selected.label}`} onClick={() => props.onHistory(selected)}>
            History
          </Action>
        </div>
      )}
      {!props.readOnly && (
        <form className="create-pipeline" onSubmit={(e) => void create(e)}>
          <label htmlFor={`${id}-new`}>New pipeline</label>
          <div className="row">
            <input id={`${id}-new`} value={label} onChange={(e) => setLabel(e.target.value)} required />
            <button type="submit">Create</button>
          </div>
        </form>
      )}
      <label className="toggle">
        <input
          type="checkbox"
          checked={props.showArchived}
          onChange={(e) => props.onToggleArchived(e.target.checked)}
        />
        Show archived
      </label>
      {props.showArchived && (
        <ArchivedList
          noun="pipeline"
          items={props.archived}
          empty={
            props.archivedComplete ? 'No archived pipelines.' : 'No archived pipelines known to this tab.'
          }
          onRestore={props.onRestore}
        />
      )}
    </nav>
  );
}

interface ItemProps extends Props {
  pipeline: Pipeline;
  selected: boolean;
  renaming: boolean;
  onRenamed(): void;
}

function PipelineItem({ pipeline, selected, renaming, readOnly, onSelect, onRename, onRenamed }: ItemProps) {
  const sortable = useSortable({ id: pipeline.id });
  const { setNodeRef, transform, transition } = sortable;
  const [label, setLabel] = useState(pipeline.label);
  const inputId = useId();

  async function rename(event: FormEvent) {
    event.preventDefault();
    if (await onRename(pipeline, label)) onRenamed();
  }

  return (
    <li
      ref={setNodeRef}
      className={selected ? 'pipeline selected' : 'pipeline'}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      data-pipeline-id={pipeline.id}
    >
      {renaming ? (
        <form onSubmit={(e) => void rename(e)} className="row">
          <label htmlFor={inputId} className="visually-hidden">
            New name of {pipeline.label}
          </label>
          <input id={inputId} value={label} onChange={(e) => setLabel(e.target.value)} required />
          <button type="submit">Save</button>
          <button type="button" className="secondary" onClick={onRenamed}>
            Cancel
          </button>
        </form>
      ) : (
        <div className="row">
          {!readOnly && <DragHandle sortable={sortable} label={`Move pipeline ${pipeline.label}`} />}
          <button
            type="button"
            className="link pipeline-name"
            aria-current={selected ? 'true' : undefined}
            onClick={() => onSelect(pipeline.id)}
          >
            {pipeline.label}
          </button>
          <span className="count">{pipeline.stages.length} stages</span>
        </div>
      )}
    </li>
  );
}
