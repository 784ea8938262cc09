-- A project's calendar and a task's remaining duration.
-- `working_days`: the days of the week worked, as `mon,tue,...`; `holidays`: `YYYY-MM-DD` dates
-- separated by commas; `reporting_day`: the day of the month a month's report is true of (31: the
-- month's last day, as before). Durations, planned value and the simulation's dates count this
-- calendar's working days.
-- `remaining_days`: the working days a started task still needs, as its owner estimates them; the
-- simulation centres the task's remaining duration on it (NULL: the plan's estimate times the share
-- left to do).

ALTER TABLE projects ADD COLUMN working_days TEXT NOT NULL DEFAULT 'mon,tue,wed,thu,fri';
ALTER TABLE projects ADD COLUMN holidays TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN reporting_day BIGINT NOT NULL DEFAULT 31
    CHECK (reporting_day BETWEEN 1 AND 31);
ALTER TABLE tasks ADD COLUMN remaining_days DOUBLE PRECISION
    CHECK (remaining_days IS NULL OR remaining_days >= 0);
