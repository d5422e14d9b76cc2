//! Storage rules: tempdb data files against the processors, I/O latency per database
//! file over the window, and transaction logs cut into too many virtual log files.

use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::facts::mssql::MssqlFileIo;
use perfdiag_model::{Evidence, Severity, Threshold, Unit, Value};

use super::super::{RuleDef, context, crossed, finding};
use super::{listing, per_target};
use crate::baseline::Direction;
use crate::expected::mssql as formulas;
use crate::frames::Missing;

/// Fewer tempdb data files than logical processors (up to 8): sessions creating
/// temporary tables queue on the allocation pages of the few files (PAGELATCH waits
/// on 2:1:1, 2:1:2, 2:1:3). Files of unequal size are named too: the proportional
/// fill then favours the largest and the contention stays.
pub(in crate::rules) const TEMPDB_FILES: RuleDef = RuleDef {
    id: "mssql.tempdb.file_count",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let e = formulas::tempdb_files(t).ok_or_else(|| {
                Missing("facts mssql.tempdb_files and mssql.system (cpu_count)".into())
            })?;
            if e.deviation() <= 1.0 {
                return Ok(Vec::new());
            }
            let sizes: Vec<i64> = t
                .tempdb_files
                .iter()
                .filter(|f| f.type_desc.eq_ignore_ascii_case("ROWS"))
                .filter_map(|f| f.size_bytes)
                .collect();
            let mut evidence = vec![
                crossed("mssql.tempdb.data_files", e.current.clone(), e.threshold()),
                context("mssql.expected.tempdb.data_files", e.suggested()),
                context(
                    "mssql.expected.tempdb.data_files.formula",
                    Value::text(e.formula),
                ),
            ];
            evidence.extend(e.evidence.iter().cloned());
            if let (Some(min), Some(max)) = (sizes.iter().min(), sizes.iter().max()) {
                evidence.push(context(
                    "mssql.tempdb.data_file_bytes.max",
                    Value::number(*max as f64, Unit::Bytes),
                ));
                evidence.push(context(
                    "mssql.tempdb.equal_sizes",
                    Value::text(if min == max { "yes" } else { "no" }),
                ));
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// The window's I/O of one file: operations and their mean latency.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FileLatency {
    pub file: String,
    pub log: bool,
    pub ops: f64,
    pub mean_ms: f64,
}

/// Reads of data files and writes of log files over the window: the I/O queries wait
/// for (data file writes are the checkpoint's, in the background).
fn latencies(t: &MssqlFacts) -> Option<Vec<FileLatency>> {
    let (start, end) = (t.start.as_ref()?, t.end.as_ref()?);
    if end.files.is_empty() {
        return None;
    }
    // A file without a first reading (created during the window) has no window delta.
    let before = |f: &MssqlFileIo| {
        start
            .files
            .iter()
            .find(|s| s.database == f.database && s.file_id == f.file_id)
    };
    Some(
        end.files
            .iter()
            .filter_map(|f| {
                let s = before(f)?;
                let log = f.type_desc.eq_ignore_ascii_case("LOG");
                let (ops, stall) = if log {
                    (f.writes - s.writes, f.write_stall_ms - s.write_stall_ms)
                } else {
                    (f.reads - s.reads, f.read_stall_ms - s.read_stall_ms)
                };
                let ops = ops.max(0) as f64;
                Some(FileLatency {
                    file: format!("{}.{}", f.database, f.file),
                    log,
                    ops,
                    mean_ms: if ops > 0.0 {
                        stall.max(0) as f64 / ops
                    } else {
                        0.0
                    },
                })
            })
            .collect(),
    )
}

/// Mean latency per I/O of each database file over the window: reads of data files
/// against the main thresholds, writes of log files against the `log` variant (every
/// commit waits for them). Files with fewer than `min_activity` I/Os in the window are
/// not judged: a handful of slow reads is noise.
pub(in crate::rules) const FILE_LATENCY: RuleDef = RuleDef {
    id: "mssql.io.file_latency",
    direction: Direction::Above,
    variants: &["log"],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let files = latencies(t).ok_or_else(|| {
                Missing("file I/O at both ends of the window (facts mssql.start/end.files)".into())
            })?;
            let least = spec.min_activity.unwrap_or(0.0);
            let mut worst: Option<(Severity, Threshold, &FileLatency)> = None;
            let mut slow = Vec::new();
            for f in files.iter().filter(|f| f.ops >= least) {
                let graded = if f.log {
                    spec.grade_variant("log", f.mean_ms)
                } else {
                    spec.grade(f.mean_ms)
                };
                let Some((severity, threshold)) = graded else {
                    continue;
                };
                slow.push(format!(
                    "{} ({} {:.1} ms)",
                    f.file,
                    if f.log { "write" } else { "read" },
                    f.mean_ms
                ));
                let worse = worst.as_ref().is_none_or(|(s, _, w)| {
                    severity > *s || (severity == *s && f.mean_ms > w.mean_ms)
                });
                if worse {
                    worst = Some((severity, threshold, f));
                }
            }
            let Some((severity, threshold, f)) = worst else {
                return Ok(Vec::new());
            };
            let metric = if f.log {
                "mssql.io.log_write_ms"
            } else {
                "mssql.io.data_read_ms"
            };
            let evidence: Vec<Evidence> = vec![
                crossed(
                    metric,
                    Value::number(f.mean_ms, Unit::Milliseconds),
                    threshold,
                ),
                context("mssql.io.file", Value::text(&f.file)),
                context("mssql.io.file.ops", Value::number(f.ops, Unit::None)),
                context(
                    "mssql.io.slow_files",
                    Value::number(slow.len() as f64, Unit::None),
                ),
                context("mssql.io.slow_files.names", Value::text(listing(&slow, 10))),
            ];
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// Virtual log files per database: a log grown in many small steps is cut into
/// thousands of VLFs, which slow down recovery, restores, log backups and replication.
pub(in crate::rules) const VLF_COUNT: RuleDef = RuleDef {
    id: "mssql.log.vlf_count",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let counted: Vec<(&str, i64, Option<i64>)> = t
                .databases
                .iter()
                .filter_map(|d| Some((d.name.as_str(), d.vlf_count?, d.log_bytes)))
                .collect();
            if counted.is_empty() {
                return Err(Missing(
                    "facts mssql.databases.vlf_count (sys.dm_db_log_info)".into(),
                ));
            }
            let mut over: Vec<(&str, i64, Option<i64>)> = counted
                .into_iter()
                .filter(|(_, n, _)| spec.grade(*n as f64).is_some())
                .collect();
            over.sort_by_key(|(_, n, _)| std::cmp::Reverse(*n));
            let Some(&(name, n, log)) = over.first() else {
                return Ok(Vec::new());
            };
            let Some((severity, threshold)) = spec.grade(n as f64) else {
                return Ok(Vec::new());
            };
            let names: Vec<String> = over
                .iter()
                .map(|(d, n, _)| format!("{d} ({n} VLFs)"))
                .collect();
            let mut evidence = vec![
                crossed(
                    "mssql.log.vlf_count",
                    Value::number(n as f64, Unit::None),
                    threshold,
                ),
                context("mssql.log.vlf_count.database", Value::text(name)),
                context(
                    "mssql.log.vlf_count.names",
                    Value::text(listing(&names, 10)),
                ),
            ];
            if let Some(bytes) = log {
                evidence.push(context(
                    "mssql.log.log_bytes",
                    Value::number(bytes as f64, Unit::Bytes),
                ));
            }
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;
    use perfdiag_model::facts::mssql::{MssqlDatabaseFile, MssqlFileIo};

    use super::super::fixtures::MsFixture;
    use crate::test_support::{evidence_number, evidence_threshold, findings_of, only_finding};

    #[test]
    fn tempdb_with_fewer_files_than_processors() {
        assert!(findings_of(&MsFixture::healthy().assess(), "mssql.tempdb.file_count").is_empty());
        let mut f = MsFixture::healthy();
        f.facts[0].tempdb_files.retain(|x| x.file_id <= 2); // 1 data file + the log
        let a = f.assess();
        let found = only_finding(&a, "mssql.tempdb.file_count");
        assert_eq!(evidence_number(found, "mssql.tempdb.data_files"), 1.0);
        assert_eq!(
            evidence_number(found, "mssql.expected.tempdb.data_files"),
            8.0
        );
        f.facts[0].tempdb_files = Vec::<MssqlDatabaseFile>::new();
        f.assert_not_evaluated("mssql.tempdb.file_count", "tempdb_files");
    }

    #[test]
    fn slow_data_reads_and_slow_log_writes() {
        assert!(findings_of(&MsFixture::healthy().assess(), "mssql.io.file_latency").is_empty());
        let mut f = MsFixture::healthy();
        // 1 000 reads of the data file taking 40 s: 40 ms each.
        f.add_file_io("erp", 1, "ROWS", 1000, 40_000, 0, 0);
        let a = f.assess();
        let found = only_finding(&a, "mssql.io.file_latency");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(evidence_number(found, "mssql.io.data_read_ms"), 40.0);
        // A log write of 25 ms is critical for a log (the `log` variant).
        let mut f = MsFixture::healthy();
        f.add_file_io("erp", 2, "LOG", 0, 0, 2000, 50_000);
        let a = f.assess();
        let found = only_finding(&a, "mssql.io.file_latency");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(
            evidence_threshold(found, "mssql.io.log_write_ms").as_deref(),
            Some("> 20 ms")
        );
        // A file first seen at the end of the window has no window delta: its
        // counters since startup are not judged as the window's.
        let mut f = MsFixture::healthy();
        if let Some(end) = f.facts[0].end.as_mut() {
            end.files.push(MssqlFileIo {
                database: "erp".into(),
                file_id: 3,
                file: "erp_data2".into(),
                type_desc: "ROWS".into(),
                reads: 5000,
                read_stall_ms: 5_000_000,
                ..MssqlFileIo::default()
            });
        }
        assert!(findings_of(&f.assess(), "mssql.io.file_latency").is_empty());
        // Too few I/Os to judge.
        let mut f = MsFixture::healthy();
        f.add_file_io("erp", 1, "ROWS", 10, 4_000, 0, 0);
        assert!(findings_of(&f.assess(), "mssql.io.file_latency").is_empty());
        f.facts[0].start = None;
        f.assert_not_evaluated("mssql.io.file_latency", "both ends of the window");
    }

    #[test]
    fn too_many_virtual_log_files() {
        assert!(findings_of(&MsFixture::healthy().assess(), "mssql.log.vlf_count").is_empty());
        let mut f = MsFixture::healthy();
        f.database_mut("erp").vlf_count = Some(12_000);
        let a = f.assess();
        let found = only_finding(&a, "mssql.log.vlf_count");
        assert_eq!(found.severity, Severity::Critical);
        for d in &mut f.facts[0].databases {
            d.vlf_count = None;
        }
        f.assert_not_evaluated("mssql.log.vlf_count", "vlf_count");
    }
}
