//! Baselines: the thresholds each rule is judged against, as data.
//!
//! The built-in baseline is `baselines/host.toml`, embedded in the binary. A user file
//! has the same shape and overrides built-in rules by id, key by key (thresholds,
//! `enabled = false`, ...). Unknown ids, unknown keys and inconsistent thresholds are
//! rejected at load with a message naming the rule, so a typo never silently keeps the
//! built-in value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use perfdiag_model::{Comparison, Dimension, Severity, Threshold, Unit, Value};
use serde::Deserialize;

use crate::error::AnalyzeError;
use crate::rules;

/// The built-in rules, one file per area; only the first names the baseline.
const BUILTIN_TOML: &str = concat!(
    include_str!("../baselines/host.toml"),
    "\n",
    include_str!("../baselines/postgres.toml"),
    "\n",
    include_str!("../baselines/mysql.toml"),
    "\n",
    include_str!("../baselines/mssql.toml"),
    "\n",
    include_str!("../baselines/sql.toml"),
);
const BUILTIN_ORIGIN: &str = "builtin (analyzers/baselines/*.toml)";

/// How a rule compares its value with its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Fires when the value is greater than a threshold.
    Above,
    /// Fires when the value is lower than a threshold.
    Below,
    /// Fires on a state (e.g. THP = `always`), with a fixed severity.
    Condition,
}

/// A warning and a critical threshold; at least one is set for a graded rule.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

/// One rule of a baseline, resolved (built-in values with the user's overrides).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub id: String,
    pub dimension: Dimension,
    pub direction: Direction,
    pub levels: Levels,
    /// The severity of a `condition` rule; `None` for graded rules.
    pub severity: Option<Severity>,
    pub unit: Unit,
    /// Below this activity the rule is not judged (e.g. TCP segments sent per second).
    pub min_activity: Option<f64>,
    /// Alternative thresholds chosen from the host facts, e.g. `nonrotational`.
    pub variants: BTreeMap<String, Levels>,
    pub reference: String,
    pub enabled: bool,
}

impl RuleSpec {
    /// Grades `value` against the rule's main thresholds.
    pub fn grade(&self, value: f64) -> Option<(Severity, Threshold)> {
        self.grade_with(&self.levels, value)
    }

    /// Grades `value` against the thresholds of `variant`, or the main ones when the
    /// baseline does not define that variant.
    pub fn grade_variant(&self, variant: &str, value: f64) -> Option<(Severity, Threshold)> {
        let levels = self.variants.get(variant).unwrap_or(&self.levels);
        self.grade_with(levels, value)
    }

    /// The severity and the threshold crossed (e.g. `"> 85"`), or `None` when `value`
    /// crosses no threshold. Comparisons are strict: a value equal to the threshold
    /// does not fire.
    fn grade_with(&self, levels: &Levels, value: f64) -> Option<(Severity, Threshold)> {
        let (op, crosses): (Comparison, fn(f64, f64) -> bool) = match self.direction {
            Direction::Above => (Comparison::Above, |v, t| v > t),
            Direction::Below => (Comparison::Below, |v, t| v < t),
            Direction::Condition => return None,
        };
        [
            (Severity::Critical, levels.critical),
            (Severity::Warning, levels.warning),
        ]
        .into_iter()
        .find_map(|(severity, threshold)| {
            let t = threshold?;
            crosses(value, t).then(|| (severity, Threshold::new(op, Value::number(t, self.unit))))
        })
    }

    /// The severity of a `condition` rule when its condition holds.
    pub fn condition_severity(&self) -> Severity {
        self.severity.unwrap_or(Severity::Warning)
    }
}

/// Formats a threshold for evidence: integers without a decimal point.
pub(crate) fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A named set of rules with their thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    name: String,
    rules: Vec<RuleSpec>,
}

impl Baseline {
    /// The built-in baseline (`baselines/host.toml`).
    pub fn builtin() -> Baseline {
        // The embedded file is part of the program, checked by the tests: an error here
        // is a build defect, not an input problem.
        Self::parse_builtin(BUILTIN_TOML).expect("the built-in baseline is valid")
    }

