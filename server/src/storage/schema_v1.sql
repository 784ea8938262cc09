-- Initial schema. One text for both backends: `{{ID}}` becomes the backend's auto-increment primary
-- key. Dates are ISO-8601 text ('YYYY-MM-DD'), timestamps RFC 3339 text, money and durations
-- DOUBLE PRECISION, flags BIGINT 0/1: types both SQLite and PostgreSQL hold exactly.

CREATE TABLE portfolios (
    id {{ID}},
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id {{ID}},
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE projects (
    id {{ID}},
    portfolio_id BIGINT NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    manager TEXT NOT NULL,
    currency TEXT NOT NULL,
    budget_at_completion DOUBLE PRECISION NOT NULL CHECK (budget_at_completion >= 0),
    start_date TEXT NOT NULL,
    target_finish TEXT NOT NULL,
    declared_overall TEXT NOT NULL CHECK (declared_overall IN ('green', 'amber', 'red')),
    declared_scope TEXT NOT NULL CHECK (declared_scope IN ('green', 'amber', 'red')),
    declared_schedule TEXT NOT NULL CHECK (declared_schedule IN ('green', 'amber', 'red')),
    declared_cost TEXT NOT NULL CHECK (declared_cost IN ('green', 'amber', 'red')),
    declared_resources TEXT NOT NULL CHECK (declared_resources IN ('green', 'amber', 'red')),
    status_justification TEXT NOT NULL DEFAULT '',
    data_version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);

CREATE TABLE tasks (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    wbs TEXT NOT NULL,
    name TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    optimistic_days DOUBLE PRECISION NOT NULL CHECK (optimistic_days >= 0),
    most_likely_days DOUBLE PRECISION NOT NULL CHECK (most_likely_days >= optimistic_days),
    pessimistic_days DOUBLE PRECISION NOT NULL CHECK (pessimistic_days >= most_likely_days),
    planned_start TEXT NOT NULL,
    planned_finish TEXT NOT NULL,
    budgeted_cost DOUBLE PRECISION NOT NULL CHECK (budgeted_cost >= 0),
    actual_cost DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (actual_cost >= 0),
    percent_complete DOUBLE PRECISION NOT NULL DEFAULT 0
        CHECK (percent_complete >= 0 AND percent_complete <= 100),
    actual_start TEXT,
    actual_finish TEXT,
    UNIQUE (project_id, wbs)
);

CREATE INDEX tasks_by_project ON tasks (project_id);

CREATE TABLE task_dependencies (
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    predecessor_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, predecessor_id),
    CHECK (task_id <> predecessor_id)
);

CREATE TABLE milestones (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    baseline_date TEXT NOT NULL,
    forecast_date TEXT NOT NULL,
    actual_date TEXT
);

CREATE INDEX milestones_by_project ON milestones (project_id);

CREATE TABLE milestone_forecasts (
    milestone_id BIGINT NOT NULL REFERENCES milestones (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    forecast_date TEXT NOT NULL,
    PRIMARY KEY (milestone_id, period)
);

CREATE TABLE risks (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    probability DOUBLE PRECISION NOT NULL CHECK (probability >= 0 AND probability <= 1),
    cost_impact DOUBLE PRECISION NOT NULL CHECK (cost_impact >= 0),
    schedule_impact_days DOUBLE PRECISION NOT NULL CHECK (schedule_impact_days >= 0),
    owner TEXT NOT NULL DEFAULT '',
    mitigation TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('open', 'mitigating', 'closed'))
);

CREATE INDEX risks_by_project ON risks (project_id);

CREATE TABLE risk_tasks (
    risk_id BIGINT NOT NULL REFERENCES risks (id) ON DELETE CASCADE,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (risk_id, task_id)
);

CREATE TABLE report_templates (
    id {{ID}},
    name TEXT NOT NULL UNIQUE,
    sections TEXT NOT NULL
);

CREATE TABLE reports (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    period TEXT NOT NULL,
    template_id BIGINT NOT NULL REFERENCES report_templates (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'final')),
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finalized_at TEXT,
    UNIQUE (project_id, period)
);

CREATE TABLE report_sections (
    id {{ID}},
    report_id BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    section_key TEXT NOT NULL,
    section_type TEXT NOT NULL,
    title TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    content TEXT NOT NULL DEFAULT '{}',
    narrative TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    UNIQUE (report_id, section_key)
);

CREATE TABLE section_revisions (
    id {{ID}},
    section_id BIGINT NOT NULL REFERENCES report_sections (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL,
    narrative TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    UNIQUE (section_id, version)
);
