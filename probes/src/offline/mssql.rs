//! The sqlcmd scripts of an offline SQL Server collection. Their capture is imported
//! by the probe itself (`mssql::replay`), behind its own connection, as for
//! PostgreSQL and MySQL.
//!
//! Each query is the live probe's (`mssql::QUERIES`, the files of `mssql/sql/`),
//! after the live session's settings (`session.sql`: lock timeout, READ UNCOMMITTED,
//! low deadlock priority), with its final `SELECT` wrapped as
//! `SELECT ISNULL((… FOR JSON PATH, INCLUDE_NULL_VALUES), N'[]') AS json`: sqlcmd does
//! not quote its CSV and statement texts hold commas and line breaks, so the server
//! writes the quoting; as a scalar subquery the JSON is one `nvarchar(max)` value on
//! one line (a top-level `FOR JSON` is cut into rows of about 2,000 characters, and
//! sqlcmd would pad or trim them). Query Store is read per ONLINE user database: a
//! first query makes the server write one sqlcmd batch per database (`:Out`, `:Error`,
//! the query with the database's bracketed name), which a second sqlcmd runs, so no
//! database name ever passes through the shell. **Not run against a SQL Server**: none
//! runs on the machines this project is tested on (see docs/offline.md).

use std::time::Duration;

use super::script::{Script, ScriptOptions};
use crate::mssql::{MAX_QUERY_STORE_DATABASES, QUERIES};

const FOR_JSON: &str = "FOR JSON PATH, INCLUDE_NULL_VALUES";

/// Start of the window, in the live probe's order (sub-probe, query); Query Store
/// comes after these, from `query_store_plan`.
const START: [(&str, &str); 13] = [
    ("server", "server"),
    ("server", "host_info"),
    ("server", "sys_info"),
    ("server", "configurations"),
    ("databases", "databases"),
    ("databases", "vlf_counts"),
    ("databases", "backups"),
    ("databases", "tempdb_files"),
    ("security", "logins"),
    ("counters", "wait_stats"),
    ("counters", "file_io"),
    ("counters", "perf_counters"),
    ("statements", "statements"),
];

/// End of the window.
const END: [(&str, &str); 8] = [
    ("counters", "wait_stats"),
    ("counters", "file_io"),
    ("counters", "perf_counters"),
    ("statements", "statements"),
    ("memory", "memory"),
    ("memory", "plan_cache"),
    ("indexes", "missing_indexes"),
    ("indexes", "indexes"),
];

fn sql_of(name: &str) -> Option<&'static str> {
    QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, sql)| *sql)
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

/// The live session's settings, with the live lock timeout.
fn session(options: &ScriptOptions) -> String {
    sql_of("session")
        .unwrap_or("SET NOCOUNT ON;")
        .replace(
            "{lock_timeout_ms}",
            &millis(options.lock_timeout).to_string(),
        )
        .trim()
        .to_owned()
}

/// A query file: the live session's settings, then the query with its placeholders
/// filled as the live probe fills them and its final `SELECT` turned into one JSON
/// value (`[]` when there is no row).
fn query_file(sql: &str, options: &ScriptOptions) -> String {
    let body = sql.replace("{top}", &top_for(sql, options.top_n).to_string());
    format!("{}\n{}\n", session(options), as_json(&body))
}

/// `query` with its final top-level `SELECT` wrapped as a scalar `FOR JSON` subquery;
/// what comes before it (comments, a `WITH` list) stays in front.
fn as_json(query: &str) -> String {
    let query = query.trim().trim_end_matches(';').trim_end();
    let at = main_select(query).unwrap_or(0);
    format!(
        "{}SELECT ISNULL((\n{}\n{FOR_JSON}), N'[]') AS json;",
        &query[..at],
        &query[at..]
    )
}

