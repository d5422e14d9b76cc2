//! Host expected settings that depend on the databases it runs: swappiness for a
//! dedicated or shared host, the listen backlog and open-files limit the databases'
//! connection settings need, and the huge pages their buffers need.

use perfdiag_model::facts::{MysqlFacts, PostgresFacts};
use perfdiag_model::{Unit, Value};

use super::mysql::var;
use super::{Expected, Target, context};

/// vm.swappiness: 1 on a dedicated database host — swap only to avoid the OOM killer
/// (Percona, "Settings that matter for MySQL on Linux"; MySQL and PostgreSQL tuning
/// guides) — and 10 on a shared host, Red Hat's `throughput-performance` tuned
/// profile, which leaves the kernel some room to page out idle services.
pub(crate) fn swappiness(current: f64, dedicated: bool) -> Expected {
    let (value, formula) = if dedicated {
        (1.0, "host.swappiness_dedicated")
    } else {
        (10.0, "host.swappiness_shared")
    };
    Expected::number(
        "vm.swappiness",
        current,
        Target::AtMost(value),
        Unit::None,
        formula,
    )
}

/// The listen backlog a PostgreSQL server asks for: `2 * max_connections`, at most
/// 10 000 (PostgreSQL's `PG_SOMAXCONN`, src/backend/libpq/pqcomm.c).
pub(crate) fn pg_backlog(facts: &PostgresFacts) -> Option<f64> {
    Some((facts.setting_number("max_connections")? * 2.0).min(10_000.0))
}

/// The listen backlog a MySQL/MariaDB server asks for: `back_log` (by default
/// max_connections on MySQL 8, `50 + max_connections / 5` capped at 900 before).
pub(crate) fn mysql_backlog(facts: &MysqlFacts) -> Option<f64> {
    var(facts, "back_log").or_else(|| facts.settings.max_connections.map(|c| c as f64))
}

/// net.core.somaxconn: at least the largest listen backlog a local database server
/// asks for — the kernel silently caps every backlog at somaxconn (listen(2)), so a
/// burst of reconnecting clients overflows the accept queue at the cap, not at the
/// database's own setting (`host.somaxconn_backlog`).
pub(crate) fn somaxconn(current: f64, backlog: f64) -> Expected {
    Expected::number(
        "net.core.somaxconn",
        current,
        Target::AtLeast(backlog),
        Unit::None,
        "host.somaxconn_backlog",
    )
    .with(vec![context(
        "expected.database_listen_backlog",
        Value::number(backlog, Unit::None),
    )])
}

/// The open files a MySQL/MariaDB server wants: the larger of `10 + max_connections +
/// 2 * table_open_cache` and `5 * max_connections` (MySQL 8.0 Reference Manual,
/// open_files_limit). Below it the server lowers table_open_cache or max_connections
/// at startup and only logs a warning.
pub(crate) fn mysql_open_files(facts: &MysqlFacts, current: f64) -> Option<Expected> {
    let connections = facts.settings.max_connections? as f64;
    let cache = facts
        .settings
        .table_open_cache
        .map(|c| c as f64)
        .or_else(|| var(facts, "table_open_cache"))?;
    let value = (10.0 + connections + 2.0 * cache).max(5.0 * connections);
    Some(
        Expected::number(
            "LimitNOFILE",
            current,
            Target::AtLeast(value),
            Unit::None,
            "mysql.open_files_limit",
        )
        .with(vec![
            context(
                "mysql.settings.max_connections",
                Value::number(connections, Unit::None),
            ),
            context(
                "mysql.settings.table_open_cache",
                Value::number(cache, Unit::None),
            ),
        ]),
    )
}

/// Extra share over a buffer for the rest of the shared memory segment (PostgreSQL's
/// lock tables, CLOG buffers...; InnoDB's per-chunk overhead) when the server does not
/// say how many huge pages it needs.
pub(crate) const HUGEPAGE_OVERHEAD: f64 = 1.05;

