-- Links between records (HubSpot's associations), one row per direction: a deal → contact link is
-- stored with its contact → deal inverse, so either record lists the other by its primary key.

CREATE TABLE associations (
  portal_id   INTEGER NOT NULL,
  from_type   TEXT    NOT NULL,
  from_id     INTEGER NOT NULL,
  to_type     TEXT    NOT NULL,
  to_id       INTEGER NOT NULL,
  category    TEXT    NOT NULL,
  type_id     INTEGER NOT NULL,
  PRIMARY KEY (portal_id, from_type, from_id, to_type, to_id, category, type_id)
) WITHOUT ROWID;