    /// The built-in baseline with the overrides of a user file applied.
    pub fn from_file(path: &Path) -> Result<Baseline, AnalyzeError> {
        let text = std::fs::read_to_string(path).map_err(|cause| AnalyzeError::BaselineIo {
            path: path.to_owned(),
            cause,
        })?;
        let default_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Self::builtin().with_overrides(&text, &path.display().to_string(), &default_name)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn rules(&self) -> &[RuleSpec] {
        &self.rules
    }

    pub fn rule(&self, id: &str) -> Option<&RuleSpec> {
        self.rules.iter().find(|r| r.id == id)
    }

    fn parse_builtin(text: &str) -> Result<Baseline, AnalyzeError> {
        let invalid = |detail: String| AnalyzeError::BaselineInvalid {
            origin: BUILTIN_ORIGIN.to_owned(),
            detail,
        };
        let raw = parse_raw(text, BUILTIN_ORIGIN)?;
        let mut rules = Vec::with_capacity(raw.rule.len());
        for r in raw.rule {
            let missing = |key: &str| invalid(format!("rule `{}` has no `{key}`", r.id));
            let dimension =
                parse_dimension(r.dimension.as_deref().ok_or_else(|| missing("dimension"))?)
                    .map_err(|d| invalid(format!("rule `{}`: {d}", r.id)))?;
            rules.push(RuleSpec {
                dimension,
                direction: r.direction.ok_or_else(|| missing("direction"))?,
                levels: Levels {
                    warning: r.warning,
                    critical: r.critical,
                },
                severity: r.severity,
                unit: r.unit.ok_or_else(|| missing("unit"))?,
                min_activity: r.min_activity,
                variants: r.variants,
                reference: r.reference.ok_or_else(|| missing("reference"))?,
                enabled: r.enabled.unwrap_or(true),
                id: r.id,
            });
        }
        let baseline = Baseline {
            name: raw.name.unwrap_or_else(|| "builtin".to_owned()),
            rules,
        };
        baseline.validate().map_err(invalid)?;
        Ok(baseline)
    }

    /// Applies a user file's rules to this baseline, key by key.
    fn with_overrides(
        mut self,
        text: &str,
        origin: &str,
        default_name: &str,
    ) -> Result<Baseline, AnalyzeError> {
        let invalid = |detail: String| AnalyzeError::BaselineInvalid {
            origin: origin.to_owned(),
            detail,
        };
        let raw = parse_raw(text, origin)?;
        for r in raw.rule {
            let Some(index) = self.rules.iter().position(|s| s.id == r.id) else {
                let known: Vec<&str> = self.rules.iter().map(|s| s.id.as_str()).collect();
                return Err(invalid(format!(
                    "unknown rule id `{}`; known ids are: {}",
                    r.id,
                    known.join(", ")
                )));
            };
            let spec = &mut self.rules[index];
            if let Some(d) = r.dimension.as_deref() {
                spec.dimension =
                    parse_dimension(d).map_err(|e| invalid(format!("rule `{}`: {e}", r.id)))?;
            }
            if let Some(d) = r.direction {
                spec.direction = d;
            }
            if r.warning.is_some() {
                spec.levels.warning = r.warning;
            }
            if r.critical.is_some() {
                spec.levels.critical = r.critical;
            }
            if r.severity.is_some() {
                spec.severity = r.severity;
            }
            if let Some(u) = r.unit {
                spec.unit = u;
            }
            if r.min_activity.is_some() {
                spec.min_activity = r.min_activity;
            }
            for (name, levels) in r.variants {
                let target = spec.variants.entry(name).or_default();
                if levels.warning.is_some() {
                    target.warning = levels.warning;
                }
                if levels.critical.is_some() {
                    target.critical = levels.critical;
                }
            }
            if let Some(reference) = r.reference {
                spec.reference = reference;
            }
            if let Some(enabled) = r.enabled {
                spec.enabled = enabled;
            }
        }
        self.name = raw.name.unwrap_or_else(|| default_name.to_owned());
        self.validate().map_err(invalid)?;
        Ok(self)
    }

    /// Checks the rules against each other and against the rules implemented in code.
    fn validate(&self) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for spec in &self.rules {
            if !seen.insert(spec.id.as_str()) {
                return Err(format!("rule `{}` is defined twice", spec.id));
            }
            let Some(def) = rules::definition(&spec.id) else {
                return Err(format!(
                    "rule `{}` is not implemented by this perfdiag",
                    spec.id
                ));
            };
            validate_spec(spec, def)?;
        }
        if let Some(def) = rules::registry().find(|d| !seen.contains(d.id)) {
            return Err(format!(
                "rule `{}` is implemented but has no thresholds",
                def.id
            ));
        }
        Ok(())
    }
}

