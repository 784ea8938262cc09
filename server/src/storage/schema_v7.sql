-- Publishing a report: who published it (their display name at the time; `finalized_at` says when).
-- A published report is final: a frozen snapshot that neither regeneration nor the shared document
-- can change any more.

ALTER TABLE reports ADD COLUMN published_by TEXT;
