//! Global status, read at the start and the end of the window: the deltas give rates
//! for the window itself, not averages since the server started.

use std::collections::BTreeMap;

use perfdiag_model::facts::mysql::{ConnectionFacts, MysqlSettings, StatusWindow};

use super::Ctx;
use super::query::{Conn, QueryError, fetch, parse_int, parse_uint};
use super::variables::name_values;

pub(crate) async fn read(
    conn: &mut Conn,
    ctx: &Ctx,
) -> Result<BTreeMap<String, String>, QueryError> {
    let rows = fetch(conn, "status", include_str!("sql/status.sql"), ctx.guard).await?;
    Ok(name_values(&rows))
}

/// End minus start of every value numeric in both readings.
pub(crate) fn window(
    start: &BTreeMap<String, String>,
    end: &BTreeMap<String, String>,
    seconds: f64,
) -> StatusWindow {
    let deltas = end
        .iter()
        .filter_map(|(name, e)| {
            let s = parse_int(start.get(name)?)?;
            Some((name.clone(), parse_int(e)?.checked_sub(s)?))
        })
        .collect();
    StatusWindow { seconds, deltas }
}

pub(crate) fn connections(
    settings: &MysqlSettings,
    status: &BTreeMap<String, String>,
) -> ConnectionFacts {
    let get = |name: &str| status.get(name).and_then(|v| parse_uint(v));
    ConnectionFacts {
        max_connections: settings.max_connections,
        max_used_connections: get("Max_used_connections"),
        threads_connected: get("Threads_connected"),
        threads_running: get("Threads_running"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn window_rates_from_two_readings() {
        let start = map(&[
            ("Questions", "1000"),
            ("Com_commit", "10"),
            ("Com_rollback", "0"),
            ("Created_tmp_tables", "100"),
            ("Created_tmp_disk_tables", "10"),
            ("Innodb_buffer_pool_read_requests", "10000"),
            ("Innodb_buffer_pool_reads", "100"),
            ("Rpl_status", "AUTH_MASTER"),
        ]);
        let end = map(&[
            ("Questions", "7000"),
            ("Com_commit", "70"),
            ("Com_rollback", "2"),
            ("Created_tmp_tables", "200"),
            ("Created_tmp_disk_tables", "60"),
            ("Innodb_buffer_pool_read_requests", "20000"),
            ("Innodb_buffer_pool_reads", "1100"),
            ("Rpl_status", "AUTH_MASTER"),
            ("Only_at_end", "5"),
        ]);
        let w = window(&start, &end, 60.0);
        assert_eq!(w.qps(), Some(100.0));
        assert!((w.tps().unwrap_or_default() - 62.0 / 60.0).abs() < 1e-9);
        assert_eq!(w.tmp_disk_pct(), Some(50.0));
        assert_eq!(w.buffer_pool_hit_pct(), Some(90.0));
        assert_eq!(w.delta("Rpl_status"), None);
        assert_eq!(w.delta("Only_at_end"), None);
    }
}
