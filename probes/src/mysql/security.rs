//! Accounts for the security checks, from the `mysql` schema (mysql.global_priv on
//! MariaDB 10.4+, mysql.user elsewhere). No password hash leaves the server: the SQL
//! only says whether it is empty.

use perfdiag_model::facts::mysql::Account;

use super::Ctx;
use super::query::{Conn, QueryError, fetch, flag, text};
use crate::db::Row;

/// Plugins that authenticate with a password stored in the account: an empty one
/// means anyone can log in. unix_socket, PAM, GSSAPI, auth_socket... do not.
const PASSWORD_PLUGINS: [&str; 5] = [
    "",
    "mysql_native_password",
    "mysql_old_password",
    "caching_sha2_password",
    "sha256_password",
];

pub(crate) async fn read(conn: &mut Conn, ctx: &Ctx) -> Result<Vec<Account>, QueryError> {
    let rows = fetch(
        conn,
        ctx.server.accounts_name(),
        ctx.server.accounts_sql(),
        ctx.guard,
    )
    .await?;
    Ok(rows.iter().filter_map(account).collect())
}

/// Columns: user, host, plugin, empty_auth, global_privs, locked, is_role.
fn account(row: Row<'_>) -> Option<Account> {
    if flag(row, 6) == Some(true) {
        return None; // MariaDB roles cannot log in.
    }
    let plugin = text(row, 2).unwrap_or_default();
    let locked = flag(row, 5).unwrap_or(false);
    let empty_auth = flag(row, 3).unwrap_or(false);
    Some(Account {
        user: text(row, 0)?,
        host: text(row, 1)?,
        empty_password: empty_auth
            && !locked
            && PASSWORD_PLUGINS.contains(&plugin.to_ascii_lowercase().as_str()),
        plugin,
        global_privileges: flag(row, 4).unwrap_or(false),
        locked,
    })
}
