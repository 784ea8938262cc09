-- API tokens may end at a time of their own (`expires_at`, Unix seconds; NULL: only when revoked) and
-- may be limited to reading the Prometheus exposition (`scope` 'metrics'; 'full' is everything the
-- token's role allows). A token also ends with its creator's deactivation (checked when it is used).

ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full' CHECK (scope IN ('full', 'metrics'));
