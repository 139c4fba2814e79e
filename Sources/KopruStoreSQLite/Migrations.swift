import GRDB

/// The schema, as an ordered list of named steps. A shipped step is never edited: add a new one.
/// Constraints live here, not in `if`s: uniqueness of idempotency keys and bindings, one pending
/// job per coalescing key, and "running" if and only if a lease is held.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: connections, jobs, bindings, cursors, snapshots, events, schedules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE connections (
                        id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        name TEXT NOT NULL,
                        settings TEXT NOT NULL DEFAULT '{}',
                        secrets BLOB NOT NULL,
                        paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );

                    CREATE TABLE jobs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        priority INTEGER NOT NULL DEFAULT 0,
                        run_at INTEGER NOT NULL,
                        ordering_key TEXT,
                        coalescing_key TEXT,
                        connection_id TEXT,
                        status TEXT NOT NULL
                            CHECK (status IN ('pending', 'running', 'succeeded', 'dead', 'superseded')),
                        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                        last_error TEXT,
                        lease_owner TEXT,
                        lease_token TEXT,
                        lease_expires_at INTEGER,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        finished_at INTEGER,
                        UNIQUE (kind, idempotency_key),
                        CHECK ((status = 'running') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
                    );
                    CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE status = 'pending';
                    CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
                    CREATE INDEX jobs_ordering ON jobs (ordering_key, id)
                        WHERE ordering_key IS NOT NULL AND status IN ('pending', 'running');
                    CREATE UNIQUE INDEX jobs_one_pending_per_coalescing_key ON jobs (kind, coalescing_key)
                        WHERE coalescing_key IS NOT NULL AND status = 'pending';
                    CREATE INDEX jobs_status ON jobs (status, id);

                    CREATE TABLE bindings (
                        connection_id TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        external_id TEXT NOT NULL,
                        internal_id TEXT NOT NULL,
                        PRIMARY KEY (connection_id, entity, external_id),
                        UNIQUE (connection_id, entity, internal_id)
                    ) WITHOUT ROWID;

                    CREATE TABLE sync_cursors (
                        connection_id TEXT NOT NULL,
                        name TEXT NOT NULL,
                        value TEXT NOT NULL,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (connection_id, name)
                    ) WITHOUT ROWID;

                    CREATE TABLE snapshots (
                        connection_id TEXT NOT NULL,
                        entity TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        confirmed_at INTEGER NOT NULL,
                        PRIMARY KEY (connection_id, entity, key)
                    ) WITHOUT ROWID;

                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        level TEXT NOT NULL
                            CHECK (level IN ('trace', 'debug', 'info', 'notice', 'warning', 'error', 'critical')),
                        level_rank INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        connection_id TEXT,
                        subject TEXT,
                        message TEXT NOT NULL,
                        details TEXT NOT NULL DEFAULT '{}',
                        duration_ms INTEGER
                    );
                    CREATE INDEX events_at ON events (at);
                    CREATE INDEX events_connection ON events (connection_id, id);

                    CREATE TABLE schedules (
                        name TEXT PRIMARY KEY NOT NULL,
                        next_fire_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2: leaders") { db in
            try db.execute(
                sql: """
                    CREATE TABLE leaders (
                        role TEXT PRIMARY KEY NOT NULL,
                        holder TEXT NOT NULL,
                        expires_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3: webhook events, API tokens, master key fingerprint") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        connection_id TEXT NOT NULL,
                        provider TEXT NOT NULL,
                        delivery_key TEXT NOT NULL,
                        topic TEXT,
                        received_at INTEGER NOT NULL,
                        processed_at INTEGER,
                        body BLOB NOT NULL,
                        UNIQUE (connection_id, delivery_key)
                    );
                    CREATE INDEX webhook_events_processed ON webhook_events (processed_at) WHERE processed_at IS NOT NULL;

                    CREATE TABLE api_tokens (
                        name TEXT PRIMARY KEY NOT NULL,
                        hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );

                    CREATE TABLE master_key (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        fingerprint TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v4: rate budgets, stock reservations, sync runs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rate_budgets (
                        key TEXT PRIMARY KEY NOT NULL,
                        arrival_at INTEGER NOT NULL
                    );

                    CREATE TABLE stock_reservations (
                        order_key TEXT NOT NULL,
                        sku TEXT NOT NULL,
                        quantity INTEGER NOT NULL,
                        released_at INTEGER,
                        PRIMARY KEY (order_key, sku)
                    );
                    CREATE INDEX stock_reservations_sku ON stock_reservations (sku);

                    CREATE TABLE sync_runs (
                        id TEXT PRIMARY KEY NOT NULL,
                        flow TEXT NOT NULL,
                        target TEXT NOT NULL,
                        started_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        read INTEGER NOT NULL,
                        read_done INTEGER NOT NULL,
                        queued INTEGER NOT NULL,
                        confirmed INTEGER NOT NULL,
                        refused INTEGER NOT NULL
                    );
                    CREATE INDEX sync_runs_target ON sync_runs (target, started_at);
                    """)
        }
        migrator.registerMigration("v5: jobs remember an uncertain outcome") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN outcome_uncertain BOOLEAN NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v6: circuit breakers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE circuit_breakers (
                        key TEXT PRIMARY KEY NOT NULL,
                        phase TEXT NOT NULL,
                        failures INTEGER NOT NULL,
                        since_at INTEGER NOT NULL,
                        probe_at INTEGER,
                        last_error TEXT,
                        probes INTEGER NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("v7: API token roles") { db in
            try db.execute(
                sql: "ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'read'))")
        }
        migrator.registerMigration("v8: the order index, events by subject and by connection, token sign-outs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE orders (
                        id TEXT PRIMARY KEY NOT NULL,
                        connection_id TEXT NOT NULL,
                        external_id TEXT NOT NULL,
                        number TEXT NOT NULL,
                        number_reversed TEXT NOT NULL,
                        status TEXT NOT NULL,
                        total TEXT NOT NULL,
                        currency TEXT NOT NULL,
                        placed_at INTEGER,
                        first_seen_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        seen_via TEXT NOT NULL,
                        export_queued_at INTEGER,
                        export_target TEXT,
                        export_reference TEXT,
                        exported_at INTEGER
                    );
                    CREATE INDEX orders_seen ON orders (first_seen_at, id);
                    CREATE INDEX orders_number ON orders (number_reversed);
                    CREATE INDEX orders_pending ON orders (first_seen_at, id) WHERE export_queued_at IS NOT NULL AND exported_at IS NULL;
                    CREATE INDEX events_subject ON events (subject, id) WHERE subject IS NOT NULL;
                    CREATE INDEX events_connection_kind ON events (connection_id, kind, id);
                    CREATE INDEX events_connection_level ON events (connection_id, level_rank, id);
                    CREATE INDEX events_kind ON events (kind, id);
                    ALTER TABLE api_tokens ADD COLUMN sessions_ended_at INTEGER;
                    """)
        }
        return migrator
    }
}
