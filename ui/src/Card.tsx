import { memo } from 'react';
import { useDraggable } from '@dnd-kit/core';

import { daysInStage, formatAmount, amountOf } from './board-math.js';
import type { CardData } from './dnd.js';
import { ENTERED_CURRENT_STAGE, OWNER_PROPERTY } from './model.js';
import type { CrmRecord, ObjectTypeInfo } from './model.js';

export interface CardView {
  record: CrmRecord;
  type: ObjectTypeInfo;
  stageId: string;
  stageLabel: string;
  ownerName: string | undefined;
  now: number;
}

export const recordName = (record: CrmRecord, type: ObjectTypeInfo): string =>
  record.properties[type.nameProperty] ?? `${type.label.replace(/s$/, '')} ${record.id}`;

/** What a card shows: name, amount (deals), owner and days in stage. */
export const CardBody = memo(function CardBody({ record, type, ownerName, now }: CardView) {
  const days = daysInStage(record.properties[ENTERED_CURRENT_STAGE], now);
  return (
    <>
      <span className="card-name">{recordName(record, type)}</span>
      {type.hasAmount && <span className="card-amount">{formatAmount(amountOf(record))}</span>}
      <span className="card-meta">
        <span>
          {ownerName ??
            (record.properties[OWNER_PROPERTY] ? `Owner ${record.properties[OWNER_PROPERTY]}` : 'No owner')}
        </span>
        {days !== undefined && <span>{days === 1 ? '1 day' : `${days} days`} in stage</span>}
      </span>
    </>
  );
});

/** A record in its stage, draggable to another one with the pointer or the keyboard. */
export const Card = memo(function Card(view: CardView) {
  const name = recordName(view.record, view.type);
  const data: CardData = { type: 'card', recordId: view.record.id, stageId: view.stageId, name };
  const { attributes, listeners, setNodeRef, isDragging } = useDraggable({
    id: `card:${view.record.id}`,
    data,
  });
  return (
    <li>
      <div
        ref={setNodeRef}
        className={isDragging ? 'card dragging' : 'card'}
        data-record-id={view.record.id}
        {...attributes}
        {...listeners}
        aria-label={`${name} in ${view.stageLabel}. Press Space to move it to another stage.`}
      >
        <CardBody {...view} />
      </div>
    </li>
  );
});
