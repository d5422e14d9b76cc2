//! CPU frequency governor: `performance` now, and at every boot through a systemd unit.

use perfdiag_model::{Phase, Risk};

use super::{Draft, StepDef, sh, verify};

const UNIT: &str = "/etc/systemd/system/perfdiag-cpu-governor.service";
const SET: &str = "for g in /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor; do echo";

pub(super) const PERFORMANCE: StepDef = StepDef {
    id: "os.cpu.governor.performance",
    rule_id: "os.cpu.governor",
    phase: Phase::QuickWins,
    build: |ctx, _| {
        // Restore the governor most CPUs used before the change.
        let previous = ctx
            .os
            .as_ref()
            .and_then(|o| o.cpu_governors.iter().max_by_key(|(_, cpus)| **cpus))
            .map_or("<governor before the change>", |(name, _)| name.as_str());
        let script = format!(
            "# Now:\n\
             {SET} performance > \"$g\"; done\n\
             # At every boot (or: tuned-adm profile throughput-performance):\n\
             cat > {UNIT} <<'EOF'\n\
             [Unit]\n\
             Description=CPU frequency governor performance (perfdiag plan step)\n\n\
             [Service]\n\
             Type=oneshot\n\
             ExecStart=/bin/sh -c '{SET} performance > \"$g\"; done'\n\n\
             [Install]\n\
             WantedBy=multi-user.target\n\
             EOF\n\
             systemctl daemon-reload\n\
             systemctl enable perfdiag-cpu-governor.service\n"
        );
        let rollback = format!(
            "systemctl disable perfdiag-cpu-governor.service\n\
             rm -f {UNIT}\n\
             systemctl daemon-reload\n\
             {SET} {previous} > \"$g\"; done\n"
        );
        Draft {
            script: sh(script),
            rollback: sh(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("os.cpu_governor", "= performance on every CPU"),
        }
    },
};
