//! Plan steps for PostgreSQL findings: `ALTER SYSTEM` changes with a reload or a
//! restart, maintenance SQL (indexes, vacuum) as templates to review, and pg_hba.conf
//! edits. Every rollback restores the value the snapshot recorded for that target
//! (`ALTER SYSTEM RESET` when it was the built-in default).
//!
//! A finding's subject is the target's label, optionally followed by a table
//! (`postgres://app@db1/erp public.orders`); scripts have one block per target.

use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::{Finding, Phase, Risk, Script, Value};

use super::{Context, Draft, StepDef, evidence_lines, verify};

fn sql(body: String) -> Script {
    Script {
        language: "sql".to_owned(),
        body,
    }
}

fn sh(body: String) -> Script {
    super::sh(body)
}

/// The target label and the table (if any) of a finding.
fn subject(f: &Finding) -> (&str, Option<&str>) {
    let s = f.subject.as_deref().unwrap_or("");
    match s.rsplit_once(' ') {
        Some((target, table)) if target.contains("://") => (target, Some(table)),
        _ => (s, None),
    }
}

fn facts_of<'a>(ctx: &'a Context, target: &str) -> Option<&'a PostgresFacts> {
    ctx.postgres.iter().find(|p| p.target == target)
}

/// The distinct targets of the findings, in order.
fn targets<'a>(findings: &[&'a Finding]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for f in findings {
        let (t, _) = subject(f);
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A size as PostgreSQL accepts it: `4GB`, `512MB`, `64kB`.
fn size(bytes: f64) -> String {
    let b = bytes.max(0.0) as u64;
    if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
        format!("{}GB", b >> 30)
    } else if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
        format!("{}MB", b >> 20)
    } else {
        format!("{}kB", b.div_ceil(1024))
    }
}

/// A setting's current value written so `ALTER SYSTEM SET` accepts it.
fn current_value(facts: &PostgresFacts, name: &str) -> Option<String> {
    let s = facts.setting(name)?;
    Some(match (s.normalised, s.normalised_unit.as_deref()) {
        (Some(v), Some("bytes")) => size(v),
        (Some(v), Some("ms")) => format!("{}ms", v.round() as i64),
        _ => s.setting.clone(),
    })
}

/// The statement that puts `name` back as the snapshot recorded it.
fn restore(facts: Option<&PostgresFacts>, name: &str) -> String {
    match facts.and_then(|f| f.setting(name).map(|s| (f, s))) {
        Some((_, s)) if s.source == "default" => format!("ALTER SYSTEM RESET {name};"),
        Some((f, _)) => format!(
            "ALTER SYSTEM SET {name} = '{}';",
            current_value(f, name)
                .unwrap_or_default()
                .replace('\'', "''")
        ),
        None => format!("ALTER SYSTEM SET {name} = '<value before the change>';"),
    }
}

/// One `ALTER SYSTEM` change per target, with its rollback.
fn alter_system(
    ctx: &Context,
    findings: &[&Finding],
    name: &str,
    new_value: impl Fn(Option<&PostgresFacts>) -> String,
    restart: bool,
) -> (String, String) {
    let apply = if restart {
        "-- Takes effect after a restart of PostgreSQL (e.g. systemctl restart postgresql).\n"
    } else {
        "SELECT pg_reload_conf();\n"
    };
    let mut script = format!(
        "-- Measured:\n{}",
        evidence_lines(findings).replace("# ", "-- ")
    );
    let mut rollback = String::new();
    for target in targets(findings) {
        let facts = facts_of(ctx, target);
        script.push_str(&format!(
            "\n-- On {target}:\nALTER SYSTEM SET {name} = '{}';\n{apply}",
            new_value(facts)
        ));
        rollback.push_str(&format!(
            "-- On {target}:\n{}\n{apply}",
            restore(facts, name)
        ));
    }
    (script, rollback)
}

fn text_evidence<'a>(f: &'a Finding, metric: &str) -> Option<&'a str> {
    f.evidence
        .iter()
        .find(|e| e.metric == metric)
        .and_then(|e| match &e.observed {
            Value::Text { text } => Some(text.as_str()),
            Value::Number { .. } => None,
        })
}

