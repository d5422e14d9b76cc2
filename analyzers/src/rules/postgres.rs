//! PostgreSQL rules, from the `postgres` facts (one entry per target), the host's RAM
//! and the `pg_*` tables of the snapshot.
//!
//! Every rule judges each target on its own: findings carry the target's label (and
//! the table when there is one) as `subject`. A target whose input is missing is
//! skipped; the rule is "not evaluated" only when no target could be judged, with the
//! first target's reason.

use std::collections::{BTreeMap, BTreeSet};

use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::facts::postgres::PgCounters;
use perfdiag_model::{ColumnData, Comparison, Finding, Table, Threshold, Unit, Value, tables};

use super::index_evidence::{self, Asked, Engine, parse_keys};
use super::{Inputs, Outcome, RuleDef, context, crossed, finding, graded_for};
use crate::baseline::Direction;
use crate::expected::{self, Machine, url_host};
use crate::frames::{Missing, Need};

mod tuning;

/// The PostgreSQL rules, in evaluation order.
pub(super) const RULES: &[RuleDef] = &[
    SHARED_BUFFERS_LOW,
    CACHE_HIT_RATIO_LOW,
    TEMP_SPILLS,
    CHECKPOINTS_TOO_FREQUENT,
    CONNECTIONS_NEAR_MAX,
    IDLE_IN_TRANSACTION,
    BLOCKING_CHAINS,
    SEQ_SCAN_HEAVY,
    INDEXES_UNUSED,
    INDEXES_DUPLICATE,
    VACUUM_DEAD_TUPLES,
    TRUST_AUTH,
    PUBLIC_SCHEMA_CREATE,
    SLOW_QUERY_LOG_OFF,
    PG_STAT_STATEMENTS_MISSING,
    tuning::DEVIATES,
];

/// Runs `judge` on every target; `Missing` only when no target could be judged.
fn per_target(
    inputs: &Inputs<'_>,
    mut judge: impl FnMut(&PostgresFacts) -> Need<Vec<Finding>>,
) -> Outcome {
    let targets = inputs.postgres.as_ref().map_err(Clone::clone)?;
    let mut findings = Vec::new();
    let mut judged = false;
    let mut first_missing = None;
    for facts in targets {
        match judge(facts) {
            Ok(found) => {
                judged = true;
                findings.extend(found);
            }
            Err(Missing(m)) => {
                first_missing.get_or_insert_with(|| {
                    if targets.len() > 1 {
                        format!("{m} ({})", facts.target)
                    } else {
                        m
                    }
                });
            }
        }
    }
    match (judged, first_missing) {
        (false, Some(m)) => Err(Missing(m)),
        (false, None) => Err(Missing("facts postgres (no target)".to_owned())),
        _ => Ok(findings),
    }
}

fn setting_text<'a>(facts: &'a PostgresFacts, name: &str) -> Need<&'a str> {
    facts
        .setting_text(name)
        .ok_or_else(|| Missing(format!("setting {name} in facts postgres")))
}

/// Context evidence for a setting, in its normalised unit.
fn setting_evidence(facts: &PostgresFacts, name: &str) -> Option<perfdiag_model::Evidence> {
    let s = facts.setting(name)?;
    let value = match (s.normalised, s.normalised_unit.as_deref()) {
        (Some(v), Some("bytes")) => Value::number(v, Unit::Bytes),
        (Some(v), Some("ms")) => Value::number(v, Unit::Milliseconds),
        _ => match s.setting.parse::<f64>() {
            Ok(v) => Value::number(v, Unit::None),
            Err(_) => Value::text(&s.setting),
        },
    };
    Some(context(&format!("pg.settings.{name}"), value))
}

/// The start and end counters and the seconds between them.
fn window(facts: &PostgresFacts) -> Need<(&PgCounters, &PgCounters, f64)> {
    let (Some(start), Some(end)) = (&facts.start, &facts.end) else {
        return Err(Missing(
            "counters at both ends of the window (facts postgres.start/end)".to_owned(),
        ));
    };
    let secs = (end.at - start.at).num_milliseconds() as f64 / 1000.0;
    if secs <= 0.0 {
        return Err(Missing("a window longer than zero seconds".to_owned()));
    }
    Ok((start, end, secs))
}

