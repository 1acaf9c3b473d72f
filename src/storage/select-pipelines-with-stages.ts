/**
 * The SELECT of pipelines joined with their stages, the same in both SQL dialects, for the
 * adapters to finish with a WHERE and an ORDER BY. Its rows are PipelineStageRow (rows.ts), one
 * a stage, or one with null stage columns for a pipeline without any; TypedPipelineStageRow when
 * the object type is asked for.
 */
export function selectPipelinesWithStages(options: {
  /** Every stage, or only the live ones (not archived). */
  readonly stages: 'all' | 'live';
  /** Adds the pipeline's object type, as p_object_type. */
  readonly objectType?: boolean;
  /** The adapter's own text after the stages table, such as SQLite's INDEXED BY. */
  readonly stagesHint?: string;
}): string {
  const objectType = options.objectType === true ? 'p.object_type AS p_object_type, ' : '';
  const hint = options.stagesHint === undefined ? '' : ` ${options.stagesHint}`;
  const live = options.stages === 'live' ? ' AND s.archived_at IS NULL' : '';
  return `
  SELECT ${objectType}p.id AS p_id, p.label AS p_label, p.display_order AS p_display_order,
         p.created_at AS p_created_at, p.updated_at AS p_updated_at, p.archived_at AS p_archived_at,
         s.id, s.label, s.display_order, s.metadata, s.write_permissions,
         s.created_at, s.updated_at, s.archived_at
  FROM pipelines p
  LEFT JOIN stages s${hint}
    ON s.portal_id = p.portal_id AND s.object_type = p.object_type AND s.pipeline_id = p.id${live}`;
}
