//! Memory and I/O rules: shared_buffers against what the host calls for, the buffer
//! cache hit ratio and temporary-file spills over the window, and how often
//! checkpoints are forced rather than timed.

use std::collections::BTreeMap;

use perfdiag_model::facts::postgres::PgCounters;
use perfdiag_model::{Unit, Value};

use super::{machine, per_target, setting_evidence, window};
use crate::baseline::Direction;
use crate::expected;
use crate::frames::Missing;
use crate::rules::{RuleDef, context, crossed, finding, graded_for};

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
