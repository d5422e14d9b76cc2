//! Transparent huge pages: `never` now, and at every boot through a systemd unit that
//! runs before the database starts.

use perfdiag_model::{Phase, Risk};

use super::{Draft, StepDef, sh, verify};

const UNIT: &str = "/etc/systemd/system/perfdiag-disable-thp.service";
const SYS: &str = "/sys/kernel/mm/transparent_hugepage";

pub(super) const DISABLE: StepDef = StepDef {
    id: "os.thp.disable",
    rule_id: "os.thp.enabled",
    phase: Phase::QuickWins,
    build: |ctx, _| {
        let thp = ctx
            .os
            .as_ref()
            .and_then(|o| o.transparent_hugepages.as_ref());
        let enabled = thp.map_or("always", |t| t.enabled.as_str());
        let defrag = thp.and_then(|t| t.defrag.as_deref());
        let script = format!(
            "# Now (takes effect for new allocations; restart the database to release\n\
             # huge pages it already holds):\n\
             echo never > {SYS}/enabled\n\
             echo never > {SYS}/defrag\n\
             # At every boot, before the database starts:\n\
             cat > {UNIT} <<'EOF'\n\
             [Unit]\n\
             Description=Disable transparent huge pages (perfdiag plan step)\n\
             DefaultDependencies=no\n\
             After=sysinit.target local-fs.target\n\
             Before=basic.target postgresql.service mysql.service mariadb.service\n\n\
             [Service]\n\
             Type=oneshot\n\
             ExecStart=/bin/sh -c 'echo never > {SYS}/enabled && echo never > {SYS}/defrag'\n\n\
             [Install]\n\
             WantedBy=basic.target\n\
             EOF\n\
             systemctl daemon-reload\n\
             systemctl enable perfdiag-disable-thp.service\n\
             # Alternative: add transparent_hugepage=never to the kernel command line.\n"
        );
        let mut rollback = format!(
            "systemctl disable perfdiag-disable-thp.service\n\
             rm -f {UNIT}\n\
             systemctl daemon-reload\n\
             echo {enabled} > {SYS}/enabled\n"
        );
        if let Some(defrag) = defrag {
            rollback.push_str(&format!("echo {defrag} > {SYS}/defrag\n"));
        }
        Draft {
            script: sh(script),
            rollback: sh(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("os.thp.enabled", "= never"),
        }
    },
};
