//! Kernel parameter steps: a `/etc/sysctl.d` snippet applied at once, and a rollback
//! that restores the values the snapshot recorded.
//!
//! Where the right value depends on the host (dedicated or shared) or on the databases
//! it runs, the finding carries it as evidence (`os.expected.<parameter>`, computed by
//! the analyzers: docs/tuning.md) and the step sets that; the fixed values here are for
//! findings without it.

use perfdiag_model::{Finding, Phase, Risk};

use super::{Context, Draft, StepDef, largest, sh, verify};

/// Writes `settings` to `/etc/sysctl.d/<file>` and loads it; the rollback removes the
/// file and sets each parameter back to `restore` (the value before the change).
fn sysctl_draft(
    file: &str,
    settings: &[(&str, String)],
    restore: &[(String, String)],
    risk: Risk,
) -> Draft {
    let path = format!("/etc/sysctl.d/{file}");
    let lines: String = settings
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    let script = format!(
        "# Persist the setting, then load it now (no reboot needed).\n\
         cat > {path} <<'EOF'\n# Written by a perfdiag plan step; remove to roll back.\n{lines}EOF\n\
         sysctl -p {path}\n"
    );
    let mut rollback = format!("rm -f {path}\n");
    for (name, value) in restore {
        rollback.push_str(&format!("sysctl -w {name}={value}\n"));
    }
    Draft {
        script: sh(script),
        rollback: sh(rollback),
        risk,
        needs_restart: false,
        verify: verify(
            &format!("sysctl.{}", settings[0].0),
            &format!("= {}", settings[0].1),
        ),
    }
}

/// The value to restore: what the snapshot recorded, or a placeholder that does not run.
fn current(ctx: &Context, name: &str) -> String {
    ctx.sysctl(name)
        .map(str::to_owned)
        .unwrap_or_else(|| "<value before the change>".to_owned())
}

/// vm.swappiness without the finding's expected value: a dedicated host's.
const SWAPPINESS_FALLBACK: f64 = 1.0;

pub(super) const SWAPPINESS: StepDef = StepDef {
    id: "os.sysctl.swappiness",
    rule_id: "os.vm.swappiness",
    phase: Phase::QuickWins,
    build: swappiness,
};

/// The expected swappiness (1 on a dedicated host, 10 on a shared one; a ceiling, so
/// the lowest any finding asks for), else 1.
fn swappiness(ctx: &Context, findings: &[&Finding]) -> Draft {
    let value = findings
        .iter()
        .filter_map(|f| super::number(f, "os.expected.vm.swappiness"))
        .min_by(f64::total_cmp)
        .unwrap_or(SWAPPINESS_FALLBACK);
    let value = format!("{value:.0}");
    let mut d = sysctl_draft(
        "60-perfdiag-swappiness.conf",
        &[("vm.swappiness", value.clone())],
        &[("vm.swappiness".to_owned(), current(ctx, "vm.swappiness"))],
        Risk::Low,
    );
    d.verify = verify("sysctl.vm.swappiness", &format!("<= {value}"));
    d
}

/// 256 MiB of dirty data starts background writeback, 1 GiB throttles writers: small
/// enough for a storage array to absorb in well under a second.
const DIRTY_BACKGROUND_BYTES: u64 = 256 << 20;
const DIRTY_BYTES: u64 = 1 << 30;

pub(super) const DIRTY: StepDef = StepDef {
    id: "os.sysctl.dirty",
    rule_id: "os.vm.dirty",
    phase: Phase::QuickWins,
    build: dirty,
};

fn dirty(ctx: &Context, _: &[&Finding]) -> Draft {
    // Restore whichever form was in force: *_bytes when non-zero, else the ratio
    // (writing one of the pair makes the kernel zero the other).
    let restore = |prefix: &str| {
        let bytes = format!("vm.{prefix}_bytes");
        match ctx.sysctl(&bytes) {
            Some(v) if v.trim() != "0" => (bytes, v.to_owned()),
            _ => {
                let ratio = format!("vm.{prefix}_ratio");
                let value = current(ctx, &ratio);
                (ratio, value)
            }
        }
    };
    let mut d = sysctl_draft(
        "60-perfdiag-dirty.conf",
        &[
            (
                "vm.dirty_background_bytes",
                DIRTY_BACKGROUND_BYTES.to_string(),
            ),
            ("vm.dirty_bytes", DIRTY_BYTES.to_string()),
        ],
        &[restore("dirty_background"), restore("dirty")],
        Risk::Medium,
    );
    d.verify = verify(
        "os.vm.dirty_background_limit_bytes",
        &format!("<= {DIRTY_BACKGROUND_BYTES}"),
    );
    d
}

