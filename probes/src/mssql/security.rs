//! Sub-probe `mssql.security`: sa, the sysadmin members, SQL logins without password
//! policy or expiration, and the authentication mode, from `logins.sql` and
//! `server.sql`. Server options with a security side (xp_cmdshell, clr enabled) are
//! in the configurations.

use perfdiag_model::facts::mssql::MssqlSecurity;

use crate::db::TextRows;

/// The security facts. `logins_visible` says whether the login could see every
/// login (sysadmin or VIEW ANY DEFINITION); when not, the lists hold only what it saw.
pub(crate) fn security(
    rows: &TextRows,
    windows_auth_only: Option<bool>,
    logins_visible: bool,
) -> MssqlSecurity {
    let mut s = MssqlSecurity {
        windows_auth_only,
        logins_visible: Some(logins_visible),
        ..MssqlSecurity::default()
    };
    for r in rows.iter() {
        let Some(name) = r.string("name") else {
            continue;
        };
        let enabled = r.bool("is_disabled") == Some(false);
        if r.i64("principal_id") == Some(1) {
            s.sa_enabled = r.bool("is_disabled").map(|d| !d);
            s.sa_name = Some(name.clone());
        }
        if !enabled {
            continue;
        }
        if r.bool("is_sysadmin") == Some(true) {
            s.sysadmins.push(name.clone());
        }
        // SQL logins only; the ##MS_…## certificate logins are internal.
        let sql_login = r.text("type_desc") == Some("SQL_LOGIN") && !name.starts_with("##");
        if sql_login && r.bool("is_policy_checked") == Some(false) {
            s.logins_without_policy.push(name.clone());
        }
        if sql_login && r.bool("is_expiration_checked") == Some(false) {
            s.logins_without_expiration.push(name);
        }
    }
    s
}
