import type { ReactNode } from 'react';
import type { useSortable } from '@dnd-kit/sortable';

type Sortable = Pick<ReturnType<typeof useSortable>, 'attributes' | 'listeners' | 'setActivatorNodeRef'>;

/** The grip a sortable item (a column, a pipeline) is dragged by, with the pointer or the keyboard. */
export function DragHandle({ sortable, label }: { sortable: Sortable; label: string }) {
  return (
    <button
      ref={sortable.setActivatorNodeRef}
      type="button"
      className="handle"
      {...sortable.attributes}
      {...sortable.listeners}
      aria-label={label}
    >
      ⠿
    </button>
  );
}

interface ActionProps {
  /** What a screen reader hears: the action and its object ("Archive stage Won"). */
  label: string;
  onClick(): void;
  children: ReactNode;
}

/** A small secondary button whose visible text is short and whose accessible name is complete. */
export function Action({ label, onClick, children }: ActionProps) {
  return (
    <button type="button" className="secondary" onClick={onClick} aria-label={label}>
      {children}
    </button>
  );
}

export interface ArchivedItem {
  id: string;
  label: string;
}

interface ArchivedListProps {
  /** `pipeline` or `stage`: names the Restore buttons. */
  noun: string;
  /** undefined while they are being looked for. */
  items: readonly ArchivedItem[] | undefined;
  empty: string;
  onRestore(id: string): void;
}

/** Archived pipelines or stages, each with a Restore button. */
export function ArchivedList({ noun, items, empty, onRestore }: ArchivedListProps) {
  return (
    <ul className="archived" aria-label={`Archived ${noun}s`}>
      {items === undefined && <li>Loading…</li>}
      {items?.length === 0 && <li className="help">{empty}</li>}
      {items?.map((item) => (
        <li key={item.id} className="row">
          <span className="archived-label">{item.label}</span>
          <Action label={`Restore ${noun} ${item.label}`} onClick={() => onRestore(item.id)}>
            Restore
          </Action>
        </li>
      ))}
    </ul>
  );
}
