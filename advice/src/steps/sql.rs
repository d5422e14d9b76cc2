//! Plan steps for the SQL anti-pattern findings: each names the statement classes to
//! fix first (largest share of time first) with the offending fragment, gives a
//! reviewed rewrite template as SQL comments and, where the class text has no
//! placeholders left, the `EXPLAIN` to run before and after.
//!
//! The fix is made in the application's SQL, so there is nothing to roll back in the
//! database; where a template suggests an index, the rollback says how to drop it.

use perfdiag_model::{Finding, Phase, Risk};

use super::index_ddl::mysql_indexes;
use super::{Context, Draft, StepDef, number, sql, text, verify};

/// Whether a masked text still holds placeholders (`?`, `$1`): it cannot be run as is.
fn has_placeholders(sql: &str) -> bool {
    sql.contains('?')
        || sql
            .match_indices('$')
            .any(|(i, _)| sql[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// The classes to fix, the largest share of time first: id, numbers, text, fragment,
/// and the `EXPLAIN` to compare before and after.
fn classes(findings: &[&Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.to_vec();
    sorted.sort_by(|a, b| {
        let share = |f: &Finding| number(f, "sql.class.share_pct").unwrap_or(0.0);
        share(b).total_cmp(&share(a))
    });
    let mut out =
        String::from("-- Statement classes to fix first (largest share of time first):\n");
    for f in sorted {
        let id = text(f, "sql.class.id")
            .or(f.subject.as_deref())
            .unwrap_or("?");
        let source = text(f, "sql.class.source").unwrap_or("statements");
        let target = text(f, "sql.class.target")
            .map(|t| format!(", {t}"))
            .unwrap_or_default();
        let calls =
            number(f, "sql.class.calls").map_or_else(String::new, |c| format!("{c:.0} calls"));
        let share = number(f, "sql.class.share_pct")
            .map_or_else(String::new, |s| format!(", {s:.1} % of the time"));
        out.push_str(&format!(
            "-- * class {id} ({source}{target}): {calls}{share}\n"
        ));
        if let Some(q) = text(f, "sql.class.fingerprint") {
            out.push_str(&format!("--     query:    {q}\n"));
        }
        if let Some(frag) = text(f, "sql.fragment") {
            out.push_str(&format!("--     fragment: {frag}\n"));
        }
        if let Some(q) = text(f, "sql.class.fingerprint").filter(|q| !q.ends_with('…')) {
            if has_placeholders(q) {
                out.push_str(&format!(
                    "--     diagnose: replace each ?/$n with a typical value, then run\n--       EXPLAIN {q};\n"
                ));
            } else {
                out.push_str(&format!("EXPLAIN {q};\n"));
            }
        }
    }
    out
}

/// A step whose script is the class list plus a rewrite template.
fn rewrite(
    findings: &[&Finding],
    template: &str,
    rollback: &str,
    metric: &str,
    target: &str,
) -> Draft {
    Draft {
        script: sql(format!(
            "{}-- Rewrite (a reviewed template: apply it in the application's SQL, test,\n\
             -- then compare the EXPLAIN and the class's time before and after):\n{template}",
            classes(findings)
        )),
        rollback: sql(format!(
            "-- No change to roll back: the rewrite is made in the application.\n{rollback}"
        )),
        risk: Risk::Low,
        needs_restart: false,
        verify: verify(metric, target),
    }
}

const NO_INDEX: &str = "";
const INDEX_ROLLBACK: &str = "-- If an index from the template was created, drop it:\n\
     --   PostgreSQL: DROP INDEX CONCURRENTLY IF EXISTS <index>;\n\
     --   MySQL:      ALTER TABLE <table> DROP INDEX <index>;\n";
const GONE: &str = "the pattern gone from the classes named (no finding on the next snapshot)";

pub(super) const SELECT_STAR: StepDef = StepDef {
    id: "sql.rewrite.select_columns",
    rule_id: "sql.select_star",
    phase: Phase::SqlIndexes,
    build: |_: &Context, findings| {
        rewrite(
            findings,
            "--   SELECT * FROM orders WHERE customer_id = ?\n\
             --   -> SELECT id, status, total FROM orders WHERE customer_id = ?\n\
             -- Name only the columns the code reads: fewer bytes read and sent, and a\n\
             -- covering index can answer alone (PostgreSQL: CREATE INDEX ... (customer_id)\n\
             -- INCLUDE (status, total); MySQL: INDEX (customer_id, status, total)).\n",
            INDEX_ROLLBACK,
            "sql.select_star",
            GONE,
        )
    },
};

pub(super) const LIKE_LEADING_WILDCARD: StepDef = StepDef {
    id: "sql.rewrite.like_leading_wildcard",
    rule_id: "sql.like_leading_wildcard",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "--   WHERE name LIKE CONCAT('%', ?, '%')\n\
             --   -> WHERE name LIKE CONCAT(?, '%')            -- prefix search, if the feature allows\n\
             -- Otherwise index the substring search itself:\n\
             --   PostgreSQL: CREATE EXTENSION IF NOT EXISTS pg_trgm;\n\
             --               CREATE INDEX CONCURRENTLY customers_name_trgm ON customers USING gin (name gin_trgm_ops);\n\
             --   MySQL:      ALTER TABLE customers ADD FULLTEXT INDEX ft_name (name);\n\
             --               ... WHERE MATCH(name) AGAINST (? IN BOOLEAN MODE)\n",
            INDEX_ROLLBACK,
            "sql.class.mean_ms",
            "lower than before for the classes named; no full scan in their EXPLAIN",
        )
    },
};

pub(super) const FUNCTION_ON_COLUMN: StepDef = StepDef {
    id: "sql.rewrite.sargable_predicates",
    rule_id: "sql.function_on_column",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "--   WHERE DATE(created_at) = ?\n\
             --   -> WHERE created_at >= ? AND created_at < ? + INTERVAL '1 day'   -- range on the bare column\n\
             --   WHERE id::text = $1  ->  WHERE id = $1::bigint   -- cast the parameter, not the column\n\
             -- When the function is the requirement (lower(email) = ?), index the expression:\n\
             --   PostgreSQL: CREATE INDEX CONCURRENTLY users_lower_email ON users ((lower(email)));\n\
             --   MySQL 8.0.13+: ALTER TABLE users ADD INDEX idx_lower_email ((lower(email)));\n\
             -- Also bind parameters with the column's type: a mismatch is an implicit cast.\n",
            INDEX_ROLLBACK,
            "sql.function_on_column",
            GONE,
        )
    },
};

