-- Progress per status date. Each save of a project's progress (and each import) is a new record: the
-- whole plan as a `pmr.project/v1` document, numbered by the project's `data_version` after the save,
-- with who recorded it and when. Records are never changed or deleted (but with their project): a
-- report is generated from the record in force at its status date, so earlier reports, the history
-- and month-over-month comparisons stay true after later months are recorded.

CREATE TABLE progress_records (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    status_date TEXT NOT NULL,
    document TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (project_id, version)
);

CREATE INDEX progress_records_by_date ON progress_records (project_id, status_date);
