//! A database to collect from: its engine, its URL (which may hold a password, kept in
//! memory only) and the label stored in snapshots (the URL without any password).

use super::DbError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Postgres,
    /// MySQL and MariaDB: the flavour is detected after connecting.
    Mysql,
    /// SQL Server (2016 SP2 and later), over TDS.
    Mssql,
}

impl Engine {
    /// The facts document and probe id prefix of the engine.
    pub fn id(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Mssql => "mssql",
        }
    }

    /// The TCP port a URL without one means.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Postgres => 5432,
            Self::Mysql => 3306,
            Self::Mssql => 1433,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct DbTarget {
    pub engine: Engine,
    url: url::Url,
    label: String,
}

/// Never prints the password.
impl std::fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbTarget")
            .field("engine", &self.engine)
            .field("label", &self.label)
            .finish()
    }
}

/// Query parameters that carry secrets and never reach a label.
const SECRET_PARAMS: [&str; 3] = ["password", "sslpassword", "pass"];

impl DbTarget {
    /// Parses a `postgres://` / `postgresql://`, `mysql://` / `mariadb://` or
    /// `mssql://` / `sqlserver://` URL; for SQL Server also an ADO.NET connection
    /// string (`Server=tcp:db01,1433;Database=erp;User Id=perfdiag;…`), kept as the
    /// equivalent `mssql://` URL.
    pub fn parse(engine: Engine, text: &str) -> Result<Self, DbError> {
        let example = match engine {
            Engine::Postgres => "postgres://user@db01:5432/erp",
            Engine::Mysql => "mysql://user@db01:3306/erp",
            Engine::Mssql => {
                "mssql://user@db01:1433/erp or Server=db01,1433;Database=erp;User Id=user"
            }
        };
        if engine == Engine::Mssql && !text.contains("://") {
            let url = crate::mssql::ado::to_url(text)
                .map_err(|e| DbError::InvalidUrl(format!("{e}; expected e.g. {example}")))?;
            let label = redact(&url);
            return Ok(Self { engine, url, label });
        }
        let mut url = url::Url::parse(text.trim())
            .map_err(|e| DbError::InvalidUrl(format!("{e}; expected e.g. {example}")))?;
        let accepted: &[&str] = match engine {
            Engine::Postgres => &["postgres", "postgresql"],
            Engine::Mysql => &["mysql", "mariadb"],
            Engine::Mssql => &["mssql", "sqlserver"],
        };
        if !accepted.contains(&url.scheme()) {
            return Err(DbError::InvalidUrl(format!(
                "`{}://` is not a {} URL; expected e.g. {example}",
                url.scheme(),
                engine.id(),
            )));
        }
        if url.scheme() == "mariadb" {
            url = url::Url::parse(&text.trim().replacen("mariadb://", "mysql://", 1))
                .map_err(|e| DbError::InvalidUrl(e.to_string()))?;
        }
        if url.scheme() == "sqlserver" {
            url = url::Url::parse(&text.trim().replacen("sqlserver://", "mssql://", 1))
                .map_err(|e| DbError::InvalidUrl(e.to_string()))?;
        }
        if engine == Engine::Mssql && url.host_str().is_none_or(str::is_empty) {
            return Err(DbError::InvalidUrl(format!(
                "a SQL Server URL needs a host; expected e.g. {example}"
            )));
        }
        let label = redact(&url);
        Ok(Self { engine, url, label })
    }

    /// The URL to connect with, password included when one was given.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// What snapshots, logs and reports show: the URL without any password.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn has_password(&self) -> bool {
        self.url.password().is_some()
            || self
                .url
                .query_pairs()
                .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
    }

    /// The same target with `password` set (from a prompt or the environment).
    pub fn with_password(&self, password: &str) -> Self {
        let mut url = self.url.clone();
        // Only fails for URLs that cannot have credentials, which `parse` rejected.
        let _ = url.set_password(Some(password));
        Self {
            engine: self.engine,
            url,
            label: self.label.clone(),
        }
    }

    /// `host:port` for TCP round-trip measurements; `None` for socket-only URLs.
    pub fn host_port(&self) -> Option<String> {
        let host = self.url.host_str().filter(|h| !h.is_empty())?;
        let port = self.url.port().unwrap_or(self.engine.default_port());
        Some(format!("{host}:{port}"))
    }
}

fn redact(url: &url::Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_password(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !SECRET_PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        clean.set_query(None);
    } else {
        clean.query_pairs_mut().clear().extend_pairs(kept);
    }
    clean.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_hold_a_password() {
        let t = DbTarget::parse(
            Engine::Postgres,
            "postgres://erp:s3cr%40t@db01:5433/erp?sslmode=require&password=x",
        )
        .unwrap();
        assert_eq!(t.label(), "postgres://erp@db01:5433/erp?sslmode=require");
        assert!(t.has_password());
        assert!(t.url().contains("s3cr%40t"));
        assert!(!format!("{t:?}").contains("s3cr"));
        assert_eq!(t.host_port().as_deref(), Some("db01:5433"));
    }

    #[test]
    fn mariadb_urls_are_mysql_urls() {
        let t = DbTarget::parse(Engine::Mysql, "mariadb://root@127.0.0.1/test").unwrap();
        assert!(t.url().starts_with("mysql://"));
        assert_eq!(t.host_port().as_deref(), Some("127.0.0.1:3306"));
        assert!(!t.has_password());
        let with = t.with_password("pw");
        assert!(with.has_password() && !with.label().contains("pw"));
    }

    #[test]
    fn sql_server_urls_and_connection_strings_keep_no_password() {
        let t = DbTarget::parse(
            Engine::Mssql,
            "sqlserver://perfdiag:s3cr%3Bt@db01:1433/erp?trust_server_certificate=true",
        )
        .unwrap();
        assert_eq!(
            t.label(),
            "mssql://perfdiag@db01:1433/erp?trust_server_certificate=true"
        );
        assert!(t.has_password() && t.url().contains("s3cr%3Bt"));
        assert_eq!(t.host_port().as_deref(), Some("db01:1433"));

        let t = DbTarget::parse(
            Engine::Mssql,
            "Server=tcp:db01,1533;Database=erp;User Id=perfdiag;Password='p;w''d';TrustServerCertificate=True",
        )
        .unwrap();
        assert_eq!(
            t.label(),
            "mssql://perfdiag@db01:1533/erp?trust_server_certificate=true"
        );
        assert!(t.has_password());
        assert!(!format!("{t:?}").contains("p;w"));
        assert_eq!(t.host_port().as_deref(), Some("db01:1533"));

        let t = DbTarget::parse(Engine::Mssql, "mssql://perfdiag@db01/erp").unwrap();
        assert_eq!(t.host_port().as_deref(), Some("db01:1433"));
        assert!(!t.has_password());
        assert!(DbTarget::parse(Engine::Mssql, "mssql:///erp").is_err());
    }

    #[test]
    fn wrong_scheme_or_garbage_is_refused_with_an_example() {
        let e = DbTarget::parse(Engine::Postgres, "mysql://x@y/z").unwrap_err();
        assert!(e.to_string().contains("e.g. postgres://"), "{e}");
        let e = DbTarget::parse(Engine::Mysql, "db01:3306").unwrap_err();
        assert!(e.to_string().contains("mysql://user@db01:3306/erp"), "{e}");
    }
}