/// No setting changed: the rollback says so.
fn nothing_to_roll_back() -> Script {
    sql("-- This step only reads and reports; nothing to roll back.\n".to_owned())
}

pub(super) const SHARED_BUFFERS: StepDef = StepDef {
    id: "pg.config.shared_buffers",
    rule_id: "pg.memory.shared_buffers_low",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        // 25 % of RAM on a dedicated host, in whole GB (at least 128MB, at most 64GB:
        // beyond that the OS cache serves as well and checkpoints grow).
        let ram = ctx
            .host
            .as_ref()
            .map(|h| h.memory.total_bytes)
            .filter(|&r| r > 0);
        let target = |_: Option<&PostgresFacts>| match ram {
            Some(ram) => {
                let quarter = ram / 4;
                let value = if quarter >= 1 << 30 {
                    (quarter >> 30).min(64) << 30
                } else {
                    (quarter >> 20).max(128) << 20
                };
                size(value as f64)
            }
            None => "<25% of RAM>".to_owned(),
        };
        let (mut script, rollback) = alter_system(ctx, findings, "shared_buffers", target, true);
        script.push_str(
            "-- After the restart check huge pages (huge_pages = try) and that the host keeps\n\
             -- enough memory for work_mem x connections and the OS cache.\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: true,
            verify: verify("pg.settings.shared_buffers_pct_ram", ">= 20"),
        }
    },
};

pub(super) const CACHE_HIT_RATIO: StepDef = StepDef {
    id: "pg.cache.reduce_reads",
    rule_id: "pg.cache.hit_ratio_low",
    phase: Phase::Configuration,
    build: |_, findings| Draft {
        script: sql(format!(
            "-- Measured:\n{}\
             -- 1. The statements that read the most blocks from outside shared_buffers:\n\
             SELECT queryid, calls, shared_blks_read, shared_blks_hit,\n\
             \x20      round(100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0), 1) AS hit_pct,\n\
             \x20      left(query, 120) AS query\n\
             FROM pg_stat_statements ORDER BY shared_blks_read DESC LIMIT 20;\n\
             -- 2. Index or rewrite those statements (see the seq-scan findings); 3. if the\n\
             -- working set simply does not fit, raise shared_buffers (step pg.config.shared_buffers)\n\
             -- or the host's RAM.\n",
            evidence_lines(findings).replace("# ", "-- ")
        )),
        rollback: nothing_to_roll_back(),
        risk: Risk::Low,
        needs_restart: false,
        verify: verify("pg.cache.hit_ratio_pct", ">= 99"),
    },
};

pub(super) const WORK_MEM: StepDef = StepDef {
    id: "pg.config.work_mem",
    rule_id: "pg.temp.spills",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        // Four times the current value, at most 256MB: work_mem applies per sort or
        // hash node of every session, so a global raise must stay modest.
        let new = |facts: Option<&PostgresFacts>| {
            let current = facts
                .and_then(|f| f.setting_number("work_mem"))
                .unwrap_or(4.0 * 1_048_576.0);
            size((current * 4.0).min(256.0 * 1_048_576.0))
        };
        let (mut script, mut rollback) = alter_system(ctx, findings, "work_mem", new, false);
        script.push_str(
            "-- Log every temporary file to find the statements that still spill:\n\
             ALTER SYSTEM SET log_temp_files = 0;\nSELECT pg_reload_conf();\n\
             -- Better still, raise work_mem only for the reporting role or session:\n\
             -- ALTER ROLE <reporting_role> SET work_mem = '256MB';\n",
        );
        for target in targets(findings) {
            rollback.push_str(&format!(
                "-- On {target}:\n{}\nSELECT pg_reload_conf();\n",
                restore(facts_of(ctx, target), "log_temp_files")
            ));
        }
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.temp.bytes_per_s", "< 1048576"),
        }
    },
};