fn validate_spec(spec: &RuleSpec, def: &rules::RuleDef) -> Result<(), String> {
    let id = &spec.id;
    if spec.direction != def.direction {
        return Err(format!(
            "rule `{id}` is `{}` in code; its direction cannot be changed to `{}`",
            direction_name(def.direction),
            direction_name(spec.direction)
        ));
    }
    if spec.reference.trim().is_empty() {
        return Err(format!("rule `{id}` has an empty `reference`"));
    }
    if spec.min_activity.is_some_and(|m| !m.is_finite() || m < 0.0) {
        return Err(format!("rule `{id}`: `min_activity` must be a number >= 0"));
    }
    for name in spec.variants.keys() {
        if !def.variants.contains(&name.as_str()) {
            return Err(format!(
                "rule `{id}` has no variant `{name}` (it knows: {})",
                if def.variants.is_empty() {
                    "none".to_owned()
                } else {
                    def.variants.join(", ")
                }
            ));
        }
    }
    match spec.direction {
        Direction::Condition => {
            if spec.levels != Levels::default() || !spec.variants.is_empty() {
                return Err(format!(
                    "rule `{id}` fires on a condition: it takes `severity`, not thresholds"
                ));
            }
            if spec.severity.is_none_or(|s| s == Severity::Info) {
                return Err(format!(
                    "rule `{id}` needs `severity = \"warning\"` or `\"critical\"`"
                ));
            }
        }
        Direction::Above | Direction::Below => {
            if spec.severity.is_some() {
                return Err(format!(
                    "rule `{id}` is graded by thresholds: `severity` applies to condition rules only"
                ));
            }
            check_levels(id, "", spec.direction, &spec.levels)?;
            for (name, levels) in &spec.variants {
                check_levels(id, &format!(" (variant `{name}`)"), spec.direction, levels)?;
            }
        }
    }
    Ok(())
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Above => "above",
        Direction::Below => "below",
        Direction::Condition => "condition",
    }
}

fn check_levels(id: &str, what: &str, direction: Direction, l: &Levels) -> Result<(), String> {
    if l.warning.is_none() && l.critical.is_none() {
        return Err(format!(
            "rule `{id}`{what} needs a `warning` or a `critical` threshold"
        ));
    }
    if [l.warning, l.critical]
        .into_iter()
        .flatten()
        .any(|t| !t.is_finite())
    {
        return Err(format!(
            "rule `{id}`{what}: thresholds must be finite numbers"
        ));
    }
    if let (Some(w), Some(c)) = (l.warning, l.critical) {
        let ordered = match direction {
            Direction::Above => w < c,
            Direction::Below => w > c,
            Direction::Condition => true,
        };
        if !ordered {
            let (rel, which) = match direction {
                Direction::Below => ("above", "fires below its thresholds"),
                _ => ("below", "fires above its thresholds"),
            };
            return Err(format!(
                "rule `{id}`{what} {which}: `warning` ({}) must be {rel} `critical` ({})",
                format_number(w),
                format_number(c)
            ));
        }
    }
    Ok(())
}

fn parse_dimension(text: &str) -> Result<Dimension, String> {
    Dimension::ALL
        .into_iter()
        .find(|d| d.id() == text)
        .ok_or_else(|| {
            let known: Vec<_> = Dimension::ALL.iter().map(|d| d.id()).collect();
            format!(
                "unknown dimension `{text}`; known dimensions are: {}",
                known.join(", ")
            )
        })
}

