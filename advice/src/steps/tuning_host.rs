//! Plan step for `os.hugepages.unused_for_buffers`: reserve as many huge pages as the
//! local databases' buffers need (none when no database uses them), persisted in
//! `/etc/sysctl.d`; the rollback restores the recorded `vm.nr_hugepages`.

use perfdiag_model::{Finding, Phase, Risk};

use super::{Context, Draft, StepDef, evidence_lines, number, sh, verify};

pub(super) const HUGEPAGES: StepDef = StepDef {
    id: "os.hugepages.size_for_buffers",
    rule_id: "os.hugepages.unused_for_buffers",
    phase: Phase::Configuration,
    build,
};

/// The host expected-settings steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[HUGEPAGES];

const FILE: &str = "/etc/sysctl.d/60-perfdiag-hugepages.conf";

fn build(ctx: &Context, findings: &[&Finding]) -> Draft {
    let pages = findings
        .iter()
        .find_map(|f| number(f, "os.expected.vm.nr_hugepages"))
        .map(|p| p.max(0.0).round() as u64);
    let value = pages.map_or_else(
        || "<huge pages the database buffers need, 0 if none>".to_owned(),
        |p| p.to_string(),
    );
    let mut script = format!("# Measured:\n{}", evidence_lines(findings));
    script.push_str(&format!(
        "# Reserve what the database buffers need (0 releases the reserved memory).\n\
         cat > {FILE} <<'EOF'\n# Written by a perfdiag plan step; remove to roll back.\nvm.nr_hugepages = {value}\nEOF\n\
         sysctl -p {FILE}\n\
         # The kernel may reserve fewer pages when memory is fragmented: compare with\n\
         grep -E 'HugePages_(Total|Free)' /proc/meminfo\n"
    ));
    if pages.is_some_and(|p| p > 0) {
        script.push_str(
            "# Restart the database so its buffers are allocated in huge pages (PostgreSQL:\n\
             # huge_pages = try or on; MySQL/MariaDB: large_pages = ON), e.g.\n\
             # systemctl restart postgresql   (or mysql / mariadb)\n",
        );
    }
    let before = ctx
        .sysctl("vm.nr_hugepages")
        .unwrap_or("<value before the change>");
    Draft {
        script: sh(script),
        rollback: sh(format!(
            "rm -f {FILE}\nsysctl -w vm.nr_hugepages={before}\n"
        )),
        risk: Risk::Medium,
        needs_restart: pages.is_some_and(|p| p > 0),
        verify: verify("os.hugepages.unusable_pct_ram", "< 1 %"),
    }
}

#[cfg(test)]
mod tests {
    use perfdiag_model::{Evidence, Severity, Unit, Value};

    use super::*;
    use crate::test_support::{finding, os_facts};

    #[test]
    fn reserves_the_pages_the_buffers_need_and_restores_the_recorded_count() {
        let f = finding(
            "os.hugepages.unused_for_buffers",
            Severity::Critical,
            None,
            vec![Evidence {
                metric: "os.expected.vm.nr_hugepages".to_owned(),
                observed: Value::number(2151.0, Unit::None),
                threshold: None,
            }],
        );
        let mut os = os_facts();
        os.sysctls
            .insert("vm.nr_hugepages".to_owned(), "2048".to_owned());
        let ctx = Context {
            os: Some(os),
            ..Context::default()
        };
        let d = build(&ctx, &[&f]);
        assert!(
            d.script.body.contains("vm.nr_hugepages = 2151\n"),
            "{}",
            d.script.body
        );
        assert!(d.rollback.body.contains("sysctl -w vm.nr_hugepages=2048"));
        assert!(d.needs_restart);
        let release = finding(
            "os.hugepages.unused_for_buffers",
            Severity::Critical,
            None,
            vec![Evidence {
                metric: "os.expected.vm.nr_hugepages".to_owned(),
                observed: Value::number(0.0, Unit::None),
                threshold: None,
            }],
        );
        let d = build(&Context::default(), &[&release]);
        assert!(d.script.body.contains("vm.nr_hugepages = 0\n"));
        assert!(!d.needs_restart);
        assert!(
            d.rollback
                .body
                .contains("vm.nr_hugepages=<value before the change>")
        );
    }
}