/// Sum over databases of `end - start` of one counter (databases present in both).
fn db_delta(
    start: &PgCounters,
    end: &PgCounters,
    field: fn(&perfdiag_model::facts::postgres::PgDatabaseStats) -> Option<i64>,
) -> i64 {
    let before: BTreeMap<&str, i64> = start
        .databases
        .iter()
        .filter_map(|d| Some((d.datname.as_str(), field(d)?)))
        .collect();
    end.databases
        .iter()
        .filter_map(|d| {
            let b = before.get(d.datname.as_str())?;
            Some((field(d)? - b).max(0))
        })
        .sum()
}

/// True when the target runs on the host whose facts the snapshot holds: only then
/// is the host's RAM the database server's.
fn is_local(inputs: &Inputs<'_>, facts: &PostgresFacts) -> bool {
    let hostname = inputs
        .host()
        .map(|h| h.hostname.as_str())
        .unwrap_or_default();
    expected::is_local(&facts.target, hostname)
}

/// The machine the target runs on, for the expected-settings formulas: the host's
/// facts when the target is local, with the storage under its `data_directory`.
fn machine(inputs: &Inputs<'_>, facts: &PostgresFacts) -> Need<Machine> {
    let host = inputs.host()?;
    if !is_local(inputs, facts) {
        return Err(Missing(format!(
            "the database server's RAM (target {} is not on this host)",
            url_host(&facts.target)
        )));
    }
    Machine::new(
        host,
        facts.setting_text("data_directory"),
        inputs.workload,
        inputs.dedicated,
    )
    .ok_or_else(|| Missing("facts host.memory.total_bytes".to_owned()))
}

/// Context evidence of an expected value: `pg.expected.<name>` and its formula.
fn expected_evidence(e: &expected::Expected) -> Vec<perfdiag_model::Evidence> {
    vec![
        context(&format!("pg.expected.{}", e.setting), e.suggested()),
        context(
            &format!("pg.expected.{}.formula", e.setting),
            Value::text(e.formula),
        ),
    ]
}

/// shared_buffers as a share of what this host and workload call for (PGTune: a
/// quarter of the RAM for the database, see [`expected::postgres::shared_buffers`]);
/// far below it, the database rereads hot pages from the kernel. A window hit ratio
/// of 99.9 % or more accepts the current size: the working set already fits.
pub(super) const SHARED_BUFFERS_LOW: RuleDef = RuleDef {
    id: "pg.memory.shared_buffers_low",
    direction: Direction::Below,
    variants: &[],
    eval: |inputs, spec| {
        inputs.host()?;
        per_target(inputs, |facts| {
            let m = machine(inputs, facts)?;
            let w = expected::postgres::measured(facts);
            let e = expected::postgres::shared_buffers(&m, facts, &w)
                .ok_or_else(|| Missing("setting shared_buffers in facts postgres".to_owned()))?;
            let (Value::Number { value: sb, .. }, Value::Number { value: want, .. }) =
                (&e.current, e.suggested())
            else {
                return Ok(Vec::new());
            };
            let pct = sb * 100.0 / want.max(1.0);
            Ok(spec
                .grade(pct)
                .map(|(severity, threshold)| {
                    let mut evidence = vec![
                        crossed(
                            "pg.settings.shared_buffers_pct_expected",
                            Value::number(pct, Unit::Percent),
                            threshold,
                        ),
                        context(
                            "pg.settings.shared_buffers",
                            Value::number(*sb, Unit::Bytes),
                        ),
                        context(
                            "pg.settings.shared_buffers_pct_ram",
                            Value::number(sb * 100.0 / m.ram_bytes, Unit::Percent),
                        ),
                    ];
                    evidence.extend(expected_evidence(&e));
                    evidence.extend(e.evidence.iter().cloned());
                    evidence.extend(m.inputs());
                    finding(spec, severity, Some(facts.target.clone()), evidence)
                })
                .into_iter()
                .collect())
        })
    },
};

