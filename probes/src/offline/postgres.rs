//! The psql scripts of an offline PostgreSQL collection: the live probe's own queries
//! (`postgres/sql/*.sql`, the same text), each written by psql `--csv` to a file named
//! after the query, and a POSIX shell runner that paces the session samples.
//!
//! One psql session runs the whole window, like the live collector's one connection:
//! `PGOPTIONS` sets the same read-only transactions and statement, lock and
//! idle-in-transaction timeouts the live probe puts in its startup packet, and
//! `PGAPPNAME` the same application name. A query that fails leaves its SQLSTATE and
//! message in `<query>.err` (psql 10+ `\if :ERROR`), and the script goes on.
//! Which version-dependent variant runs (`bgwriter`/`checkpointer`, `wal`/`wal_18`,
//! `statements`/`statements_pre13`) is decided from `server_version_num` as the live
//! probe decides it; the import asks for the variant the live probe would, so a
//! mismatch shows as a missing file rather than as wrong numbers.

use std::time::Duration;

use super::script::{Script, ScriptOptions};

/// psql reads these: the same session settings as the live probe's startup packet.
fn pgoptions(options: &ScriptOptions) -> String {
    format!(
        "-c default_transaction_read_only=on -c statement_timeout={} -c lock_timeout={} \
         -c idle_in_transaction_session_timeout=60000",
        millis(options.statement_timeout),
        millis(options.lock_timeout)
    )
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../postgres/sql/", $name, ".sql"))
    };
}

const EXACT_TABLE_SIZE: &str = "pg_total_relation_size(c.oid)";
const EXACT_INDEX_SIZE: &str = "pg_relation_size(s.indexrelid)";
const ESTIMATED_SIZE: &str = "c.relpages::int8 * current_setting('block_size')::int8";

/// The live SQL with its placeholders as psql variables: `{schema}` (where
/// pg_stat_statements lives), `{query_id}` (by version) and `$1` (the top N).
fn for_psql(sql: &str) -> String {
    sql.replace("{schema}", ":pgss_schema")
        .replace("{query_id}", ":query_id_expr")
        .replace("$1", ":top_n")
}

/// One query whose rows go to `<dir>/<name>.csv`, or its error to `<name>.err`.
fn block(dir: &str, name: &str, sql: &str) -> String {
    let sql = sql.trim().trim_end_matches(';');
    format!(
        "\\o {dir}/{name}.csv\n{sql}\n;\n\\o\n\\if :ERROR\n\\o {dir}/{name}.err\n\
         \\qecho :LAST_ERROR_SQLSTATE\n\\qecho :LAST_ERROR_MESSAGE\n\\o\n\\endif\n"
    )
}

/// `block` run only when psql variable `condition` is true.
fn when(condition: &str, body: String) -> String {
    format!("\\if :{condition}\n{body}\\endif\n")
}

/// `exact`, and when it failed (a table locked past lock_timeout), the same query
/// with sizes estimated from relpages, as the live probe retries it.
fn sized(dir: &str, name: &str, sql: &str, exact: &str) -> String {
    let exact_sql = for_psql(&sql.replace("{size}", exact));
    let estimated_sql = for_psql(&sql.replace("{size}", ESTIMATED_SIZE));
    format!(
        "{}\\if :ERROR\n{}\\endif\n",
        block(dir, name, &exact_sql),
        block(dir, &format!("{name}_estimated"), &estimated_sql)
    )
}

fn clock(dir: &str) -> String {
    block(dir, "clock", "SELECT clock_timestamp() AS at")
}

/// The cumulative counters read at both ends of the window.
fn counters(dir: &str) -> String {
    let mut s = block(dir, "database_stats", sql!("database_stats"));
    s += &format!(
        "\\if :pg17\n{}\\else\n{}\\endif\n",
        block(dir, "checkpointer", sql!("checkpointer")),
        block(dir, "bgwriter", sql!("bgwriter"))
    );
    s += &format!(
        "\\if :pg18\n{}\\elif :pg14\n{}\\endif\n",
        block(dir, "wal_18", sql!("wal_18")),
        block(dir, "wal", sql!("wal"))
    );
    s
}

/// pg_stat_statements, when installed (the import decides, as the live probe does,
/// whether it is readable: preloaded, and in this database).
fn statements(dir: &str) -> String {
    block(dir, "statements_info", &for_psql(sql!("statements_info")))
        + &format!(
            "\\if :pg13\n{}\\else\n{}\\endif\n",
            block(dir, "statements", &for_psql(sql!("statements"))),
            block(dir, "statements_pre13", &for_psql(sql!("statements_pre13")))
        )
}

const START_HEADER: &str = "\
-- perfdiag offline collection, PostgreSQL: the start of the window.
-- Read-only: the session is read-only (PGOPTIONS and the SET below), every query has
-- the statement and lock timeouts of the live probe. Each result goes to its own CSV.
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
\\o connection.txt
\\qecho host :HOST
\\qecho port :PORT
\\qecho user :USER
\\qecho dbname :DBNAME
\\qecho server_version :SERVER_VERSION_NUM
\\o
-- Decisions the live probe makes from the server's version and extensions.
SELECT current_setting('server_version_num')::int >= 130000 AS pg13,
       current_setting('server_version_num')::int >= 140000 AS pg14,
       current_setting('server_version_num')::int >= 170000 AS pg17,
       current_setting('server_version_num')::int >= 180000 AS pg18,
       pg_is_in_recovery() AS in_recovery,
       CASE WHEN current_setting('server_version_num')::int >= 140000 THEN 'a.query_id'
            ELSE 'NULL::int8' END AS query_id_expr,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')
           AS pgss_installed,
       coalesce((SELECT quote_ident(n.nspname) FROM pg_extension e
                 JOIN pg_namespace n ON n.oid = e.extnamespace
                 WHERE e.extname = 'pg_stat_statements'), 'public') AS pgss_schema
