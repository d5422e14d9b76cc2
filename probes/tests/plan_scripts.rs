//! The plan's scripts work. On a throwaway PostgreSQL and a throwaway MariaDB with
//! planted bad settings and schema faults, collection, assessment and plan run as in
//! `perfdiag plan`; then every step whose script runs against that database is applied
//! as an engineer would (psql or the mariadb client for SQL, `sh` with the variables
//! the script documents, a restart of the server when the step says so), checked to
//! have changed what it meant to (each setting it sets now has the value it wrote),
//! rolled back (restarting again when needed), and checked to have put back exactly
//! what was there before. A step's dependencies are applied first and rolled back
//! after it. Templates are not run: they must say so in their first line.
//!
//! MariaDB settings steps write an option file beside `SET GLOBAL`: the server is
//! restarted after applying and after rolling back them too, to prove the change
//! survives a restart and the rollback leaves nothing behind.
//!
//! A PostgreSQL script with sections for several servers is run with psql to show
//! that only the section of the server psql's `TARGET` names runs.
//!
//! The plan makes a server healthy (issue 5): a PostgreSQL and a MariaDB with bad
//! settings and planted faults are measured under a small load, planned, every step
//! against the database applied (templates filled in where the load says how), and
//! measured again under the same load: no critical database configuration finding, a
//! database configuration score of at least 80 and a better overall score.
//!
//! Also: every kernel parameter a sysctl step writes exists on this machine.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use perfdiag_model::facts::{CpuFacts, HostFacts, MemoryFacts};
use perfdiag_model::{Plan, PlanStep, Snapshot, facts_names};
use perfdiag_probes::db::{self, DbOptions, DbOutput, DbTarget, Engine};
use perfdiag_testkit::mariadb::MariaDbServer;
use perfdiag_testkit::postgres::{Background, PgServer};

mod common;

/// Steps that only read (a query to look at, a checklist in comments): they must run
/// without error, and change nothing.
const READ_ONLY: &[&str] = &[
    "pg.cache.reduce_reads",
    "pg.connections.pooling",
    "pg.indexes.drop_unused",
    "mysql.locks.resolve_blocking",
];

/// A snapshot of one database target on a 2 GiB, 2-core host called db1, as `collect`
/// would write it.
fn snapshot(out: DbOutput, started: chrono::DateTime<Utc>) -> Snapshot {
    let host = HostFacts {
        hostname: "db1".into(),
        cpu: CpuFacts {
            cores: Some(2),
            threads: 2,
            ..CpuFacts::default()
        },
        memory: MemoryFacts {
            total_bytes: 2 << 30,
            ..MemoryFacts::default()
        },
        ..HostFacts::default()
    };
    common::snapshot(out, Some(host), started)
}

/// The plan for `assessment`, which must have each step of `expected`: the planted
/// faults were found.
fn plan_with(assessment: &perfdiag_model::Assessment, snap: &Snapshot, expected: &[&str]) -> Plan {
    let plan = perfdiag_advice::plan(assessment, snap);
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    eprintln!("plan: {ids:?}");
    for id in expected {
        assert!(
            ids.contains(id),
            "{id} not in the plan {ids:?}\nnot evaluated: {:#?}",
            assessment.not_evaluated
        );
    }
    plan
}

/// A baseline for a window of seconds: idle transactions from half a second on.
fn baseline(lines: &str) -> perfdiag_analyzers::Baseline {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("test.toml");
    std::fs::write(&path, lines).expect("write baseline");
    perfdiag_analyzers::Baseline::from_file(&path).expect("baseline")
}

/// A server the steps run against.
trait Db {
    /// Runs `script` (a file of the step's language) from `dir`, as an engineer would.
    fn run(&mut self, language: &str, script: &Path, dir: &Path) -> Result<String, String>;
    /// Restarts the server, as `systemctl restart` would.
    fn restart(&mut self);
    /// The first value of the first row of `sql`, as text.
    fn query(&mut self, sql: &str) -> String;
    /// The value of a server setting, as the server shows it.
    fn setting(&mut self, name: &str) -> String;
    /// How to tell a setting shown as `shown` has the value a script wrote as `written`.
    fn same_value(&self) -> fn(shown: &str, written: &str) -> bool;
    /// The settings a script sets: `(name, value as written)`.
    fn settings_set(&self, body: &str) -> Vec<(String, String)>;
}

/// What one step changes, read before and after: a label, a query, and a test of the
/// value after applying.
struct Check {
    label: String,
    read: Read,
    after: Box<dyn Fn(&str) -> bool>,
    /// False for what no rollback undoes by design (a VACUUM that removed dead rows).
    reversible: bool,
}

enum Read {
    Setting(String),
    Query(String),
}

fn read(db: &mut dyn Db, checks: &[Check]) -> Vec<String> {
    checks
        .iter()
        .map(|c| match &c.read {
            Read::Setting(name) => db.setting(name),
            Read::Query(sql) => db.query(sql),
        })
        .collect()
}

/// Applies or rolls back a step: writes its script into its folder, runs it, restarts
/// when the step needs it.
fn run_step(db: &mut dyn Db, root: &Path, step: &PlanStep, rollback: bool) {
    let dir = root.join(&step.id);
    std::fs::create_dir_all(&dir).expect("step dir");
    let script = if rollback {
        &step.rollback
    } else {
        &step.script
    };
    let file = dir.join(if rollback { "rollback" } else { "apply" });
    std::fs::write(&file, &script.body).expect("write script");
    if let Err(e) = db.run(&script.language, &file, &dir) {
        panic!(
            "{} {} failed:\n{e}\n--- script ---\n{}",
            step.id,
            if rollback { "rollback" } else { "apply" },
            script.body
        );
    }
    if step.needs_restart {
        db.restart();
    }
}

