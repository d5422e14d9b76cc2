//! SQL Server database steps: `ALTER DATABASE` for auto shrink and page verification,
//! tempdb data files, the transaction log's virtual log files, backups, and the
//! storage behind slow database files. Database lists come from the recorded facts
//! when the snapshot has them (complete), else from the finding's evidence.

use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::facts::mssql::MssqlDatabase;
use perfdiag_model::{Finding, Phase, Risk};

use super::mssql::{BEFORE, bracket, nstr, per_target};
use super::{Draft, StepDef, evidence_lines, manual, number, text, verify};

/// The names a rule listed (`a, b (x) and 3 more`): the listed ones, without notes.
pub(super) fn names(f: &Finding, metric: &str) -> Vec<String> {
    let Some(list) = text(f, metric) else {
        return Vec::new();
    };
    let list = match list.rfind(" and ") {
        Some(i) if list[i + 5..].ends_with(" more") => &list[..i],
        _ => list,
    };
    list.split(", ")
        .map(|s| s.split(" (").next().unwrap_or(s).trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The databases matching `keep` in the facts, or the evidence's names.
fn databases(
    m: Option<&MssqlFacts>,
    f: &Finding,
    metric: &str,
    keep: impl Fn(&MssqlDatabase) -> bool,
) -> Vec<String> {
    match m {
        Some(m) if !m.databases.is_empty() => m
            .databases
            .iter()
            .filter(|d| keep(d))
            .map(|d| d.name.clone())
            .collect(),
        _ => names(f, metric),
    }
}

fn draft(
    (script, rollback): (perfdiag_model::Script, perfdiag_model::Script),
    risk: Risk,
    metric: &str,
    target: &str,
) -> Draft {
    Draft {
        script,
        rollback,
        risk,
        needs_restart: false,
        verify: verify(metric, target),
    }
}

pub(super) const AUTO_SHRINK: StepDef = StepDef {
    id: "mssql.database.auto_shrink_off",
    rule_id: "mssql.database.auto_shrink",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let dbs = databases(m, f, "mssql.databases.auto_shrink.names", |d| {
                d.auto_shrink == Some(true)
            });
            option_off(&dbs, "AUTO_SHRINK", "is_auto_shrink_on")
        });
        draft(scripts, Risk::Low, "mssql.databases.auto_shrink", "= 0")
    },
};

pub(super) const AUTO_CLOSE: StepDef = StepDef {
    id: "mssql.database.auto_close_off",
    rule_id: "mssql.database.auto_close",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let dbs = databases(m, f, "mssql.databases.auto_close.names", |d| {
                d.auto_close == Some(true)
            });
            option_off(&dbs, "AUTO_CLOSE", "is_auto_close_on")
        });
        draft(scripts, Risk::Low, "mssql.databases.auto_close", "= 0")
    },
};

/// `ALTER DATABASE … SET <option> OFF` for each database where `sys.databases` still
/// shows `<column>` on, and the rollback that sets it on again; then the check.
fn option_off(dbs: &[String], option: &str, column: &str) -> (String, String) {
    let mut script = String::new();
    let mut rollback = String::new();
    for d in dbs {
        script.push_str(&format!(
            "IF EXISTS (SELECT 1 FROM sys.databases WHERE name = {} AND {column} = 1)\n\
             BEGIN\n\
             \x20   ALTER DATABASE {} SET {option} OFF;\n\
             END;\n",
            nstr(d),
            bracket(d)
        ));
        rollback.push_str(&format!("ALTER DATABASE {} SET {option} ON;\n", bracket(d)));
    }
    script.push_str(&check(dbs, column));
    (script, rollback)
}