pub(super) const OR_ACROSS_COLUMNS: StepDef = StepDef {
    id: "sql.rewrite.or_to_union",
    rule_id: "sql.or_across_columns",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "--   SELECT id FROM users WHERE email = ? OR phone = ?\n\
             --   -> SELECT id FROM users WHERE email = ?\n\
             --      UNION\n\
             --      SELECT id FROM users WHERE phone = ?\n\
             -- Each branch uses its own index (email, phone); use UNION ALL when the\n\
             -- branches cannot return the same row.\n",
            INDEX_ROLLBACK,
            "sql.class.mean_ms",
            "lower than before for the classes named; index scans in their EXPLAIN",
        )
    },
};

pub(super) const NOT_IN_SUBQUERY: StepDef = StepDef {
    id: "sql.rewrite.not_exists",
    rule_id: "sql.not_in_subquery",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "--   SELECT a.id FROM a WHERE a.id NOT IN (SELECT b.a_id FROM b)\n\
             --   -> SELECT a.id FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id)\n\
             -- Same rows when b.a_id has no NULL (NOT IN returns none if it has one), and\n\
             -- the planner runs it as an anti-join.\n",
            NO_INDEX,
            "sql.not_in_subquery",
            GONE,
        )
    },
};

pub(super) const ORDER_BY_RAND: StepDef = StepDef {
    id: "sql.rewrite.random_rows",
    rule_id: "sql.order_by_rand",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "--   SELECT id FROM banners ORDER BY RAND() LIMIT 5\n\
             --   -> pick random keys, then read them by primary key:\n\
             --      SELECT id FROM banners WHERE id >= ? ORDER BY id LIMIT 5   -- ? = random in [min(id), max(id)]\n\
             --   PostgreSQL, approximate sample: SELECT id FROM banners TABLESAMPLE SYSTEM (1) LIMIT 5;\n\
             -- Or keep a pre-shuffled list refreshed periodically by the application.\n",
            NO_INDEX,
            "sql.order_by_rand",
            GONE,
        )
    },
};