/// Reads `checks` until every one holds (a buffer pool resize finishes in the
/// background), at most 60 s; returns the values read last.
fn settle(db: &mut dyn Db, checks: &[Check], want: impl Fn(usize, &str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let values = read(db, checks);
        if values.iter().enumerate().all(|(i, v)| want(i, v)) || Instant::now() > deadline {
            return values;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Applies, checks, rolls back and checks every step of `plan` whose id starts with one
/// of `prefixes`; `extra` gives the checks beyond the settings a script sets.
/// Returns the ids exercised and the ids found to be templates.
fn exercise(
    db: &mut dyn Db,
    plan: &Plan,
    prefixes: &[&str],
    extra: &dyn Fn(&PlanStep) -> Vec<Check>,
) -> (Vec<String>, Vec<String>) {
    let root = tempfile::tempdir().expect("scripts dir");
    let against_db = |s: &PlanStep| prefixes.iter().any(|p| s.id.starts_with(p));
    let (mut ran, mut templates) = (Vec::new(), Vec::new());
    for step in plan.steps.iter().filter(|s| against_db(s)) {
        assert_ne!(step.script.language, "manual", "{}", step.id);
        if step.template {
            let first = step.script.body.lines().next().unwrap_or_default();
            assert!(
                first.contains(perfdiag_advice::TEMPLATE_MARK),
                "{} is a template but does not say so first:\n{}",
                step.id,
                step.script.body
            );
            templates.push(step.id.clone());
            continue;
        }
        let mut checks: Vec<Check> = db
            .settings_set(&step.script.body)
            .into_iter()
            .map(|(name, value)| {
                let same = db.same_value();
                Check {
                    label: format!("{name} = {value}"),
                    read: Read::Setting(name),
                    after: Box::new(move |shown| same(shown, &value)),
                    reversible: true,
                }
            })
            .collect();
        checks.extend(extra(step));
        assert!(
            !checks.is_empty() || READ_ONLY.contains(&step.id.as_str()),
            "{}: the test does not know what this step changes; add a check",
            step.id
        );
        // What must be in place first (an extension before the queries that use it).
        let deps: Vec<&PlanStep> = step
            .depends_on
            .iter()
            .filter_map(|id| plan.steps.iter().find(|s| &s.id == id))
            .filter(|d| !d.template && against_db(d))
            .collect();
        // Rollbacks put back the values the snapshot recorded, so "before" is read
        // before the dependencies too, and compared once they are rolled back as well.
        let before = read(db, &checks);
        for d in &deps {
            run_step(db, root.path(), d, false);
        }
        run_step(db, root.path(), step, false);
        let writes_option_file = step.script.body.contains("cat > \"$CNF\"");
        let after = settle(db, &checks, |i, v| (checks[i].after)(v));
        for (i, c) in checks.iter().enumerate() {
            assert!(
                (c.after)(&after[i]),
                "{}: {} did not take: {} before, {} after",
                step.id,
                c.label,
                before[i],
                after[i]
            );
        }
        if writes_option_file {
            db.restart();
            let kept = read(db, &checks);
            assert_eq!(kept, after, "{}: lost at restart", step.id);
        }
        run_step(db, root.path(), step, true);
        for d in deps.iter().rev() {
            run_step(db, root.path(), d, true);
        }
        let undone = |values: &[String]| -> Vec<String> {
            values
                .iter()
                .zip(&checks)
                .map(|(v, c)| {
                    if c.reversible {
                        v.clone()
                    } else {
                        "-".to_owned()
                    }
                })
                .collect()
        };
        let expected = undone(&before);
        let back = settle(db, &checks, |i, v| !checks[i].reversible || v == before[i]);
        assert_eq!(
            undone(&back),
            expected,
            "{}: rollback did not restore",
            step.id
        );
        if writes_option_file {
            db.restart();
            let back = read(db, &checks);
            assert_eq!(
                undone(&back),
                expected,
                "{}: rollback left a trace",
                step.id
            );
        }
        eprintln!(
            "{}: applied and rolled back ({} checks)",
            step.id,
            checks.len()
        );
        ran.push(step.id.clone());
    }
    (ran, templates)
}

/// Waits until `ready` (a planted session has reached its state), at most 60 s.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "not ready: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn check(label: &str, sql: &str, after: impl Fn(&str) -> bool + 'static) -> Check {
    Check {
        label: label.to_owned(),
        read: Read::Query(sql.to_owned()),
        after: Box::new(after),
        reversible: true,
    }
}

/// A check of an effect no rollback undoes (and need not).
fn lasting(mut c: Check) -> Check {
    c.reversible = false;
    c
}

/// Runs a command, returning its output or an error with everything it printed.
fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!("{cmd:?} exited with {}:\n{text}", out.status))
    }
}

// ---------------------------------------------------------------------------------
// PostgreSQL

/// `512MB`, `1s`, `5min`, `0.9`, `on`: a size in bytes or a time in ms when it has a
/// unit, else the number, else the text.
fn pg_normal(value: &str) -> String {
    let v = value.trim().trim_matches('\'');
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let Ok(n) = number.parse::<f64>() else {
        return v.to_ascii_lowercase();
    };
    let factor = match unit.trim() {
        "" => 1.0,
        "B" => 1.0,
        "kB" => 1024.0,
        "MB" => 1_048_576.0,
        "GB" => 1_073_741_824.0,
        "TB" => 1_099_511_627_776.0,
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return v.to_ascii_lowercase(),
    };
    format!("{}", n * factor)
}

fn pg_same(shown: &str, written: &str) -> bool {
    pg_normal(shown) == pg_normal(written)
}

/// `<statement> name = value;` lines outside comments, for each statement of
/// `statements` (`ALTER SYSTEM SET `, `SET GLOBAL `): the settings a script sets, each
/// with the last value it writes.
fn settings_set(body: &str, statements: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        let code = line.split("--").next().unwrap_or_default().trim();
        let Some(rest) = statements.iter().find_map(|s| code.strip_prefix(s)) else {
            continue;
        };
        let Some((name, value)) = rest.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_end_matches(';').trim();
        out.retain(|(n, _)| n != name.trim());
        out.push((name.trim().to_owned(), value.to_owned()));
    }
    out
}

/// A throwaway PostgreSQL, restartable with pg_ctl as its own OS user.
struct Pg {
    server: PgServer,
    /// Set once pg_ctl has restarted it: the postmaster is then not the testkit's
    /// child, and is stopped here before the testkit removes its folder.
    restarted: bool,
}

fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        output(Command::new("id").args([flag, "postgres"]))
            .expect("id")
            .parse()
            .expect("the postgres OS user exists")
    };
    (id("-u"), id("-g"))
}

impl Pg {
    fn psql(&self) -> Command {
        let mut cmd = Command::new("/usr/bin/psql");
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.server.dir())
            .args(["-p", &self.server.port().to_string(), "-U", "postgres"])
            .args(["-d", "postgres"])
            .env_remove("PGPASSWORD");
        cmd
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<String, String> {
        let (uid, gid) = postgres_ids();
        output(
            Command::new("/usr/lib/postgresql/15/bin/pg_ctl")
                .arg("-D")
                .arg(self.server.data_dir())
                .args(args)
                .uid(uid)
                .gid(gid)
                .current_dir(self.server.dir())
                .stdin(Stdio::null()),
        )
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.restarted {
            let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
        }
    }
}

impl Db for Pg {
    fn run(&mut self, language: &str, script: &Path, dir: &Path) -> Result<String, String> {
        match language {
            "sql" => output(self.psql().arg("-f").arg(script).current_dir(dir)),
            // As the postgres OS user would on the server: psql finds the server
            // through the usual variables.
            "sh" => output(
                Command::new("sh")
                    .arg(script)
                    .current_dir(dir)
                    .env("PGHOST", self.server.dir())
                    .env("PGPORT", self.server.port().to_string())
                    .env("PGUSER", "postgres")
                    .env("PGDATABASE", "postgres")
                    .env_remove("PGPASSWORD"),
            ),
            other => Err(format!("cannot run a {other} script")),
        }
    }

