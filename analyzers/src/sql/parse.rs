//! Turning a stored statement class into sqlparser's AST: the dialect chosen from the
//! table the text came from, and perfdiag's placeholders rewritten into forms the
//! parser accepts.
//!
//! Stored texts are fingerprints or masked texts: literals are `?` (masked sample,
//! fingerprint) or `$n` (pg_stat_statements), and fingerprints collapse lists into
//! `in(?+)` / `values(?+)`. A text that still does not parse is "not judged", never an
//! error: the rules count it and move on.

use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;

/// Longest text given to the parser. The parser limits nesting depth, but a long flat
/// chain such as `a = ? OR b = ? OR …` becomes a left-deep tree the parser builds in a
/// loop; bounding the length bounds that depth (and the stack used to walk and drop
/// it). Statement classes worth judging are far shorter.
pub(crate) const MAX_LEN: usize = 16 * 1024;

/// Stack of the thread that parses and walks the trees: a [`MAX_LEN`] chain of ORs is
/// about 1,800 levels deep, and walking or dropping it recursively needs several
/// megabytes in a debug build, more than a test thread's 2 MiB.
const STACK_BYTES: usize = 64 << 20;

/// Parses each class (its candidate texts tried in order, first parse wins) and applies
/// `f`, on a thread with a large stack; the trees never leave that thread. `None` for
/// a class no text of which parses. A panic inside the parser costs only that class.
pub(crate) fn on_parsed<T: Send + 'static>(
    classes: Vec<(Vec<String>, Origin)>,
    f: fn(&[Statement]) -> T,
) -> Vec<Option<T>> {
    let n = classes.len();
    let worker = std::thread::Builder::new()
        .name("perfdiag-sql".to_owned())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            classes
                .into_iter()
                .map(|(texts, origin)| {
                    std::panic::catch_unwind(|| {
                        texts
                            .iter()
                            .find_map(|t| parse(t, origin))
                            .map(|stmts| f(&stmts))
                    })
                    .ok()
                    .flatten()
                })
                .collect::<Vec<_>>()
        });
    match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(done)) => done,
        // No thread, or it died: nothing is judged, nothing is guessed.
        _ => (0..n).map(|_| None).collect(),
    }
}

/// Where a text came from, which decides the dialect(s) tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `pg_statements.query`: PostgreSQL, `$n` parameters.
    Postgres,
    /// `mysql_statements.digest_text`: MySQL, `?` parameters.
    Mysql,
    /// `mssql_statements.query`: T-SQL, `?` parameters.
    Mssql,
    /// `log_queries`: either engine; MySQL is tried first, then PostgreSQL.
    Log,
}

/// Parses `text` once per candidate dialect; `None` when no dialect accepts it.
pub(crate) fn parse(text: &str, origin: Origin) -> Option<Vec<Statement>> {
    if text.len() > MAX_LEN || text.trim().is_empty() {
        return None;
    }
    let dialects: &[(&dyn Dialect, bool)] = match origin {
        Origin::Postgres => &[(&PostgreSqlDialect {}, true)],
        Origin::Mysql => &[(&MySqlDialect {}, false)],
        Origin::Mssql => &[(&MsSqlDialect {}, false)],
        Origin::Log => &[(&MySqlDialect {}, false), (&PostgreSqlDialect {}, true)],
    };
    dialects.iter().find_map(|&(dialect, dollar)| {
        let rewritten = rewrite(text, dollar);
        Parser::parse_sql(dialect, &rewritten)
            .ok()
            .filter(|s| !s.is_empty())
    })
}

/// Rewrites placeholders outside quoted identifiers: a collapsed list `(?+)` becomes
/// `(?)`, and with `dollar` every `?` becomes `$0`, because PostgreSQL's dialect reads a
/// bare `?` as the jsonb operator while the masked text means "a literal was here".
pub(crate) fn rewrite(text: &str, dollar: bool) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '`' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                out.push_str(if dollar { "$0" } else { "?" });
                // `?+` followed by `)`: a collapsed list, the `+` goes.
                let rest = &text[i + 1..];
                if let Some(after) = rest.strip_prefix('+')
                    && after.trim_start().starts_with(')')
                {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::antipatterns::{Detected, check_all};

    fn judge_all(classes: Vec<(Vec<String>, Origin)>) -> Vec<Option<Detected>> {
        on_parsed(classes, check_all)
    }

    #[test]
    fn collapsed_lists_and_placeholders_become_parseable() {
        assert_eq!(
            rewrite("select a from t where b in(?+) and c = ?", false),
            "select a from t where b in(?) and c = ?"
        );
        assert_eq!(
            rewrite("insert into t values(?+)", true),
            "insert into t values($0)"
        );
        // A quoted identifier is left alone; arithmetic on a placeholder keeps its `+`.
        assert_eq!(
            rewrite("select \"a?+)\" + ?+1", false),
            "select \"a?+)\" + ?+1"
        );
    }

    #[test]
    fn each_origin_parses_its_own_placeholders() {
        assert!(
            parse(
                "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)",
                Origin::Postgres
            )
            .is_some()
        );
        assert!(parse("select a from t where b in(?+) limit ?", Origin::Mysql).is_some());
        assert!(parse("select a from t where b = ?", Origin::Postgres).is_some());
        // Logs: MySQL first, then PostgreSQL (`::` casts are PostgreSQL only).
        assert!(parse("select a from t where b::text = ?", Origin::Log).is_some());
        assert!(parse("select `a` from `t` where b = ?", Origin::Log).is_some());
        // T-SQL: brackets and TOP, which neither MySQL nor PostgreSQL accepts.
        let tsql = "SELECT TOP (?) [o].[id] FROM [dbo].[orders] AS [o] WHERE [o].[status] = ?";
        assert!(parse(tsql, Origin::Mssql).is_some());
        assert!(parse(tsql, Origin::Log).is_none());
    }

    #[test]
    fn garbage_truncated_and_oversized_texts_are_not_parsed() {
        for text in [
            "",
            "   ",
            "\u{0}\u{1}binary garbage ((((",
            "SELECT a FROM t WHERE b = ",
            "select a from t where (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a = ?",
        ] {
            assert!(parse(text, Origin::Log).is_none(), "{text:?}");
        }
        assert_eq!(
            judge_all(vec![(
                vec!["garbage (".to_owned(), "select a from t".to_owned()],
                Origin::Log
            )]),
            vec![Some(Detected::default())],
            "the second candidate text is tried"
        );
        let long = format!(
            "select a from t where {}",
            "b = ? or ".repeat(MAX_LEN / 9) + "b = ?"
        );
        assert!(parse(&long, Origin::Mysql).is_none());
    }

    #[test]
    fn deep_nesting_is_refused_by_the_parser_not_the_stack() {
        let deep = format!("select {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(judge_all(vec![(vec![deep], Origin::Log)]), vec![None]);
    }

    #[test]
    fn the_longest_accepted_flat_chain_parses_and_drops() {
        // Just under MAX_LEN: a left-deep OR tree the parser accepts; walking and
        // dropping it must fit on a test thread's stack.
        let n = (MAX_LEN - 40) / 10;
        let text = format!("select a from t where {}b = ?", "b = ? or ".repeat(n));
        assert!(text.len() <= MAX_LEN);
        let judged = judge_all(vec![(vec![text], Origin::Mysql)]);
        assert_eq!(judged.len(), 1);
        assert!(
            judged[0]
                .as_ref()
                .is_some_and(|d| d.or_across_columns.is_none())
        );
    }
}