fn parse_raw(text: &str, origin: &str) -> Result<RawFile, AnalyzeError> {
    let raw: RawFile = toml::from_str(text).map_err(|cause| AnalyzeError::BaselineSyntax {
        origin: origin.to_owned(),
        cause,
    })?;
    let mut seen = BTreeSet::new();
    if let Some(dup) = raw.rule.iter().find(|r| !seen.insert(r.id.as_str())) {
        return Err(AnalyzeError::BaselineInvalid {
            origin: origin.to_owned(),
            detail: format!("rule `{}` is defined twice", dup.id),
        });
    }
    Ok(raw)
}

/// A baseline file as written: every key optional, so one shape serves both the
/// built-in file (where [`Baseline::parse_builtin`] requires the keys) and overrides.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Option<String>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    dimension: Option<String>,
    direction: Option<Direction>,
    warning: Option<f64>,
    critical: Option<f64>,
    severity: Option<Severity>,
    unit: Option<Unit>,
    min_activity: Option<f64>,
    #[serde(default)]
    variants: BTreeMap<String, Levels>,
    reference: Option<String>,
    enabled: Option<bool>,
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use perfdiag_model::Severity;

    use super::*;
    use crate::test_support::{Fixture, findings_of};

    fn write_baseline(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .expect("temp file");
        file.write_all(text.as_bytes()).expect("write");
        file
    }

    fn load_error(text: &str) -> String {
        let file = write_baseline(text);
        match Baseline::from_file(file.path()) {
            Ok(b) => panic!("accepted: {b:#?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn builtin_covers_exactly_the_implemented_rules() {
        let builtin = Baseline::builtin();
        let in_file: BTreeSet<&str> = builtin.rules().iter().map(|r| r.id.as_str()).collect();
        let in_code: BTreeSet<&str> = rules::implemented_rule_ids().collect();
        assert_eq!(in_file, in_code);
        assert!(in_code.len() >= 12);
        assert_eq!(builtin.name(), "builtin");
        assert!(builtin.rules().iter().all(|r| r.enabled));
    }

    #[test]
    fn grading_is_strict_and_graded() {
        let builtin = Baseline::builtin();
        let spec = builtin.rule("host.cpu.saturation").expect("rule");
        let shown = |g: Option<(Severity, Threshold)>| g.map(|(s, t)| (s, t.to_string()));
        assert_eq!(spec.grade(85.0), None);
        assert_eq!(
            shown(spec.grade(85.5)),
            Some((Severity::Warning, "> 85 %".to_owned()))
        );
        assert_eq!(
            shown(spec.grade(99.0)),
            Some((Severity::Critical, "> 95 %".to_owned()))
        );
        let below = builtin.rule("os.limits.nofile").expect("rule");
        assert_eq!(below.grade(65_536.0), None);
        assert_eq!(
            shown(below.grade(1024.0)),
            Some((Severity::Critical, "< 4096".to_owned()))
        );
    }

    #[test]
    fn a_user_file_overrides_a_threshold_and_flips_a_rule() {
        let mut fixture = Fixture::healthy();
        fixture.set_sysctl("vm.swappiness", "30");
        assert_eq!(findings_of(&fixture.assess(), "os.vm.swappiness").len(), 1);

        let file = write_baseline(
            "name = \"customer-x\"\n[[rule]]\nid = \"os.vm.swappiness\"\nwarning = 40\n",
        );
        let baseline = Baseline::from_file(file.path()).expect("valid override");
        assert_eq!(baseline.name(), "customer-x");
        let spec = baseline.rule("os.vm.swappiness").expect("rule");
        assert_eq!(spec.levels.warning, Some(40.0));
        assert_eq!(
            spec.reference,
            Baseline::builtin()
                .rule("os.vm.swappiness")
                .expect("rule")
                .reference
        );
        let a = crate::assess(&fixture.build(), &baseline).expect("assess");
        assert!(findings_of(&a, "os.vm.swappiness").is_empty());
        assert_eq!(a.baseline, "customer-x");
    }

    #[test]
    fn a_user_file_can_disable_a_rule_and_defaults_its_name_to_the_file() {
        let mut fixture = Fixture::healthy();
        fixture.set_sysctl("vm.swappiness", "60");
        fixture.os_mut().transparent_hugepages = None;
        let file = write_baseline(
            "[[rule]]\nid = \"os.vm.swappiness\"\nenabled = false\n\
             [[rule]]\nid = \"os.thp.enabled\"\nenabled = false\n\
             [[rule]]\nid = \"host.disk.await\"\n[rule.variants.nonrotational]\nwarning = 0.1\n",
        );
        let baseline = Baseline::from_file(file.path()).expect("valid override");
        let file_name = file
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        assert_eq!(baseline.name(), file_name);
        let a = crate::assess(&fixture.build(), &baseline).expect("assess");
        assert!(findings_of(&a, "os.vm.swappiness").is_empty());
        assert!(
            a.not_evaluated
                .iter()
                .all(|n| n.rule_id != "os.thp.enabled"),
            "disabled rules are not listed"
        );
        let nvme = findings_of(&a, "host.disk.await");
        assert_eq!(nvme.len(), 1);
        assert_eq!(nvme[0].subject.as_deref(), Some("nvme0n1"));
        // The override kept the variant's built-in critical threshold.
        let spec = baseline.rule("host.disk.await").expect("rule");
        assert_eq!(spec.variants["nonrotational"].critical, Some(20.0));
    }

    #[test]
    fn unknown_rule_id_is_rejected_with_the_known_ids() {
        let e = load_error("[[rule]]\nid = \"os.vm.swapiness\"\nwarning = 5\n");
        assert!(e.contains("unknown rule id `os.vm.swapiness`"), "{e}");
        assert!(e.contains("os.vm.swappiness"), "{e}");
    }

    #[test]
    fn unknown_key_is_rejected() {
        let e = load_error("[[rule]]\nid = \"os.vm.swappiness\"\nwarn = 5\n");
        assert!(e.contains("unknown field `warn`"), "{e}");
    }

    #[test]
    fn bad_dimension_is_rejected() {
        let e = load_error("[[rule]]\nid = \"os.vm.swappiness\"\ndimension = \"kernel\"\n");
        assert!(e.contains("unknown dimension `kernel`"), "{e}");
        assert!(e.contains("os_config"), "{e}");
    }

    #[test]
    fn duplicate_id_is_rejected() {
        let e = load_error(
            "[[rule]]\nid = \"os.vm.swappiness\"\n[[rule]]\nid = \"os.vm.swappiness\"\n",
        );
        assert!(
            e.contains("rule `os.vm.swappiness` is defined twice"),
            "{e}"
        );
        let builtin = format!("{BUILTIN_TOML}\n[[rule]]\nid = \"os.vm.swappiness\"\n");
        let e = Baseline::parse_builtin(&builtin)
            .expect_err("duplicate")
            .to_string();
        assert!(e.contains("defined twice"), "{e}");
    }

    #[test]
    fn inconsistent_thresholds_are_rejected() {
        let e = load_error("[[rule]]\nid = \"host.cpu.iowait\"\nwarning = 30\n");
        assert!(
            e.contains("`warning` (30) must be below `critical` (25)"),
            "{e}"
        );
        let e = load_error("[[rule]]\nid = \"os.thp.enabled\"\nwarning = 1\n");
        assert!(e.contains("takes `severity`"), "{e}");
        let e = load_error("[[rule]]\nid = \"os.vm.swappiness\"\ndirection = \"below\"\n");
        assert!(e.contains("cannot be changed"), "{e}");
        let e =
            load_error("[[rule]]\nid = \"host.cpu.iowait\"\n[rule.variants.ssd]\nwarning = 1\n");
        assert!(e.contains("no variant `ssd`"), "{e}");
    }

    #[test]
    fn builtin_without_an_implemented_rule_is_rejected() {
        let start = BUILTIN_TOML
            .find("[[rule]]\nid = \"os.cpu.governor\"")
            .expect("rule present");
        let e = Baseline::parse_builtin(&BUILTIN_TOML[..start])
            .expect_err("missing")
            .to_string();
        assert!(
            e.contains("`os.cpu.governor` is implemented but has no thresholds"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_names_the_path() {
        let e = Baseline::from_file(Path::new("/nonexistent/perfdiag.toml")).expect_err("missing");
        assert!(e.to_string().contains("/nonexistent/perfdiag.toml"));
    }
}
