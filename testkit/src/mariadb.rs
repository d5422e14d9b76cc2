//! A throwaway MariaDB server: its own data directory, socket and free TCP port, so a
//! test can plant faults (a tiny buffer pool, empty passwords, lock chains) and kill
//! the server without touching the machine's own MariaDB.
//!
//! `mariadb-install-db` takes a few seconds, so a pristine data directory is built once
//! per machine and MariaDB version (under the temp dir) and copied for each server; the
//! copy and the start take about a second. Dropping the handle stops the server and
//! removes its files.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MARIADBD: &str = "/usr/sbin/mariadbd";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Extra `my.cnf` lines for a server, e.g. `performance_schema=ON`.
#[derive(Debug, Default, Clone)]
pub struct Builder {
    lines: Vec<String>,
}

impl Builder {
    /// Adds a `[mariadbd]` option line such as `innodb_buffer_pool_size=8M`.
    #[must_use]
    pub fn option(mut self, line: &str) -> Self {
        self.lines.push(line.to_owned());
        self
    }

    pub fn start(self) -> Result<MariaDbServer, String> {
        MariaDbServer::start_with(&self.lines)
    }
}

/// A running throwaway MariaDB; root@127.0.0.1 has an empty password.
#[derive(Debug)]
pub struct MariaDbServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
}

impl MariaDbServer {
    /// A server with the defaults (performance_schema OFF, as MariaDB ships).
    pub fn start() -> Result<Self, String> {
        Self::start_with(&[])
    }

    pub fn builder() -> Builder {
        Builder::default()
    }

    fn start_with(lines: &[String]) -> Result<Self, String> {
        let template = template()?;
        let dir = tempfile::Builder::new()
            .prefix("perfdiag-mariadb-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let data = dir.path().join("data");
        run(Command::new("cp").arg("-a").arg(template).arg(&data))?;
        let port = free_port()?;
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).map_err(|e| format!("tmpdir: {e}"))?;
        let mut cnf = format!(
            "[mariadbd]\ndatadir={data}\nsocket={sock}\nport={port}\nbind-address=127.0.0.1\n\
             user=root\npid-file={dir}/mariadbd.pid\nlog-error={dir}/error.log\n\
             tmpdir={tmp}\n\
             skip-log-bin\nskip-name-resolve\ninnodb_buffer_pool_size=32M\n\
             innodb_log_file_size=16M\ninnodb_flush_log_at_trx_commit=0\n\
             innodb_doublewrite=0\nperformance_schema=OFF\n",
            data = data.display(),
            sock = dir.path().join("sock").display(),
            // Its own tmpdir: a MariaDB that starts deletes every `#sql*` file in
            // its tmpdir (/tmp by default), including another test server's
            // temporary tables in the middle of a query.
            tmp = tmp.display(),
            dir = dir.path().display(),
        );
        for line in lines {
            cnf.push_str(line);
            cnf.push('\n');
        }
        let cnf_path = dir.path().join("my.cnf");
        std::fs::write(&cnf_path, cnf).map_err(|e| format!("my.cnf: {e}"))?;
        let child = Command::new(MARIADBD)
            .arg(format!("--defaults-file={}", cnf_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {MARIADBD}: {e}"))?;
        let mut server = Self {
            dir,
            child: Some(child),
            port,
        };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let sock = self.socket();
        loop {
            if sock.exists() && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!(
                    "mariadbd exited with {status}: {}",
                    self.error_log_tail()
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "mariadbd not ready after {START_TIMEOUT:?}: {}",
                    self.error_log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn error_log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// `mysql://root@127.0.0.1:<port>/` (root has an empty password).
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/", self.port)
    }

    /// The URL of another account over TCP.
    pub fn url_for(&self, user: &str, password: &str) -> String {
        if password.is_empty() {
            format!("mysql://{user}@127.0.0.1:{}/", self.port)
        } else {
            format!("mysql://{user}:{password}@127.0.0.1:{}/", self.port)
        }
    }

    /// A `mariadb` client command for root over the socket, ready for more arguments.
    pub fn client(&self) -> Command {
        let mut cmd = Command::new("mariadb");
        cmd.arg("--no-defaults")
            .arg(format!("--socket={}", self.socket().display()))
            .arg("--user=root")
            .arg("--batch")
            .arg("--skip-column-names");
        cmd
    }

    /// Runs `sql` as root and returns its output (tab-separated, no headers).
    pub fn sql(&self, sql: &str) -> Result<String, String> {
        let out = run(self.client().arg("-e").arg(sql))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        // Killing is fine: the data directory is thrown away with the handle.
        self.kill();
    }
}

/// The pristine data directory, installed once per machine and MariaDB build.
fn template() -> Result<&'static Path, String> {
    static TEMPLATE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    TEMPLATE
        .get_or_init(install_template)
        .as_ref()
        .map(PathBuf::as_path)
        .map_err(Clone::clone)
}

fn install_template() -> Result<PathBuf, String> {
    let stamp = std::fs::metadata(MARIADBD)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let dir = std::env::temp_dir().join(format!("perfdiag-mariadb-template-{stamp}"));
    if dir.join("mysql").is_dir() {
        return Ok(dir);
    }
    // Installed beside the final name and renamed, so a concurrent test process never
    // copies a half-written template.
    let staging = std::env::temp_dir().join(format!(
        "perfdiag-mariadb-template-{stamp}.{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    run(Command::new("mariadb-install-db")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", staging.display()))
        .arg("--user=root")
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .arg("--skip-name-resolve"))?;
    if std::fs::rename(&staging, &dir).is_err() {
        // Another process won the race: use its template.
        let _ = std::fs::remove_dir_all(&staging);
    }
    if dir.join("mysql").is_dir() {
        Ok(dir)
    } else {
        Err(format!("no MariaDB template at {}", dir.display()))
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("free port: {e}"))
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}
