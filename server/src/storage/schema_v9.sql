-- Editors an admin allows to create projects. Admins always may; for anyone else the flag is read
-- from here at the moment of creating (not from a remembered session), so taking it back holds at once.
ALTER TABLE users ADD COLUMN may_create_projects BIGINT NOT NULL DEFAULT 0;