pub(super) const MAX_WAL_SIZE: StepDef = StepDef {
    id: "pg.config.max_wal_size",
    rule_id: "pg.checkpoints.too_frequent",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let new = |facts: Option<&PostgresFacts>| {
            let current = facts
                .and_then(|f| f.setting_number("max_wal_size"))
                .unwrap_or(1024.0 * 1_048_576.0);
            size((current * 4.0).max(4.0 * 1_073_741_824.0))
        };
        let (mut script, rollback) = alter_system(ctx, findings, "max_wal_size", new, false);
        script.push_str(
            "-- Check that pg_wal has room for the new max_wal_size plus headroom, and watch\n\
             -- the server log for \"checkpoints are occurring too frequently\".\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.checkpoints.requested_pct", "< 10"),
        }
    },
};

pub(super) const CONNECTIONS: StepDef = StepDef {
    id: "pg.connections.pooling",
    rule_id: "pg.connections.near_max",
    phase: Phase::Configuration,
    build: |_, findings| Draft {
        script: sql(format!(
            "-- Measured:\n{}\
             -- 1. Who holds the connections, and how many sit idle:\n\
             SELECT usename, application_name, client_addr, state, count(*)\n\
             FROM pg_stat_activity WHERE backend_type = 'client backend'\n\
             GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC;\n\
             -- 2. Put a transaction-mode pooler (PgBouncer, pgcat) in front of the idle-heavy\n\
             --    applications, or shrink their own pools.\n\
             -- 3. Only then, if still needed, raise the limit (restart; more memory per backend):\n\
             -- ALTER SYSTEM SET max_connections = <new limit>;\n",
            evidence_lines(findings).replace("# ", "-- ")
        )),
        rollback: sql(
            "-- Remove the pooler from the connection path (point applications back at\n\
             -- PostgreSQL); if max_connections was raised: ALTER SYSTEM RESET max_connections;\n"
                .to_owned(),
        ),
        risk: Risk::Medium,
        needs_restart: false,
        verify: verify("pg.connections.peak_pct", "< 70"),
    },
};

pub(super) const IDLE_IN_TRANSACTION: StepDef = StepDef {
    id: "pg.sessions.idle_in_transaction_timeout",
    rule_id: "pg.sessions.idle_in_transaction",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (mut script, rollback) = alter_system(
            ctx,
            findings,
            "idle_in_transaction_session_timeout",
            |_| "5min".to_owned(),
            false,
        );
        script.push_str(
            "-- Sessions idle in a transaction for more than 5 minutes now (review first, then\n\
             -- end them: their transactions roll back):\n\
             SELECT pid, usename, application_name, client_addr, now() - state_change AS idle_for,\n\
             \x20      left(query, 80) AS last_query\n\
             FROM pg_stat_activity\n\
             WHERE state LIKE 'idle in transaction%' AND state_change < now() - interval '5 minutes';\n\
             -- SELECT pg_terminate_backend(<pid>);\n\
             -- Fix the application path that leaves the transaction open (a missing commit or\n\
             -- rollback, user think time inside a transaction).\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.sessions.idle_in_transaction_ms.max", "< 30000"),
        }
    },
};

pub(super) const BLOCKING: StepDef = StepDef {
    id: "pg.locks.find_blockers",
    rule_id: "pg.locks.blocking_chains",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (mut script, rollback) =
            alter_system(ctx, findings, "log_lock_waits", |_| "on".to_owned(), false);
        script.push_str(
            "-- Lock waits longer than deadlock_timeout are now logged with both sides.\n\
             -- Live view of who blocks whom (root blockers have no blocker themselves):\n\
             SELECT a.pid, pg_blocking_pids(a.pid) AS blocked_by, a.usename, a.state,\n\
             \x20      now() - a.xact_start AS xact_age, left(a.query, 80) AS query\n\
             FROM pg_stat_activity a\n\
             WHERE cardinality(pg_blocking_pids(a.pid)) > 0\n\
             \x20  OR a.pid IN (SELECT unnest(pg_blocking_pids(b.pid)) FROM pg_stat_activity b);\n\
             -- Shorten the root blocker's transaction in the application; in an emergency:\n\
             -- SELECT pg_cancel_backend(<root pid>);  -- or pg_terminate_backend(<root pid>)\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.locks.blocked_sessions.max", "<= 1"),
        }
    },
};

