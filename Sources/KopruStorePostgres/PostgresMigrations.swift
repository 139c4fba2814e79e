/// The schema in PostgreSQL's dialect: the same tables, constraints and steps as the SQLite
/// store's migrations (times are milliseconds since 1970 in BIGINT on both). A shipped step is
/// never edited: add a new one.
enum PostgresMigrations {
    struct Migration {
        let name: String
        let statements: [String]
    }

    static let all: [Migration] = [
        Migration(
            name: "v1: connections, jobs, bindings, cursors, snapshots, events, schedules",
            statements: [
                """
                CREATE TABLE connections (
                    id TEXT PRIMARY KEY,
                    type TEXT NOT NULL,
                    name TEXT NOT NULL,
                    settings TEXT NOT NULL DEFAULT '{}',
                    secrets BYTEA NOT NULL,
                    paused BOOLEAN NOT NULL DEFAULT FALSE,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE jobs (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    kind TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL,
                    payload BYTEA NOT NULL,
                    priority INTEGER NOT NULL DEFAULT 0,
                    run_at BIGINT NOT NULL,
                    ordering_key TEXT,
                    coalescing_key TEXT,
                    connection_id TEXT,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'dead', 'superseded')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    last_error TEXT,
                    lease_owner TEXT,
                    lease_token TEXT,
                    lease_expires_at BIGINT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    finished_at BIGINT,
                    UNIQUE (kind, idempotency_key),
                    CHECK ((status = 'running') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
                )
                """,
                "CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE status = 'pending'",
                "CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running'",
                """
                CREATE INDEX jobs_ordering ON jobs (ordering_key, id)
                WHERE ordering_key IS NOT NULL AND status IN ('pending', 'running')
                """,
                """
                CREATE UNIQUE INDEX jobs_one_pending_per_coalescing_key ON jobs (kind, coalescing_key)
                WHERE coalescing_key IS NOT NULL AND status = 'pending'
                """,
                "CREATE INDEX jobs_status ON jobs (status, id)",
                """
                CREATE TABLE bindings (
                    connection_id TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    external_id TEXT NOT NULL,
                    internal_id TEXT NOT NULL,
                    PRIMARY KEY (connection_id, entity, external_id),
                    UNIQUE (connection_id, entity, internal_id)
                )
                """,
                """
                CREATE TABLE sync_cursors (
                    connection_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (connection_id, name)
                )
                """,
                """
                CREATE TABLE snapshots (
                    connection_id TEXT NOT NULL,
                    entity TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    confirmed_at BIGINT NOT NULL,
                    PRIMARY KEY (connection_id, entity, key)
                )
                """,
                """
                CREATE TABLE events (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    at BIGINT NOT NULL,
                    level TEXT NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'notice', 'warning', 'error', 'critical')),
                    level_rank INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    connection_id TEXT,
                    subject TEXT,
                    message TEXT NOT NULL,
                    details TEXT NOT NULL DEFAULT '{}',
                    duration_ms BIGINT
                )
                """,
                "CREATE INDEX events_at ON events (at)",
                "CREATE INDEX events_connection ON events (connection_id, id)",
                """
                CREATE TABLE schedules (
                    name TEXT PRIMARY KEY,
                    next_fire_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
            ]),
        Migration(
            name: "v2: leaders",
            statements: [
                """
                CREATE TABLE leaders (
                    role TEXT PRIMARY KEY,
                    holder TEXT NOT NULL,
                    expires_at BIGINT NOT NULL
                )
                """
            ]),
        Migration(
            name: "v3: webhook events, API tokens, master key fingerprint",
            statements: [
                """
                CREATE TABLE webhook_events (
                    id BIGSERIAL PRIMARY KEY,
                    connection_id TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    delivery_key TEXT NOT NULL,
                    topic TEXT,
                    received_at BIGINT NOT NULL,
                    processed_at BIGINT,
                    body BYTEA NOT NULL,
                    UNIQUE (connection_id, delivery_key)
                )
                """,
                "CREATE INDEX webhook_events_processed ON webhook_events (processed_at) WHERE processed_at IS NOT NULL",
                """
                CREATE TABLE api_tokens (
                    name TEXT PRIMARY KEY,
                    hash TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL,
                    revoked_at BIGINT
                )
                """,
                """
                CREATE TABLE master_key (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    fingerprint TEXT NOT NULL
                )
                """,
            ]),
        Migration(
            name: "v4: rate budgets, stock reservations, sync runs",
            statements: [
                "CREATE TABLE rate_budgets (key TEXT PRIMARY KEY, arrival_at BIGINT NOT NULL)",
                """
                CREATE TABLE stock_reservations (
                    order_key TEXT NOT NULL,
                    sku TEXT NOT NULL,
                    quantity INTEGER NOT NULL,
                    released_at BIGINT,
                    PRIMARY KEY (order_key, sku)
                )
                """,
                "CREATE INDEX stock_reservations_sku ON stock_reservations (sku)",
                """
                CREATE TABLE sync_runs (
                    id TEXT PRIMARY KEY,
                    flow TEXT NOT NULL,
                    target TEXT NOT NULL,
                    started_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    read BIGINT NOT NULL,
                    read_done BOOLEAN NOT NULL,
                    queued BIGINT NOT NULL,
                    confirmed BIGINT NOT NULL,
                    refused BIGINT NOT NULL
                )
                """,
                "CREATE INDEX sync_runs_target ON sync_runs (target, started_at)",
            ]),
        Migration(
            name: "v5: jobs remember an uncertain outcome",
            statements: ["ALTER TABLE jobs ADD COLUMN outcome_uncertain BOOLEAN NOT NULL DEFAULT FALSE"]),
        Migration(
            name: "v6: circuit breakers",
            statements: [
                """
                CREATE TABLE circuit_breakers (
                    key TEXT PRIMARY KEY,
                    phase TEXT NOT NULL,
                    failures INTEGER NOT NULL,
                    since_at BIGINT NOT NULL,
                    probe_at BIGINT,
                    last_error TEXT,
                    probes INTEGER NOT NULL
                )
                """
            ]),
        Migration(
            name: "v7: API token roles",
            statements: [
                "ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'read'))"
            ]),
        Migration(
            name: "v8: the order index, events by subject and by connection, token sign-outs",
            statements: [
                """
                CREATE TABLE orders (
                    id TEXT PRIMARY KEY,
                    connection_id TEXT NOT NULL,
                    external_id TEXT NOT NULL,
                    number TEXT NOT NULL,
                    number_reversed TEXT NOT NULL,
                    status TEXT NOT NULL,
                    total TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    placed_at BIGINT,
                    first_seen_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    seen_via TEXT NOT NULL,
                    export_queued_at BIGINT,
                    export_target TEXT,
                    export_reference TEXT,
                    exported_at BIGINT
                )
                """,
                "CREATE INDEX orders_seen ON orders (first_seen_at, id)",
                "CREATE INDEX orders_number ON orders (number_reversed text_pattern_ops)",
                "CREATE INDEX orders_pending ON orders (first_seen_at, id) WHERE export_queued_at IS NOT NULL AND exported_at IS NULL",
                "CREATE INDEX events_subject ON events (subject, id) WHERE subject IS NOT NULL",
                "CREATE INDEX events_connection_kind ON events (connection_id, kind, id)",
                "CREATE INDEX events_connection_level ON events (connection_id, level_rank, id)",
                "CREATE INDEX events_kind ON events (kind, id)",
                "ALTER TABLE api_tokens ADD COLUMN sessions_ended_at BIGINT",
            ]),
    ]
}
