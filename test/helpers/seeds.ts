import type { SeedDocument, SeedRecord } from '../../src/seed/seed-document.js';

/** A seed document of one deal pipeline with one stage `<id>-s`, and the records given. */
export function oneDealPipeline(
  id: string,
  label: string,
  probability: number | string = 0.5,
  records?: SeedRecord[],
): SeedDocument {
  const stages = [{ id: `${id}-s`, label: 'S', displayOrder: 0, metadata: { probability } }];
  return { objectTypes: { deals: { pipelines: [{ id, label, displayOrder: 0, stages }], records } } };
}