pub(super) const CHECKDB: StepDef = StepDef {
    id: "mssql.maintenance.schedule_checkdb",
    rule_id: "mssql.maintenance.checkdb_old",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let dbs = names(f, "mssql.checkdb.databases.names");
            let mut script = String::from(
                "-- Off-peak (it reads every page, and uses tempdb): check the databases named\n\
                 -- above now, then schedule it weekly (SQL Server Agent, or Ola Hallengren's\n\
                 -- DatabaseIntegrityCheck). Any error: restore from a backup taken before it,\n\
                 -- not REPAIR_ALLOW_DATA_LOSS.\n",
            );
            for d in &dbs {
                script.push_str(&format!(
                    "DBCC CHECKDB ({}) WITH NO_INFOMSGS, ALL_ERRORMSGS;\n",
                    nstr(d)
                ));
            }
            script.push_str(
                "SELECT name, DATABASEPROPERTYEX(name, 'LastGoodCheckDbTime') AS last_good_checkdb FROM sys.databases;\n",
            );
            (
                script,
                "-- Nothing to undo: DBCC CHECKDB only reads.\n".to_owned(),
            )
        });
        draft(scripts, Risk::Low, "mssql.checkdb.age_hours", "< 168")
    },
};

/// Shows `column` of `sys.databases` for the databases changed.
fn check(dbs: &[String], column: &str) -> String {
    if dbs.is_empty() {
        return "-- No database named in the finding.\n".to_owned();
    }
    let list: Vec<String> = dbs.iter().map(|d| nstr(d)).collect();
    format!(
        "SELECT name, {column} FROM sys.databases WHERE name IN ({});\n",
        list.join(", ")
    )
}

pub(super) const PAGE_VERIFY: StepDef = StepDef {
    id: "mssql.database.page_verify_checksum",
    rule_id: "mssql.database.page_verify",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let recorded = |name: &str| {
                m.and_then(|m| m.database(name))
                    .and_then(|d| d.page_verify.clone())
            };
            let dbs = databases(m, f, "mssql.databases.page_verify.names", |d| {
                d.page_verify
                    .as_deref()
                    .is_some_and(|v| !v.eq_ignore_ascii_case("CHECKSUM"))
            });
            let mut script = String::from(
                "-- Pages get a checksum when they are next written; run DBCC CHECKDB afterwards\n\
                 -- (off-peak) to read every page once.\n",
            );
            let mut rollback = String::new();
            for d in &dbs {
                script.push_str(&format!(
                    "IF EXISTS (SELECT 1 FROM sys.databases WHERE name = {} AND page_verify_option_desc <> N'CHECKSUM')\n\
                     BEGIN\n\
                     \x20   ALTER DATABASE {} SET PAGE_VERIFY CHECKSUM;\n\
                     END;\n",
                    nstr(d),
                    bracket(d)
                ));
                let before = recorded(d).unwrap_or_else(|| BEFORE.to_owned());
                rollback.push_str(&format!(
                    "ALTER DATABASE {} SET PAGE_VERIFY {before};\n",
                    bracket(d)
                ));
            }
            script.push_str(&check(&dbs, "page_verify_option_desc"));
            (script, rollback)
        });
        draft(scripts, Risk::Low, "mssql.databases.page_verify", "= 0")
    },
};

const MIB: i64 = 1 << 20;

