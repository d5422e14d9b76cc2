//! perfdiag's advice: turns an assessment's findings into an ordered plan.
//!
//! One plan step per fired rule (findings of the same rule on several disks or
//! processes are merged into one step), each with a script for a person to review and
//! run, its rollback personalised with the values the snapshot recorded before the
//! change, the risk, how to verify it and, where the evidence has the number, the
//! expected effect. perfdiag never runs these scripts.
//!
//! Steps are ordered by phase (quick wins first), then by the severity and penalty of
//! the findings they address, except that a step never comes before a step it depends
//! on. Step titles, reasons and expected effects in words live in the message catalogs
//! (`report-templates/i18n/<lang>/rules*.toml`, `[step."<id>"]`).

use std::cmp::Reverse;
use std::collections::BTreeSet;

use perfdiag_model::facts::{HostFacts, OsFacts};
use perfdiag_model::plan::ExpectedEffect;
use perfdiag_model::{
    Assessment, Finding, Plan, PlanStep, Script, Severity, Snapshot, StepState, Value,
    Verification, facts_names,
};

mod steps;
#[cfg(test)]
mod test_support;

use steps::Context;
pub use steps::StepDef;

/// Every step advice can propose, with the rule it answers and its phase: what the
/// catalogs must document.
pub fn steps_catalog() -> Vec<&'static StepDef> {
    steps::registry().collect()
}

/// The steps that must come before `step_id` when both are in a plan.
pub fn prerequisites(step_id: &str) -> &'static [&'static str] {
    steps::prerequisites(step_id)
}

/// A step before ordering, with what the ordering needs.
struct Ranked {
    severity: Severity,
    penalty: u32,
    /// The database targets the step's findings are about (URL labels).
    targets: BTreeSet<String>,
    step: PlanStep,
}

/// The plan for `assessment`, personalised with the facts of `snapshot`.
pub fn plan(assessment: &Assessment, snapshot: &Snapshot) -> Plan {
    // A facts document that is absent or unreadable only makes rollbacks less specific.
    let context = Context {
        os: snapshot.fact::<OsFacts>(facts_names::OS).ok().flatten(),
        host: snapshot.fact::<HostFacts>(facts_names::HOST).ok().flatten(),
        postgres: snapshot
            .fact(facts_names::POSTGRES)
            .ok()
            .flatten()
            .unwrap_or_default(),
        mysql: snapshot
            .fact(facts_names::MYSQL)
            .ok()
            .flatten()
            .unwrap_or_default(),
        mssql: snapshot
            .fact(facts_names::MSSQL)
            .ok()
            .flatten()
            .unwrap_or_default(),
    };
    let mut ranked: Vec<Ranked> = steps::registry()
        .filter_map(|def| {
            let findings: Vec<&Finding> = assessment
                .findings
                .iter()
                .filter(|f| f.rule_id == def.rule_id)
                .collect();
            let severity = findings.iter().map(|f| f.severity).max()?;
            let penalty = findings.iter().map(|f| f.penalty).sum();
            let draft = (def.build)(&context, &findings);
            let subjects: Vec<&str> = findings
                .iter()
                .filter_map(|f| f.subject.as_deref())
                .collect();
            let targets = subjects
                .iter()
                .filter(|s| s.contains("://"))
                .map(|s| s.split(' ').next().unwrap_or(s).to_owned())
                .collect();
            let template = is_template(&draft.script);
            let step = PlanStep {
                id: def.id.to_owned(),
                phase: def.phase,
                findings: vec![def.rule_id.to_owned()],
                subject: (!subjects.is_empty()).then(|| subjects.join(", ")),
                expected_effect: expected_effect(&draft.verify, &findings),
                script: marked(draft.script),
                rollback: marked(draft.rollback),
                risk: draft.risk,
                needs_restart: draft.needs_restart,
                verify: draft.verify,
                template,
                depends_on: Vec::new(),
                state: StepState::Proposed,
            };
            Some(Ranked {
                severity,
                penalty,
                targets,
                step,
            })
        })
        .collect();
    ranked.sort_by(|a, b| {
        (
            a.step.phase,
            Reverse(a.severity),
            Reverse(a.penalty),
            &a.step.id,
        )
            .cmp(&(
                b.step.phase,
                Reverse(b.severity),
                Reverse(b.penalty),
                &b.step.id,
            ))
    });
    link_dependencies(&mut ranked);
    Plan {
        generated_at: chrono::Utc::now(),
        steps: dependency_order(ranked.into_iter().map(|r| r.step).collect()),
    }
}