pub(super) const LARGE_OFFSET: StepDef = StepDef {
    id: "sql.rewrite.keyset_pagination",
    rule_id: "sql.large_offset",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "--   SELECT id, title FROM posts ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET ?\n\
             --   -> keyset paging: remember the last row of the page and continue after it\n\
             --      SELECT id, title FROM posts\n\
             --      WHERE (created_at, id) < (?, ?)          -- last created_at, id shown\n\
             --      ORDER BY created_at DESC, id DESC LIMIT 20;\n\
             --   with an index on (created_at, id). Every page then costs the same.\n\
             -- The page depth is masked in the statistics: check the application's largest\n\
             -- page numbers (or log a few raw statements) to size the gain.\n",
            INDEX_ROLLBACK,
            "sql.class.mean_ms",
            "the same on the last pages as on the first for the classes named",
        )
    },
};

pub(super) const UPDATE_DELETE_WITHOUT_WHERE: StepDef = StepDef {
    id: "sql.review.whole_table_writes",
    rule_id: "sql.update_delete_without_where",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "-- First confirm with the application owner that every row is meant to change.\n\
             -- If not: add the missing WHERE (a bug that rewrites the table).\n\
             -- If so:\n\
             --   emptying a table:   TRUNCATE TABLE <table>;   -- no row-by-row undo/WAL\n\
             --   large change:       in batches by key, committing each batch:\n\
             --     UPDATE <table> SET ... WHERE id > ? AND id <= ? ;\n\
             -- MySQL can refuse such statements for interactive sessions: SET sql_safe_updates = 1;\n",
            NO_INDEX,
            "sql.update_delete_without_where",
            GONE,
        )
    },
};

pub(super) const CARTESIAN_JOIN: StepDef = StepDef {
    id: "sql.rewrite.join_conditions",
    rule_id: "sql.cartesian_join",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "--   SELECT ... FROM a, b WHERE a.x = ?\n\
             --   -> SELECT ... FROM a JOIN b ON b.a_id = a.id WHERE a.x = ?\n\
             -- Write every join as JOIN ... ON so a missing condition is visible; keep a\n\
             -- CROSS JOIN only when every combination is wanted and both sides are small.\n",
            NO_INDEX,
            "sql.cartesian_join",
            GONE,
        )
    },
};

pub(super) const N_PLUS_ONE: StepDef = StepDef {
    id: "sql.rewrite.batch_n_plus_one",
    rule_id: "sql.n_plus_one",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        rewrite(
            findings,
            "-- One query per row of a previous result, in a loop:\n\
             --   SELECT name FROM items WHERE id = ?        -- called once per order line\n\
             --   -> SELECT id, name FROM items WHERE id IN (?, ?, ...)   -- one call per page\n\
             --   or join it into the parent query:\n\
             --      SELECT l.*, i.name FROM order_lines l JOIN items i ON i.id = l.item_id WHERE l.order_id = ?\n\
             -- ORMs: eager fetching (JPA JOIN FETCH / @BatchSize, Django select_related /\n\
             -- prefetch_related, Rails includes, MyBatis collection with a join).\n",
            NO_INDEX,
            "sql.class.calls",
            "at least 10x fewer for the classes named, for the same business volume",
        )
    },
};

