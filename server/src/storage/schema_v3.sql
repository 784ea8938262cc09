-- API tokens reach projects the way accounts do: admin tokens reach every project, viewer and editor
-- tokens only the projects listed here. `last_used_at` (Unix seconds) tells admins which tokens are
-- still in use.

CREATE TABLE api_token_projects (
    token_id BIGINT NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, project_id)
);

ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