/// Fills in `depends_on`: the listed prerequisites that are in the plan, and, for a
/// step that restarts a database, the reload-only setting changes of the same server
/// in the same phase, so that one restart at the end of the phase takes them all.
fn link_dependencies(ranked: &mut [Ranked]) {
    let ids: BTreeSet<String> = ranked.iter().map(|r| r.step.id.clone()).collect();
    let mut all = Vec::with_capacity(ranked.len());
    for r in ranked.iter() {
        let mut deps: Vec<String> = steps::prerequisites(&r.step.id)
            .iter()
            .filter(|id| ids.contains(**id))
            .map(|id| (*id).to_owned())
            .collect();
        if r.step.needs_restart {
            for other in ranked.iter() {
                let reload_only = !other.step.needs_restart
                    && other.step.phase == r.step.phase
                    && !other.step.template
                    && changes_settings(&other.step.script);
                if reload_only
                    && !other.targets.is_disjoint(&r.targets)
                    && !deps.contains(&other.step.id)
                {
                    deps.push(other.step.id.clone());
                }
            }
        }
        all.push(deps);
    }
    for (r, deps) in ranked.iter_mut().zip(all) {
        r.step.depends_on = deps;
    }
}

/// Stable topological order: each time, the first step (in phase and severity order)
/// whose dependencies are all placed. A cycle, which the catalog tests rule out, would
/// keep the given order rather than lose a step.
fn dependency_order(mut remaining: Vec<PlanStep>) -> Vec<PlanStep> {
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let next = remaining
            .iter()
            .position(|s| s.depends_on.iter().all(|d| placed.contains(d)))
            .unwrap_or(0);
        let step = remaining.remove(next);
        placed.insert(step.id.clone());
        out.push(step);
    }
    out
}

/// The lines of a script a shell or SQL client would execute: comments removed.
fn executable_lines(script: &Script) -> Vec<&str> {
    script
        .body
        .lines()
        .filter_map(|line| match script.language.as_str() {
            "sql" => Some(line.split("--").next().unwrap_or_default()),
            "sh" | "powershell" => (!line.trim_start().starts_with('#')).then_some(line),
            _ => None,
        })
        .filter(|line| !line.trim().is_empty())
        .collect()
}

/// Whether the script sets server variables (which a restart would also apply).
fn changes_settings(script: &Script) -> bool {
    executable_lines(script).iter().any(|line| {
        let upper = line.to_ascii_uppercase();
        ["ALTER SYSTEM", "SET GLOBAL", "SET PERSIST", "SP_CONFIGURE"]
            .iter()
            .any(|k| upper.contains(k))
    })
}

/// A `<placeholder>` such as `<column>` or `<value before the change>`: `<` (not part
/// of `<<` or of sed's `\<`), then a letter, then up to a `>` on the same line.
fn has_placeholder(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        b == b'<'
            && (i == 0 || !matches!(bytes[i - 1], b'<' | b'\\'))
            && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
            && line[i + 1..]
                .find(['<', '>'])
                .is_some_and(|j| line.as_bytes()[i + 1 + j] == b'>')
    })
}

/// Whether a script has placeholders a person must fill in before it runs.
fn is_template(script: &Script) -> bool {
    executable_lines(script)
        .iter()
        .any(|line| has_placeholder(line))
}

