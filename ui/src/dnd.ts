/**
 * Drag and drop on the board (dnd-kit): columns are sortable stages; cards are draggables dropped
 * on a column. Pointer and keyboard both work: with the keyboard, Space picks a card or a column
 * up, the arrows move it (a card jumps a whole column per press) and Space drops it.
 */
import {
  KeyboardCode,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  rectIntersection,
  pointerWithin,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import type {
  Announcements,
  CollisionDetection,
  KeyboardCoordinateGetter,
  UniqueIdentifier,
} from '@dnd-kit/core';
import { sortableKeyboardCoordinates } from '@dnd-kit/sortable';

export interface ColumnData {
  type: 'column';
  label: string;
}

export interface CardData {
  type: 'card';
  recordId: string;
  stageId: string;
  name: string;
}

export type DragData = ColumnData | CardData;

export const dragData = (data: unknown): DragData | undefined => {
  const d = data as Partial<DragData> | undefined;
  return d?.type === 'column' || d?.type === 'card' ? (d as DragData) : undefined;
};

/** Right and Left move a card to the next column that way; Up and Down do nothing. */
const cardCoordinates: KeyboardCoordinateGetter = (event, { context }) => {
  const { collisionRect, droppableRects, droppableContainers, over } = context;
  if (event.code !== KeyboardCode.Right && event.code !== KeyboardCode.Left) {
    if (event.code === KeyboardCode.Up || event.code === KeyboardCode.Down) event.preventDefault();
    return undefined;
  }
  event.preventDefault();
  if (!collisionRect) return undefined;
  const columns = droppableContainers
    .getEnabled()
    .map((c) => ({ id: c.id, rect: droppableRects.get(c.id) }))
    .filter((c) => c.rect !== undefined)
    .sort((a, b) => a.rect!.left - b.rect!.left);
  const at = columns.findIndex((c) => c.id === over?.id);
  const from = at >= 0 ? at : columns.findIndex((c) => c.rect!.left <= collisionRect.left + 1);
  const target = columns[from + (event.code === KeyboardCode.Right ? 1 : -1)];
  if (target?.rect === undefined) return undefined;
  return { x: target.rect.left + 8, y: target.rect.top + 48 };
};

const keyboardCoordinates: KeyboardCoordinateGetter = (event, args) =>
  dragData(args.context.active?.data.current)?.type === 'card'
    ? cardCoordinates(event, args)
    : sortableKeyboardCoordinates(event, args);

/** Columns find their closest slot; a card lands on the column under the pointer (or its rect). */
export const collisions: CollisionDetection = (args) => {
  if (dragData(args.active.data.current)?.type === 'column') return closestCenter(args);
  const under = pointerWithin(args);
  return under.length > 0 ? under : rectIntersection(args);
};

export function useBoardSensors() {
  return useSensors(
    // A few pixels of movement before a drag starts, so clicks on a card's buttons stay clicks.
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(KeyboardSensor, { coordinateGetter: keyboardCoordinates }),
  );
}

/**
 * What a screen reader hears while an item moves, in the items' own names: `name(id)` names a
 * dragged item or the place it is over.
 */
export function announcementsFor(name: (id: UniqueIdentifier) => string): Announcements {
  return {
    onDragStart: ({ active }) => `Picked up ${name(active.id)}.`,
    onDragOver: ({ active, over }) => (over ? `${name(active.id)} is over ${name(over.id)}.` : undefined),
    onDragEnd: ({ active, over }) =>
      over ? `Dropped ${name(active.id)} on ${name(over.id)}.` : `Dropped ${name(active.id)}.`,
    onDragCancel: ({ active }) => `Cancelled moving ${name(active.id)}.`,
  };
}

export const SCREEN_READER_INSTRUCTIONS = {
  draggable:
    'Press Space or Enter to pick up. Use the arrow keys to move it, then Space or Enter to drop it, or Escape to cancel.',
};
