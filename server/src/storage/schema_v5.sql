-- Per-report sequence numbers for the document log. The log's own row id is not one: SQLite reuses
-- the highest row id once compaction has deleted it, so an update appended after a fold could be
-- numbered at or below the snapshot's last_seq, skipped by every reader and deleted by the next fold.
-- `head_seq` on the snapshot row is the last number handed out for the report: an append raises it
-- in the transaction that stores the update, so numbers are never reused, have no gaps, and are
-- committed in order (the row lock serialises appends on PostgreSQL, the write lock on SQLite).
-- `written_seq` is the update the report's narratives were last written from, so an instance that
-- is behind never writes older texts over newer ones.
--
-- Rows left in the log keep their order and are renumbered after the snapshot: a row that the old
-- numbering had put at or below last_seq (never loaded, never folded) becomes visible again.

ALTER TABLE report_doc_snapshots ADD COLUMN head_seq BIGINT NOT NULL DEFAULT 0;

ALTER TABLE report_doc_snapshots ADD COLUMN written_seq BIGINT NOT NULL DEFAULT 0;

ALTER TABLE report_doc_updates ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;

UPDATE report_doc_updates SET seq =
    COALESCE((SELECT s.last_seq FROM report_doc_snapshots s
              WHERE s.report_id = report_doc_updates.report_id), 0)
    + (SELECT COUNT(*) FROM report_doc_updates u
       WHERE u.report_id = report_doc_updates.report_id AND u.id <= report_doc_updates.id);

UPDATE report_doc_snapshots SET head_seq = COALESCE((SELECT MAX(u.seq) FROM report_doc_updates u
    WHERE u.report_id = report_doc_snapshots.report_id), last_seq);

DROP INDEX report_doc_updates_by_report;

CREATE UNIQUE INDEX report_doc_updates_by_seq ON report_doc_updates (report_id, seq);
