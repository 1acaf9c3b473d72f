-- Stageline schema v1 for PostgreSQL. Timestamps are epoch milliseconds. Object types are
-- stored by their canonical key (`0-3`, `2-12`, `p123_cars`). Never edited once landed.
-- Label uniqueness among live items is a deferred exclusion constraint, so a PUT may swap
-- two labels within one transaction; the portal row lock serialises each portal's writers.

CREATE TABLE portals (
  id          integer PRIMARY KEY,
  next_id     bigint  NOT NULL,
  created_at  bigint  NOT NULL
);

CREATE TABLE pipelines (
  portal_id     integer NOT NULL REFERENCES portals (id),
  object_type   text    NOT NULL,
  id            text    NOT NULL,
  label         text    NOT NULL,
  label_key     text    NOT NULL,
  display_order integer NOT NULL,
  created_at    bigint  NOT NULL,
  updated_at    bigint  NOT NULL,
  archived_at   bigint,
  PRIMARY KEY (portal_id, object_type, id),
  CONSTRAINT pipelines_live_label_unique
    EXCLUDE USING btree (portal_id WITH =, object_type WITH =, label_key WITH =)
    WHERE (archived_at IS NULL) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE stages (
  portal_id         integer NOT NULL,
  object_type       text    NOT NULL,
  id                text    NOT NULL,
  pipeline_id       text    NOT NULL,
  label             text    NOT NULL,
  label_key         text    NOT NULL,
  display_order     integer NOT NULL,
  metadata          text    NOT NULL,
  write_permissions text    NOT NULL,
  created_at        bigint  NOT NULL,
  updated_at        bigint  NOT NULL,
  archived_at       bigint,
  PRIMARY KEY (portal_id, object_type, id),
  FOREIGN KEY (portal_id, object_type, pipeline_id) REFERENCES pipelines (portal_id, object_type, id),
  CONSTRAINT stages_live_label_unique
    EXCLUDE USING btree (portal_id WITH =, object_type WITH =, pipeline_id WITH =, label_key WITH =)
    WHERE (archived_at IS NULL) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX stages_by_pipeline ON stages (portal_id, object_type, pipeline_id);

CREATE TABLE audit (
  seq         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  portal_id   integer NOT NULL,
  object_type text    NOT NULL,
  kind        text    NOT NULL CHECK (kind IN ('pipeline', 'stage')),
  object_id   text    NOT NULL,
  action      text    NOT NULL,
  message     text    NOT NULL,
  raw_object  text    NOT NULL,
  user_id     integer NOT NULL,
  ts          bigint  NOT NULL
);

CREATE INDEX audit_by_object ON audit (portal_id, object_type, kind, object_id, seq);

CREATE TABLE tokens (
  id          text    PRIMARY KEY,
  hash        text    NOT NULL UNIQUE,
  portal_id   integer NOT NULL,
  user_id     integer NOT NULL,
  scopes      text,
  created_at  bigint  NOT NULL,
  revoked_at  bigint
);

CREATE TABLE records (
  portal_id   integer NOT NULL,
  object_type text    NOT NULL,
  id          bigint  NOT NULL,
  pipeline_id text,
  stage_id    text,
  properties  text    NOT NULL,
  created_at  bigint  NOT NULL,
  updated_at  bigint  NOT NULL,
  archived_at bigint,
  PRIMARY KEY (portal_id, object_type, id)
);

CREATE INDEX records_live_by_stage ON records (portal_id, object_type, stage_id, id) WHERE archived_at IS NULL;