/// Huge pages a PostgreSQL server needs: `shared_memory_size_in_huge_pages` when the
/// server reports it (15+: PostgreSQL docs, 19.4.5 Linux Huge Pages), else
/// shared_buffers with 5 % overhead, in pages of `page_size` bytes. `None` when the
/// server does not try to use huge pages (`huge_pages = off`) or the size is unknown.
pub(crate) fn pg_huge_pages(facts: &PostgresFacts, page_size: f64) -> Option<f64> {
    if facts
        .setting_text("huge_pages")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("off"))
    {
        return None;
    }
    if let Some(pages) = facts
        .setting_number("shared_memory_size_in_huge_pages")
        .filter(|p| *p > 0.0)
    {
        return Some(pages);
    }
    let buffers = facts.setting_number("shared_buffers")?;
    Some((buffers * HUGEPAGE_OVERHEAD / page_size).ceil())
}

/// Huge pages a MySQL/MariaDB server with `large_pages = ON` needs: the buffer pool
/// with 5 % overhead (MySQL 8.0 Reference Manual, 10.12.3.3 Enabling Large Page
/// Support). `None` when large pages are off.
pub(crate) fn mysql_huge_pages(facts: &MysqlFacts, page_size: f64) -> Option<f64> {
    if var(facts, "large_pages")? < 1.0 {
        return None;
    }
    let pool = facts.settings.innodb_buffer_pool_size_bytes? as f64;
    Some((pool * HUGEPAGE_OVERHEAD / page_size).ceil())
}

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::postgres::PgSetting;

    use super::*;

    fn pg(settings: &[(&str, &str, Option<f64>)]) -> PostgresFacts {
        PostgresFacts {
            settings: settings
                .iter()
                .map(|(n, raw, norm)| PgSetting {
                    name: (*n).to_owned(),
                    setting: (*raw).to_owned(),
                    normalised: *norm,
                    ..PgSetting::default()
                })
                .collect(),
            ..PostgresFacts::default()
        }
    }

    #[test]
    fn swappiness_and_backlog() {
        assert_eq!(
            swappiness(60.0, true).suggested(),
            Value::number(1.0, Unit::None)
        );
        assert_eq!(swappiness(10.0, false).deviation(), 1.0);
        let f = pg(&[("max_connections", "500", None)]);
        assert_eq!(pg_backlog(&f), Some(1000.0));
        let e = somaxconn(128.0, 1000.0);
        assert!((e.deviation() - 1001.0 / 129.0).abs() < 1e-9);
        assert_eq!(somaxconn(4096.0, 1000.0).deviation(), 1.0);
    }

    #[test]
    fn mysql_open_files_follow_connections_and_table_cache() {
        let mut f = MysqlFacts::default();
        f.settings.max_connections = Some(500);
        f.settings.table_open_cache = Some(4000);
        let e = mysql_open_files(&f, 1024.0).expect("limit");
        assert_eq!(e.expected, Target::AtLeast(8510.0));
        assert!((e.deviation() - 8511.0 / 1025.0).abs() < 1e-9);
        f.settings.table_open_cache = Some(100);
        assert_eq!(
            mysql_open_files(&f, 1024.0).expect("limit").expected,
            Target::AtLeast(2500.0)
        );
    }

    #[test]
    fn huge_pages_needed_by_the_buffers() {
        let two_mib = 2_097_152.0;
        let f = pg(&[("shared_buffers", "524288", Some(4.0 * 1_073_741_824.0))]);
        assert_eq!(pg_huge_pages(&f, two_mib), Some(2151.0));
        let exact = pg(&[
            ("shared_buffers", "524288", Some(4.0 * 1_073_741_824.0)),
            ("shared_memory_size_in_huge_pages", "2100", None),
        ]);
        assert_eq!(pg_huge_pages(&exact, two_mib), Some(2100.0));
        let off = pg(&[("huge_pages", "off", None)]);
        assert_eq!(pg_huge_pages(&off, two_mib), None);
        let mut m = MysqlFacts::default();
        m.variables
            .insert("large_pages".to_owned(), "ON".to_owned());
        m.settings.innodb_buffer_pool_size_bytes = Some(1 << 30);
        assert_eq!(mysql_huge_pages(&m, two_mib), Some(538.0));
        m.variables
            .insert("large_pages".to_owned(), "OFF".to_owned());
        assert_eq!(mysql_huge_pages(&m, two_mib), None);
    }
}
