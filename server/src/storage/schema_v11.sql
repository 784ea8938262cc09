-- Corrections of published reports (PostgreSQL; SQLite rebuilds the table, schema_v11_sqlite.sql).
-- A month may have several reports now, one per revision: a published report is never edited, it
-- is corrected by a new revision (a draft that `corrects` it); when the correction is published the
-- old one gets `superseded_by` and stays readable, linked both ways. The current report of a month is
-- the one not superseded that is either the first revision or published.

ALTER TABLE reports DROP CONSTRAINT reports_project_id_period_key;
ALTER TABLE reports ADD COLUMN revision BIGINT NOT NULL DEFAULT 1 CHECK (revision >= 1);
ALTER TABLE reports ADD COLUMN corrects BIGINT REFERENCES reports (id) ON DELETE SET NULL;
ALTER TABLE reports ADD COLUMN superseded_by BIGINT REFERENCES reports (id) ON DELETE SET NULL;
ALTER TABLE reports ADD CONSTRAINT reports_project_period_revision_key UNIQUE (project_id, period, revision);
