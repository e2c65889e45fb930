-- Expand only: one row per API write transaction, written in the same transaction as the write. When the
-- connection is lost after COMMIT was sent, the API asks the (new) writer whether the mark exists: present,
-- the write committed (answered as a success, `ref` is the id of the row it created); absent, it is not in the
-- surviving history and is run again (src/db/pool.ts, `Db.tx`). Marks older than an hour are deleted by the
-- instances (`at` is indexed for that). The previous release neither reads nor writes the table.
CREATE TABLE write_marks (
  id BINARY(16) NOT NULL PRIMARY KEY,
  ref BIGINT UNSIGNED NULL,
  at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY write_marks_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
