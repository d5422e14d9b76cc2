//! Clock synchronisation: install and enable chrony when no time daemon runs, or make
//! the running one synchronise.

use perfdiag_model::{Phase, Risk};

use super::{Draft, StepDef, sh, verify};

pub(super) const SYNC: StepDef = StepDef {
    id: "os.clock.sync",
    rule_id: "os.clock.unsynchronized",
    phase: Phase::Configuration,
    build: |ctx, _| {
        let daemon = ctx.os.as_ref().and_then(|o| o.time_sync.daemon.as_deref());
        let (script, rollback) = match daemon {
            None => (
                "# No time daemon runs: install chrony and let it slew the clock gradually.\n\
                 apt-get install -y chrony || dnf install -y chrony || zypper install -y chrony\n\
                 systemctl enable --now chrony 2>/dev/null || systemctl enable --now chronyd\n\
                 # Point it at the customer's NTP servers in /etc/chrony/chrony.conf (or\n\
                 # /etc/chrony.conf) if the default pool is not reachable, then:\n\
                 chronyc tracking\n"
                    .to_owned(),
                "# Before the change no time daemon was running.\n\
                 systemctl disable --now chrony 2>/dev/null || systemctl disable --now chronyd\n"
                    .to_owned(),
            ),
            Some(d) => (
                format!(
                    "# {d} runs but the kernel reports the clock unsynchronised.\n\
                     systemctl status {d}\n\
                     # chrony: chronyc sources -v ; ntpd: ntpq -p\n\
                     # Check that UDP 123 to the NTP servers is open, fix the server list,\n\
                     # then restart the daemon:\n\
                     systemctl restart {d}\n"
                ),
                format!(
                    "# Before the change {d} was running with its previous configuration:\n\
                     # restore the configuration file from its backup, then\n\
                     systemctl restart {d}\n"
                ),
            ),
        };
        Draft {
            script: sh(script),
            rollback: sh(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("time_sync.synchronized", "= true"),
        }
    },
};
