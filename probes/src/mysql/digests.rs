//! performance_schema statement digests over the window: a start reading of the
//! counters, an end reading of the digests seen since, and their difference ranked by
//! time. Skipped with the remedy when performance_schema is OFF (MariaDB's default).

use std::collections::HashMap;

use perfdiag_model::{Table, col};

use super::Ctx;
use super::query::{Conn, QueryError, fetch, int, text};
use crate::db::Row;
use crate::sql::{class_id, mask_literals};

/// Counters of one digest; timers in picoseconds as the server keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Counters {
    pub calls: i64,
    pub timer_ps: i64,
    pub rows_sent: i64,
    pub rows_examined: i64,
    pub tmp_tables: i64,
    pub tmp_disk_tables: i64,
    pub no_index_used: i64,
    pub no_good_index_used: i64,
    pub errors: i64,
}

impl Counters {
    fn from_row(row: Row<'_>) -> Self {
        let n = |i| int(row, i).unwrap_or(0);
        Self {
            calls: n(2),
            timer_ps: n(3),
            rows_sent: n(4),
            rows_examined: n(5),
            tmp_tables: n(6),
            tmp_disk_tables: n(7),
            no_index_used: n(8),
            no_good_index_used: n(9),
            errors: n(10),
        }
    }

    /// `self - start`; a digest evicted and re-added (or a reset) restarts from zero,
    /// so a counter that went down is taken whole.
    fn minus(self, start: Option<Counters>) -> Self {
        let Some(s) = start.filter(|s| s.calls <= self.calls && s.timer_ps <= self.timer_ps) else {
            return self;
        };
        Self {
            calls: self.calls - s.calls,
            timer_ps: self.timer_ps - s.timer_ps,
            rows_sent: self.rows_sent - s.rows_sent,
            rows_examined: self.rows_examined - s.rows_examined,
            tmp_tables: self.tmp_tables - s.tmp_tables,
            tmp_disk_tables: self.tmp_disk_tables - s.tmp_disk_tables,
            no_index_used: self.no_index_used - s.no_index_used,
            no_good_index_used: self.no_good_index_used - s.no_good_index_used,
            errors: self.errors - s.errors,
        }
    }
}

type Key = (Option<String>, String);

/// The start reading: every digest's counters.
#[derive(Debug, Default)]
pub(crate) struct Start {
    counters: HashMap<Key, Counters>,
    /// The server's NOW(6) at the start, to read only digests seen since.
    since: String,
}

pub(crate) async fn start(conn: &mut Conn, ctx: &Ctx, since: &str) -> Result<Start, QueryError> {
    let rows = fetch(
        conn,
        "digests_start",
        include_str!("sql/digests_start.sql"),
        ctx.guard,
    )
    .await?;
    let counters = rows
        .iter()
        .filter_map(|r| Some(((text(r, 0), text(r, 1)?), Counters::from_row(r))))
        .collect();
    Ok(Start {
        counters,
        since: since.to_owned(),
    })
}

/// One digest over the window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Digest {
    pub schema: Option<String>,
    pub digest: String,
    pub text: Option<String>,
    pub window: Counters,
}

pub(crate) async fn end(
    conn: &mut Conn,
    ctx: &Ctx,
    start: &Start,
) -> Result<Vec<Digest>, QueryError> {
    // `since` comes from the server's NOW(6); keep only timestamp characters anyway,
    // and only whole seconds: LAST_SEEN has no fraction on MariaDB, so a statement
    // run in the window's first second would read as older than a fractional start.
    // (Digests that ran in that second but before the start have a zero delta.)
    let since: String = start
        .since
        .split('.')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | ' '))
        .collect();
    let sql = include_str!("sql/digests_end.sql").replace("{since}", &since);
    let rows = fetch(conn, "digests_end", &sql, ctx.guard).await?;
    let digests = rows
        .iter()
        .filter_map(|r| {
            let key = (text(r, 0), text(r, 1)?);
            let window = Counters::from_row(r).minus(start.counters.get(&key).copied());
            Some(Digest {
                schema: key.0,
                digest: key.1,
                text: text(r, 11),
                window,
            })
        })
        .collect();
    Ok(top(digests, ctx.top_n))
}

