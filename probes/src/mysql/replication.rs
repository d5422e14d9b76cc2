//! Replication state of a replica: one entry per channel (MySQL) or connection
//! (MariaDB multi-source). Column names differ by flavor and version, so they are
//! read by name, old and new terminology alike.

use perfdiag_model::facts::mysql::ReplicaChannel;

use super::Ctx;
use super::outcome::Outcome;
use super::query::{Conn, fetch, parse_uint, text_named};
use crate::db::Row;

pub(crate) async fn read(
    conn: &mut Conn,
    ctx: &Ctx,
    out: &mut Outcome,
) -> Option<Vec<ReplicaChannel>> {
    match fetch(
        conn,
        ctx.server.replica_name(),
        ctx.server.replica_sql(),
        ctx.guard,
    )
    .await
    {
        Ok(rows) => {
            out.ok();
            Some(rows.iter().map(channel).collect())
        }
        Err(e) => {
            out.failed("replication status", &e);
            out.hint(ctx.grant(&format!("{} ON *.*", ctx.server.replica_privilege())));
            None
        }
    }
}

fn channel(row: Row<'_>) -> ReplicaChannel {
    let first = |names: &[&str]| names.iter().find_map(|n| text_named(row, n));
    ReplicaChannel {
        channel: first(&["Connection_name", "Channel_Name"]).unwrap_or_default(),
        source_host: first(&["Source_Host", "Master_Host"]),
        io_running: first(&["Replica_IO_Running", "Slave_IO_Running"]),
        sql_running: first(&["Replica_SQL_Running", "Slave_SQL_Running"]),
        seconds_behind: first(&["Seconds_Behind_Source", "Seconds_Behind_Master"])
            .and_then(|s| parse_uint(&s)),
        last_error: first(&["Last_Error", "Last_SQL_Error", "Last_IO_Error"])
            .filter(|e| !e.is_empty()),
    }
}