pub(super) const ADD_INDEX: StepDef = StepDef {
    id: "pg.tables.add_index",
    rule_id: "pg.tables.seq_scan_heavy",
    phase: Phase::Maintenance,
    build: |_, findings| {
        let mut script = format!(
            "-- Measured:\n{}",
            evidence_lines(findings).replace("# ", "-- ")
        );
        let mut rollback = String::new();
        for f in findings {
            let (target, table) = subject(f);
            let table = table.unwrap_or("<schema.table>");
            let short = table.rsplit('.').next().unwrap_or(table);
            script.push_str(&format!(
                "\n-- On {target}, table {table}: a template, not a ready command. Pick the column(s)\n\
                 -- from the WHERE / JOIN clauses of its top statements (pg_statements, or:)\n\
                 SELECT queryid, calls, total_exec_time, left(query, 200) FROM pg_stat_statements\n\
                 WHERE query ILIKE '%{short}%' ORDER BY total_exec_time DESC LIMIT 10;\n\
                 -- CONCURRENTLY does not block writes; it cannot run inside a transaction.\n\
                 CREATE INDEX CONCURRENTLY IF NOT EXISTS {short}_<column>_idx ON {table} (<column>);\n\
                 ANALYZE {table};\n"
            ));
            let schema = table.rsplit_once('.').map_or("public", |(s, _)| s);
            rollback.push_str(&format!(
                "-- On {target}:\nDROP INDEX CONCURRENTLY IF EXISTS {schema}.{short}_<column>_idx;\n"
            ));
        }
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.tables.seq_tup_read_per_s", "< 100000"),
        }
    },
};

pub(super) const DROP_UNUSED: StepDef = StepDef {
    id: "pg.indexes.drop_unused",
    rule_id: "pg.indexes.unused",
    phase: Phase::Maintenance,
    build: |_, findings| {
        let largest: Vec<&str> = findings
            .iter()
            .filter_map(|f| text_evidence(f, "pg.indexes.largest_unused"))
            .collect();
        Draft {
            script: sql(format!(
                "-- Measured:\n{}\
                 -- Largest unused: {}\n\
                 -- 1. Check a replica's and the month-end/batch usage too: idx_scan is per server.\n\
                 -- 2. Save the definitions (this output is the rollback):\n\
                 SELECT pg_get_indexdef(s.indexrelid) || ';' AS recreate\n\
                 FROM pg_stat_user_indexes s JOIN pg_index i USING (indexrelid)\n\
                 WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid;\n\
                 -- 3. Generate the drops, review them, run them one by one:\n\
                 SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I;', s.schemaname, s.indexrelname)\n\
                 FROM pg_stat_user_indexes s JOIN pg_index i USING (indexrelid)\n\
                 WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid\n\
                 ORDER BY pg_relation_size(s.indexrelid) DESC;\n",
                evidence_lines(findings).replace("# ", "-- "),
                if largest.is_empty() {
                    "-".to_owned()
                } else {
                    largest.join(", ")
                }
            )),
            rollback: sql(
                "-- Run the CREATE INDEX statements saved in step 2, adding CONCURRENTLY after\n\
                 -- CREATE [UNIQUE] INDEX so writes are not blocked.\n"
                    .to_owned(),
            ),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.indexes.unused_bytes", "< 104857600"),
        }
    },
};

