-- Links between records (HubSpot's associations), one row per direction: a deal → contact link is
-- stored with its contact → deal inverse, so either record lists the other by its primary key.

CREATE TABLE associations (
  portal_id   integer NOT NULL,
  from_type   text    NOT NULL,
  from_id     bigint  NOT NULL,
  to_type     text    NOT NULL,
  to_id       bigint  NOT NULL,
  category    text    NOT NULL,
  type_id     integer NOT NULL,
  PRIMARY KEY (portal_id, from_type, from_id, to_type, to_id, category, type_id)
);