/// The `n` digests that took the most time in the window (and ran in it).
pub(crate) fn top(mut digests: Vec<Digest>, n: usize) -> Vec<Digest> {
    digests.retain(|d| d.window.calls > 0);
    digests.sort_by(|a, b| {
        b.window
            .timer_ps
            .cmp(&a.window.timer_ps)
            .then_with(|| a.digest.cmp(&b.digest))
    });
    digests.truncate(n);
    digests
}

const PS_PER_MS: f64 = 1e9;

/// The `mysql_statements` table.
pub(crate) fn table(target: &str, digests: &[Digest]) -> Table {
    let n = |f: fn(&Counters) -> i64| col::i64(digests.iter().map(|d| Some(f(&d.window))));
    Table::new()
        .with("target", col::utf8(digests.iter().map(|_| Some(target))))
        .with(
            "digest",
            col::utf8(digests.iter().map(|d| Some(d.digest.as_str()))),
        )
        .with(
            "schema",
            col::utf8(digests.iter().map(|d| d.schema.as_deref())),
        )
        .with(
            "digest_text",
            col::utf8(digests.iter().map(|d| d.text.as_deref().map(mask_literals))),
        )
        .with(
            "fingerprint_id",
            col::utf8(digests.iter().map(|d| d.text.as_deref().map(class_id))),
        )
        .with("calls", n(|c| c.calls))
        .with(
            "total_ms",
            col::f64(
                digests
                    .iter()
                    .map(|d| Some(d.window.timer_ps as f64 / PS_PER_MS)),
            ),
        )
        .with(
            "avg_ms",
            col::f64(digests.iter().map(|d| {
                (d.window.calls > 0)
                    .then(|| d.window.timer_ps as f64 / PS_PER_MS / d.window.calls as f64)
            })),
        )
        .with("rows_sent", n(|c| c.rows_sent))
        .with("rows_examined", n(|c| c.rows_examined))
        .with("tmp_tables", n(|c| c.tmp_tables))
        .with("tmp_disk_tables", n(|c| c.tmp_disk_tables))
        .with("no_index_used", n(|c| c.no_index_used))
        .with("no_good_index_used", n(|c| c.no_good_index_used))
        .with("errors", n(|c| c.errors))
}

/// The columns of an empty `mysql_statements`, for targets without digests.
pub(crate) fn empty_table(target: &str) -> Table {
    table(target, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(name: &str, calls: i64, timer_ps: i64) -> Digest {
        Digest {
            schema: Some("app".into()),
            digest: name.into(),
            text: Some("SELECT * FROM `t` WHERE `b` = ?".into()),
            window: Counters {
                calls,
                timer_ps,
                ..Counters::default()
            },
        }
    }

    #[test]
    fn window_deltas_and_ranking() {
        let start = Counters {
            calls: 10,
            timer_ps: 1_000,
            ..Counters::default()
        };
        let end = Counters {
            calls: 15,
            timer_ps: 6_000,
            ..Counters::default()
        };
        assert_eq!(end.minus(Some(start)).calls, 5);
        assert_eq!(end.minus(Some(start)).timer_ps, 5_000);
        // Reset in between: the end reading is all of the window.
        assert_eq!(start.minus(Some(end)), start);
        assert_eq!(end.minus(None), end);

        let top = top(
            vec![digest("a", 1, 5), digest("b", 0, 0), digest("c", 2, 9)],
            5,
        );
        let names: Vec<&str> = top.iter().map(|d| d.digest.as_str()).collect();
        assert_eq!(names, ["c", "a"]);
        let t = table("mysql://x", &top);
        assert_eq!(t.rows(), 2);
        assert_eq!(t.columns()[0].name, "target");
    }
}