pub(super) const DROP_DUPLICATE: StepDef = StepDef {
    id: "pg.indexes.drop_duplicate",
    rule_id: "pg.indexes.duplicate",
    phase: Phase::Maintenance,
    build: |_, findings| {
        let mut script = String::from(
            "-- Each line names an index and the identical index it duplicates; the first is\n\
             -- dropped, the one it duplicates (primary key or unique first) is kept.\n",
        );
        let mut rollback =
            String::from("-- Recreate with the definitions the script printed before dropping:\n");
        for f in findings {
            let (target, _) = subject(f);
            script.push_str(&format!("\n-- On {target}:\n"));
            for pair in text_evidence(f, "pg.indexes.duplicates")
                .unwrap_or_default()
                .split(", ")
                .filter(|p| !p.is_empty())
            {
                let Some((dup, kept)) = pair.split_once(" = ") else {
                    continue;
                };
                script.push_str(&format!(
                    "SELECT pg_get_indexdef('{dup}'::regclass);  -- keep this output: it is the rollback\n\
                     DROP INDEX CONCURRENTLY IF EXISTS {dup};  -- duplicates {kept}\n"
                ));
                rollback.push_str(&format!(
                    "-- On {target}: the saved pg_get_indexdef of {dup}, as CREATE INDEX CONCURRENTLY ...;\n"
                ));
            }
        }
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.indexes.duplicate_count", "= 0"),
        }
    },
};

pub(super) const AUTOVACUUM: StepDef = StepDef {
    id: "pg.vacuum.tune_autovacuum",
    rule_id: "pg.vacuum.dead_tuples",
    phase: Phase::Maintenance,
    build: |_, findings| {
        let mut script = format!(
            "-- Measured:\n{}\
             -- First make sure nothing holds back cleanup (long transactions, idle in transaction,\n\
             -- abandoned replication slots, prepared transactions):\n\
             SELECT pid, now() - xact_start AS xact_age, state FROM pg_stat_activity\n\
             WHERE xact_start IS NOT NULL ORDER BY xact_start LIMIT 5;\n",
            evidence_lines(findings).replace("# ", "-- ")
        );
        let mut rollback = String::new();
        for f in findings {
            let (target, table) = subject(f);
            let table = table.unwrap_or("<schema.table>");
            script.push_str(&format!(
                "\n-- On {target}:\nVACUUM (ANALYZE, VERBOSE) {table};\n\
                 ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_cost_limit = 1000);\n"
            ));
            rollback.push_str(&format!(
                "-- On {target}:\nALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_cost_limit);\n"
            ));
        }
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.tables.dead_tuple_pct", "< 10"),
        }
    },
};

pub(super) const HBA_TRUST: StepDef = StepDef {
    id: "pg.security.hba_scram",
    rule_id: "pg.security.trust_auth",
    phase: Phase::Configuration,
    build: |_, findings| {
        let mut script = String::from(
            "# Run on the database server as the postgres OS user. Before: every role that\n\
             # logs in over the network needs a SCRAM password (password_encryption =\n\
             # 'scram-sha-256', then ALTER ROLE <role> PASSWORD '...'), or it is locked out.\n\
             set -eu\n\
             HBA=$(psql -XAtc 'SHOW hba_file')\n\
             cp -p \"$HBA\" \"$HBA.perfdiag-backup\"\n",
        );
        for f in findings {
            let (target, _) = subject(f);
            script.push_str(&format!("# {target}\n"));
            for rule in text_evidence(f, "pg.hba.weak_rules")
                .unwrap_or_default()
                .split("; ")
            {
                let line = rule
                    .strip_prefix("line ")
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.parse::<u32>().ok());
                if let Some(line) = line {
                    script.push_str(&format!(
                        "# {rule}\nsed -i '{line}s/\\<trust\\>\\|\\<password\\>/scram-sha-256/' \"$HBA\"\n"
                    ));
                }
            }
        }
        script.push_str(
            "# Narrow any 0.0.0.0/0 or ::/0 address to the application subnets while editing.\n\
             psql -XAtc 'SELECT pg_reload_conf()'\n\
             psql -XAtc 'SELECT line_number, type, address, auth_method, error FROM pg_hba_file_rules'\n",
        );
        Draft {
            script: sh(script),
            rollback: sh("HBA=$(psql -XAtc 'SHOW hba_file')\n\
                 cp -p \"$HBA.perfdiag-backup\" \"$HBA\"\n\
                 psql -XAtc 'SELECT pg_reload_conf()'\n"
                .to_owned()),
            risk: Risk::High,
            needs_restart: false,
            verify: verify(
                "pg.hba.auth_method",
                "no trust/password rule for TCP clients",
            ),
        }
    },
};

