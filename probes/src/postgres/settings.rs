//! Sub-probe `postgres.settings`: the server's identity (version, uptime, recovery),
//! every setting of `pg_settings` normalised to bytes and milliseconds, the databases
//! with their sizes and the extensions of the connected database. Read once, at the
//! start of the window.

use perfdiag_model::facts::postgres::{PgDatabase, PgExtension, PgSetting, PostgresFacts};

use super::connect::{Binds, Conn};
use super::probe::{Tally, bool_of, f64_of, i64_of, text_of, time_of};

const SERVER_SQL: &str = include_str!("sql/server.sql");
const SETTINGS_SQL: &str = include_str!("sql/settings.sql");
const DATABASES_SQL: &str = include_str!("sql/databases.sql");
const EXTENSIONS_SQL: &str = include_str!("sql/extensions.sql");

pub(crate) fn collect(conn: &mut Conn, facts: &mut PostgresFacts, tally: &mut Tally) {
    tally.timed(|tally| {
        match conn.fetch("server", SERVER_SQL, Binds::None) {
            Ok(rows) => {
                if let Some(row) = rows.first() {
                    facts.server_version_num = i64_of(row, "server_version_num");
                    facts.version = text_of(row, "version");
                    facts.started_at = time_of(row, "started_at");
                    facts.uptime_secs = f64_of(row, "uptime_secs");
                    facts.database = text_of(row, "database");
                    facts.user = text_of(row, "username");
                    facts.is_superuser = bool_of(row, "is_superuser");
                    facts.in_recovery = bool_of(row, "in_recovery");
                }
                tally.ok();
            }
            Err(e) => tally.failed("server version", &e),
        }
        match conn.fetch("settings", SETTINGS_SQL, Binds::None) {
            Ok(rows) => {
                facts.settings = rows
                    .iter()
                    .filter_map(|row| {
                        let name = text_of(row, "name")?;
                        let setting = text_of(row, "setting").unwrap_or_default();
                        let unit = text_of(row, "unit");
                        let vartype = text_of(row, "vartype").unwrap_or_default();
                        let (normalised, normalised_unit) = normalise(&setting, unit.as_deref())
                            .map_or((None, None), |(v, u)| (Some(v), Some(u.to_owned())));
                        Some(PgSetting {
                            name,
                            setting,
                            unit,
                            vartype,
                            source: text_of(row, "source").unwrap_or_default(),
                            normalised,
                            normalised_unit,
                            pending_restart: bool_of(row, "pending_restart").unwrap_or(false),
                        })
                    })
                    .collect();
                tally.ok();
            }
            Err(e) => tally.failed("pg_settings", &e),
        }
        match conn.fetch("databases", DATABASES_SQL, Binds::None) {
            Ok(rows) => {
                facts.databases = rows
                    .iter()
                    .filter_map(|row| {
                        Some(PgDatabase {
                            name: text_of(row, "name")?,
                            size_bytes: i64_of(row, "size_bytes"),
                        })
                    })
                    .collect();
                tally.ok();
            }
            Err(e) => tally.failed("databases", &e),
        }
        match conn.fetch("extensions", EXTENSIONS_SQL, Binds::None) {
            Ok(rows) => {
                facts.extensions = rows
                    .iter()
                    .filter_map(|row| {
                        Some(PgExtension {
                            name: text_of(row, "name")?,
                            version: text_of(row, "version").unwrap_or_default(),
                            schema: text_of(row, "schema").unwrap_or_default(),
                        })
                    })
                    .collect();
                tally.ok();
            }
            Err(e) => tally.failed("extensions", &e),
        }
    });
}

/// A setting's value in bytes or milliseconds, from its raw text and `pg_settings`
/// unit. `None` for unitless settings, and for -1 and other negative sentinels
/// ("disabled"), which are not sizes.
pub(crate) fn normalise(setting: &str, unit: Option<&str>) -> Option<(f64, &'static str)> {
    let unit = unit?;
    let value: f64 = setting.trim().parse().ok()?;
    if value < 0.0 {
        return None;
    }
    let (factor, kind) = match unit {
        "B" => (1.0, "bytes"),
        "kB" => (1024.0, "bytes"),
        "8kB" => (8192.0, "bytes"),
        "16kB" => (16384.0, "bytes"),
        "32kB" => (32768.0, "bytes"),
        "MB" => (1_048_576.0, "bytes"),
        "16MB" => (16.0 * 1_048_576.0, "bytes"),
        "GB" => (1_073_741_824.0, "bytes"),
        "TB" => (1_099_511_627_776.0, "bytes"),
        "us" => (0.001, "ms"),
        "ms" => (1.0, "ms"),
        "s" => (1000.0, "ms"),
        "min" => (60_000.0, "ms"),
        "h" => (3_600_000.0, "ms"),
        "d" => (86_400_000.0, "ms"),
        other => {
            // Block sizes other than 8kB appear as e.g. "4kB" on custom builds.
            let kb: f64 = other.strip_suffix("kB")?.parse().ok()?;
            (kb * 1024.0, "bytes")
        }
    };
    Some((value * factor, kind))
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn units_become_bytes_and_milliseconds() {
        assert_eq!(
            normalise("16384", Some("8kB")),
            Some((134_217_728.0, "bytes"))
        );
        assert_eq!(normalise("4096", Some("kB")), Some((4_194_304.0, "bytes")));
        assert_eq!(
            normalise("1024", Some("MB")),
            Some((1_073_741_824.0, "bytes"))
        );
        assert_eq!(normalise("300", Some("s")), Some((300_000.0, "ms")));
        assert_eq!(normalise("5", Some("min")), Some((300_000.0, "ms")));
        assert_eq!(normalise("0.9", None), None);
        assert_eq!(normalise("-1", Some("ms")), None, "-1 means disabled");
        assert_eq!(normalise("2", Some("4kB")), Some((8192.0, "bytes")));
        assert_eq!(normalise("on", Some("ms")), None);
    }
}