/// Buffer cache hit ratio over the window, all databases of the target together;
/// judged only with at least `min_activity` block requests in the window.
pub(super) const CACHE_HIT_RATIO_LOW: RuleDef = RuleDef {
    id: "pg.cache.hit_ratio_low",
    direction: Direction::Below,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let (start, end, _) = window(facts)?;
            let hit = db_delta(start, end, |d| d.blks_hit);
            let read = db_delta(start, end, |d| d.blks_read);
            let total = (hit + read) as f64;
            let min = spec.min_activity.unwrap_or(0.0);
            if total < min.max(1.0) {
                return Err(Missing(format!(
                    "enough block requests to judge the hit ratio ({total} in the window, {min} needed)"
                )));
            }
            let pct = hit as f64 * 100.0 / total;
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.cache.hit_ratio_pct",
                pct,
                || {
                    vec![
                        context(
                            "pg.stat_database.blks_read",
                            Value::number(read as f64, Unit::None),
                        ),
                        context(
                            "pg.stat_database.blks_hit",
                            Value::number(hit as f64, Unit::None),
                        ),
                    ]
                    .into_iter()
                    .chain(setting_evidence(facts, "shared_buffers"))
                    .collect()
                },
            ))
        })
    },
};

/// Temporary file bytes written per second over the window: sorts and hashes that did
/// not fit in work_mem spilled to disk.
pub(super) const TEMP_SPILLS: RuleDef = RuleDef {
    id: "pg.temp.spills",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let (start, end, secs) = window(facts)?;
            let bytes = db_delta(start, end, |d| d.temp_bytes) as f64;
            let files = db_delta(start, end, |d| d.temp_files) as f64;
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.temp.bytes_per_s",
                bytes / secs,
                || {
                    // What the spilling statements need (measured), and the ceiling a
                    // global work_mem should stay under; only on the database's host.
                    let sizing = machine(inputs, facts).ok().and_then(|m| {
                        let w = expected::postgres::measured(facts);
                        let spills = expected::postgres::work_mem_for_spills(&m, facts, &w)?;
                        let global = expected::postgres::work_mem(&m, facts)?;
                        let mut out = expected_evidence(&spills);
                        out[0].metric = "pg.expected.work_mem_for_spills".to_owned();
                        out[1].metric = "pg.expected.work_mem_for_spills.formula".to_owned();
                        out.push(context("pg.expected.work_mem_max", global.suggested()));
                        out.extend(
                            spills
                                .evidence
                                .into_iter()
                                .filter(|e| e.metric == "pg.temp.mean_file_bytes"),
                        );
                        Some(out)
                    });
                    vec![
                        context("pg.temp.files", Value::number(files, Unit::None)),
                        context("pg.temp.bytes", Value::number(bytes, Unit::Bytes)),
                    ]
                    .into_iter()
                    .chain(setting_evidence(facts, "work_mem"))
                    .chain(sizing.into_iter().flatten())
                    .collect()
                },
            ))
        })
    },
};

/// Share of checkpoints requested (WAL filled max_wal_size, or explicit) rather than
/// timed, since the statistics were reset: frequent forced checkpoints multiply full
/// page writes and I/O bursts. Judged from `min_activity` checkpoints on.
pub(super) const CHECKPOINTS_TOO_FREQUENT: RuleDef = RuleDef {
    id: "pg.checkpoints.too_frequent",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let bg = facts
                .end
                .as_ref()
                .or(facts.start.as_ref())
                .and_then(|c| c.bgwriter.as_ref())
                .ok_or_else(|| Missing("checkpointer counters in facts postgres".to_owned()))?;
            let (Some(timed), Some(req)) = (bg.checkpoints_timed, bg.checkpoints_req) else {
                return Err(Missing("checkpoints_timed/checkpoints_req".to_owned()));
            };
            let total = (timed + req) as f64;
            let min = spec.min_activity.unwrap_or(1.0).max(1.0);
            if total < min {
                return Err(Missing(format!(
                    "enough checkpoints to judge ({total} since the statistics reset, {min} needed)"
                )));
            }
            let pct = req as f64 * 100.0 / total;
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.checkpoints.requested_pct",
                pct,
                || {
                    vec![
                        context(
                            "pg.checkpoints.requested",
                            Value::number(req as f64, Unit::None),
                        ),
                        context(
                            "pg.checkpoints.timed",
                            Value::number(timed as f64, Unit::None),
                        ),
                    ]
                    .into_iter()
                    .chain(setting_evidence(facts, "max_wal_size"))
                    .chain(setting_evidence(facts, "checkpoint_timeout"))
                    .chain(
                        machine(inputs, facts)
                            .ok()
                            .and_then(|m| {
                                let w = expected::postgres::measured(facts);
                                expected::postgres::max_wal_size(&m, facts, &w)
                            })
                            .map(|e| {
                                let mut out = expected_evidence(&e);
                                out.extend(e.evidence);
                                out
                            })
                            .into_iter()
                            .flatten(),
                    )
                    .collect()
                },
            ))
        })
    },
};