/// Where the final top-level `SELECT` starts: the first `SELECT` outside comments,
/// string literals, bracketed names and parentheses (common table expressions are in
/// parentheses, so a `WITH` list is passed over).
fn main_select(sql: &str) -> Option<usize> {
    let bytes = sql.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'\'' => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                    } else if bytes[i] == b'\'' {
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'[' => i = sql[i..].find(']').map_or(bytes.len(), |n| i + n),
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ if depth == 0
                && sql
                    .get(i..i + 6)
                    .is_some_and(|w| w.eq_ignore_ascii_case("select"))
                && (i == 0 || !is_word(bytes[i - 1]))
                && !bytes.get(i + 6).copied().is_some_and(is_word) =>
            {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'@' || b == b'#'
}

/// The query that makes the server write the Query Store batches: for each ONLINE
/// user database (in the live probe's order, at most as many), `:Out` and `:Error`
/// to `query_store.<database_id>.json|.err` in `$(perfdiag_dir)` and the live query
/// with the database's bracketed name. The runner gives `perfdiag_dir` with `-v`,
/// and runs the result with `-x` (a name holding `$(` stays a name).
fn query_store_plan(options: &ScriptOptions) -> String {
    let query = sql_of("query_store").unwrap_or_default();
    let batch = query_file(query, options).replace('\'', "''");
    format!(
        "-- Writes one sqlcmd batch per ONLINE user database, for a second sqlcmd to run:\n\
         -- Query Store is read through a three-part name, so each database has its own\n\
         -- query (perfdiag's docs/offline.md). It only reads sys.databases.\n\
         SET NOCOUNT ON;\n\
         SELECT TOP ({MAX_QUERY_STORE_DATABASES})\n    \
         N'GO' + NCHAR(10)\n    \
         + N':Out \"$(perfdiag_dir)/query_store.' + CONVERT(nvarchar(11), d.database_id) + N'.json\"' + NCHAR(10)\n    \
         + N':Error \"$(perfdiag_dir)/query_store.' + CONVERT(nvarchar(11), d.database_id) + N'.err\"' + NCHAR(10)\n    \
         + REPLACE(N'{batch}', N'{{database}}', QUOTENAME(d.name)) AS batch\n\
         FROM sys.databases AS d\n\
         WHERE d.database_id > 4 AND d.state_desc = N'ONLINE'\n\
         ORDER BY d.database_id;\n"
    )
}

/// The live probe keeps 4 × N statements and 20 × N indexes before ranking.
fn top_for(sql: &str, top_n: usize) -> usize {
    if sql.contains("dm_exec_query_stats") {
        top_n * 4
    } else {
        top_n * 20
    }
}

fn files(options: &ScriptOptions) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "clock".to_owned(),
            format!(
                "SET NOCOUNT ON;\n{}\n",
                as_json("SELECT SYSUTCDATETIME() AS at")
            ),
        ),
        ("query_store_plan".to_owned(), query_store_plan(options)),
    ];
    let mut names: Vec<&str> = START.iter().chain(END.iter()).map(|(_, q)| *q).collect();
    names.push("sessions");
    names.sort_unstable();
    names.dedup();
    for name in names {
        if let Some(sql) = sql_of(name) {
            out.push((name.to_owned(), query_file(sql, options)));
        }
    }
    out
}

fn list(queries: &[(&str, &str)]) -> String {
    queries
        .iter()
        .map(|(_, q)| *q)
        .collect::<Vec<_>>()
        .join(" ")
}

