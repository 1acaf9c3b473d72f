// Builders of domain model values (src/domain/model.ts) for the domain unit tests and the storage
// contract suite. Each suite fixes its own clock: `at` is the createdAt and updatedAt of what is built.

import type { Metadata } from '../../src/domain/metadata.js';
import type { Pipeline, Stage } from '../../src/domain/model.js';

export function modelBuilders(at: number) {
  return {
    /** A live stage, writable under CRM permissions; `overrides` win. */
    stage(
      id: string,
      label: string,
      displayOrder: number,
      metadata: Metadata,
      overrides: Partial<Stage> = {},
    ): Stage {
      return {
        id,
        label,
        displayOrder,
        metadata,
        writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
        createdAt: at,
        updatedAt: at,
        archivedAt: null,
        ...overrides,
      };
    },

    /** A live pipeline at display order 0; `overrides` win. */
    pipeline(id: string, label: string, stages: Stage[], overrides: Partial<Pipeline> = {}): Pipeline {
      return {
        id,
        label,
        displayOrder: 0,
        createdAt: at,
        updatedAt: at,
        archivedAt: null,
        stages,
        ...overrides,
      };
    },
  };
}