/// The most client connections seen, as a share of what non-superusers may open.
pub(super) const CONNECTIONS_NEAR_MAX: RuleDef = RuleDef {
    id: "pg.connections.near_max",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let c = facts
                .connections
                .as_ref()
                .ok_or_else(|| Missing("facts postgres.connections".to_owned()))?;
            let (Some(max), Some(peak)) = (c.max_connections, c.peak_client_backends) else {
                return Err(Missing(
                    "max_connections and the connection peak".to_owned(),
                ));
            };
            let usable = (max - c.reserved_connections.unwrap_or(0)).max(1) as f64;
            let pct = peak as f64 * 100.0 / usable;
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.connections.peak_pct",
                pct,
                || {
                    vec![
                        context(
                            "pg.connections.peak",
                            Value::number(peak as f64, Unit::None),
                        ),
                        context(
                            "pg.settings.max_connections",
                            Value::number(max as f64, Unit::None),
                        ),
                    ]
                },
            ))
        })
    },
};

/// Typed access to the columns of a snapshot table.
struct Columns<'a> {
    table: &'a Table,
    name: &'static str,
}

impl<'a> Columns<'a> {
    fn of(inputs: &Inputs<'a>, name: &'static str) -> Need<Self> {
        let table = inputs
            .snapshot
            .table(name)
            .ok_or_else(|| Missing(format!("table {name}")))?;
        Ok(Self { table, name })
    }
    fn text(&self, column: &str) -> Need<&'a [Option<String>]> {
        match self.table.column(column) {
            Some(ColumnData::Utf8(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    fn int(&self, column: &str) -> Need<&'a [Option<i64>]> {
        match self.table.column(column) {
            Some(ColumnData::Int64(v) | ColumnData::Timestamp(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    fn float(&self, column: &str) -> Need<&'a [Option<f64>]> {
        match self.table.column(column) {
            Some(ColumnData::Float64(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    fn boolean(&self, column: &str) -> Need<&'a [Option<bool>]> {
        match self.table.column(column) {
            Some(ColumnData::Bool(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    /// Row indexes belonging to `target`.
    fn rows_of(&self, target: &str) -> Need<Vec<usize>> {
        Ok(self
            .text("target")?
            .iter()
            .enumerate()
            .filter(|(_, t)| t.as_deref() == Some(target))
            .map(|(i, _)| i)
            .collect())
    }
}

/// The longest time a session sat idle inside an open transaction: it holds its locks
/// and its snapshot, which blocks vacuum cleanup everywhere.
pub(super) const IDLE_IN_TRANSACTION: RuleDef = RuleDef {
    id: "pg.sessions.idle_in_transaction",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let s = Columns::of(inputs, tables::PG_SESSIONS)?;
        let (state, age, pid) = (s.text("state")?, s.float("state_age_ms")?, s.int("pid")?);
        per_target(inputs, |facts| {
            let worst = s
                .rows_of(&facts.target)?
                .into_iter()
                .filter(|&i| {
                    state[i]
                        .as_deref()
                        .is_some_and(|st| st.starts_with("idle in transaction"))
                })
                .filter_map(|i| Some((age[i]?, pid[i])))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let Some((ms, pid)) = worst else {
                return Ok(Vec::new());
            };
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.sessions.idle_in_transaction_ms.max",
                ms,
                || {
                    pid.map(|p| context("pg.sessions.pid", Value::number(p as f64, Unit::None)))
                        .into_iter()
                        .chain(setting_evidence(
                            facts,
                            "idle_in_transaction_session_timeout",
                        ))
                        .collect()
                },
            ))
        })
    },
};

/// Sessions waiting for a lock another session holds: the most seen blocked at once,
/// with the depth of the longest chain and its root blockers.
pub(super) const BLOCKING_CHAINS: RuleDef = RuleDef {
    id: "pg.locks.blocking_chains",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let s = Columns::of(inputs, tables::PG_SESSIONS)?;
        let (ts, pid, blocked_by, age) = (
            s.int("ts")?,
            s.int("pid")?,
            s.text("blocked_by")?,
            s.float("state_age_ms")?,
        );
        per_target(inputs, |facts| {
            // Per sample: pid -> the pids blocking it.
            let mut samples: BTreeMap<i64, BTreeMap<i64, Vec<i64>>> = BTreeMap::new();
            let mut longest_wait: f64 = 0.0;
            for i in s.rows_of(&facts.target)? {
                let (Some(t), Some(p), Some(b)) = (ts[i], pid[i], blocked_by[i].as_deref()) else {
                    continue;
                };
                let blockers: Vec<i64> =
                    b.split(',').filter_map(|x| x.trim().parse().ok()).collect();
                if blockers.is_empty() {
                    continue;
                }
                longest_wait = longest_wait.max(age[i].unwrap_or(0.0));
                samples.entry(t).or_default().insert(p, blockers);
            }
            let Some((blocked, depth, roots)) = samples
                .values()
                .map(|graph| {
                    let depth = graph
                        .keys()
                        .map(|&p| chain_depth(graph, p, 0))
                        .max()
                        .unwrap_or(0);
                    let roots: BTreeSet<i64> = graph
                        .values()
                        .flatten()
                        .filter(|b| !graph.contains_key(b))
                        .copied()
                        .collect();
                    (graph.len(), depth, roots)
                })
                .max_by_key(|(n, d, _)| (*n, *d))
            else {
                return Ok(Vec::new());
            };
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.locks.blocked_sessions.max",
                blocked as f64,
                || {
                    let roots: Vec<String> = roots.iter().map(ToString::to_string).collect();
                    vec![
                        context(
                            "pg.locks.chain_depth",
                            Value::number(depth as f64, Unit::None),
                        ),
                        context(
                            "pg.locks.longest_wait_ms",
                            Value::number(longest_wait, Unit::Milliseconds),
                        ),
                        context("pg.locks.root_blocker_pids", Value::text(roots.join(","))),
                    ]
                },
            ))
        })
    },
};

/// How many sessions stand behind `pid` in its chain (1 = waits on a non-waiting one).
fn chain_depth(graph: &BTreeMap<i64, Vec<i64>>, pid: i64, seen: usize) -> usize {
    if seen > graph.len() {
        return seen; // a cycle (a deadlock about to be broken): stop counting.
    }
    graph.get(&pid).map_or(0, |blockers| {
        1 + blockers
            .iter()
            .map(|&b| chain_depth(graph, b, seen + 1))
            .max()
            .unwrap_or(0)
    })
}

/// Large tables read mostly by sequential scans during the window: rows read per
/// second by those scans, for tables of at least `min_activity` live rows where
/// sequential scans outnumbered index scans.
pub(super) const SEQ_SCAN_HEAVY: RuleDef = RuleDef {
    id: "pg.tables.seq_scan_heavy",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_TABLES)?;
        let (schema, name) = (t.text("schema")?, t.text("table")?);
        let (seq_rows, seq, idx, live) = (
            t.int("seq_tup_read_window")?,
            t.int("seq_scan_window")?,
            t.int("idx_scan_window")?,
            t.int("n_live_tup")?,
        );
        let min = spec.min_activity.unwrap_or(0.0);
        // Key columns of the table's indexes: absent in snapshots before 0.2.
        let keys = t.text("index_keys").ok();
        per_target(inputs, |facts| {
            let (_, _, secs) = window(facts)?;
            let mut asked: Option<Vec<Asked>> = None;
            let mut out = Vec::new();
            for i in t.rows_of(&facts.target)? {
                let (Some(rows), Some(live)) = (seq_rows[i], live[i]) else {
                    continue;
                };
                if (live as f64) < min || seq[i].unwrap_or(0) <= idx[i].unwrap_or(0) {
                    continue;
                }
                let rate = rows as f64 / secs;
                if let Some((severity, threshold)) = spec.grade(rate) {
                    let (schema, name) = (
                        schema[i].as_deref().unwrap_or("?"),
                        name[i].as_deref().unwrap_or("?"),
                    );
                    let table = format!("{schema}.{name}");
                    let mut evidence = vec![
                        crossed(
                            "pg.tables.seq_tup_read_per_s",
                            Value::number(rate, Unit::PerSecond),
                            threshold,
                        ),
                        context(
                            "pg.tables.seq_scan",
                            Value::number(seq[i].unwrap_or(0) as f64, Unit::None),
                        ),
                        context(
                            "pg.tables.idx_scan",
                            Value::number(idx[i].unwrap_or(0) as f64, Unit::None),
                        ),
                        context(
                            "pg.tables.n_live_tup",
                            Value::number(live as f64, Unit::None),
                        ),
                    ];
                    let asked = asked.get_or_insert_with(|| {
                        index_evidence::asked(inputs.snapshot, Engine::Postgres, &facts.target)
                    });
                    // The heaviest index asked for on this table; an unqualified name
                    // is taken to be this table (the search_path is not known).
                    if let Some(a) = asked.iter().find(|a| {
                        a.candidate.table == name
                            && a.candidate.schema.as_deref().is_none_or(|s| s == schema)
                    }) {
                        let mut a = a.clone();
                        a.candidate.schema = Some(schema.to_owned());
                        let existing = keys.and_then(|k| k[i].as_deref()).map(parse_keys);
                        evidence.extend(a.evidence(Engine::Postgres, existing.as_deref()));
                    }
                    out.push(finding(
                        spec,
                        severity,
                        Some(format!("{} {table}", facts.target)),
                        evidence,
                    ));
                }
            }
            Ok(out)
        })
    },
};

/// Indexes never scanned since the statistics were reset (not unique, not primary,
/// valid): they cost every write and vacuum and take cache, for nothing. Judged on
/// their total size per target, once the statistics are at least a week old.
pub(super) const INDEXES_UNUSED: RuleDef = RuleDef {
    id: "pg.indexes.unused",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_INDEXES)?;
        let (index, size, scans) = (t.text("index")?, t.int("size_bytes")?, t.int("idx_scan")?);
        let (unique, primary, valid) = (
            t.boolean("is_unique")?,
            t.boolean("is_primary")?,
            t.boolean("is_valid")?,
        );
        per_target(inputs, |facts| {
            let db = facts.database.as_deref().unwrap_or_default();
            let reset = facts
                .end
                .as_ref()
                .or(facts.start.as_ref())
                .and_then(|c| c.databases.iter().find(|d| d.datname == db))
                .and_then(|d| d.stats_reset);
            if let (Some(reset), Some(at)) = (reset, facts.end.as_ref().map(|c| c.at))
                && (at - reset).num_days() < 7
            {
                return Err(Missing(format!(
                    "index usage statistics of at least 7 days (reset {reset})"
                )));
            }
            let unused: Vec<usize> = t
                .rows_of(&facts.target)?
                .into_iter()
                .filter(|&i| {
                    scans[i] == Some(0)
                        && unique[i] == Some(false)
                        && primary[i] == Some(false)
                        && valid[i] == Some(true)
                })
                .collect();
            let bytes: i64 = unused.iter().filter_map(|&i| size[i]).sum();
            let largest = unused
                .iter()
                .max_by_key(|&&i| size[i].unwrap_or(0))
                .and_then(|&i| index[i].clone());
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.indexes.unused_bytes",
                bytes as f64,
                || {
                    vec![context(
                        "pg.indexes.unused_count",
                        Value::number(unused.len() as f64, Unit::None),
                    )]
                    .into_iter()
                    .chain(largest.map(|l| context("pg.indexes.largest_unused", Value::text(l))))
                    .collect()
                },
            ))
        })
    },
};