pub(super) const PUBLIC_SCHEMA: StepDef = StepDef {
    id: "pg.security.revoke_public_create",
    rule_id: "pg.security.public_schema_create",
    phase: Phase::Configuration,
    build: |_, findings| {
        let mut script = String::from(
            "-- Applications that create objects in schema public need an explicit grant first:\n\
             -- GRANT CREATE ON SCHEMA public TO <app_role>;\n",
        );
        let mut rollback = String::new();
        for target in targets(findings) {
            script.push_str(&format!(
                "-- On {target}:\nREVOKE CREATE ON SCHEMA public FROM PUBLIC;\n"
            ));
            rollback.push_str(&format!(
                "-- On {target}:\nGRANT CREATE ON SCHEMA public TO PUBLIC;\n"
            ));
        }
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.security.public_schema_create", "= false"),
        }
    },
};

pub(super) const SLOW_QUERY_LOG: StepDef = StepDef {
    id: "pg.logging.log_slow_queries",
    rule_id: "pg.logging.slow_query_off",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (script, rollback) = alter_system(
            ctx,
            findings,
            "log_min_duration_statement",
            |_| "1s".to_owned(),
            false,
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.settings.log_min_duration_statement", "= 1000 ms"),
        }
    },
};

pub(super) const PG_STAT_STATEMENTS: StepDef = StepDef {
    id: "pg.extension.enable_pg_stat_statements",
    rule_id: "pg.extension.pg_stat_statements_missing",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let mut script = String::new();
        let mut rollback = String::new();
        let mut restart = false;
        for f in findings {
            let (target, _) = subject(f);
            let facts = facts_of(ctx, target);
            let state = text_evidence(f, "pg.extension.pg_stat_statements").unwrap_or("absent");
            let libs = facts
                .and_then(|f| f.setting_text("shared_preload_libraries"))
                .unwrap_or("")
                .trim()
                .to_owned();
            let db = facts
                .and_then(|f| f.database.as_deref())
                .unwrap_or("<database>");
            script.push_str(&format!("-- On {target}:\n"));
            if state != "not created" {
                restart = true;
                let new = if libs.is_empty() {
                    "pg_stat_statements".to_owned()
                } else {
                    format!("{libs},pg_stat_statements")
                };
                script.push_str(&format!(
                    "ALTER SYSTEM SET shared_preload_libraries = '{new}';\n\
                     -- Restart PostgreSQL now (the library loads at start), then:\n"
                ));
                rollback.push_str(&format!(
                    "-- On {target}:\n{}\n-- then restart PostgreSQL.\n",
                    restore(facts, "shared_preload_libraries")
                ));
            }
            script.push_str(&format!(
                "-- in database {db}, as a superuser:\nCREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n"
            ));
            rollback.push_str(&format!(
                "-- On {target}, database {db}:\nDROP EXTENSION IF EXISTS pg_stat_statements;\n"
            ));
        }
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: restart,
            verify: verify("pg.extension.pg_stat_statements", "= available"),
        }
    },
};

