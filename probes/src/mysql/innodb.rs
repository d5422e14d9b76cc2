//! Key InnoDB numbers: history list length (purge lag) and deadlocks since startup.
//!
//! information_schema.INNODB_METRICS first (one cheap row per counter); the monitor
//! output of SHOW ENGINE INNODB STATUS as the fallback for the history list length.
//! MariaDB also counts deadlocks in the status variable `Innodb_deadlocks`.

use std::collections::BTreeMap;

use perfdiag_model::facts::mysql::InnodbFacts;

use super::Ctx;
use super::outcome::Outcome;
use super::query::{Conn, fetch, parse_uint, text_named};

pub(crate) async fn read(
    conn: &mut Conn,
    ctx: &Ctx,
    status: &BTreeMap<String, String>,
    out: &mut Outcome,
) -> InnodbFacts {
    let mut facts = InnodbFacts {
        deadlocks: status.get("Innodb_deadlocks").and_then(|v| parse_uint(v)),
        ..InnodbFacts::default()
    };
    match fetch(
        conn,
        "innodb_metrics",
        include_str!("sql/innodb_metrics.sql"),
        ctx.guard,
    )
    .await
    {
        Ok(rows) => {
            out.ok();
            for row in rows.iter() {
                let enabled = text_named(row, "STATUS")
                    .or_else(|| text_named(row, "ENABLED"))
                    .is_some_and(|s| s.eq_ignore_ascii_case("enabled") || s == "1");
                let count = text_named(row, "COUNT").and_then(|c| parse_uint(&c));
                match text_named(row, "NAME").as_deref() {
                    Some("trx_rseg_history_len") if enabled => {
                        facts.history_list_length = count;
                    }
                    Some("lock_deadlocks") if enabled && facts.deadlocks.is_none() => {
                        facts.deadlocks = count;
                    }
                    _ => {}
                }
            }
        }
        Err(e) => {
            out.failed("information_schema.INNODB_METRICS", &e);
            out.hint(ctx.grant("PROCESS ON *.*"));
        }
    }
    if facts.history_list_length.is_none() {
        match fetch(
            conn,
            "innodb_status",
            include_str!("sql/innodb_status.sql"),
            ctx.guard,
        )
        .await
        {
            Ok(rows) => {
                let monitor = rows.first().and_then(|r| text_named(r, "Status"));
                facts.history_list_length = monitor.as_deref().and_then(history_list_length);
                if facts.history_list_length.is_none() {
                    out.missing("history list length (not in the InnoDB monitor output)");
                }
            }
            Err(e) => out.failed("SHOW ENGINE INNODB STATUS", &e),
        }
    }
    if facts.deadlocks.is_none() {
        out.missing(
            "deadlock count (MySQL: SET GLOBAL innodb_monitor_enable = 'lock_deadlocks' enables it)",
        );
    }
    facts
}

/// The `History list length N` line of the InnoDB monitor output.
pub(crate) fn history_list_length(monitor: &str) -> Option<u64> {
    monitor
        .lines()
        .find_map(|l| l.trim().strip_prefix("History list length"))
        .and_then(|rest| rest.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_list_length_from_the_monitor_output() {
        let monitor = "------------\nTRANSACTIONS\n------------\nTrx id counter 5132\n\
                       Purge done for trx's n:o < 5130 undo n:o < 0 state: running\n\
                       History list length 27\nLIST OF TRANSACTIONS FOR EACH SESSION:\n";
        assert_eq!(history_list_length(monitor), Some(27));
        assert_eq!(history_list_length("nothing here"), None);
    }
}
