-- CRM records that sit in pipelines. `properties` is a JSON object of strings holding every
-- property; pipeline_id / stage_id copy the pipeline and stage properties for the in-use checks.

CREATE TABLE records (
  portal_id   INTEGER NOT NULL,
  object_type TEXT    NOT NULL,
  id          INTEGER NOT NULL,
  pipeline_id TEXT,
  stage_id    TEXT,
  properties  TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  archived_at INTEGER,
  PRIMARY KEY (portal_id, object_type, id)
) WITHOUT ROWID;

CREATE INDEX records_live_by_stage ON records (portal_id, object_type, stage_id, id) WHERE archived_at IS NULL;
