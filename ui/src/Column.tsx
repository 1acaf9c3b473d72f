import { memo, useState } from 'react';
import { useSortable } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';

import { columnTotals, formatAmount, stageFacts } from './board-math.js';
import { Card } from './Card.js';
import { Action, DragHandle } from './controls.js';
import type { ColumnData } from './dnd.js';
import type { CrmRecord, ObjectTypeInfo, Stage } from './model.js';
import { OWNER_PROPERTY } from './model.js';
import { StageForm } from './StageForm.js';
import type { StageDraft } from './StageForm.js';

/** Cards rendered at first per column; more on request, so a column of thousands stays quick. */
export const CARDS_SHOWN = 30;

interface Props {
  type: ObjectTypeInfo;
  stage: Stage;
  records: readonly CrmRecord[];
  ownerNames: ReadonlyMap<string, string>;
  now: number;
  onEdit(stage: Stage, draft: StageDraft): Promise<boolean>;
  onArchive(stage: Stage): void;
  onHistory(stage: Stage): void;
}

/** A stage: its header (facts, totals, actions) and its cards. Sortable by its handle. */
export const Column = memo(function Column({
  type,
  stage,
  records,
  ownerNames,
  now,
  onEdit,
  onArchive,
  onHistory,
}: Props) {
  const data: ColumnData = { type: 'column', label: stage.label };
  const sortable = useSortable({ id: stage.id, data });
  const { setNodeRef, transform, transition, isDragging, isOver } = sortable;
  const [editing, setEditing] = useState(false);
  const [shown, setShown] = useState(CARDS_SHOWN);
  const facts = stageFacts(type.metadata, stage);
  const totals = columnTotals(records, facts.probability);
  const headingId = `stage-${stage.id}-heading`;
  const noun = type.label.toLowerCase();

  return (
    <section
      ref={setNodeRef}
      className={`column${isDragging ? ' dragging' : ''}${isOver ? ' over' : ''}`}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      aria-labelledby={headingId}
      data-stage-id={stage.id}
    >
      <header className="column-header">
        <div className="row">
          <DragHandle sortable={sortable} label={`Move stage ${stage.label}`} />
          <h3 id={headingId}>{stage.label}</h3>
          {facts.closed && <span className="badge closed">Closed</span>}
        </div>
        <p className="facts">
          {facts.probability !== undefined && <span>{Math.round(facts.probability * 100)}% probability</span>}
          {facts.state !== undefined && (
            <span>{facts.state === 'CLOSED' ? 'State: closed' : 'State: open'}</span>
          )}
        </p>
        <dl className="totals" aria-label={`Totals of ${stage.label}`}>
          <div>
            <dt>{noun}</dt>
            <dd data-total="count">{totals.count}</dd>
          </div>
          {type.hasAmount && (
            <>
              <div>
                <dt>amount</dt>
                <dd data-total="amount">{formatAmount(totals.amount)}</dd>
              </div>
              <div>
                <dt>weighted</dt>
                <dd data-total="weighted">{formatAmount(totals.weighted)}</dd>
              </div>
            </>
          )}
        </dl>
        {editing ? (
          <StageForm
            kind={type.metadata}
            stage={stage}
            submitLabel="Save"
            onCancel={() => setEditing(false)}
            onSubmit={(draft) => void onEdit(stage, draft).then((ok) => ok && setEditing(false))}
          />
        ) : (
          <div className="row actions">
            <Action label={`Edit stage ${stage.label}`} onClick={() => setEditing(true)}>
              Edit
            </Action>
            <Action label={`Archive stage ${stage.label}`} onClick={() => onArchive(stage)}>
              Archive
            </Action>
            <Action label={`History of stage ${stage.label}`} onClick={() => onHistory(stage)}>
              History
            </Action>
          </div>
        )}
      </header>
      <ul className="cards" aria-label={`${type.label} in ${stage.label}`}>
        {records.slice(0, shown).map((record) => {
          const owner = record.properties[OWNER_PROPERTY];
          return (
            <Card
              key={record.id}
              record={record}
              type={type}
              stageId={stage.id}
              stageLabel={stage.label}
              ownerName={owner ? ownerNames.get(owner) : undefined}
              now={now}
            />
          );
        })}
      </ul>
      {records.length > shown && (
        <button type="button" className="secondary more" onClick={() => setShown((n) => n + CARDS_SHOWN * 5)}>
          Show more ({records.length - shown} hidden)
        </button>
      )}
    </section>
  );
});
