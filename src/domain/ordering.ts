/** HubSpot orders pipelines and stages by displayOrder, ties alphabetically by label. */
interface Orderable {
  readonly id: string;
  readonly label: string;
  readonly displayOrder: number;
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: false });

export function compareByDisplayOrder(a: Orderable, b: Orderable): number {
  return (
    a.displayOrder - b.displayOrder ||
    collator.compare(a.label, b.label) ||
    (a.label < b.label ? -1 : a.label > b.label ? 1 : 0) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export function sortByDisplayOrder<T extends Orderable>(items: readonly T[]): T[] {
  return [...items].sort(compareByDisplayOrder);
}