/// Indexes with the same columns, operator classes, expressions and predicate as
/// another index of the same table.
pub(super) const INDEXES_DUPLICATE: RuleDef = RuleDef {
    id: "pg.indexes.duplicate",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_INDEXES)?;
        let (schema, index, dup, size) = (
            t.text("schema")?,
            t.text("index")?,
            t.text("duplicate_of")?,
            t.int("size_bytes")?,
        );
        per_target(inputs, |facts| {
            let pairs: Vec<(String, i64)> = t
                .rows_of(&facts.target)?
                .into_iter()
                .filter_map(|i| {
                    let of = dup[i].as_deref()?;
                    let s = schema[i].as_deref().unwrap_or("?");
                    Some((
                        format!("{s}.{} = {s}.{of}", index[i].as_deref().unwrap_or("?")),
                        size[i].unwrap_or(0),
                    ))
                })
                .collect();
            if pairs.is_empty() {
                return Ok(Vec::new());
            }
            let bytes: i64 = pairs.iter().map(|p| p.1).sum();
            let list: Vec<&str> = pairs.iter().map(|p| p.0.as_str()).collect();
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![
                    crossed(
                        "pg.indexes.duplicate_count",
                        Value::number(pairs.len() as f64, Unit::None),
                        Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
                    ),
                    context("pg.indexes.duplicates", Value::text(list.join(", "))),
                    context(
                        "pg.indexes.duplicate_bytes",
                        Value::number(bytes as f64, Unit::Bytes),
                    ),
                ],
            )])
        })
    },
};

