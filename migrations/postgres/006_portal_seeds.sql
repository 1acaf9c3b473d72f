-- A portal's starting state, set through the emulator control plane (PUT /_stageline/seed): the
-- seed document a reset returns the portal to. A portal without a row starts from the server's
-- seed file, or HubSpot's default pipelines.

CREATE TABLE portal_seeds (
  portal_id  integer PRIMARY KEY,
  document   text    NOT NULL
);
