//! Sessions sampled at every tick: what each active (or idle-in-transaction) session
//! does, for how long, its transaction's age, and which session blocks it.
//!
//! Two queries per tick: the session list joined with INNODB_TRX, and the lock waits
//! (INNODB_LOCK_WAITS on MariaDB/MySQL 5.7, data_lock_waits on MySQL 8). Idle sessions
//! outside a transaction are filtered on the server, so 200 pooled connections cost a
//! few rows. Statement text is masked before it is kept.

use std::collections::HashMap;

use perfdiag_model::{Table, col};

use super::Ctx;
use super::query::{Conn, QueryError, fetch, int, text};
use crate::sql::mask_literals;

/// Statement text beyond this is cut (after masking): enough to recognise a query.
const INFO_MAX_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionRow {
    pub ts_us: i64,
    pub id: Option<i64>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub db: Option<String>,
    pub command: Option<String>,
    pub state: Option<String>,
    pub time_ms: Option<i64>,
    pub trx_age_ms: Option<i64>,
    pub trx_state: Option<String>,
    pub blocked_by: Option<i64>,
    pub lock_wait_ms: Option<i64>,
    pub info: Option<String>,
}

/// One sample: the sessions and who blocks them. A lock-wait failure keeps the
/// session rows (without `blocked_by`) and is returned as the second value.
pub(crate) async fn sample(
    conn: &mut Conn,
    ctx: &Ctx,
    ts_us: i64,
) -> Result<(Vec<SessionRow>, Option<QueryError>), QueryError> {
    let sql = ctx.server.sessions_sql(ctx.performance_schema);
    let rows = fetch(conn, "sessions", &sql, ctx.guard).await?;
    let (waits, wait_err) =
        match fetch(conn, "lock_waits", ctx.server.lock_waits_sql(), ctx.guard).await {
            Ok(w) => (
                w.iter()
                    .filter_map(|r| Some((int(r, 0)?, (int(r, 1)?, int(r, 2)))))
                    .collect::<HashMap<i64, (i64, Option<i64>)>>(),
                None,
            ),
            Err(e) => (HashMap::new(), Some(e)),
        };
    let sessions = rows
        .iter()
        .map(|r| {
            let id = int(r, 0);
            let wait = id.and_then(|i| waits.get(&i));
            SessionRow {
                ts_us,
                id,
                user: text(r, 1),
                host: text(r, 2),
                db: text(r, 3),
                command: text(r, 4),
                state: text(r, 5),
                time_ms: int(r, 6),
                info: text(r, 7).map(|i| {
                    let masked = mask_literals(&i);
                    masked.chars().take(INFO_MAX_CHARS).collect()
                }),
                trx_age_ms: int(r, 8),
                trx_state: text(r, 9),
                blocked_by: wait.map(|w| w.0),
                lock_wait_ms: wait.and_then(|w| w.1),
            }
        })
        .collect();
    Ok((sessions, wait_err))
}

/// The `mysql_sessions` table.
pub(crate) fn table(target: &str, rows: &[SessionRow]) -> Table {
    let s = |f: fn(&SessionRow) -> Option<&str>| col::utf8(rows.iter().map(f));
    let i = |f: fn(&SessionRow) -> Option<i64>| col::i64(rows.iter().map(f));
    Table::new()
        .with("target", col::utf8(rows.iter().map(|_| Some(target))))
        .with("ts", col::timestamp(rows.iter().map(|r| Some(r.ts_us))))
        .with("id", i(|r| r.id))
        .with("user", s(|r| r.user.as_deref()))
        .with("host", s(|r| r.host.as_deref()))
        .with("db", s(|r| r.db.as_deref()))
        .with("command", s(|r| r.command.as_deref()))
        .with("state", s(|r| r.state.as_deref()))
        .with("time_ms", i(|r| r.time_ms))
        .with("trx_age_ms", i(|r| r.trx_age_ms))
        .with("trx_state", s(|r| r.trx_state.as_deref()))
        .with("blocked_by", i(|r| r.blocked_by))
        .with("lock_wait_ms", i(|r| r.lock_wait_ms))
        .with("info", s(|r| r.info.as_deref()))
}