/// Dead tuples as a share of a table's tuples, for tables of at least `min_activity`
/// tuples: autovacuum is not keeping up, scans read dead rows and the table bloats.
pub(super) const VACUUM_DEAD_TUPLES: RuleDef = RuleDef {
    id: "pg.vacuum.dead_tuples",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let t = Columns::of(inputs, tables::PG_TABLES)?;
        let (schema, name, live, dead, last_av) = (
            t.text("schema")?,
            t.text("table")?,
            t.int("n_live_tup")?,
            t.int("n_dead_tup")?,
            t.int("last_autovacuum")?,
        );
        let min = spec.min_activity.unwrap_or(0.0);
        per_target(inputs, |facts| {
            let mut out = Vec::new();
            for i in t.rows_of(&facts.target)? {
                let (Some(l), Some(d)) = (live[i], dead[i]) else {
                    continue;
                };
                let total = (l + d) as f64;
                if total < min.max(1.0) {
                    continue;
                }
                let pct = d as f64 * 100.0 / total;
                if let Some((severity, threshold)) = spec.grade(pct) {
                    let table = format!(
                        "{}.{}",
                        schema[i].as_deref().unwrap_or("?"),
                        name[i].as_deref().unwrap_or("?")
                    );
                    let last = last_av[i]
                        .and_then(chrono::DateTime::from_timestamp_micros)
                        .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
                    out.push(finding(
                        spec,
                        severity,
                        Some(format!("{} {table}", facts.target)),
                        vec![
                            crossed(
                                "pg.tables.dead_tuple_pct",
                                Value::number(pct, Unit::Percent),
                                threshold,
                            ),
                            context("pg.tables.n_dead_tup", Value::number(d as f64, Unit::None)),
                            context("pg.tables.last_autovacuum", Value::text(last)),
                        ],
                    ));
                }
            }
            Ok(out)
        })
    },
};