/// The first line of every template, so nobody runs one by mistake.
pub const TEMPLATE_MARK: &str =
    "TEMPLATE: replace every <placeholder> below before running; as written it does not run.";

/// The script, with [`TEMPLATE_MARK`] as its first line when it is a template.
fn marked(script: Script) -> Script {
    if !is_template(&script) {
        return script;
    }
    let comment = if script.language == "sql" { "--" } else { "#" };
    Script {
        body: format!("{comment} {TEMPLATE_MARK}\n{}", script.body),
        language: script.language,
    }
}

/// The expected effect in numbers, when the verification is a plain comparison
/// (`>= 99`, `< 10 %`, `= never`) and the findings' evidence has the metric: the value
/// now is the worst one measured, and a target without a unit takes the unit of the
/// measured value (`0.4 %` → `>= 20 %`).
fn expected_effect(verify: &Verification, findings: &[&Finding]) -> Option<ExpectedEffect> {
    let (op, target) = ["<=", ">=", "<", ">", "="]
        .iter()
        .find_map(|op| Some((*op, verify.target.strip_prefix(op)?.trim())))?;
    let mut observed: Vec<&Value> = findings
        .iter()
        .flat_map(|f| &f.evidence)
        .filter(|e| e.metric == verify.metric)
        .map(|e| &e.observed)
        .collect();
    let number = |v: &&Value| match v {
        Value::Number { value, .. } => Some(*value),
        Value::Text { .. } => None,
    };
    // A value the snapshot could not measure promises nothing.
    observed.retain(|v| !matches!(v, Value::Text { text } if text == "unknown"));
    let now = match op {
        "<" | "<=" => observed.iter().max_by(|a, b| {
            number(a)
                .unwrap_or(0.0)
                .total_cmp(&number(b).unwrap_or(0.0))
        }),
        ">" | ">=" => observed.iter().min_by(|a, b| {
            number(a)
                .unwrap_or(f64::MAX)
                .total_cmp(&number(b).unwrap_or(f64::MAX))
        }),
        _ => observed.first(),
    }?;
    let after = match (target.parse::<f64>(), now) {
        (Ok(n), Value::Number { unit, .. }) => format!("{op} {}", Value::number(n, *unit)),
        (Ok(_), Value::Text { .. }) => return None,
        // A value with its own unit (`1000 ms`, `100 %`, `1/s`) or one word (`never`).
        (Err(_), _) => {
            let (lead, unit) = target.split_at(
                target
                    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
                    .unwrap_or(target.len()),
            );
            let with_unit = !lead.is_empty()
                && lead.parse::<f64>().is_ok()
                && matches!(unit.trim(), "%" | "ms" | "s" | "/s" | "bytes");
            let word = target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !(with_unit || word) || target.is_empty() {
                return None;
            }
            verify.target.clone()
        }
    };
    Some(ExpectedEffect {
        metric: verify.metric.clone(),
        now: (*now).clone(),
        after,
    })
}

#[cfg(test)]
mod tests {
    use perfdiag_model::{Evidence, Phase, Severity, Unit};

    use super::*;
    use crate::test_support::{assessment, every_finding, finding, number, os_facts, snapshot};

