/// The PostgreSQL schema, in one place: versions applied once each, in order, under an advisory
/// lock (`PostgresDatabase.migrate`); a version once released is never edited, only followed.
/// The job queue's versions come first, then those of `SharedState`'s stores (one file each:
/// PostgresKeyStore, PostgresIdempotencyStore, PostgresMediaRecords, PostgresUploadStore,
/// PostgresOutbox, PostgresRateCounter, PostgresKeptValues), for API nodes that are
/// interchangeable (SPEC §8): each does what its embedded twin does (one conformance suite holds
/// both to it). Times the application gives are kept as epoch seconds (`double precision`), as
/// SQLite keeps them.
enum PostgresSchema {
    /// Every version, in the order they are applied.
    static var migrations: [[String]] { queue + state }

    /// The job queue (`PostgresJobQueue`): the first versions.
    static let queue: [[String]] = [
        [
            """
            CREATE TABLE kiln_jobs (
                id text PRIMARY KEY,
                kind text NOT NULL,
                status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
                stage text,
                progress double precision NOT NULL DEFAULT 0,
                priority integer NOT NULL DEFAULT 0,
                payload bytea NOT NULL,
                result bytea,
                error bytea,
                attempts integer NOT NULL DEFAULT 0,
                dedupe_key text,
                worker text,
                cancel_requested boolean NOT NULL DEFAULT false,
                dead_letter boolean NOT NULL DEFAULT false,
                available_at timestamptz NOT NULL,
                lease_expires_at timestamptz,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL
            )
            """,
            // Unique jobs: one unfinished job per key, even under concurrent enqueues.
            "CREATE UNIQUE INDEX kiln_jobs_dedupe ON kiln_jobs (dedupe_key) WHERE status IN ('queued', 'running')",
            "CREATE INDEX kiln_jobs_claim ON kiln_jobs (priority DESC, created_at, id) WHERE status IN ('queued', 'running')",
            "CREATE INDEX kiln_jobs_dead ON kiln_jobs (updated_at) WHERE dead_letter",
        ],
        [
            "ALTER TABLE kiln_jobs ADD COLUMN event_sent_at timestamptz",
            // Jobs that ended before events existed have nothing to send.
            "UPDATE kiln_jobs SET event_sent_at = updated_at WHERE status IN ('succeeded', 'failed', 'cancelled')",
            """
            CREATE INDEX kiln_jobs_events ON kiln_jobs (updated_at, id)
            WHERE event_sent_at IS NULL AND status IN ('succeeded', 'failed', 'cancelled')
            """,
        ],
    ]

    /// The shared state's stores: the versions after the queue's.
    static let state: [[String]] = [
        [
            """
            CREATE TABLE kiln_api_keys (
                id text PRIMARY KEY, name text NOT NULL, scope text NOT NULL, tenant_id text NOT NULL, hash text NOT NULL,
                created_at double precision NOT NULL, revoked_at double precision, last_used_at double precision,
                webhook_url text, webhook_secrets text)
            """,
            "CREATE INDEX kiln_api_keys_tenant ON kiln_api_keys (tenant_id)",
            """
            CREATE TABLE kiln_idempotency (
                key_id text NOT NULL, idempotency_key text NOT NULL, request_hash text NOT NULL, status integer NOT NULL,
                body bytea NOT NULL, created_at double precision NOT NULL, PRIMARY KEY (key_id, idempotency_key))
            """,
            """
            CREATE TABLE kiln_media (
                id text NOT NULL, holder text NOT NULL DEFAULT '', kind text NOT NULL, tenant_id text, key_id text,
                bytes bigint NOT NULL, created_at double precision NOT NULL, PRIMARY KEY (id, holder))
            """,
            "CREATE INDEX kiln_media_holder ON kiln_media (holder)",
            """
            CREATE TABLE kiln_uploads (
                id text PRIMARY KEY, key_id text, tenant_id text, length bigint, "offset" bigint NOT NULL,
                metadata text NOT NULL, created_at double precision NOT NULL, expires_at double precision NOT NULL,
                result_status integer, result_body bytea, result_location text)
            """,
            "CREATE INDEX kiln_uploads_expiry ON kiln_uploads (expires_at)",
            "CREATE INDEX kiln_uploads_tenant ON kiln_uploads (tenant_id, result_status)",
            """
            CREATE TABLE kiln_webhook_deliveries (
                id text PRIMARY KEY, event_id text NOT NULL, type text NOT NULL, key_id text, endpoint text NOT NULL,
                url text NOT NULL, body bytea NOT NULL, status text NOT NULL, attempts integer NOT NULL,
                next_attempt_at double precision NOT NULL, last_status integer, last_error text,
                created_at double precision NOT NULL, delivered_at double precision, UNIQUE (event_id, url))
            """,
            "CREATE INDEX kiln_webhook_deliveries_due ON kiln_webhook_deliveries (status, next_attempt_at)",
            "CREATE INDEX kiln_webhook_deliveries_key ON kiln_webhook_deliveries (key_id, created_at)",
        ],
        [
            """
            CREATE TABLE kiln_rate_windows (
                key_id text NOT NULL, window_start bigint NOT NULL, window_seconds integer NOT NULL, count integer NOT NULL,
                PRIMARY KEY (key_id, window_start))
            """,
        ],
        [
            "ALTER TABLE kiln_uploads ADD COLUMN writer text, ADD COLUMN writer_until double precision",
        ],
        [
            "ALTER TABLE kiln_webhook_deliveries ADD COLUMN trace text",
        ],
        [
            "CREATE TABLE kiln_kept_values (name text PRIMARY KEY, value text NOT NULL)",
        ],
        [
            "ALTER TABLE kiln_uploads ADD COLUMN reserved bigint NOT NULL DEFAULT 0",
        ],
    ]
}