/// pg_hba.conf lets network clients in without a password (`trust`), or sends
/// passwords in clear text (`password`) — worst when open to any address.
pub(super) const TRUST_AUTH: RuleDef = RuleDef {
    id: "pg.security.trust_auth",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let rules = facts
                .security
                .as_ref()
                .and_then(|s| s.hba_rules.as_ref())
                .ok_or_else(|| {
                    Missing(
                        "pg_hba rules (facts postgres.security.hba_rules; see probe postgres.hba)"
                            .to_owned(),
                    )
                })?;
            let weak: Vec<String> = rules
                .iter()
                .filter(|r| r.error.is_none() && r.is_network())
                .filter(|r| matches!(r.auth_method.as_deref(), Some("trust" | "password")))
                .map(|r| {
                    let address = if r.matches_any_address() {
                        "any address".to_owned()
                    } else {
                        format!(
                            "{}{}",
                            r.address.as_deref().unwrap_or("?"),
                            r.netmask
                                .as_deref()
                                .map(|m| format!("/{m}"))
                                .unwrap_or_default()
                        )
                    };
                    format!(
                        "line {}: {} {} from {address}",
                        r.line_number.unwrap_or(0),
                        r.conn_type.as_deref().unwrap_or("?"),
                        r.auth_method.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            if weak.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![
                    crossed(
                        "pg.hba.auth_method",
                        Value::text("trust/password"),
                        Threshold::new(Comparison::Equals, Value::text("trust/password")),
                    ),
                    context("pg.hba.weak_rules", Value::text(weak.join("; "))),
                ],
            )])
        })
    },
};