pub(super) const TEMPDB_FILES: StepDef = StepDef {
    id: "mssql.tempdb.add_data_files",
    rule_id: "mssql.tempdb.file_count",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let files = m.map(|m| m.tempdb_files.as_slice()).unwrap_or_default();
            let data: Vec<_> = files
                .iter()
                .filter(|x| x.type_desc.eq_ignore_ascii_case("ROWS"))
                .collect();
            let wanted = number(f, "mssql.expected.tempdb.data_files").unwrap_or(8.0) as usize;
            let largest = data.iter().filter_map(|x| x.size_bytes).max();
            let size_mb = largest.map_or_else(
                || "<MB, as the largest file>".to_owned(),
                |b| (b / MIB).max(8).to_string(),
            );
            let growth_mb = data
                .iter()
                .find_map(|x| x.growth_bytes)
                .map_or_else(|| "512".to_owned(), |b| (b / MIB).max(64).to_string());
            // The folder of the first data file, Windows or Linux separators.
            let folder = data
                .iter()
                .find_map(|x| x.physical_name.as_deref())
                .and_then(|p| p.rfind(['\\', '/']).map(|i| &p[..=i]))
                .map_or_else(|| "<tempdb folder>\\".to_owned(), str::to_owned);
            let mut script = String::from(
                "-- The new files take effect at once; all data files should stay the same size\n\
                 -- (proportional fill). Check the volume has room for them first.\n",
            );
            let mut rollback = String::new();
            let existing: Vec<&str> = data.iter().map(|x| x.name.as_str()).collect();
            let mut n = 1;
            let mut added = 0;
            while data.len() + added < wanted && n < 64 {
                let name = format!("tempdev_perfdiag{n}");
                n += 1;
                if existing.contains(&name.as_str()) {
                    continue;
                }
                added += 1;
                script.push_str(&format!(
                    "IF NOT EXISTS (SELECT 1 FROM tempdb.sys.database_files WHERE name = {})\n\
                     BEGIN\n\
                     \x20   ALTER DATABASE [tempdb] ADD FILE (NAME = {}, FILENAME = {}, SIZE = {size_mb}MB, FILEGROWTH = {growth_mb}MB);\n\
                     END;\n",
                    nstr(&name),
                    nstr(&name),
                    nstr(&format!("{folder}{name}.ndf")),
                ));
                rollback.push_str(&format!(
                    "USE [tempdb];\n\
                     DBCC SHRINKFILE ({}, EMPTYFILE);\n\
                     ALTER DATABASE [tempdb] REMOVE FILE {};\n",
                    nstr(&name),
                    bracket(&name)
                ));
            }
            if added == 0 {
                script.push_str("-- The recorded files already reach the expected count.\n");
                rollback.push_str("-- Nothing to undo: no file is added.\n");
            }
            script.push_str(
                "SELECT name, type_desc, size / 128 AS size_mb, growth FROM tempdb.sys.database_files;\n",
            );
            (script, rollback)
        });
        draft(scripts, Risk::Low, "mssql.tempdb.data_files", ">= 8")
    },
};

pub(super) const VLF_COUNT: StepDef = StepDef {
    id: "mssql.log.rebuild_vlfs",
    rule_id: "mssql.log.vlf_count",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let Some(db) = text(f, "mssql.log.vlf_count.database") else {
                return (
                    "-- The finding names no database.\n".to_owned(),
                    "-- Nothing to undo.\n".to_owned(),
                );
            };
            // The log file's logical name and size, from the file I/O the probe read.
            let log = m.and_then(|m| m.end.as_ref()).and_then(|c| {
                c.files
                    .iter()
                    .find(|x| x.database == db && x.type_desc.eq_ignore_ascii_case("LOG"))
            });
            let file = log.map_or("<logical log file name>", |x| x.file.as_str());
            let size_mb = log
                .and_then(|x| x.size_bytes)
                .or_else(|| number(f, "mssql.log.log_bytes").map(|b| b as i64))
                .map_or_else(
                    || "<MB, the log's size now>".to_owned(),
                    |b| (b / MIB).max(64).to_string(),
                );
            let script = format!(
                "-- Off-peak, after a log backup (full recovery): shrink the log to its active\n\
                 -- part, then grow it back in one step, which creates few large VLFs, and set a\n\
                 -- fixed growth so later growths stay large. Repeat the backup and the shrink if\n\
                 -- the active VLF is at the end of the file.\n\
                 USE {db_b};\n\
                 DBCC SHRINKFILE ({file_n}, 0, TRUNCATEONLY);\n\
                 IF (SELECT size / 128 FROM sys.database_files WHERE name = {file_n}) < {size_mb}\n\
                 BEGIN\n\
                 \x20   ALTER DATABASE {db_b} MODIFY FILE (NAME = {file_n}, SIZE = {size_mb}MB, FILEGROWTH = 8192MB);\n\
                 END;\n\
                 SELECT COUNT(*) AS vlfs FROM sys.dm_db_log_info(DB_ID({db_n}));\n",
                db_b = bracket(db),
                db_n = nstr(db),
                file_n = nstr(file),
            );
            (
                script,
                "-- Nothing to undo: the log keeps its size with fewer, larger VLFs.\n".to_owned(),
            )
        });
        draft(scripts, Risk::Medium, "mssql.log.vlf_count", "< 1000")
    },
};

