-- Corrections of published reports (SQLite: see schema_v11.sql for what they are). SQLite cannot
-- drop the old UNIQUE (project_id, period), so the table is rebuilt the way SQLite documents
-- ("Making Other Kinds Of Table Schema Changes"): with foreign keys off (the migration runner turns
-- them off around this one and checks them before committing), a new table, the rows copied with
-- their ids, the old table dropped and the new one renamed. The tables that refer to `reports` name
-- it, so they refer to the new one.

CREATE TABLE reports_v11 (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    template_id BIGINT NOT NULL REFERENCES report_templates (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'final')),
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finalized_at TEXT,
    published_by TEXT,
    revision BIGINT NOT NULL DEFAULT 1 CHECK (revision >= 1),
    corrects BIGINT REFERENCES reports (id) ON DELETE SET NULL,
    superseded_by BIGINT REFERENCES reports (id) ON DELETE SET NULL,
    UNIQUE (project_id, period, revision)
);
INSERT INTO reports_v11 (id, project_id, period, template_id, status, title, created_at,
    updated_at, finalized_at, published_by)
    SELECT id, project_id, period, template_id, status, title, created_at, updated_at,
        finalized_at, published_by
    FROM reports;
DROP TABLE reports;
ALTER TABLE reports_v11 RENAME TO reports;
