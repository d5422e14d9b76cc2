//! Kernel parameter steps: a `/etc/sysctl.d` snippet applied at once, and a rollback
//! that restores the values the snapshot recorded.

use perfdiag_model::{Finding, Phase, Risk};

use super::{Context, Draft, StepDef, sh, verify};

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

pub(super) const SWAPPINESS: StepDef = StepDef {
    id: "os.sysctl.swappiness",
    rule_id: "os.vm.swappiness",
    phase: Phase::QuickWins,
    build: |ctx, _| {
        let mut d = sysctl_draft(
            "60-perfdiag-swappiness.conf",
            &[("vm.swappiness", "1".to_owned())],
            &[("vm.swappiness".to_owned(), current(ctx, "vm.swappiness"))],
            Risk::Low,
        );
        d.verify = verify("sysctl.vm.swappiness", "<= 10");
        d
    },
};

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

pub(super) const SOMAXCONN: StepDef = StepDef {
    id: "os.sysctl.somaxconn",
    rule_id: "os.net.somaxconn",
    phase: Phase::QuickWins,
    build: |ctx, _| {
        let mut d = sysctl_draft(
            "60-perfdiag-somaxconn.conf",
            &[("net.core.somaxconn", "4096".to_owned())],
            &[(
                "net.core.somaxconn".to_owned(),
                current(ctx, "net.core.somaxconn"),
            )],
            Risk::Low,
        );
        d.verify = verify("sysctl.net.core.somaxconn", ">= 1024");
        d
    },
};

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