/// The indexes the row-heavy slow-log classes ask for, in MySQL's syntax (only its
/// slow log counts rows examined); a template where a class's text asks for none.
pub(super) const INDEX_EXAMINED: StepDef = StepDef {
    id: "sql.index.for_examined_rows",
    rule_id: "sql.rows_examined_high",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        let (script, rollback) = mysql_indexes(findings).unwrap_or_else(|| {
            (
                "-- EXPLAIN each class with typical values, find the filtered columns without\n\
                 -- an index, and add one online:\n\
                 ALTER TABLE <schema>.<table> ADD INDEX idx_<column> (<column>), ALGORITHM=INPLACE, LOCK=NONE;\n"
                    .to_owned(),
                "ALTER TABLE <schema>.<table> DROP INDEX idx_<column>, ALGORITHM=INPLACE, LOCK=NONE;\n"
                    .to_owned(),
            )
        });
        Draft {
            script: sql(format!("{}{script}", classes(findings))),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("sql.rows_examined_per_row", "< 1000"),
        }
    },
};

/// The SQL steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[
    SELECT_STAR,
    LIKE_LEADING_WILDCARD,
    FUNCTION_ON_COLUMN,
    OR_ACROSS_COLUMNS,
    NOT_IN_SUBQUERY,
    ORDER_BY_RAND,
    LARGE_OFFSET,
    UPDATE_DELETE_WITHOUT_WHERE,
    CARTESIAN_JOIN,
    N_PLUS_ONE,
    INDEX_EXAMINED,
];

#[cfg(test)]
mod tests {
    use perfdiag_model::{Evidence, Severity, Value};

    use super::*;
    use crate::test_support::{finding, number as num};

    fn text_ev(metric: &str, t: &str) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::text(t),
            threshold: None,
        }
    }

    fn class(id: &str, share: f64, query: &str, fragment: &str) -> Finding {
        finding(
            "sql.function_on_column",
            Severity::Warning,
            Some(id),
            vec![
                text_ev("sql.fragment", fragment),
                text_ev("sql.class.id", id),
                text_ev("sql.class.source", "log_queries"),
                text_ev("sql.class.fingerprint", query),
                num("sql.class.calls", 1200.0, None),
                num("sql.class.share_pct", share, None),
            ],
        )
    }

    #[test]
    fn the_script_names_the_classes_largest_share_first_with_their_explain() {
        let small = class(
            "aaaa",
            5.0,
            "select id from t where date(c) = ?",
            "date(c) = ?",
        );
        let big = class(
            "bbbb",
            40.0,
            "select id from u where lower(e) = 'x'",
            "lower(e) = 'x'",
        );
        let d = (FUNCTION_ON_COLUMN.build)(&Context::default(), &[&small, &big]);
        let body = &d.script.body;
        assert_eq!(d.script.language, "sql");
        let (b, a) = (
            body.find("class bbbb").expect("bbbb named"),
            body.find("class aaaa").expect("aaaa named"),
        );
        assert!(b < a, "{body}");
        assert!(body.contains("1200 calls, 40.0 % of the time"), "{body}");
        assert!(body.contains("fragment: date(c) = ?"), "{body}");
        // Runnable only without placeholders.
        assert!(
            body.contains("\nEXPLAIN select id from u where lower(e) = 'x';\n"),
            "{body}"
        );
        assert!(
            body.contains("--       EXPLAIN select id from t where date(c) = ?;"),
            "{body}"
        );
        assert!(
            d.rollback
                .body
                .contains("the rewrite is made in the application")
        );
        assert!(!d.needs_restart);
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(has_placeholders("select a from t where b = $1"));
        assert!(has_placeholders("select a from t where b = ?"));
        assert!(!has_placeholders("select a from t where b = 'x$'"));
    }
}
