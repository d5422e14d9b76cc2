//! A throwaway PostgreSQL 15 instance: `initdb` into a temporary folder, a free TCP
//! port on 127.0.0.1, its Unix socket in that folder, `fsync=off`, and trust
//! authentication for the `postgres` superuser, so tests can plant faults freely.
//!
//! PostgreSQL refuses to run as root and tests run as root, so `initdb` and `postgres`
//! run as the `postgres` OS user (uid/gid switched for the child only). Dropping the
//! handle stops the server (fast shutdown, then kill) and removes its files; `kill()`
//! simulates a crash in the middle of a test.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// How to start a throwaway server.
#[derive(Debug, Clone)]
pub struct PgBuilder {
    conf: Vec<String>,
    hba: Vec<String>,
    preload_pg_stat_statements: bool,
}

impl Default for PgBuilder {
    fn default() -> Self {
        Self {
            conf: Vec::new(),
            hba: Vec::new(),
            preload_pg_stat_statements: true,
        }
    }
}

impl PgBuilder {
    /// Adds a line to postgresql.conf, e.g. `shared_buffers = '1MB'`.
    pub fn conf(mut self, line: &str) -> Self {
        self.conf.push(line.to_owned());
        self
    }

    /// Adds a line at the top of pg_hba.conf (it wins over the defaults below it).
    pub fn hba(mut self, line: &str) -> Self {
        self.hba.push(line.to_owned());
        self
    }

    /// Whether `shared_preload_libraries` names pg_stat_statements (default true).
    pub fn preload_pg_stat_statements(mut self, yes: bool) -> Self {
        self.preload_pg_stat_statements = yes;
        self
    }

    /// Creates and starts the server; panics with the server log when it cannot.
    pub fn start(self) -> PgServer {
        let (uid, gid) = postgres_ids();
        let dir = tempfile::Builder::new()
            .prefix("perfdiag-pg-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        chown(dir.path(), uid, gid);
        let out = Command::new(format!("{BIN}/initdb"))
            .args(["--no-sync", "-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .arg("-D")
            .arg(&data)
            .uid(uid)
            .gid(gid)
            .current_dir(dir.path())
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut conf = format!(
            "\n# perfdiag testkit\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = '{}'\nfsync = off\nsynchronous_commit = off\n\
             full_page_writes = off\nmax_connections = 300\nshared_buffers = '32MB'\n\
             logging_collector = off\n",
            dir.path().display()
        );
        if self.preload_pg_stat_statements {
            conf.push_str("shared_preload_libraries = 'pg_stat_statements'\n");
        }
        for line in &self.conf {
            conf.push_str(line);
            conf.push('\n');
        }
        append(&data.join("postgresql.conf"), &conf);
        if !self.hba.is_empty() {
            let path = data.join("pg_hba.conf");
            let old = std::fs::read_to_string(&path).expect("read pg_hba.conf");
            let new = format!("{}\n{old}", self.hba.join("\n"));
            std::fs::write(&path, new).expect("write pg_hba.conf");
        }
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        chown(&log, uid, gid);
        let child = Command::new(format!("{BIN}/postgres"))
            .arg("-D")
            .arg(&data)
            .uid(uid)
            .gid(gid)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file)
            .spawn()
            .expect("spawn postgres");
        let mut server = PgServer {
            dir: Some(dir),
            child: Some(child),
            port,
        };
        server.wait_ready(&log);
        server
    }
}

/// A running throwaway server.
#[derive(Debug)]
pub struct PgServer {
    dir: Option<tempfile::TempDir>,
    child: Option<Child>,
    port: u16,
}

impl PgServer {
    /// A server with the defaults (pg_stat_statements preloaded).
    pub fn start() -> PgServer {
        PgBuilder::default().start()
    }

    pub fn builder() -> PgBuilder {
        PgBuilder::default()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder holding the data directory, the socket and `server.log`.
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or(Path::new("/nonexistent"), |d| d.path())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir().join("data")
    }

    /// A URL for `user` on database `db` over TCP (no password: trust).
    pub fn url_for(&self, user: &str, db: &str) -> String {
        format!("postgres://{user}@127.0.0.1:{}/{db}", self.port)
    }

    /// The superuser on database `postgres`.
    pub fn admin_url(&self) -> String {
        self.url_for("postgres", "postgres")
    }

    /// Same as [`admin_url`](Self::admin_url): what a collector connects with by default.
    pub fn url(&self) -> String {
        self.admin_url()
    }

    /// Runs SQL as the superuser with `psql` (stops at the first error, panics on it).
    pub fn psql(&self, sql: &str) -> String {
        self.psql_db("postgres", sql)
    }

    /// Runs SQL in database `db` as the superuser.
    pub fn psql_db(&self, db: &str, sql: &str) -> String {
        let out = Command::new("/usr/bin/psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .arg(self.url_for("postgres", db))
            .arg("-c")
            .arg(sql)
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql failed on {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Starts `psql` in the background running `script`, e.g. to hold a lock or an
    /// open transaction while a collector runs. Its stdin stays open, so the session
    /// stays connected (idle, or idle in a transaction) after the script until the
    /// returned handle is dropped.
    pub fn psql_background(&self, script: &str) -> Background {
        let mut child = Command::new("/usr/bin/psql")
            .args(["-X", "-q"])
            .arg(self.admin_url())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn psql");
        let mut stdin = child.stdin.take().expect("psql stdin");
        stdin
            .write_all(format!("{script}\n").as_bytes())
            .expect("write to psql");
        stdin.flush().expect("flush psql stdin");
        Background {
            child,
            _stdin: stdin,
        }
    }

    /// Kills the server at once (SIGKILL to the postmaster), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            // Backends notice the postmaster is gone and exit; give them a moment so
            // the port is really closed when this returns.
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && self.accepts() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The server log, for assertion messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("server.log")).unwrap_or_default()
    }

    fn accepts(&self) -> bool {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
    }

    fn wait_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "postgres exited with {status}: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            let ready = Command::new(format!("{BIN}/pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start in 30 s: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT is PostgreSQL's fast shutdown: clients are disconnected at once.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                }
            }
        }
        drop(self.dir.take());
    }
}

/// A `psql` session running in the background; killed when dropped.
#[derive(Debug)]
pub struct Background {
    child: Child,
    _stdin: std::process::ChildStdin,
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now (bind port 0, then release it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("run id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("the postgres OS user exists")
    };
    (id("-u"), id("-g"))
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to postgres");
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open postgresql.conf");
    f.write_all(text.as_bytes())
        .expect("append postgresql.conf");
}
