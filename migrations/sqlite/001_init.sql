-- Stageline schema v1. Timestamps are epoch milliseconds. Object types are stored by their
-- canonical key (`0-3`, `2-12`, `p123_cars`). Migrations are never edited once landed.

CREATE TABLE portals (
  id          INTEGER PRIMARY KEY,
  next_id     INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);

CREATE TABLE pipelines (
  portal_id     INTEGER NOT NULL REFERENCES portals (id),
  object_type   TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  label         TEXT    NOT NULL,
  label_key     TEXT    NOT NULL,
  display_order INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  archived_at   INTEGER,
  PRIMARY KEY (portal_id, object_type, id)
) WITHOUT ROWID;

CREATE INDEX pipelines_live_label ON pipelines (portal_id, object_type, label_key) WHERE archived_at IS NULL;

CREATE TABLE stages (
  portal_id         INTEGER NOT NULL,
  object_type       TEXT    NOT NULL,
  id                TEXT    NOT NULL,
  pipeline_id       TEXT    NOT NULL,
  label             TEXT    NOT NULL,
  display_order     INTEGER NOT NULL,
  metadata          TEXT    NOT NULL,
  write_permissions TEXT    NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  archived_at       INTEGER,
  PRIMARY KEY (portal_id, object_type, id),
  FOREIGN KEY (portal_id, object_type, pipeline_id) REFERENCES pipelines (portal_id, object_type, id)
) WITHOUT ROWID;

CREATE INDEX stages_by_pipeline ON stages (portal_id, object_type, pipeline_id);

CREATE TABLE audit (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  portal_id   INTEGER NOT NULL,
  object_type TEXT    NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('pipeline', 'stage')),
  object_id   TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  message     TEXT    NOT NULL,
  raw_object  TEXT    NOT NULL,
  user_id     INTEGER NOT NULL,
  ts          INTEGER NOT NULL
);

CREATE INDEX audit_by_object ON audit (portal_id, object_type, kind, object_id, seq);

CREATE TABLE tokens (
  id          TEXT    PRIMARY KEY,
  hash        TEXT    NOT NULL UNIQUE,
  portal_id   INTEGER NOT NULL,
  user_id     INTEGER NOT NULL,
  scopes      TEXT,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
);
