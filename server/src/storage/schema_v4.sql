-- Collaborative editing. A report's document (Yjs/yrs: the narratives as text, structured fields as
-- a map) is a snapshot plus the updates appended since; both hold base64 of the v1 update encoding.
-- An update is stored before its author hears it was accepted. Compaction folds the updates up to
-- `last_seq` into the snapshot and deletes them. A revision is a named copy of the document taken
-- by an explicit Save, with its texts in plain JSON for showing and restoring.

CREATE TABLE report_doc_snapshots (
    report_id BIGINT PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
    snapshot TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE report_doc_updates (
    id {{ID}},
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    update_data TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX report_doc_updates_by_report ON report_doc_updates (report_id, id);

CREATE TABLE report_revisions (
    id {{ID}},
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    name TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    content TEXT NOT NULL,
    UNIQUE (report_id, number)
);