fn runner(template: &str, options: &ScriptOptions) -> String {
    template
        .replace("@START_QUERIES@", &list(&START))
        .replace("@END_QUERIES@", &list(&END))
        .replace("@DURATION@", &options.duration.as_secs().max(1).to_string())
        .replace("@INTERVAL@", &options.interval.as_secs().max(1).to_string())
        .replace("@TOP_N@", &options.top_n.to_string())
        .replace(
            "@STATEMENT_TIMEOUT_S@",
            &options.statement_timeout.as_secs().max(1).to_string(),
        )
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

/// The files of the SQL Server scripts.
pub fn script(options: &ScriptOptions) -> Script {
    let mut files = vec![
        (
            "collect.cmd".to_owned(),
            runner(include_str!("templates/collect_mssql.cmd"), options).replace('\n', "\r\n"),
            false,
        ),
        (
            "collect.sh".to_owned(),
            runner(include_str!("templates/collect_mssql.sh"), options),
            true,
        ),
    ];
    for (name, content) in self::files(options) {
        files.push((format!("queries/{name}.sql"), content, false));
    }
    files.push(("README.md".to_owned(), super::readme::mssql(options), false));
    Script { files }
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::MsSqlDialect;
    use sqlparser::parser::Parser;

    use super::*;

    fn parses(name: &str, sql: &str) {
        let statements = Parser::parse_sql(&MsSqlDialect {}, sql)
            .unwrap_or_else(|e| panic!("{name} does not parse: {e}\n{sql}"));
        assert!(!statements.is_empty(), "{name}");
    }

    #[test]
    fn every_query_is_the_live_one_as_one_json_value_after_the_live_session_settings() {
        let options = ScriptOptions::default();
        let files = files(&options);
        for (_, q) in START.iter().chain(END.iter()) {
            assert!(files.iter().any(|(n, _)| n == q), "{q} has a file");
        }
        assert!(files.iter().any(|(n, _)| n == "sessions"));
        for (name, content) in files.iter().filter(|(n, _)| n != "query_store_plan") {
            let settings = if name == "clock" {
                "SET NOCOUNT ON;".to_owned()
            } else {
                session(&options)
            };
            assert!(content.starts_with(&settings), "{name}");
            assert!(
                content
                    .trim_end()
                    .ends_with(&format!("{FOR_JSON}), N'[]') AS json;")),
                "{name}"
            );
            assert!(!content.contains('{'), "{name}: placeholders filled");
            if name != "clock" {
                assert!(content.contains("SET LOCK_TIMEOUT 1000;"), "{name}");
            }
            parses(name, content);
        }
        // A query with common table expressions keeps them in front of the wrap.
        let statements = &files.iter().find(|(n, _)| n == "statements").unwrap().1;
        let with = statements.find("WITH entries AS").unwrap();
        let wrap = statements.find("SELECT ISNULL((").unwrap();
        assert!(with < wrap, "{statements}");
        assert!(statements[wrap..].contains("JOIN entries AS e"));
        assert!(statements.contains(&format!("<= {}", 4 * options.top_n)));
    }

    #[test]
    fn the_main_select_is_found_past_comments_literals_and_ctes() {
        assert_eq!(main_select("SELECT 1"), Some(0));
        let sql =
            "-- a SELECT in a comment\n/* SELECT */ WITH x AS (SELECT 1 AS a)\nSELECT a FROM x";
        assert_eq!(&sql[main_select(sql).unwrap()..], "SELECT a FROM x");
        let sql = "WITH [select] AS (SELECT 'SELECT' AS selected) SELECT * FROM [select]";
        assert_eq!(&sql[main_select(sql).unwrap()..], "SELECT * FROM [select]");
        assert_eq!(main_select("-- nothing"), None);
    }

    #[test]
    fn the_query_store_plan_writes_the_live_query_for_each_database() {
        let options = ScriptOptions::default();
        let plan = query_store_plan(&options);
        parses("query_store_plan", &plan);
        assert!(plan.contains(&format!("TOP ({MAX_QUERY_STORE_DATABASES})")));
        assert!(plan.contains("query_store.' + CONVERT(nvarchar(11), d.database_id)"));
        // What the server writes for one database: the literal, unquoted, with the
        // database's name in place, is the live query file, which parses.
        let literal_start = plan.find("REPLACE(N'").unwrap() + "REPLACE(N'".len();
        let literal_end = plan.find("', N'{database}'").unwrap();
        let batch = plan[literal_start..literal_end]
            .replace("''", "'")
            .replace("{database}", "[erp db]");
        assert_eq!(
            batch,
            query_file(sql_of("query_store").unwrap(), &options).replace("{database}", "[erp db]")
        );
        assert!(batch.contains("FROM [erp db].sys.database_query_store_options"));
        parses("a query_store batch", &batch);
        assert_eq!(
            crate::mssql::query_store_name(5),
            "query_store.5",
            "the file the live collector's replay reads"
        );
    }

    #[test]
    fn the_runners_take_the_live_limits_and_no_password() {
        let options = ScriptOptions::default();
        for template in [
            include_str!("templates/collect_mssql.cmd"),
            include_str!("templates/collect_mssql.sh"),
        ] {
            let runner = runner(template, &options);
            assert!(runner.contains("-t 5") && runner.contains("SQLCMDPASSWORD"));
            let placeholder =
                runner.split('@').skip(1).step_by(2).find(|w| {
                    !w.is_empty() && w.chars().all(|c| c.is_ascii_uppercase() || c == '_')
                });
            assert_eq!(placeholder, None, "placeholders filled");
            // sqlcmd refuses -W together with -y (documented: "Cannot be used with
            // the -y or -Y options").
            assert!(runner.contains("-y 0") && !runner.contains("-W "));
            assert!(!runner.contains("-P"), "a password on the command line");
            assert!(runner.contains("query_store_plan") && runner.contains("-x"));
            assert!(runner.contains("connection.txt"));
        }
    }
}
