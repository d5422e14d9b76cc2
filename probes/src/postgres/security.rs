//! Sub-probes `postgres.security` (superusers, login roles without password expiry,
//! CREATE on schema public) and `postgres.hba` (pg_hba.conf rules, which a
//! `pg_monitor` role may not read: skipped with the GRANT). Security-relevant
//! settings (ssl, password_encryption, listen_addresses, logging) are in
//! `postgres.settings` already.

use perfdiag_model::facts::postgres::{PgHbaRule, PgSecurity};

use super::connect::{Binds, Conn};
use super::probe::{Tally, array_items, bool_of, i64_of, text_of};

const ROLES_SQL: &str = include_str!("sql/security_roles.sql");
const PUBLIC_SCHEMA_SQL: &str = include_str!("sql/public_schema.sql");
const HBA_SQL: &str = include_str!("sql/hba.sql");

pub(crate) fn collect(conn: &mut Conn, tally: &mut Tally) -> PgSecurity {
    tally.timed(|tally| {
        let mut security = PgSecurity::default();
        match conn.fetch("security_roles", ROLES_SQL, Binds::None) {
            Ok(rows) => {
                for r in rows.iter() {
                    let Some(name) = text_of(r, "rolname") else {
                        continue;
                    };
                    if bool_of(r, "rolsuper") == Some(true) {
                        security.superusers.push(name.clone());
                    }
                    if bool_of(r, "rolcanlogin") == Some(true)
                        && bool_of(r, "no_expiry") == Some(true)
                    {
                        security.login_roles_without_expiry.push(name);
                    }
                }
                tally.ok();
            }
            Err(e) => tally.failed("roles", &e),
        }
        match conn.fetch("public_schema", PUBLIC_SCHEMA_SQL, Binds::None) {
            Ok(rows) => {
                security.public_schema_create =
                    rows.first().and_then(|r| bool_of(r, "public_create"));
                tally.ok();
            }
            Err(e) => tally.failed("schema public privileges", &e),
        }
        security
    })
}

/// Reads pg_hba.conf rules; `None` (and a skipped record with the GRANT) when the role
/// may not.
pub(crate) fn hba(conn: &mut Conn, user: &str, tally: &mut Tally) -> Option<Vec<PgHbaRule>> {
    tally.timed(|tally| match conn.fetch("hba", HBA_SQL, Binds::None) {
        Ok(rows) => {
            tally.ok();
            Some(
                rows.iter()
                    .map(|r| PgHbaRule {
                        line_number: i64_of(r, "line_number"),
                        conn_type: text_of(r, "conn_type"),
                        databases: text_of(r, "databases")
                            .map(|l| array_items(&l))
                            .unwrap_or_default(),
                        users: text_of(r, "users")
                            .map(|l| array_items(&l))
                            .unwrap_or_default(),
                        address: text_of(r, "address"),
                        netmask: text_of(r, "netmask"),
                        auth_method: text_of(r, "auth_method"),
                        error: text_of(r, "error"),
                    })
                    .collect(),
            )
        }
        Err(e) if e.is_privilege() => {
            tally.skipped(
                format!("pg_hba_file_rules ({})", e.message),
                &format!(
                    "GRANT SELECT ON pg_hba_file_rules TO {user};\n\
                     GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO {user};"
                ),
            );
            None
        }
        Err(e) => {
            tally.failed("pg_hba_file_rules", &e);
            None
        }
    })
}