/// The PostgreSQL steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[
    SHARED_BUFFERS,
    CACHE_HIT_RATIO,
    WORK_MEM,
    MAX_WAL_SIZE,
    CONNECTIONS,
    IDLE_IN_TRANSACTION,
    BLOCKING,
    ADD_INDEX,
    DROP_UNUSED,
    DROP_DUPLICATE,
    AUTOVACUUM,
    HBA_TRUST,
    PUBLIC_SCHEMA,
    SLOW_QUERY_LOG,
    PG_STAT_STATEMENTS,
];

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::postgres::PgSetting;
    use perfdiag_model::facts::{HostFacts, MemoryFacts};
    use perfdiag_model::{Evidence, Severity};

    use super::*;
    use crate::test_support::finding;

    const T: &str = "postgres://app@localhost/erp";

    fn ctx() -> Context {
        let s =
            |name: &str, raw: &str, unit: Option<&str>, n: Option<f64>, source: &str| PgSetting {
                name: name.to_owned(),
                setting: raw.to_owned(),
                unit: unit.map(str::to_owned),
                normalised: n,
                normalised_unit: unit
                    .map(|u| if u.ends_with('B') { "bytes" } else { "ms" }.to_owned()),
                source: source.to_owned(),
                ..PgSetting::default()
            };
        Context {
            host: Some(HostFacts {
                memory: MemoryFacts {
                    total_bytes: 16 << 30,
                    ..MemoryFacts::default()
                },
                ..HostFacts::default()
            }),
            postgres: vec![PostgresFacts {
                target: T.to_owned(),
                database: Some("erp".to_owned()),
                settings: vec![
                    s(
                        "shared_buffers",
                        "16384",
                        Some("8kB"),
                        Some(134_217_728.0),
                        "configuration file",
                    ),
                    s(
                        "log_min_duration_statement",
                        "-1",
                        Some("ms"),
                        None,
                        "default",
                    ),
                    s("work_mem", "4096", Some("kB"), Some(4_194_304.0), "default"),
                    s(
                        "shared_preload_libraries",
                        "auto_explain",
                        None,
                        None,
                        "configuration file",
                    ),
                ],
                ..PostgresFacts::default()
            }],
            ..Context::default()
        }
    }

    fn text(metric: &str, text: &str) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::text(text),
            threshold: None,
        }
    }

    #[test]
    fn shared_buffers_is_sized_from_ram_and_rolls_back_to_the_recorded_value() {
        let f = finding(
            "pg.memory.shared_buffers_low",
            Severity::Critical,
            Some(T),
            Vec::new(),
        );
        let d = (SHARED_BUFFERS.build)(&ctx(), &[&f]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET shared_buffers = '4GB';"),
            "{}",
            d.script.body
        );
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM SET shared_buffers = '128MB';")
        );
        assert!(d.needs_restart);
    }

    #[test]
    fn default_settings_roll_back_with_reset() {
        let f = finding(
            "pg.logging.slow_query_off",
            Severity::Warning,
            Some(T),
            Vec::new(),
        );
        let d = (SLOW_QUERY_LOG.build)(&ctx(), &[&f]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET log_min_duration_statement = '1s';")
        );
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM RESET log_min_duration_statement;")
        );
        let w = (WORK_MEM.build)(&ctx(), &[&f]);
        assert!(
            w.script
                .body
                .contains("ALTER SYSTEM SET work_mem = '16MB';"),
            "{}",
            w.script.body
        );
    }

    #[test]
    fn table_steps_name_the_table_and_hba_edits_the_lines() {
        let f = finding(
            "pg.tables.seq_scan_heavy",
            Severity::Critical,
            Some(&format!("{T} public.big")),
            Vec::new(),
        );
        let d = (ADD_INDEX.build)(&ctx(), &[&f]);
        assert!(d.script.body.contains(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS big_<column>_idx ON public.big (<column>);"
        ));
        assert!(
            d.rollback
                .body
                .contains("DROP INDEX CONCURRENTLY IF EXISTS public.big_<column>_idx;")
        );
        let h = finding(
            "pg.security.trust_auth",
            Severity::Critical,
            Some(T),
            vec![text(
                "pg.hba.weak_rules",
                "line 3: host trust from any address",
            )],
        );
        let d = (HBA_TRUST.build)(&ctx(), &[&h]);
        assert!(d.script.body.contains("sed -i '3s/"), "{}", d.script.body);
        assert!(d.rollback.body.contains("perfdiag-backup"));
        let p = finding(
            "pg.extension.pg_stat_statements_missing",
            Severity::Warning,
            Some(T),
            vec![text("pg.extension.pg_stat_statements", "absent")],
        );
        let d = (PG_STAT_STATEMENTS.build)(&ctx(), &[&p]);
        assert!(
            d.script
                .body
                .contains("shared_preload_libraries = 'auto_explain,pg_stat_statements'")
        );
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM SET shared_preload_libraries = 'auto_explain';")
        );
        assert!(d.needs_restart);
    }
}