pub(super) const BACKUPS: StepDef = StepDef {
    id: "mssql.backup.schedule",
    rule_id: "mssql.backup.missing",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let dbs = names(f, "mssql.backup.databases.names");
            let mut script = String::from(
                "-- Take the missing backups now, to storage off this server, then schedule them\n\
                 -- (SQL Server Agent, or Ola Hallengren's DatabaseBackup): full weekly or daily,\n\
                 -- and for databases in the FULL or BULK_LOGGED model a log backup every 15-60\n\
                 -- minutes. Restore one on another server to prove it works.\n",
            );
            for d in &dbs {
                let logged = m
                    .and_then(|m| m.database(d))
                    .and_then(|x| x.recovery_model.as_deref())
                    .is_some_and(|r| !r.eq_ignore_ascii_case("SIMPLE"));
                script.push_str(&format!(
                    "BACKUP DATABASE {} TO DISK = {} WITH CHECKSUM, COMPRESSION;\n",
                    bracket(d),
                    nstr(&format!("<backup folder>\\{d}_full.bak"))
                ));
                if logged {
                    script.push_str(&format!(
                        "BACKUP LOG {} TO DISK = {} WITH CHECKSUM, COMPRESSION;\n",
                        bracket(d),
                        nstr(&format!("<backup folder>\\{d}_log.trn"))
                    ));
                }
            }
            script.push_str(
                "SELECT d.name, MAX(b.backup_finish_date) AS last_backup, b.type FROM sys.databases AS d \
                 LEFT JOIN msdb.dbo.backupset AS b ON b.database_name = d.name GROUP BY d.name, b.type;\n",
            );
            (
                script,
                "-- Nothing to undo: a backup changes no data (delete the files if unwanted).\n"
                    .to_owned(),
            )
        });
        draft(scripts, Risk::Low, "mssql.backup.full_age_hours", "< 168")
    },
};

pub(super) const FILE_LATENCY: StepDef = StepDef {
    id: "mssql.storage.file_latency",
    rule_id: "mssql.io.file_latency",
    phase: Phase::HardwareDeployment,
    build: |_, findings| {
        Draft {
        script: manual(format!(
            "{}Checklist for the slow database files named above:\n\
             1. Per-file latency over a busy hour, twice, an hour apart (sys.dm_io_virtual_file_stats:\n\
             \x20  io_stall_read_ms / num_of_reads, io_stall_write_ms / num_of_writes).\n\
             2. Log files on their own low-latency volume (writes under 5 ms); data files on\n\
             \x20  SSD/NVMe or a storage tier meeting 10-20 ms per read at the measured IOPS.\n\
             3. Before buying storage, cut the reads: the missing-index and top-CPU steps of this\n\
             \x20  plan, and a buffer pool sized by max server memory.\n\
             4. Check the volume's allocation unit (64 KB), the HBA queue depth and multipath\n\
             \x20  settings with the storage team; on a VM, the datastore's latency.\n",
            evidence_lines(findings)
        )),
        rollback: manual("Nothing to undo: a storage change is planned with the storage team, with its own fallback.\n".to_owned()),
        risk: Risk::Medium,
        needs_restart: false,
        verify: verify("mssql.io.data_read_ms", "< 20 ms"),
    }
    },
};