\\gset
";

fn start_psql() -> String {
    let d = "start";
    let mut s = START_HEADER.to_owned();
    s += &clock(d);
    for (name, sql) in [
        ("server", sql!("server")),
        ("settings", sql!("settings")),
        ("databases", sql!("databases")),
        ("extensions", sql!("extensions")),
    ] {
        s += &block(d, name, sql);
    }
    s += &counters(d);
    s += &format!(
        "\\if :in_recovery\n{}\\else\n{}\\endif\n",
        block(d, "replication_standby", sql!("replication_standby")),
        block(d, "replication", sql!("replication"))
    );
    for (name, sql) in [
        ("connections", sql!("connections")),
        ("security_roles", sql!("security_roles")),
        ("public_schema", sql!("public_schema")),
        ("hba", sql!("hba")),
    ] {
        s += &block(d, name, sql);
    }
    s += &when("pgss_installed", statements(d));
    s += &block(d, "tables_counters", sql!("tables_counters"));
    s
}

/// One session sample; the runner replaces `@N@` with the sample's number.
fn sample_psql() -> String {
    let d = "samples/@N@";
    format!(
        "-- perfdiag offline collection, PostgreSQL: one session sample.\n{}{}",
        clock(d),
        block(d, "sessions", &for_psql(sql!("sessions")))
    )
}

fn end_psql() -> String {
    let d = "end";
    let mut s = "-- perfdiag offline collection, PostgreSQL: the end of the window.\n".to_owned();
    s += &clock(d);
    s += &counters(d);
    // Every statement's text (the live probe fetches only the top N's: which they are
    // is known once start and end are subtracted, at import). Bounded by
    // pg_stat_statements.max.
    let texts =
        sql!("statement_texts").replace("WHERE queryid = ANY($1)", "WHERE queryid IS NOT NULL");
    s += &when(
        "pgss_installed",
        statements(d) + &block(d, "statement_texts", &for_psql(&texts)),
    );
    s += &sized(d, "tables", sql!("tables"), EXACT_TABLE_SIZE);
    s += &sized(d, "indexes", sql!("indexes"), EXACT_INDEX_SIZE);
    s
}

fn runner(options: &ScriptOptions) -> String {
    include_str!("templates/collect_postgres.sh")
        .replace("@PGOPTIONS@", &pgoptions(options))
        .replace("@DURATION@", &options.duration.as_secs().max(1).to_string())
        .replace("@INTERVAL@", &options.interval.as_secs().max(1).to_string())
        .replace("@TOP_N@", &options.top_n.to_string())
        .replace(
            "@STATEMENT_TIMEOUT_MS@",
            &millis(options.statement_timeout).to_string(),
        )
        .replace(
            "@LOCK_TIMEOUT_MS@",
            &millis(options.lock_timeout).to_string(),
        )
        .replace(
            "@FORMAT_VERSION@",
            &super::manifest::FORMAT_VERSION.to_string(),
        )
        .replace("@VERSION@", &options.tool_version)
}

/// The files of the PostgreSQL scripts.
pub fn script(options: &ScriptOptions) -> Script {
    Script {
        files: vec![
            ("collect.sh".to_owned(), runner(options), true),
            ("start.psql".to_owned(), start_psql(), false),
            ("sample.psql".to_owned(), sample_psql(), false),
            ("end.psql".to_owned(), end_psql(), false),
            (
                "README.md".to_owned(),
                super::readme::postgres(options),
                false,
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_writes_its_file_or_its_error() {
        let start = start_psql();
        for name in [
            "server",
            "settings",
            "hba",
            "statements",
            "tables_counters",
            "clock",
        ] {
            assert!(start.contains(&format!("\\o start/{name}.csv")), "{name}");
            assert!(start.contains(&format!("\\o start/{name}.err")), "{name}");
        }
        let end = end_psql();
        assert!(end.contains("\\o end/tables_estimated.csv"));
        assert!(end.contains("\\o end/statement_texts.csv"));
        assert!(!end.contains("$1") && !start.contains("{schema}"));
        assert!(sample_psql().contains("\\o samples/@N@/sessions.csv"));
        assert!(sample_psql().contains(":query_id_expr AS query_id"));
    }

    #[test]
    fn the_runner_sets_the_live_session_limits_and_no_password() {
        let options = ScriptOptions::default();
        let sh = runner(&options);
        assert!(sh.contains("statement_timeout=5000"), "{sh}");
        assert!(sh.contains("lock_timeout=1000"));
        assert!(sh.contains("default_transaction_read_only=on"));
        for placeholder in ["@PGOPTIONS@", "@DURATION@", "@TOP_N@", "@VERSION@"] {
            assert!(!sh.contains(placeholder), "{placeholder} is filled");
        }
        let code = sh.lines().filter(|l| !l.trim_start().starts_with('#'));
        assert!(
            code.clone().all(|l| !l.contains("PGPASSWORD")),
            "no password handling"
        );
        assert!(code.clone().any(|l| l.contains("PGAPPNAME=perfdiag")));
    }
}