/// The least net.core.somaxconn the step sets: the kernel's default since Linux 5.4,
/// above the rule's warning threshold (1024).
const SOMAXCONN_MIN: f64 = 4096.0;

pub(super) const SOMAXCONN: StepDef = StepDef {
    id: "os.sysctl.somaxconn",
    rule_id: "os.net.somaxconn",
    phase: Phase::QuickWins,
    build: somaxconn,
};

/// The listen backlog the local databases ask for (`os.expected.net.core.somaxconn`, a
/// floor), at least [`SOMAXCONN_MIN`]: a floor below the kernel's own default would
/// lower the limit for every other service.
fn somaxconn(ctx: &Context, findings: &[&Finding]) -> Draft {
    let value = largest(findings, "os.expected.net.core.somaxconn")
        .map_or(SOMAXCONN_MIN, |e| e.ceil().max(SOMAXCONN_MIN));
    let value = format!("{value:.0}");
    let mut d = sysctl_draft(
        "60-perfdiag-somaxconn.conf",
        &[("net.core.somaxconn", value.clone())],
        &[(
            "net.core.somaxconn".to_owned(),
            current(ctx, "net.core.somaxconn"),
        )],
        Risk::Low,
    );
    d.verify = verify("sysctl.net.core.somaxconn", &format!(">= {value}"));
    d
}

pub(super) const ZONE_RECLAIM: StepDef = StepDef {
    id: "os.sysctl.zone_reclaim",
    rule_id: "os.numa.zone_reclaim",
    phase: Phase::QuickWins,
    build: |ctx, _| {
        sysctl_draft(
            "60-perfdiag-zone-reclaim.conf",
            &[("vm.zone_reclaim_mode", "0".to_owned())],
            &[(
                "vm.zone_reclaim_mode".to_owned(),
                current(ctx, "vm.zone_reclaim_mode"),
            )],
            Risk::Low,
        )
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::{Evidence, Severity, Unit, Value};

    use super::*;
    use crate::test_support::{finding, number, os_facts};

    fn expected(metric: &str, value: f64) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::number(value, Unit::None),
            threshold: None,
        }
    }

    fn ctx() -> Context {
        Context {
            os: Some(os_facts()),
            ..Context::default()
        }
    }

    #[test]
    fn swappiness_is_the_expected_value_for_a_shared_or_dedicated_host() {
        let shared = finding(
            "os.vm.swappiness",
            Severity::Warning,
            None,
            vec![
                number("sysctl.vm.swappiness", 60.0, Some("> 10")),
                expected("os.expected.vm.swappiness", 10.0),
            ],
        );
        let d = swappiness(&ctx(), &[&shared]);
        assert!(
            d.script.body.contains("vm.swappiness = 10\n"),
            "{}",
            d.script.body
        );
        assert_eq!(d.verify.target, "<= 10");
        assert!(d.rollback.body.contains("sysctl -w vm.swappiness=60"));
        // Without the expected value: a dedicated host's 1.
        let bare = finding("os.vm.swappiness", Severity::Warning, None, Vec::new());
        let d = swappiness(&ctx(), &[&bare]);
        assert!(d.script.body.contains("vm.swappiness = 1\n"));
        assert_eq!(d.verify.target, "<= 1");
    }

    #[test]
    fn somaxconn_covers_the_largest_database_backlog() {
        // PostgreSQL with max_connections = 5000 asks for a backlog of 10000.
        let f = finding(
            "os.net.somaxconn",
            Severity::Warning,
            None,
            vec![
                number("sysctl.net.core.somaxconn", 4096.0, Some("< 10000")),
                expected("os.expected.net.core.somaxconn", 10_000.0),
            ],
        );
        let d = somaxconn(&ctx(), &[&f]);
        assert!(
            d.script.body.contains("net.core.somaxconn = 10000\n"),
            "{}",
            d.script.body
        );
        assert_eq!(d.verify.target, ">= 10000");
        assert!(d.rollback.body.contains("sysctl -w net.core.somaxconn=128"));
        // A small backlog never lowers the limit under the kernel's default.
        let small = finding(
            "os.net.somaxconn",
            Severity::Warning,
            None,
            vec![expected("os.expected.net.core.somaxconn", 200.0)],
        );
        assert!(
            somaxconn(&ctx(), &[&small])
                .script
                .body
                .contains("net.core.somaxconn = 4096\n")
        );
        let bare = finding("os.net.somaxconn", Severity::Warning, None, Vec::new());
        assert!(
            somaxconn(&ctx(), &[&bare])
                .script
                .body
                .contains("net.core.somaxconn = 4096\n")
        );
    }
}
