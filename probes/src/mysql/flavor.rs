//! Which server this is (MySQL, MariaDB, Percona) and which SQL its version needs.
//!
//! Decided once from `version()` and `@@version_comment`; every version-dependent
//! choice of the probe is a method here, so the quirks are listed in one place and
//! tested on strings captured from real servers.

use perfdiag_model::facts::mysql::MysqlFlavor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Server {
    pub flavor: MysqlFlavor,
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Server {
    /// Parses `version()` and `@@version_comment`.
    pub fn detect(version: &str, comment: &str) -> Self {
        let lower = version.to_ascii_lowercase();
        let flavor = if lower.contains("mariadb") {
            MysqlFlavor::Mariadb
        } else if comment.to_ascii_lowercase().contains("percona") {
            MysqlFlavor::Percona
        } else {
            MysqlFlavor::Mysql
        };
        // MariaDB may prefix its version with "5.5.5-" for old clients.
        let core = version.strip_prefix("5.5.5-").unwrap_or(version);
        let core = core.split(['-', '+', ' ']).next().unwrap_or("");
        let mut parts = core.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        Self {
            flavor,
            major: parts.next().unwrap_or(0),
            minor: parts.next().unwrap_or(0),
            patch: parts.next().unwrap_or(0),
        }
    }

    pub fn is_mariadb(self) -> bool {
        self.flavor == MysqlFlavor::Mariadb
    }

    fn at_least(self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    /// MySQL 8.0+ (and Percona 8.0+): data_lock_waits, performance_schema.threads
    /// preferred over information_schema.PROCESSLIST, no INNODB_LOCK_WAITS.
    pub fn is_mysql8(self) -> bool {
        !self.is_mariadb() && self.major >= 8
    }

    /// MariaDB 10.4+ keeps accounts in mysql.global_priv.
    pub fn has_global_priv(self) -> bool {
        self.is_mariadb() && self.at_least(10, 4, 0)
    }

    /// The replication status query of this version (its `sql/` file's stem).
    pub fn replica_name(self) -> &'static str {
        if self.is_mariadb() {
            "replica_mariadb"
        } else if self.at_least(8, 0, 22) {
            "replica_mysql8"
        } else {
            "replica_mysql57"
        }
    }

    pub fn replica_sql(self) -> &'static str {
        match self.replica_name() {
            "replica_mariadb" => include_str!("sql/replica_mariadb.sql"),
            "replica_mysql8" => include_str!("sql/replica_mysql8.sql"),
            _ => include_str!("sql/replica_mysql57.sql"),
        }
    }

    /// The privilege that lets an account read the replication status.
    pub fn replica_privilege(self) -> &'static str {
        if self.is_mariadb() && self.at_least(10, 5, 9) {
            "SLAVE MONITOR"
        } else {
            "REPLICATION CLIENT"
        }
    }

    /// The accounts query of this version (its `sql/` file's stem).
    pub fn accounts_name(self) -> &'static str {
        if self.has_global_priv() {
            "accounts_mariadb"
        } else if self.is_mariadb() {
            "accounts_mariadb_old"
        } else {
            "accounts_mysql"
        }
    }

    pub fn accounts_sql(self) -> &'static str {
        match self.accounts_name() {
            "accounts_mariadb" => include_str!("sql/accounts_mariadb.sql"),
            "accounts_mariadb_old" => include_str!("sql/accounts_mariadb_old.sql"),
            _ => include_str!("sql/accounts_mysql.sql"),
        }
    }

    /// The table the account checks read, for the GRANT hint.
    pub fn accounts_table(self) -> &'static str {
        if self.has_global_priv() {
            "mysql.global_priv"
        } else {
            "mysql.user"
        }
    }

    pub fn lock_waits_sql(self) -> &'static str {
        if self.is_mysql8() {
            include_str!("sql/lock_waits_mysql8.sql")
        } else {
            include_str!("sql/lock_waits_innodb.sql")
        }
    }

    /// The session sample: performance_schema.threads on MySQL 8 when it is on.
    pub fn sessions_sql(self, performance_schema: bool) -> String {
        if self.is_mysql8() && performance_schema {
            include_str!("sql/sessions_threads.sql").to_owned()
        } else {
            let time_ms = if self.is_mariadb() {
                "p.TIME_MS"
            } else {
                "p.TIME * 1000"
            };
            include_str!("sql/sessions_processlist.sql").replace("{time_ms}", time_ms)
        }
    }

    /// The session limits statement, filled with the timeouts.
    pub fn session_sql(self, statement: std::time::Duration, lock: std::time::Duration) -> String {
        let lock_s = lock.as_secs().max(1);
        // innodb_lock_wait_timeout is an integer number of seconds, at least 1.
        let innodb_lock_s = lock_s;
        if self.is_mariadb() {
            include_str!("sql/session_mariadb.sql")
                .replace("{statement_s}", &format!("{:.3}", statement.as_secs_f64()))
                .replace("{lock_s}", &lock_s.to_string())
                .replace("{innodb_lock_s}", &innodb_lock_s.to_string())
        } else {
            include_str!("sql/session_mysql.sql")
                .replace("{statement_ms}", &statement.as_millis().max(1).to_string())
                .replace("{lock_s}", &lock_s.to_string())
                .replace("{innodb_lock_s}", &innodb_lock_s.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors_and_versions_from_real_strings() {
        let m = Server::detect("10.11.6-MariaDB-0+deb12u1", "Debian 12");
        assert_eq!(
            (m.flavor, m.major, m.minor, m.patch),
            (MysqlFlavor::Mariadb, 10, 11, 6)
        );
        assert!(m.has_global_priv() && !m.is_mysql8());
        let m = Server::detect("5.5.5-10.3.39-MariaDB-log", "MariaDB Server");
        assert_eq!((m.major, m.minor), (10, 3));
        assert!(!m.has_global_priv());
        assert!(m.accounts_sql().contains("Password"));
        let p = Server::detect(
            "8.0.36-28",
            "Percona Server (GPL), Release 28, Revision 47601f19",
        );
        assert_eq!(p.flavor, MysqlFlavor::Percona);
        assert!(p.is_mysql8());
        let o = Server::detect("5.7.44-log", "MySQL Community Server (GPL)");
        assert_eq!((o.flavor, o.major, o.minor), (MysqlFlavor::Mysql, 5, 7));
        assert!(o.replica_sql().contains("SHOW SLAVE STATUS"));
        assert!(o.lock_waits_sql().contains("INNODB_LOCK_WAITS"));
        let e = Server::detect("8.0.35", "MySQL Community Server - GPL");
        assert!(e.replica_sql().contains("SHOW REPLICA STATUS"));
        assert!(e.lock_waits_sql().contains("data_lock_waits"));
        assert!(e.sessions_sql(true).contains("performance_schema.threads"));
        assert!(e.sessions_sql(false).contains("p.TIME * 1000"));
    }

    #[test]
    fn session_limits_use_each_flavors_units() {
        use std::time::Duration;
        let m = Server::detect("10.11.6-MariaDB", "");
        let sql = m.session_sql(Duration::from_millis(2500), Duration::from_secs(1));
        assert!(sql.contains("max_statement_time = 2.500"), "{sql}");
        let o = Server::detect("8.0.36", "MySQL Community Server - GPL");
        let sql = o.session_sql(Duration::from_millis(2500), Duration::from_millis(200));
        assert!(sql.contains("max_execution_time = 2500"), "{sql}");
        assert!(sql.contains("lock_wait_timeout = 1"), "{sql}");
    }
}