    fn step<'a>(plan: &'a Plan, id: &str) -> &'a PlanStep {
        plan.steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id} in {plan:#?}"))
    }

    #[test]
    fn every_rule_has_exactly_one_step_and_every_step_is_complete() {
        let findings = every_finding();
        let plan = plan(&assessment(findings.clone()), &snapshot(Some(&os_facts())));
        assert_eq!(plan.steps.len(), findings.len());
        for f in &findings {
            let steps: Vec<_> = plan
                .steps
                .iter()
                .filter(|s| s.findings == [f.rule_id.clone()])
                .collect();
            assert_eq!(steps.len(), 1, "{}", f.rule_id);
            let s = steps[0];
            assert!(
                !s.script.body.trim().is_empty() && !s.rollback.body.trim().is_empty(),
                "{}",
                s.id
            );
            assert!(
                !s.verify.metric.is_empty() && !s.verify.target.is_empty(),
                "{}",
                s.id
            );
            assert_eq!(s.state, StepState::Proposed);
            let manual = s.phase == Phase::HardwareDeployment;
            assert_eq!(s.script.language == "manual", manual, "{}", s.id);
        }
    }

    #[test]
    fn findings_of_one_rule_merge_into_one_step() {
        let findings = vec![
            finding(
                "host.disk.await",
                Severity::Warning,
                Some("sda"),
                vec![number("host_disk.await_ms.mean", 25.0, Some("> 20"))],
            ),
            finding(
                "host.disk.await",
                Severity::Critical,
                Some("sdb"),
                vec![number("host_disk.await_ms.mean", 90.0, Some("> 50"))],
            ),
        ];
        let plan = plan(&assessment(findings), &snapshot(None));
        assert_eq!(plan.steps.len(), 1);
        let s = &plan.steps[0];
        assert_eq!(s.id, "hardware.storage.latency");
        assert_eq!(s.subject.as_deref(), Some("sda, sdb"));
        assert!(
            s.script
                .body
                .contains("# sdb: host_disk.await_ms.mean = 90 (> 50)"),
            "{}",
            s.script.body
        );
    }

    #[test]
    fn rollbacks_restore_the_values_the_snapshot_recorded() {
        let plan = plan(&assessment(every_finding()), &snapshot(Some(&os_facts())));
        let rollback = |id: &str| step(&plan, id).rollback.body.clone();
        assert!(rollback("os.sysctl.swappiness").contains("sysctl -w vm.swappiness=60"));
        assert!(
            rollback("os.sysctl.swappiness")
                .contains("rm -f /etc/sysctl.d/60-perfdiag-swappiness.conf")
        );
        assert!(rollback("os.sysctl.somaxconn").contains("sysctl -w net.core.somaxconn=128"));
        assert!(rollback("os.sysctl.zone_reclaim").contains("sysctl -w vm.zone_reclaim_mode=1"));
        let dirty = rollback("os.sysctl.dirty");
        assert!(
            dirty.contains("sysctl -w vm.dirty_background_ratio=10"),
            "{dirty}"
        );
        assert!(dirty.contains("sysctl -w vm.dirty_ratio=20"), "{dirty}");
        assert!(
            rollback("os.thp.disable")
                .contains("echo always > /sys/kernel/mm/transparent_hugepage/enabled")
        );
        assert!(
            rollback("os.thp.disable")
                .contains("echo madvise > /sys/kernel/mm/transparent_hugepage/defrag")
        );
        assert!(rollback("os.cpu.governor.performance").contains("echo ondemand"));
        assert!(rollback("os.limits.nofile").contains("before the change: 1024"));
        assert!(rollback("os.clock.sync").contains("no time daemon was running"));

        let swappiness = step(&plan, "os.sysctl.swappiness");
        assert!(
            swappiness
                .script
                .body
                .contains("cat > /etc/sysctl.d/60-perfdiag-swappiness.conf <<'EOF'")
        );
        assert!(swappiness.script.body.contains("vm.swappiness = 1\n"));
        assert_eq!(
            (
                swappiness.verify.metric.as_str(),
                swappiness.verify.target.as_str()
            ),
            ("sysctl.vm.swappiness", "<= 1")
        );
        let nofile = step(&plan, "os.limits.nofile");
        assert!(
            nofile
                .script
                .body
                .contains("/etc/systemd/system/postgresql.service.d/60-perfdiag-nofile.conf")
        );
        assert!(nofile.script.body.contains("LimitNOFILE=65536"));
        assert!(nofile.script.body.contains("ps -o unit= -p 812"));
        assert!(nofile.needs_restart);
    }

    #[test]
    fn dirty_rollback_restores_bytes_when_they_were_in_force() {
        let mut os = os_facts();
        os.sysctls
            .insert("vm.dirty_bytes".to_owned(), "4294967296".to_owned());
        let findings = vec![finding("os.vm.dirty", Severity::Warning, None, Vec::new())];
        let plan = plan(&assessment(findings), &snapshot(Some(&os)));
        let body = &plan.steps[0].rollback.body;
        assert!(
            body.contains("sysctl -w vm.dirty_bytes=4294967296"),
            "{body}"
        );
        assert!(
            body.contains("sysctl -w vm.dirty_background_ratio=10"),
            "{body}"
        );
    }

    #[test]
    fn steps_are_ordered_by_phase_then_severity() {
        let findings = vec![
            finding("host.cpu.saturation", Severity::Critical, None, Vec::new()),
            finding(
                "os.limits.nofile",
                Severity::Warning,
                Some("postgres"),
                Vec::new(),
            ),
            finding("os.vm.swappiness", Severity::Warning, None, Vec::new()),
            finding("os.thp.enabled", Severity::Critical, None, Vec::new()),
        ];
        let plan = plan(&assessment(findings), &snapshot(Some(&os_facts())));
        let order: Vec<(&str, Phase)> = plan
            .steps
            .iter()
            .map(|s| (s.id.as_str(), s.phase))
            .collect();
        assert_eq!(
            order,
            vec![
                ("os.thp.disable", Phase::QuickWins),
                ("os.sysctl.swappiness", Phase::QuickWins),
                ("os.limits.nofile", Phase::Configuration),
                ("hardware.cpu.capacity", Phase::HardwareDeployment),
            ]
        );
    }

    #[test]
    fn no_findings_no_steps_and_unknown_rules_are_ignored() {
        assert!(
            plan(&assessment(Vec::new()), &snapshot(None))
                .steps
                .is_empty()
        );
        let other = vec![finding("no.such.rule", Severity::Warning, None, Vec::new())];
        assert!(plan(&assessment(other), &snapshot(None)).steps.is_empty());
    }

    #[test]
    fn rollback_without_facts_says_what_to_fill_in() {
        let findings = vec![finding(
            "os.vm.swappiness",
            Severity::Warning,
            None,
            Vec::new(),
        )];
        let plan = plan(&assessment(findings), &snapshot(None));
        assert!(
            plan.steps[0]
                .rollback
                .body
                .contains("vm.swappiness=<value before the change>")
        );
    }

    #[test]
    fn a_step_never_precedes_a_step_it_depends_on() {
        const T: &str = "postgres://app@db1/erp";
        // The extension's finding is the least severe: by severity alone the statements
        // that query pg_stat_statements would come first.
        let findings = vec![
            finding(
                "pg.extension.pg_stat_statements_missing",
                Severity::Info,
                Some(T),
                Vec::new(),
            ),
            finding(
                "pg.cache.hit_ratio_low",
                Severity::Critical,
                Some(T),
                Vec::new(),
            ),
            finding(
                "pg.tables.seq_scan_heavy",
                Severity::Critical,
                Some(&format!("{T} public.big")),
                Vec::new(),
            ),
        ];
        let plan = plan(&assessment(findings), &snapshot(None));
        let order: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        let pos = |id: &str| order.iter().position(|s| *s == id).expect(id);
        assert!(
            pos("pg.extension.enable_pg_stat_statements") < pos("pg.cache.reduce_reads"),
            "{order:?}"
        );
        assert_eq!(
            step(&plan, "pg.tables.add_index").depends_on,
            ["pg.extension.enable_pg_stat_statements"]
        );
        for (i, s) in plan.steps.iter().enumerate() {
            for d in &s.depends_on {
                assert!(pos(d) < i, "{} before its dependency {d}: {order:?}", s.id);
            }
        }
    }

    #[test]
    fn a_restart_comes_after_the_reload_only_settings_of_the_same_server() {
        const A: &str = "postgres://app@db1/erp";
        const B: &str = "postgres://app@db2/erp";
        let findings = vec![
            // Critical: by severity the restart would come first.
            finding(
                "pg.memory.shared_buffers_low",
                Severity::Critical,
                Some(A),
                Vec::new(),
            ),
            finding(
                "pg.checkpoints.too_frequent",
                Severity::Warning,
                Some(A),
                Vec::new(),
            ),
            // Another server: no reason to wait for it.
            finding("pg.temp.spills", Severity::Warning, Some(B), Vec::new()),
            // Same server, but only reads: nothing a restart would take along.
            finding(
                "pg.connections.near_max",
                Severity::Warning,
                Some(A),
                Vec::new(),
            ),
        ];
        let plan = plan(&assessment(findings), &snapshot(None));
        let order: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            step(&plan, "pg.config.shared_buffers").depends_on,
            ["pg.config.max_wal_size"],
            "{order:?}"
        );
        assert_eq!(
            order,
            [
                "pg.config.max_wal_size",
                "pg.config.shared_buffers",
                "pg.config.work_mem",
                "pg.connections.pooling"
            ]
        );
    }

    #[test]
    fn prerequisites_exist_and_never_point_to_a_later_phase() {
        let catalog = steps_catalog();
        let phase = |id: &str| {
            catalog
                .iter()
                .find(|s| s.id == id)
                .unwrap_or_else(|| panic!("unknown step {id}"))
                .phase
        };
        for def in &catalog {
            for before in prerequisites(def.id) {
                assert!(phase(before) <= def.phase, "{} after {before}", def.id);
            }
        }
        // Every rule at once: the order still holds every dependency (no cycle).
        let plan = plan(&assessment(every_finding()), &snapshot(Some(&os_facts())));
        let placed: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        for (i, s) in plan.steps.iter().enumerate() {
            for d in &s.depends_on {
                assert!(placed[..i].contains(&d.as_str()), "{} before {d}", s.id);
            }
        }
        let phases: Vec<Phase> = plan.steps.iter().map(|s| s.phase).collect();
        assert!(phases.is_sorted(), "{placed:?}");
    }

    #[test]
    fn index_and_sql_steps_are_in_their_own_phase() {
        let plan = plan(&assessment(every_finding()), &snapshot(Some(&os_facts())));
        for id in [
            "pg.tables.add_index",
            "pg.indexes.drop_duplicate",
            "pg.indexes.drop_unused",
            "mysql.sql.index_full_scans",
            "mysql.schema.drop_redundant_indexes",
            "sql.rewrite.select_columns",
        ] {
            assert_eq!(step(&plan, id).phase, Phase::SqlIndexes, "{id}");
        }
        assert_eq!(
            step(&plan, "pg.vacuum.tune_autovacuum").phase,
            Phase::Maintenance
        );
    }

    #[test]
    fn templates_say_so_in_their_first_line_and_runnable_scripts_do_not() {
        let findings = vec![
            finding(
                "pg.tables.seq_scan_heavy",
                Severity::Warning,
                Some("postgres://app@db1/erp public.big"),
                Vec::new(),
            ),
            finding("os.vm.swappiness", Severity::Warning, None, Vec::new()),
            finding(
                "pg.security.trust_auth",
                Severity::Critical,
                Some("postgres://app@db1/erp"),
                Vec::new(),
            ),
        ];
        let plan = plan(&assessment(findings), &snapshot(Some(&os_facts())));
        let index = step(&plan, "pg.tables.add_index");
        assert!(index.template);
        assert!(
            index
                .script
                .body
                .starts_with(&format!("-- {TEMPLATE_MARK}\n")),
            "{}",
            index.script.body
        );
        assert!(index.rollback.body.starts_with("-- TEMPLATE"));
        let swappiness = step(&plan, "os.sysctl.swappiness");
        assert!(!swappiness.template && !swappiness.script.body.contains("TEMPLATE"));
        // sed's word boundaries (\<trust\>) are not placeholders.
        assert!(!step(&plan, "pg.security.hba_scram").template);

        assert!(has_placeholder("CREATE INDEX ON t (<column>);"));
        assert!(has_placeholder("SET GLOBAL x = <value before the change>;"));
        for line in [
            "cat > f <<'EOF'",
            "$MYSQL <<'SQL'",
            "WHERE a < b AND c > d",
            "sed 's/\\<trust\\>/x/'",
            "SELECT 1 WHERE a <> b",
        ] {
            assert!(!has_placeholder(line), "{line}");
        }
        // A placeholder in a comment does not make a template.
        let commented = Script {
            language: "sql".to_owned(),
            body: "-- ALTER ROLE <role> SET work_mem = '256MB';\nSELECT 1;\n".to_owned(),
        };
        assert!(!is_template(&commented));
    }

    #[test]
    fn expected_effects_carry_the_measured_value_and_the_target() {
        let findings = vec![
            finding(
                "pg.cache.hit_ratio_low",
                Severity::Warning,
                Some("postgres://app@db1/erp"),
                vec![Evidence {
                    metric: "pg.cache.hit_ratio_pct".to_owned(),
                    observed: Value::number(91.0, Unit::Percent),
                    threshold: None,
                }],
            ),
            finding(
                "os.vm.swappiness",
                Severity::Warning,
                None,
                vec![number("sysctl.vm.swappiness", 60.0, Some("> 10"))],
            ),
            // No value of the verified metric in the evidence: no numbers to promise.
            finding("pg.temp.spills", Severity::Warning, None, Vec::new()),
        ];
        let plan = plan(&assessment(findings), &snapshot(Some(&os_facts())));
        let effect = |id: &str| step(&plan, id).expected_effect.clone();
        assert_eq!(
            effect("pg.cache.reduce_reads")
                .map(|e| e.to_string())
                .as_deref(),
            Some("pg.cache.hit_ratio_pct: 91 % → >= 99 %")
        );
        assert_eq!(
            effect("os.sysctl.swappiness")
                .map(|e| e.to_string())
                .as_deref(),
            Some("sysctl.vm.swappiness: 60 → <= 1")
        );
        assert!(effect("pg.config.work_mem").is_none());

        // Several subjects: the worst value now; prose targets promise nothing.
        let v = |target: &str| Verification {
            metric: "m".to_owned(),
            target: target.to_owned(),
        };
        let two = [
            finding(
                "r",
                Severity::Warning,
                Some("a"),
                vec![number("m", 30.0, None)],
            ),
            finding(
                "r",
                Severity::Warning,
                Some("b"),
                vec![number("m", 80.0, None)],
            ),
        ];
        let refs: Vec<&Finding> = two.iter().collect();
        let now = |target: &str| expected_effect(&v(target), &refs).map(|e| e.now.to_string());
        assert_eq!(now("< 10").as_deref(), Some("80"));
        assert_eq!(now(">= 90").as_deref(), Some("30"));
        assert_eq!(now("< 1/s").as_deref(), Some("80"));
        assert!(now("lower than before for the classes named").is_none());
        assert!(now("= performance on every CPU").is_none());
    }

    #[test]
    fn step_and_rule_ids_are_unique() {
        let mut ids: Vec<&str> = steps_catalog().iter().map(|s| s.id).collect();
        let mut rules: Vec<&str> = steps_catalog().iter().map(|s| s.rule_id).collect();
        ids.sort_unstable();
        rules.sort_unstable();
        let n = ids.len();
        ids.dedup();
        rules.dedup();
        assert_eq!((ids.len(), rules.len()), (n, n));
    }
}
