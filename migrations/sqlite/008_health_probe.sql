-- One row that `/health` rewrites while a storage fault only a write can end is in progress (a
-- full disk, a read-only database): its own small write, when it succeeds, ends the episode
-- without waiting for a client's write.

CREATE TABLE health_probe (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  at  INTEGER NOT NULL
);
