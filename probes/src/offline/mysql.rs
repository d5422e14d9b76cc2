//! The scripts of an offline MySQL/MariaDB collection: the live probe's own queries
//! (`mysql/sql/*.sql`), one client session each, written by `mysql --batch` to a file
//! named after the query, and a POSIX shell runner that paces the session samples.
//!
//! Every session first runs the live probe's session statements (statement and lock
//! timeouts for the flavor, read-only transactions): the runner tries them once and
//! records the outcome as the live probe records `mysql.session`. Queries that differ
//! by version (accounts, replication) are all run, and the import reads the one the
//! live probe would choose for the server's version, so that choice is made in one
//! place (`mysql/flavor.rs`). The per-sample query is picked by the runner (to keep a
//! sample to two queries) among variants written by the same code.

use std::time::Duration;

use super::script::{Script, ScriptOptions};
use crate::mysql::script_support as live;

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("../mysql/sql/", $name, ".sql"))
    };
}

/// The start-of-window queries, in the live probe's order.
const START: [(&str, &str); 15] = [
    ("variables", sql!("variables")),
    ("status", sql!("status")),
    ("innodb_metrics", sql!("innodb_metrics")),
    ("innodb_status", sql!("innodb_status")),
    ("replica_mariadb", sql!("replica_mariadb")),
    ("replica_mysql8", sql!("replica_mysql8")),
    ("replica_mysql57", sql!("replica_mysql57")),
    ("digests_start", sql!("digests_start")),
    ("tables", sql!("tables")),
    ("system_tables_visible", sql!("system_tables_visible")),
    ("index_columns", sql!("index_columns")),
    ("unused_indexes", sql!("unused_indexes")),
    ("accounts_mariadb", sql!("accounts_mariadb")),
    ("accounts_mariadb_old", sql!("accounts_mariadb_old")),
    ("accounts_mysql", sql!("accounts_mysql")),
];

/// A query file as the client runs it: tagged like the live probe's queries.
fn query_file(sql: &str) -> String {
    format!("/* perfdiag */\n{}\n;\n", sql.trim().trim_end_matches(';'))
}

fn statement(sql: &str) -> String {
    format!("{};\n", sql.trim().trim_end_matches(';'))
}

fn files(options: &ScriptOptions) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    out.push(("identity".into(), query_file(sql!("identity"))));
    out.push(("clock".into(), query_file("SELECT UTC_TIMESTAMP(6) AS at")));
    for (name, sql) in START {
        out.push((name.to_owned(), query_file(sql)));
    }
    out.push(("digests_end".into(), query_file(sql!("digests_end"))));
    for (name, sql) in live::session_variants(options.statement_timeout, options.lock_timeout) {
        out.push((name.to_owned(), statement(&sql)));
    }
    out.push((
        "session_read_only".into(),
        statement(sql!("session_read_only")),
    ));
    for (name, sql) in live::sessions_variants() {
        out.push((name.to_owned(), query_file(&sql)));
    }
    out.push((
        "lock_waits_innodb".into(),
        query_file(sql!("lock_waits_innodb")),
    ));
    out.push((
        "lock_waits_mysql8".into(),
        query_file(sql!("lock_waits_mysql8")),
    ));
    out
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

fn runner(options: &ScriptOptions) -> String {
    let start: Vec<&str> = START.iter().map(|(name, _)| *name).collect();
    include_str!("templates/collect_mysql.sh")
        .replace("@START_QUERIES@", &start.join(" "))
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

/// The files of the MySQL/MariaDB scripts.
pub fn script(options: &ScriptOptions) -> Script {
    let mut files = vec![("collect.sh".to_owned(), runner(options), true)];
    for (name, content) in self::files(options) {
        files.push((format!("queries/{name}.sql"), content, false));
    }
    files.push(("README.md".to_owned(), super::readme::mysql(options), false));
    Script { files }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_the_runner_names_has_its_file() {
        let options = ScriptOptions::default();
        let names: Vec<String> = files(&options).into_iter().map(|(n, _)| n).collect();
        let sh = runner(&options);
        for name in [
            "identity",
            "clock",
            "digests_end",
            "session_limits_mariadb",
            "session_limits_mysql",
            "session_read_only",
            "sessions_mariadb",
            "sessions_mysql",
            "sessions_threads",
        ] {
            assert!(names.iter().any(|n| n == name), "{name}");
            assert!(sh.contains(name), "the runner uses {name}");
        }
        for placeholder in ["@START_QUERIES@", "@DURATION@", "@VERSION@"] {
            assert!(!sh.contains(placeholder), "{placeholder} is filled");
        }
    }

    #[test]
    fn queries_are_tagged_and_sessions_bounded() {
        let files = files(&ScriptOptions::default());
        let get = |n: &str| &files.iter().find(|(name, _)| name == n).unwrap().1;
        assert!(get("variables").starts_with("/* perfdiag */"));
        assert!(get("session_limits_mariadb").contains("max_statement_time = 5.000"));
        assert!(get("session_limits_mysql").contains("max_execution_time = 5000"));
        assert!(get("sessions_mariadb").contains("p.TIME_MS"));
        assert!(get("sessions_mysql").contains("p.TIME * 1000"));
    }
}
