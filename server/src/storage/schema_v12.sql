-- What a scheduler's file told of a task that PMR's analysis does not use, kept as data.
-- `estimated_by_rule`: 1 when the optimistic and pessimistic durations were derived from the
-- planned one by an import's estimate rule (the file had no three-point estimates), so a report
-- can say its spread is assumed; 0 when they were given.
-- `constraint_kind`, `constraint_date`: the date constraint the scheduling tool had on the task
-- (`finish_no_later_than`, `2026-03-01`; no date for `as_late_as_possible`); shown and exported,
-- not enforced.

ALTER TABLE tasks ADD COLUMN estimated_by_rule BIGINT NOT NULL DEFAULT 0
    CHECK (estimated_by_rule IN (0, 1));
ALTER TABLE tasks ADD COLUMN constraint_kind TEXT;
ALTER TABLE tasks ADD COLUMN constraint_date TEXT;

-- Deleting a task (replacing a plan deletes them all) looks up the rows that name it: without these
-- a 50,000-task plan's replacement scans the dependencies once per task.
CREATE INDEX task_dependencies_by_predecessor ON task_dependencies (predecessor_id);
CREATE INDEX risk_tasks_by_task ON risk_tasks (task_id);