    fn restart(&mut self) {
        let log = self.server.dir().join("restart.log");
        let result = self.pg_ctl(&[
            "-l",
            &log.to_string_lossy(),
            "-w",
            "-t",
            "60",
            "-m",
            "fast",
            "restart",
        ]);
        self.restarted = true;
        if let Err(e) = result {
            panic!(
                "restart failed: {e}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }

    fn query(&mut self, sql: &str) -> String {
        output(self.psql().arg("-A").arg("-t").arg("-c").arg(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn setting(&mut self, name: &str) -> String {
        self.query(&format!("SELECT current_setting('{name}')"))
    }

    fn same_value(&self) -> fn(&str, &str) -> bool {
        pg_same
    }

    fn settings_set(&self, body: &str) -> Vec<(String, String)> {
        settings_set(body, &["ALTER SYSTEM SET "])
    }
}

/// The checks of PostgreSQL steps beyond the settings their scripts set.
fn pg_extra(step: &PlanStep) -> Vec<Check> {
    match step.id.as_str() {
        "pg.extension.enable_pg_stat_statements" => vec![check(
            "the extension exists",
            "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'",
            |v| v == "1",
        )],
        "pg.indexes.drop_duplicate" => vec![check(
            "the duplicate index is dropped, the original kept",
            "SELECT string_agg(indexrelname, ',' ORDER BY indexrelname) FROM pg_stat_user_indexes \
             WHERE relname = 'big'",
            |v| v == "big_id",
        )],
        "pg.security.hba_scram" => vec![check(
            "no trust rule for TCP clients",
            "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host' AND auth_method = 'trust'",
            |v| v == "0",
        )],
        "pg.security.revoke_public_create" => vec![check(
            "PUBLIC cannot create in schema public",
            "SELECT has_schema_privilege('public', 'public', 'CREATE')",
            |v| v == "f",
        )],
        "pg.vacuum.tune_autovacuum" => vec![
            check(
                "per-table autovacuum settings",
                "SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class \
                 WHERE relname = 'churn'",
                |v| v.contains("autovacuum_vacuum_scale_factor=0.05"),
            ),
            lasting(check(
                "the dead rows are vacuumed",
                "SELECT n_dead_tup < 1000 FROM pg_stat_user_tables WHERE relname = 'churn'",
                |v| v == "t",
            )),
        ],
        _ => Vec::new(),
    }
}

#[test]
fn postgres_steps_apply_take_effect_and_roll_back() {
    let server = PgServer::builder()
        .preload_pg_stat_statements(false)
        .conf("shared_buffers = '1MB'")
        .conf("work_mem = '64kB'")
        .conf("max_connections = 20")
        // Below the floor for the measured WAL rate: both max_wal_size steps set it.
        .conf("max_wal_size = '256MB'")
        .hba("host all all 0.0.0.0/0 trust")
        .start();
    server.psql(
        "CREATE TABLE big AS SELECT g AS id, g % 100000 AS val, md5(g::text) AS pad
           FROM generate_series(1, 1000000) g;
         CREATE INDEX big_id ON big (id);
         CREATE INDEX big_id_again ON big (id);
         CREATE TABLE locked (id int PRIMARY KEY, v int);
         INSERT INTO locked VALUES (1, 0);
         CREATE TABLE churn (id int, pad text) WITH (autovacuum_enabled = false);
         INSERT INTO churn SELECT g, md5(g::text) FROM generate_series(1, 40000) g;
         GRANT CREATE ON SCHEMA public TO PUBLIC;",
    );
    server.psql("VACUUM ANALYZE big");
    server.psql("DELETE FROM churn WHERE id % 2 = 0");
    for _ in 0..12 {
        server.psql("CHECKPOINT");
    }
    let started = Utc::now();
    let target = DbTarget::parse(Engine::Postgres, &server.url()).expect("url");
    let mut collector = db::connect(&target, &DbOptions::default()).expect("connect");
    // Connections near the limit, a lock chain, a session idle in its transaction.
    let mut sessions: Vec<Background> = (0..11)
        .map(|_| server.psql_background("SELECT 1;"))
        .collect();
    sessions.push(
        server.psql_background(
            "BEGIN; UPDATE locked SET v = v + 1 WHERE id = 1; SELECT pg_sleep(60);",
        ),
    );
    // The blocker must hold the row before the others ask for it (on a loaded machine
    // 200 ms is not always enough).
    wait_until("the blocker holds the row lock", || {
        server.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == "1"
    });
    sessions.push(server.psql_background("UPDATE locked SET v = v + 10 WHERE id = 1;"));
    sessions.push(server.psql_background("UPDATE locked SET v = v + 20 WHERE id = 1;"));
    sessions.push(server.psql_background("BEGIN; SELECT 1;"));
    // The samples must see them: wait until both updates wait and the session idles.
    wait_until("two blocked sessions and one idle in transaction", || {
        server.psql(
            "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') = 2
                AND count(*) FILTER (WHERE state = 'idle in transaction') >= 1
             FROM pg_stat_activity",
        ) == "t"
    });
    // Sequential scans through a 1 MB cache, and a sort that spills to disk.
    for i in 0..6 {
        server.psql(&format!(
            "SELECT count(*) FROM big WHERE val = {}",
            4200 + i
        ));
    }
    server.psql("SELECT count(*) FROM (SELECT DISTINCT pad FROM big) s");
    for _ in 0..4 {
        collector.tick();
        std::thread::sleep(Duration::from_millis(400));
    }
    let out = collector.finish();
    drop(sessions);

    let snap = snapshot(out, started);
    let assessment = perfdiag_analyzers::assess(
        &snap,
        &baseline("[[rule]]\nid = \"pg.sessions.idle_in_transaction\"\nwarning = 500\n"),
    )
    .expect("assess");
    let plan = plan_with(
        &assessment,
        &snap,
        &[
            "pg.config.shared_buffers",
            "pg.config.apply_expected",
            "pg.config.work_mem",
            "pg.config.max_wal_size",
            "pg.logging.log_slow_queries",
            "pg.extension.enable_pg_stat_statements",
            "pg.security.hba_scram",
            "pg.security.revoke_public_create",
            "pg.indexes.drop_duplicate",
            "pg.tables.add_index",
            "pg.vacuum.tune_autovacuum",
            "pg.sessions.idle_in_transaction_timeout",
            "pg.locks.find_blockers",
        ],
    );
    let sb = plan
        .steps
        .iter()
        .find(|s| s.id == "pg.config.shared_buffers")
        .expect("step");
    // The expected value of the finding: a quarter of the 2 GiB host.
    assert!(sb.needs_restart && sb.script.body.contains("shared_buffers = '512MB'"));
    // The tuning step sets what the formulas give for 2 GiB and 2 CPUs (jit off for
    // a mixed workload, effective_cache_size three quarters of the RAM).
    let tuning = plan
        .steps
        .iter()
        .find(|s| s.id == "pg.config.apply_expected")
        .expect("step");
    assert!(
        tuning
            .script
            .body
            .contains("effective_cache_size = '1536MB'"),
        "{}",
        tuning.script.body
    );

    let mut pg = Pg {
        server,
        restarted: false,
    };
    let (ran, templates) = exercise(&mut pg, &plan, &["pg.", "sql."], &pg_extra);
    assert!(
        templates.contains(&"pg.tables.add_index".to_owned()),
        "{templates:?}"
    );
    for id in [
        "pg.config.shared_buffers",
        "pg.config.apply_expected",
        "pg.config.work_mem",
        "pg.config.max_wal_size",
        "pg.logging.log_slow_queries",
        "pg.extension.enable_pg_stat_statements",
        "pg.security.hba_scram",
        "pg.indexes.drop_duplicate",
    ] {
        assert!(ran.contains(&id.to_owned()), "{id} not exercised: {ran:?}");
    }
    // Everything rolled back: the planted values are in force again.
    assert_eq!(pg.setting("shared_buffers"), "1MB");
    assert_eq!(pg.setting("log_min_duration_statement"), "-1");
    assert_eq!(pg.setting("shared_preload_libraries"), "");
}

/// Runs a SQL file with psql, as an engineer would, with `-v TARGET=...` when given.
fn psql_file(pg: &Pg, file: &Path, target: Option<&str>) -> Result<String, String> {
    let mut cmd = pg.psql();
    if let Some(t) = target {
        cmd.arg("-v").arg(format!("TARGET={t}"));
    }
    output(cmd.arg("-f").arg(file))
}

#[test]
fn a_postgres_script_for_several_servers_changes_only_the_server_it_names() {
    let server = PgServer::builder()
        .preload_pg_stat_statements(false)
        .start();
    let target = DbTarget::parse(Engine::Postgres, &server.url()).expect("url");
    let started = Utc::now();
    let mut collector = db::connect(&target, &DbOptions::default()).expect("connect");
    collector.tick();
    let mut snap = snapshot(collector.finish(), started);
    let assessment = perfdiag_analyzers::assess(&snap, &perfdiag_analyzers::Baseline::builtin())
        .expect("assess");
    // The same finding on a second server, db2, with its own facts: one step, two
    // sections.
    let here = target.label().to_owned();
    let there = "postgres://postgres@db2:5432/postgres";
    let mut findings: Vec<perfdiag_model::Finding> = assessment
        .findings
        .iter()
        .filter(|f| f.rule_id == "pg.logging.slow_query_off")
        .cloned()
        .collect();
    assert_eq!(findings.len(), 1, "{:#?}", assessment.findings);
    let mut other = findings[0].clone();
    other.subject = Some(there.to_owned());
    findings.push(other);
    let mut facts: Vec<perfdiag_model::facts::PostgresFacts> = snap
        .fact(facts_names::POSTGRES)
        .expect("facts")
        .expect("facts");
    // db2 had its own value: its rollback sets it back, where this server's resets.
    let mut db2 = facts[0].clone();
    db2.target = there.to_owned();
    for s in db2
        .settings
        .iter_mut()
        .filter(|s| s.name == "log_min_duration_statement")
    {
        s.setting = "250".to_owned();
        s.normalised = Some(250.0);
        s.normalised_unit = Some("ms".to_owned());
        s.source = "configuration file".to_owned();
    }
    facts.push(db2);
    snap.set_fact(facts_names::POSTGRES, &facts);
    let plan = perfdiag_advice::plan(
        &perfdiag_model::Assessment {
            findings,
            ..assessment
        },
        &snap,
    );
    let step = plan
        .steps
        .iter()
        .find(|s| s.id == "pg.logging.log_slow_queries")
        .expect("step");
    assert!(!step.template, "{}", step.script.body);
    let dir = tempfile::tempdir().expect("dir");
    let (apply, rollback) = (
        dir.path().join("apply.sql"),
        dir.path().join("rollback.sql"),
    );
    std::fs::write(&apply, &step.script.body).expect("write");
    std::fs::write(&rollback, &step.rollback.body).expect("write");
    let mut pg = Pg {
        server,
        restarted: false,
    };
    let wait_for = |pg: &mut Pg, value: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let now = pg.setting("log_min_duration_statement");
            if now == value {
                return;
            }
            assert!(Instant::now() < deadline, "{now}, not {value}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    assert!(
        step.rollback.body.contains("'250ms'"),
        "{}",
        step.rollback.body
    );
    let written = |pg: &mut Pg| {
        pg.query(
            "SELECT count(*) FROM pg_file_settings WHERE name = 'log_min_duration_statement' \
             AND sourcefile LIKE '%postgresql.auto.conf'",
        )
    };
    // Without TARGET the file stops at once and changes nothing.
    let err = psql_file(&pg, &apply, None).expect_err("runs without TARGET");
    assert!(err.contains("covers several servers"), "{err}");
    assert_eq!(written(&mut pg), "0", "a section ran without TARGET");
    // A server the file has no section for: nothing runs.
    psql_file(&pg, &apply, Some("postgres://postgres@db3:5432/postgres")).expect("apply");
    assert_eq!(written(&mut pg), "0", "a section ran for db3");
    // This server: its section runs, and only its rollback (a RESET; db2's would set
    // 250ms) runs after.
    psql_file(&pg, &apply, Some(&here)).expect("apply here");
    wait_for(&mut pg, "1s");
    psql_file(&pg, &rollback, Some(&here)).expect("rollback here");
    assert_eq!(written(&mut pg), "0", "db2's rollback ran here");
    wait_for(&mut pg, "-1");
}

// ---------------------------------------------------------------------------------
// MariaDB

/// Numbers compare as numbers (`1` and `1.000000`), the rest without case or quotes.
fn mysql_same(shown: &str, written: &str) -> bool {
    let (a, b) = (
        shown.trim().trim_matches('\''),
        written.trim().trim_matches('\''),
    );
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// A throwaway MariaDB whose option file includes `conf.d/` (the `CNF_DIR` the
/// scripts write to), restartable: shut down with mariadb-admin, started again here.
struct Maria {
    server: MariaDbServer,
    conf_d: PathBuf,
    /// The server started by a restart (the testkit's own child has exited then).
    child: Option<Child>,
}

impl Maria {
    /// `server`, made to read the option files of a `conf.d/` folder at its next
    /// start, as Debian's my.cnf does (the `CNF_DIR` the scripts write to).
    fn new(server: MariaDbServer) -> Self {
        let dir = server.socket().parent().expect("dir").to_owned();
        let conf_d = dir.join("conf.d");
        std::fs::create_dir(&conf_d).expect("conf.d");
        let mut cnf = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("my.cnf"))
            .expect("my.cnf");
        writeln!(cnf, "!includedir {}", conf_d.display()).expect("includedir");
        Self {
            server,
            conf_d,
            child: None,
        }
    }

    fn dir(&self) -> PathBuf {
        self.server
            .socket()
            .parent()
            .expect("socket dir")
            .to_owned()
    }

    /// The client command line for `MYSQL=`, as an engineer would set it.
    fn client_line(&self) -> String {
        format!(
            "mariadb --no-defaults --socket={} --user=root",
            self.server.socket().display()
        )
    }
}

impl Drop for Maria {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Db for Maria {
    fn run(&mut self, language: &str, script: &Path, dir: &Path) -> Result<String, String> {
        match language {
            "sql" => output(
                self.server
                    .client()
                    .current_dir(dir)
                    .stdin(std::fs::File::open(script).map_err(|e| e.to_string())?),
            ),
            "sh" => output(
                Command::new("sh")
                    .arg(script)
                    .current_dir(dir)
                    .env("MYSQL", self.client_line())
                    .env("CNF_DIR", &self.conf_d),
            ),
            other => Err(format!("cannot run a {other} script")),
        }
    }

    fn restart(&mut self) {
        output(
            Command::new("mariadb-admin")
                .arg("--no-defaults")
                .arg(format!("--socket={}", self.server.socket().display()))
                .args(["--user=root", "shutdown"]),
        )
        .expect("shutdown");
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.server.port())).is_ok() {
            assert!(Instant::now() < deadline, "MariaDB did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        let child = Command::new("/usr/sbin/mariadbd")
            .arg(format!(
                "--defaults-file={}",
                self.dir().join("my.cnf").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        self.child = Some(child);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                let log = std::fs::read_to_string(self.dir().join("error.log")).unwrap_or_default();
                panic!("mariadbd exited with {status} after a restart:\n{log}");
            }
            if self.server.socket().exists()
                && TcpStream::connect(("127.0.0.1", self.server.port())).is_ok()
                && self.server.sql("SELECT 1").is_ok()
            {
                return;
            }
            assert!(Instant::now() < deadline, "MariaDB did not start again");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn query(&mut self, sql: &str) -> String {
        self.server
            .sql(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    fn setting(&mut self, name: &str) -> String {
        self.query(&format!(
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES \
             WHERE VARIABLE_NAME = '{}'",
            name.to_ascii_uppercase()
        ))
    }

    fn same_value(&self) -> fn(&str, &str) -> bool {
        mysql_same
    }

    fn settings_set(&self, body: &str) -> Vec<(String, String)> {
        settings_set(body, &["SET GLOBAL ", "SET PERSIST "])
    }
}

/// The collector's limits for MariaDB.
fn maria_options() -> DbOptions {
    DbOptions {
        statement_timeout: Duration::from_secs(5),
        lock_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        top_n: 20,
    }
}

/// The checks of MariaDB steps beyond the variables their scripts set.
fn maria_extra(step: &PlanStep) -> Vec<Check> {
    match step.id.as_str() {
        "mysql.config.enable_performance_schema" => vec![check(
            "performance_schema on after the restart",
            "SELECT @@GLOBAL.performance_schema",
            |v| v == "1",
        )],
        "mysql.schema.add_primary_keys" => vec![check(
            "app.nopk has a primary key",
            "SELECT COUNT(*) FROM information_schema.TABLE_CONSTRAINTS WHERE \
             CONSTRAINT_TYPE = 'PRIMARY KEY' AND TABLE_SCHEMA = 'app' AND TABLE_NAME = 'nopk'",
            |v| v == "1",
        )],
        "mysql.schema.convert_myisam" => vec![check(
            "app.legacy is InnoDB",
            "SELECT ENGINE FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'legacy'",
            |v| v == "InnoDB",
        )],
        "mysql.schema.drop_redundant_indexes" => vec![check(
            "the redundant index is ignored by the optimizer",
            "SELECT IGNORED FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'app' \
             AND TABLE_NAME = 'orders' AND INDEX_NAME = 'by_customer'",
            |v| v == "YES",
        )],
        "mysql.security.drop_anonymous_remote_root" => vec![check(
            "no anonymous account",
            "SELECT COUNT(*) FROM mysql.global_priv WHERE User = ''",
            |v| v == "0",
        )],
        _ => Vec::new(),
    }
}

/// A runtime and a connection for sessions that hold locks or transactions open.
struct Client {
    rt: tokio::runtime::Runtime,
    conn: sqlx::mysql::MySqlConnection,
}

impl Client {
    fn new(url: &str) -> Self {
        use sqlx::Connection;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conn = rt
            .block_on(sqlx::mysql::MySqlConnection::connect(url))
            .expect("client connects");
        Self { rt, conn }
    }

    fn run(&mut self, sql: &str) {
        let conn = &mut self.conn;
        self.rt
            .block_on(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(conn))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn background(server: &MariaDbServer, sql: &str) -> Child {
    server
        .client()
        .arg("-e")
        .arg(sql)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mariadb client")
}

#[test]
fn mariadb_steps_apply_take_effect_survive_a_restart_and_roll_back() {
    let server = MariaDbServer::builder()
        .option("innodb_buffer_pool_size=8M")
        .option("max_connections=20")
        .option("thread_cache_size=0")
        .option("tmp_table_size=1024")
        .option("max_heap_table_size=16384")
        // 20 connections x 128 MiB of sort buffer: more than the 2 GiB host has.
        .option("sort_buffer_size=128M")
        .start()
        .expect("mariadb starts");
    server
        .sql(
            "CREATE DATABASE app;
             USE app;
             CREATE TABLE app.big (id INT PRIMARY KEY, b INT NOT NULL, c INT NOT NULL);
             INSERT INTO app.big SELECT seq, seq MOD 1000, seq FROM seq_1_to_1000000;
             ANALYZE TABLE app.big;
             CREATE TABLE app.nopk (a INT, b INT);
             INSERT INTO app.nopk VALUES (1, 2), (3, 4);
             CREATE TABLE app.legacy (id INT PRIMARY KEY) ENGINE=MyISAM;
             CREATE TABLE app.orders (id INT PRIMARY KEY, customer INT, created DATE,
                 KEY by_customer (customer), KEY by_customer_created (customer, created));
             CREATE USER ''@'localhost';
             CREATE USER 'nopw'@'%';",
        )
        .expect("setup");
    let url = server.url();
    let target = DbTarget::parse(Engine::Mysql, &url).expect("url");
    let mut collector = db::connect(&target, &maria_options()).expect("connects");
    // A blocker idle in its transaction, two sessions waiting for it, connections up
    // to the limit, new connections all the time (no thread cache), scans through an
    // 8 MB buffer pool, and GROUP BYs whose temporary tables go to disk.
    let mut blocker = Client::new(&url);
    blocker.run("BEGIN");
    blocker.run("UPDATE app.big SET c = c + 1 WHERE id = 1");
    let mut busy = vec![
        background(&server, "UPDATE app.big SET c = c + 2 WHERE id = 1"),
        background(&server, "UPDATE app.big SET c = c + 3 WHERE id = 1"),
    ];
    wait_until("two sessions waiting for the row lock", || {
        server
            .sql("SELECT COUNT(DISTINCT requesting_trx_id) FROM information_schema.INNODB_LOCK_WAITS")
            .is_ok_and(|n| n.trim() == "2")
    });
    busy.extend((0..12).map(|_| background(&server, "SELECT SLEEP(20)")));
    busy.push(background(
        &server,
        &"SELECT COUNT(*) FROM app.big WHERE c = 7; SELECT b, COUNT(*) FROM app.big GROUP BY b ORDER BY 2 DESC LIMIT 1;"
            .repeat(6),
    ));
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..3 {
            let _ = server.sql("SELECT 1");
        }
        collector.tick();
    }
    let out = collector.finish();
    for mut child in busy {
        let _ = child.kill();
        let _ = child.wait();
    }
    blocker.run("ROLLBACK");
    drop(blocker);

    let snap = snapshot(out, Utc::now() - chrono::Duration::seconds(3));
    let assessment = perfdiag_analyzers::assess(
        &snap,
        &baseline("[[rule]]\nid = \"mysql.sessions.idle_in_trx\"\nwarning = 500\n"),
    )
    .expect("assess");
    let plan = plan_with(
        &assessment,
        &snap,
        &[
            "mysql.config.buffer_pool_size",
            "mysql.config.apply_expected",
            "mysql.memory.fit_peak_to_ram",
            "mysql.logging.enable_slow_log",
            "mysql.config.enable_performance_schema",
            "mysql.config.max_connections",
            "mysql.schema.add_primary_keys",
            "mysql.schema.convert_myisam",
            "mysql.schema.drop_redundant_indexes",
            "mysql.security.drop_anonymous_remote_root",
            "mysql.security.set_passwords",
        ],
    );
    for s in plan.steps.iter().filter(|s| s.id.starts_with("mysql.")) {
        let persist = s.script.body.lines().any(|l| {
            let l = l.trim_start();
            !l.starts_with('#') && !l.starts_with("--") && l.contains("SET PERSIST")
        });
        assert!(
            !persist,
            "{}: MariaDB has no SET PERSIST:\n{}",
            s.id, s.script.body
        );
    }
    // The tuning steps keep their changes like every settings step: SET GLOBAL and an
    // option file of their own (the exercise below restarts the server to prove it).
    for id in [
        "mysql.config.apply_expected",
        "mysql.memory.fit_peak_to_ram",
    ] {
        let step = plan.steps.iter().find(|s| s.id == id).expect(id);
        assert_eq!(step.script.language, "sh", "{id}");
        assert!(
            step.script.body.contains("cat > \"$CNF\"")
                && step.rollback.body.contains("rm -f \"$CNF\""),
            "{id}:\n{}",
            step.script.body
        );
    }
    // The key step comes after the engine conversion it needs.
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    let pos = |id: &str| ids.iter().position(|s| *s == id).expect(id);
    assert!(pos("mysql.schema.convert_myisam") < pos("mysql.schema.add_primary_keys"));

    let mut maria = Maria::new(server);
    let (ran, templates) = exercise(&mut maria, &plan, &["mysql.", "sql."], &maria_extra);
    assert!(
        templates.contains(&"mysql.security.set_passwords".to_owned()),
        "{templates:?}"
    );
    for id in [
        "mysql.config.buffer_pool_size",
        "mysql.config.apply_expected",
        "mysql.memory.fit_peak_to_ram",
        "mysql.logging.enable_slow_log",
        "mysql.config.enable_performance_schema",
        "mysql.config.max_connections",
        "mysql.schema.add_primary_keys",
        "mysql.security.drop_anonymous_remote_root",
    ] {
        assert!(ran.contains(&id.to_owned()), "{id} not exercised: {ran:?}");
    }
    assert_eq!(
        std::fs::read_dir(&maria.conf_d).expect("conf.d").count(),
        0,
        "every option file was removed by its rollback"
    );
    assert_eq!(maria.setting("innodb_buffer_pool_size"), "8388608");
    assert_eq!(maria.setting("slow_query_log"), "OFF");
    assert_eq!(maria.setting("sort_buffer_size"), "134217728");
}

// ---------------------------------------------------------------------------------
// The plan makes a server healthy

/// One round of the load both measurements run: sequential scans of a million-row
/// table on a column without an index, and a DISTINCT over 40 000 rows whose sort or
/// hash spills past a 64kB work_mem.
fn pg_load_round(pg: &mut Pg, round: u32) {
    for k in 0..2 {
        pg.query(&format!(
            "SELECT count(*), max(pad) FROM big WHERE val = {}",
            round * 10 + k
        ));
    }
    pg.query("SELECT count(*) FROM (SELECT DISTINCT pad FROM big WHERE id <= 40000) s");
}

const LOAD_ROUNDS: u32 = 4;

/// Runs `load` (its rounds) once to warm the caches, then again while a collector
/// samples `url`; assesses the snapshot as `perfdiag plan --workload mixed` would on a
/// dedicated host.
fn measure(
    engine: Engine,
    url: &str,
    options: &DbOptions,
    load: &mut dyn FnMut(u32),
) -> (Snapshot, perfdiag_model::Assessment) {
    for round in 0..LOAD_ROUNDS {
        load(round);
    }
    let target = DbTarget::parse(engine, url).expect("url");
    let started = Utc::now();
    let mut collector = db::connect(&target, options).expect("connect");
    for round in 0..LOAD_ROUNDS {
        load(round);
        collector.tick();
    }
    let snap = snapshot(collector.finish(), started);
    let assessment = perfdiag_analyzers::assess_with(
        &snap,
        &perfdiag_analyzers::Baseline::builtin(),
        &perfdiag_analyzers::Options {
            workload: Some(perfdiag_model::Workload::Mixed),
            dedicated: true,
        },
    )
    .expect("assess");
    (snap, assessment)
}

fn score(a: &perfdiag_model::Assessment, d: perfdiag_model::Dimension) -> Option<u8> {
    a.scores
        .iter()
        .find(|s| s.dimension == d)
        .and_then(|s| s.score)
}

fn summary(a: &perfdiag_model::Assessment) -> String {
    let scores: Vec<String> = a
        .scores
        .iter()
        .filter_map(|s| Some(format!("{:?} {}", s.dimension, s.score?)))
        .collect();
    let findings: Vec<String> = a
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {:?} {}",
                f.rule_id,
                f.severity,
                f.subject.as_deref().unwrap_or("")
            )
        })
        .collect();
    format!(
        "overall {:?}; {}\n  findings: {}",
        a.overall,
        scores.join(", "),
        if findings.is_empty() {
            "none".to_owned()
        } else {
            findings.join("\n  ")
        }
    )
}

/// Applies every step of `plan` whose id starts with `prefix`, in plan order, as the
/// plan says (restarts included). `prepare` does the engineer's part first (fills in a
/// template, sets what a step asks for) and says whether to apply the step; a
/// template it leaves as is must not be applied. Returns the ids applied.
fn apply_plan(
    db: &mut dyn Db,
    plan: &Plan,
    prefix: &str,
    prepare: &mut dyn FnMut(&mut dyn Db, &mut PlanStep) -> bool,
) -> Vec<String> {
    let root = tempfile::tempdir().expect("scripts dir");
    let mut applied = Vec::new();
    for step in plan.steps.iter().filter(|s| s.id.starts_with(prefix)) {
        let mut step = step.clone();
        if !prepare(db, &mut step) {
            continue;
        }
        // A template filled in has no `<placeholder>` left outside comments.
        let left = step.template
            && step.script.body.lines().any(|l| {
                let code = l.split("--").next().unwrap_or_default();
                !code.trim_start().starts_with('#')
                    && code.match_indices('<').any(|(i, _)| {
                        code[i + 1..].starts_with(|c: char| c.is_ascii_alphabetic())
                            && code[i + 1..].contains('>')
                    })
            });
        assert!(
            !left,
            "{}: a template left unfilled:\n{}",
            step.id, step.script.body
        );
        run_step(db, root.path(), &step, false);
        applied.push(step.id.clone());
    }
    eprintln!("applied: {applied:?}");
    applied
}

/// The bar of issue 5 for the database configuration after the plan: no critical
/// finding there, a score of at least 80 (no more than two warnings), and a better
/// overall score than before.
fn assert_healthier(before: &perfdiag_model::Assessment, after: &perfdiag_model::Assessment) {
    eprintln!("before: {}\nafter: {}", summary(before), summary(after));
    for f in &after.findings {
        let evidence: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{} = {}", e.metric, e.observed))
            .collect();
        eprintln!("  {} still: {}", f.rule_id, evidence.join("; "));
    }
    let db_config = perfdiag_model::Dimension::DbConfig;
    assert!(
        score(before, db_config).is_some_and(|s| s < 80),
        "the planted faults already meet the bar: {}",
        summary(before)
    );
    let severe: Vec<&perfdiag_model::Finding> = after
        .findings
        .iter()
        .filter(|f| f.dimension == db_config && f.severity == perfdiag_model::Severity::Critical)
        .collect();
    assert!(severe.is_empty(), "{severe:#?}");
    let (was, is) = (score(before, db_config), score(after, db_config));
    assert!(
        is.is_some_and(|s| s >= 80),
        "database configuration scores {is:?} (before: {was:?})\n{}",
        summary(after)
    );
    assert!(
        after.overall > before.overall,
        "overall {:?} before, {:?} after",
        before.overall,
        after.overall
    );
}

/// Issue 5: "a healthy, well-configured instance under the same load scores high and
/// gets no severe findings". A PostgreSQL with bad settings (a 1MB cache, 64kB
/// work_mem, 32MB max_wal_size, planner and maintenance sizes for a much smaller host,
/// no slow-query log), a table scanned on a column without an index, and the default
/// trust authentication, on a 2 GiB, 2-CPU host (the snapshot's host facts: the
/// formulas then ask for a 512MB cache, which a throwaway server can have; the test
/// host's own RAM would ask for gigabytes). Collected under a small load, assessed and
/// planned; then every step of the plan that runs against the database is applied in
/// plan order, as the plan says (restarts included), with nothing to fill in: the
/// index is the one the measured statements ask for. The same load is measured again, and must meet [`assert_healthier`]'s bar.
/// The host is judged as dedicated (the default): on 2 GiB every formula asks for
/// what a throwaway server can have, so `--shared-host` semantics are not needed.
#[test]
fn the_plan_makes_a_badly_configured_postgres_healthy() {
    let server = PgServer::builder()
        .conf("max_connections = 20")
        .conf("shared_buffers = '1MB'")
        .conf("work_mem = '64kB'")
        .conf("maintenance_work_mem = '1MB'")
        .conf("effective_cache_size = '64MB'")
        .conf("min_wal_size = '32MB'")
        .conf("max_wal_size = '32MB'")
        .start();
    server.psql(
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE big (id int PRIMARY KEY, val int NOT NULL, pad text NOT NULL);
         INSERT INTO big SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 1000000) g;",
    );
    server.psql("VACUUM ANALYZE big");
    // The data load's forced checkpoints are not the workload's: start counting now.
    server.psql("SELECT pg_stat_reset_shared('bgwriter')");
    let url = server.url();
    let mut pg = Pg {
        server,
        restarted: false,
    };
    let (snap, before) = measure(
        Engine::Postgres,
        &url,
        &DbOptions::default(),
        &mut |round| pg_load_round(&mut pg, round),
    );
    // The planted faults were found, and the configuration was judged bad.
    let plan = plan_with(
        &before,
        &snap,
        &[
            "pg.config.shared_buffers",
            "pg.config.apply_expected",
            "pg.config.work_mem",
            "pg.logging.log_slow_queries",
            "pg.tables.add_index",
            "pg.security.hba_scram",
        ],
    );
    let db_config = perfdiag_model::Dimension::DbConfig;
    assert!(
        before
            .findings
            .iter()
            .any(|f| f.dimension == db_config && f.severity == perfdiag_model::Severity::Critical),
        "the planted settings are not critical: {}",
        summary(&before)
    );

    let password = "perfdiag-healthy";
    apply_plan(&mut pg, &plan, "pg.", &mut |db, step| {
        // Nothing for the engineer to fill in: the index comes from the statements.
        assert!(
            !step.template,
            "{} is a template:\n{}",
            step.id, step.script.body
        );
        if step.id == "pg.tables.add_index" {
            assert!(
                step.script.body.contains("ON public.big (val)"),
                "{}",
                step.script.body
            );
        }
        if step.id == "pg.security.hba_scram" {
            // What the step asks first: a SCRAM password for every role that logs in
            // over the network.
            db.query(&format!("ALTER ROLE postgres PASSWORD '{password}'"));
        }
        true
    });
    assert_eq!(pg.setting("shared_buffers"), "512MB");
    let with_password = url.replacen("postgres@", &format!("postgres:{password}@"), 1);
    let (_, after) = measure(
        Engine::Postgres,
        &with_password,
        &DbOptions::default(),
        &mut |round| pg_load_round(&mut pg, round),
    );
    assert_healthier(&before, &after);
    // work_mem is now the ceiling the spills finding gave (not four times 64kB): the
    // DISTINCTs of the load fit in it.
    assert!(
        after.findings.iter().all(|f| f.rule_id != "pg.temp.spills"),
        "{}",
        summary(&after)
    );
}

/// One round of the MariaDB load: full scans of a million-row table on a column
/// without an index, a GROUP BY whose temporary table outgrows a 1kB tmp_table_size,
/// and short connections, as an application without a pool makes them.
fn maria_load_round(m: &Maria, round: u32) {
    for k in 0..2 {
        m.server
            .sql(&format!(
                "SELECT COUNT(*) FROM app.big WHERE b = {}",
                round * 10 + k
            ))
            .expect("scan");
    }
    m.server
        .sql(
            "SELECT c % 5000 AS g, COUNT(*) FROM app.big WHERE id <= 20000 \
             GROUP BY g ORDER BY 2 DESC LIMIT 1",
        )
        .expect("group by");
    for _ in 0..5 {
        m.server.sql("SELECT 1").expect("connect");
    }
}

/// Issue 5 on MariaDB: an 8MB buffer pool for 1M rows, a 16MB redo log, no thread
/// cache, 1kB temporary tables, 128MB sort buffers for 20 connections on the 2 GiB
/// host, no slow-query log, and a column scanned without an index (performance_schema
/// on, so the statements are measured before as after). Every step of the plan that
/// runs against the server is applied, the index the one the measured statements ask
/// for; the password template for root is left to a person (the
/// security dimension, not judged here, keeps its finding).
#[test]
fn the_plan_makes_a_badly_configured_mariadb_healthy() {
    let server = MariaDbServer::builder()
        .option("performance_schema=ON")
        .option("innodb_buffer_pool_size=8M")
        .option("max_connections=20")
        .option("thread_cache_size=0")
        .option("tmp_table_size=1024")
        .option("max_heap_table_size=1024")
        .option("sort_buffer_size=128M")
        .start()
        .expect("mariadb starts");
    server
        .sql(
            "CREATE DATABASE app;
             USE app;
             CREATE TABLE app.big (id INT PRIMARY KEY, b INT NOT NULL, c INT NOT NULL);
             INSERT INTO app.big SELECT seq, seq MOD 1000, seq FROM seq_1_to_1000000;
             ANALYZE TABLE app.big;",
        )
        .expect("setup");
    let mut maria = Maria::new(server);
    let url = maria.server.url();
    let (snap, before) = measure(Engine::Mysql, &url, &maria_options(), &mut |round| {
        maria_load_round(&maria, round)
    });
    let plan = plan_with(
        &before,
        &snap,
        &[
            "mysql.config.buffer_pool_size",
            "mysql.config.apply_expected",
            "mysql.config.thread_cache_size",
            "mysql.config.tmp_table_size",
            "mysql.memory.fit_peak_to_ram",
            "mysql.logging.enable_slow_log",
            "mysql.sql.index_full_scans",
        ],
    );
    apply_plan(&mut maria, &plan, "mysql.", &mut |_, step| {
        if !step.template {
            return true;
        }
        // The index comes from the statements; only the passwords are a person's.
        assert_eq!(
            step.id, "mysql.security.set_passwords",
            "an unexpected template:\n{}",
            step.script.body
        );
        false
    });
    let index = plan
        .steps
        .iter()
        .find(|s| s.id == "mysql.sql.index_full_scans")
        .expect("the index step");
    assert!(
        index
            .script
            .body
            .contains("ALTER TABLE `app`.`big` ADD INDEX big_b_idx (`b`)"),
        "{}",
        index.script.body
    );
    assert_eq!(maria.setting("sort_buffer_size"), "2097152");
    let (_, after) = measure(Engine::Mysql, &url, &maria_options(), &mut |round| {
        maria_load_round(&maria, round)
    });
    assert_healthier(&before, &after);
}

// ---------------------------------------------------------------------------------
// Kernel parameters

/// The keys of `key = value` lines in sysctl.d files and of `sysctl -w key=value`.
fn sysctl_keys(body: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut in_sysctl_file = false;
    for line in body.lines() {
        let line = line.trim();
        if line.starts_with("cat > /etc/sysctl.d/") {
            in_sysctl_file = true;
            continue;
        }
        if line == "EOF" {
            in_sysctl_file = false;
            continue;
        }
        if in_sysctl_file
            && !line.starts_with('#')
            && let Some((key, _)) = line.split_once('=')
        {
            keys.push(key.trim().to_owned());
        }
        for part in line.split("sysctl -w ").skip(1) {
            if let Some((key, _)) = part.split_once('=') {
                keys.push(key.trim().to_owned());
            }
        }
    }
    keys
}

#[test]
fn every_kernel_parameter_a_step_writes_exists_on_this_machine() {
    // One finding for every rule advice knows: every step's scripts, host ones included.
    // Built from JSON so that fields the model gains later take their defaults.
    let findings: Vec<serde_json::Value> = perfdiag_advice::steps_catalog()
        .iter()
        .map(|def| {
            serde_json::json!({
                "rule_id": def.rule_id, "dimension": "os_config", "severity": "warning",
                "subject": null, "evidence": [], "penalty": 10
            })
        })
        .collect();
    let assessment: perfdiag_model::Assessment = serde_json::from_value(serde_json::json!({
        "generated_at": Utc::now(), "tool_version": "test", "baseline": "builtin",
        "findings": findings, "not_evaluated": [], "scores": [], "overall": null,
        "metrics": []
    }))
    .expect("an assessment");
    let snap = common::bare_snapshot(Utc::now());
    let plan = perfdiag_advice::plan(&assessment, &snap);
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for step in &plan.steps {
        for body in [&step.script.body, &step.rollback.body] {
            for key in sysctl_keys(body) {
                keys.entry(key).or_default().push(step.id.clone());
            }
        }
    }
    for key in [
        "vm.swappiness",
        "vm.dirty_background_bytes",
        "net.core.somaxconn",
    ] {
        assert!(keys.contains_key(key), "{key} not found in {keys:?}");
    }
    for (key, steps) in &keys {
        let path = Path::new("/proc/sys").join(key.replace('.', "/"));
        assert!(
            path.exists(),
            "{key} (steps {steps:?}) is not {}",
            path.display()
        );
    }
}