/// PUBLIC may create objects in schema `public`: any login can plant functions or
/// tables that other roles' unqualified names resolve to (CVE-2018-1058).
pub(super) const PUBLIC_SCHEMA_CREATE: RuleDef = RuleDef {
    id: "pg.security.public_schema_create",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let create = facts
                .security
                .as_ref()
                .and_then(|s| s.public_schema_create)
                .ok_or_else(|| {
                    Missing("facts postgres.security.public_schema_create".to_owned())
                })?;
            Ok(if create {
                vec![finding(
                    spec,
                    spec.condition_severity(),
                    Some(facts.target.clone()),
                    vec![crossed(
                        "pg.security.public_schema_create",
                        Value::text("true"),
                        Threshold::new(Comparison::Equals, Value::text("true")),
                    )],
                )]
            } else {
                Vec::new()
            })
        })
    },
};

/// Slow statements are never logged (`log_min_duration_statement = -1` and no
/// auto_explain threshold): the slowest executions leave no trace to analyse.
pub(super) const SLOW_QUERY_LOG_OFF: RuleDef = RuleDef {
    id: "pg.logging.slow_query_off",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let value = setting_text(facts, "log_min_duration_statement")?;
            let auto_explain = facts
                .setting_text("auto_explain.log_min_duration")
                .is_some_and(|v| v.trim() != "-1");
            if value.trim() != "-1" || auto_explain {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![crossed(
                    "pg.settings.log_min_duration_statement",
                    Value::text("-1"),
                    Threshold::new(Comparison::Equals, Value::text("-1")),
                )],
            )])
        })
    },
};

/// pg_stat_statements is not installed or not preloaded: no statement statistics, so
/// no top SQL by time, calls or I/O.
pub(super) const PG_STAT_STATEMENTS_MISSING: RuleDef = RuleDef {
    id: "pg.extension.pg_stat_statements_missing",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            if facts.settings.is_empty() {
                return Err(Missing("settings in facts postgres".to_owned()));
            }
            let s = &facts.pg_stat_statements;
            if s.installed && s.preloaded {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![
                    crossed(
                        "pg.extension.pg_stat_statements",
                        Value::text(match (s.installed, s.preloaded) {
                            (false, false) => "absent",
                            (false, true) => "not created",
                            _ => "not preloaded",
                        }),
                        Threshold::new(Comparison::NotEquals, Value::text("available")),
                    ),
                    context(
                        "pg.settings.shared_preload_libraries",
                        Value::text(facts.setting_text("shared_preload_libraries").unwrap_or("")),
                    ),
                ],
            )])
        })
    },
};

#[cfg(test)]
pub(super) mod tests;
