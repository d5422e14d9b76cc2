//! `perfdiag plan`: write a snapshot's optimization plan as files for the person who
//! applies it: `plan.json` (the plan itself), one folder per step numbered in the order
//! to run them, each with an apply and a rollback script that start with what the step
//! is, and a `README.md` in the report language. perfdiag runs none of it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use perfdiag_model::{Plan, PlanStep, Snapshot};

use super::{Outcome, assess_and_plan, write_file};
use crate::cli::PlanArgs;
use crate::output;
use crate::report::Catalog;

pub fn run(args: &PlanArgs) -> Result<Outcome> {
    // Checked before the assessment: a mistyped folder fails at once.
    check_output_dir(&args.output)?;
    let snapshot = Snapshot::read(&args.snapshot)?;
    let (_, plan, catalog) = assess_and_plan(&snapshot, &args.analysis)?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let source = args
        .snapshot
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let written = write_plan(&args.output, &plan, &catalog, &snapshot, &source)?;
    let mut listing = String::new();
    for path in &written {
        let _ = writeln!(listing, "{}", path.display());
    }
    output::print(&listing);
    eprintln!(
        "plan of {} steps written to {}; perfdiag runs none of it: review, then apply by hand",
        plan.steps.len(),
        args.output.display()
    );
    Ok(Outcome::Clean)
}

/// A plan folder is never written over: it may hold scripts someone already reviewed,
/// or the definitions a step saved for its rollback.
fn check_output_dir(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} exists and is not empty: perfdiag never writes over a plan folder; \
                     give a new folder (it is created) or empty this one",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() => bail!("{} exists and is not a folder", dir.display()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Writes everything into `dir` (which exists and is empty) and returns the paths
/// written, in order.
pub(super) fn write_plan(
    dir: &Path,
    plan: &Plan,
    c: &Catalog,
    snapshot: &Snapshot,
    source: &str,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let json = dir.join("plan.json");
    write_file(&json, &(serde_json::to_string_pretty(plan)? + "\n"))?;
    written.push(json);
    let numbered = Numbered::new(plan);
    for (i, step) in plan.steps.iter().enumerate() {
        let folder = dir.join(numbered.folder(i));
        std::fs::create_dir(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        for (name, script, rollback) in [
            ("apply", &step.script, false),
            ("rollback", &step.rollback, true),
        ] {
            let path = folder.join(format!("{name}.{}", extension(&script.language)));
            let text = format!(
                "{}{}",
                header(step, i, &numbered, c, rollback),
                ensure_newline(&script.body)
            );
            write_file(&path, &text)?;
            if script.language == "sh" {
                make_executable(&path)?;
            }
            written.push(path);
        }
    }
    let readme = dir.join("README.md");
    write_file(&readme, readme_text(plan, &numbered, c, snapshot, source))?;
    written.push(readme);
    Ok(written)
}

/// Step numbers and folder names, in plan order.
struct Numbered<'a> {
    plan: &'a Plan,
    width: usize,
}

impl<'a> Numbered<'a> {
    fn new(plan: &'a Plan) -> Self {
        Self {
            plan,
            width: plan.steps.len().to_string().len().max(2),
        }
    }

    /// `03-pg.config.shared_buffers`.
    fn folder(&self, i: usize) -> String {
        format!("{:0w$}-{}", i + 1, self.plan.steps[i].id, w = self.width)
    }

    /// `step 3 (pg.extension.enable_pg_stat_statements)` for each dependency.
    fn dependencies(&self, step: &PlanStep, c: &Catalog) -> Vec<String> {
        step.depends_on
            .iter()
            .map(
                |id| match self.plan.steps.iter().position(|s| &s.id == id) {
                    Some(n) => format!("{} {} ({id})", c.text("plan_files.step"), n + 1),
                    None => id.clone(),
                },
            )
            .collect()
    }
}

fn extension(language: &str) -> &'static str {
    match language {
        "sql" => "sql",
        "sh" => "sh",
        "powershell" => "ps1",
        _ => "txt",
    }
}

fn ensure_newline(body: &str) -> String {
    if body.ends_with('\n') {
        body.to_owned()
    } else {
        format!("{body}\n")
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

fn title(step: &PlanStep, c: &Catalog) -> String {
    c.text(&format!("step.{}.title", step.id))
}

fn phase(step: &PlanStep, c: &Catalog) -> String {
    c.text(&format!("phase.{}", plain(&step.phase)))
}

fn risk(step: &PlanStep, c: &Catalog) -> String {
    c.text(&format!("risk.{}", plain(&step.risk)))
}

fn restart(step: &PlanStep, c: &Catalog) -> String {
    c.text(if step.needs_restart {
        "plan_files.restart_yes"
    } else {
        "plan_files.restart_no"
    })
}

fn target(step: &PlanStep, c: &Catalog) -> String {
    step.subject
        .clone()
        .unwrap_or_else(|| c.text("plan_files.this_host"))
}

/// The snake_case name serde gives a unit enum variant.
fn plain<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The comment block a script starts with: what the step is, where it applies, its
/// risk, restart, how to verify it, what to apply first.
fn header(step: &PlanStep, i: usize, n: &Numbered, c: &Catalog, rollback: bool) -> String {
    let language = if rollback {
        &step.rollback.language
    } else {
        &step.script.language
    };
    let marker = if language == "sql" { "--" } else { "#" };
    let total = n.plan.steps.len().to_string();
    let number = (i + 1).to_string();
    let which = if rollback {
        "plan_files.header_rollback"
    } else {
        "plan_files.header_apply"
    };
    let mut lines = vec![
        format!(
            "{}: {}",
            c.text(which)
                .replace("{n}", &number)
                .replace("{total}", &total),
            title(step, c)
        ),
        format!("{}: {}", c.text("plan_files.id"), step.id),
        format!("{}: {}", c.text("plan_files.target"), target(step, c)),
        format!("{}: {}", c.text("plan.phase"), phase(step, c)),
        format!("{}: {}", c.text("plan.risk"), risk(step, c)),
        format!("{}: {}", c.text("plan.restart"), restart(step, c)),
    ];
    if rollback {
        lines.push(c.text("plan_files.rollback_what"));
    } else {
        lines.push(format!(
            "{}: {} {}",
            c.text("plan.verify"),
            step.verify.metric,
            step.verify.target
        ));
        if let Some(effect) = &step.expected_effect {
            lines.push(format!("{}: {effect}", c.text("plan_files.in_numbers")));
        }
    }
    let deps = n.dependencies(step, c);
    if !deps.is_empty() && !rollback {
        lines.push(format!(
            "{}: {}",
            c.text("plan_files.depends_on"),
            deps.join(", ")
        ));
    }
    let template = if rollback {
        step.rollback.body.contains(perfdiag_advice::TEMPLATE_MARK)
    } else {
        step.template
    };
    if template {
        lines.push(c.text("plan_files.template"));
    }
    lines.push(c.text("plan_files.never_runs"));
    let mut out = String::new();
    if language == "sh" {
        out.push_str("#!/bin/sh\n");
    }
    for line in lines {
        for part in line.lines() {
            let _ = writeln!(out, "{marker} {part}");
        }
    }
    out.push('\n');
    out
}

/// How to run a step's scripts, as a command line for the README.
fn run_hint(step: &PlanStep, folder: &str, c: &Catalog) -> String {
    let ext = extension(&step.script.language);
    match (step.script.language.as_str(), step.id.split('.').next()) {
        ("sql", Some("pg")) => format!(
            "`cd {folder} && psql -X -v ON_ERROR_STOP=1 -d <database> -f apply.{ext}` ({})",
            c.text("plan_files.run_pg")
        ),
        ("sql", Some("mysql")) => format!(
            "`cd {folder} && mysql < apply.{ext}` ({})",
            c.text("plan_files.run_mysql")
        ),
        ("sql", _) => c.text("plan_files.run_sql_app"),
        ("sh", _) => format!(
            "`cd {folder} && sh apply.{ext}` ({})",
            c.text("plan_files.run_sh")
        ),
        _ => c.text("plan_files.run_manual"),
    }
}

/// A Markdown table cell: no `|` or line break from the data breaks the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn readme_text(
    plan: &Plan,
    n: &Numbered,
    c: &Catalog,
    snapshot: &Snapshot,
    source: &str,
) -> String {
    let m = snapshot.manifest();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {} — {}\n",
        c.text("plan_files.title"),
        m.host.hostname
    );
    let _ = writeln!(
        s,
        "{}: `{source}` · {}: {} · {}: {} – {}\n",
        c.text("plan_files.snapshot"),
        c.text("report.host"),
        m.host.hostname,
        c.text("report.window"),
        m.window.started_at.format("%Y-%m-%d %H:%M UTC"),
        m.window.ended_at.format("%Y-%m-%d %H:%M UTC"),
    );
    let _ = writeln!(
        s,
        "{} {} · perfdiag {}\n",
        c.text("plan_files.generated"),
        plan.generated_at.format("%Y-%m-%d %H:%M UTC"),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(s, "**{}**\n", c.text("plan_files.never_runs_readme"));
    if plan.steps.is_empty() {
        let _ = writeln!(s, "{}", c.text("plan.empty"));
        return s;
    }

    let _ = writeln!(s, "## {}\n", c.text("plan_files.order"));
    let _ = writeln!(
        s,
        "| # | {} | {} | {} | {} | {} |\n|---|---|---|---|---|---|",
        c.text("plan.step"),
        c.text("plan.phase"),
        c.text("plan.risk"),
        c.text("plan.restart"),
        c.text("plan_files.files"),
    );
    for (i, step) in plan.steps.iter().enumerate() {
        let folder = n.folder(i);
        let mut name = cell(&title(step, c));
        if step.template {
            name.push_str(&format!(" ({})", c.text("plan_files.template_short")));
        }
        let _ = writeln!(
            s,
            "| {} | {name} | {} | {} | {} | `{folder}/` |",
            i + 1,
            phase(step, c),
            risk(step, c),
            c.text(if step.needs_restart {
                "plan.yes"
            } else {
                "plan.no"
            }),
        );
    }

    let _ = writeln!(s, "\n## {}\n", c.text("plan_files.how_title"));
    for key in [
        "how_order",
        "how_review",
        "how_template",
        "how_restart",
        "how_verify",
        "how_rollback",
    ] {
        let _ = writeln!(s, "- {}", c.text(&format!("plan_files.{key}")));
    }

    for (i, step) in plan.steps.iter().enumerate() {
        let folder = n.folder(i);
        let _ = writeln!(s, "\n## {}. {}\n", i + 1, title(step, c));
        let _ = writeln!(s, "{}\n", c.text(&format!("step.{}.why", step.id)));
        let mut facts = vec![
            (c.text("plan_files.id"), format!("`{}`", step.id)),
            (c.text("plan_files.target"), cell(&target(step, c))),
            (c.text("plan.phase"), phase(step, c)),
            (c.text("plan.risk"), risk(step, c)),
            (c.text("plan.restart"), restart(step, c)),
            (
                c.text("plan.effect"),
                c.text(&format!("step.{}.effect", step.id)),
            ),
        ];
        if let Some(effect) = &step.expected_effect {
            facts.push((c.text("plan_files.in_numbers"), format!("`{effect}`")));
        }
        facts.push((
            c.text("plan.verify"),
            format!("`{} {}`", step.verify.metric, step.verify.target),
        ));
        let deps = n.dependencies(step, c);
        if !deps.is_empty() {
            facts.push((c.text("plan_files.depends_on"), deps.join(", ")));
        }
        facts.push((c.text("plan_files.run"), run_hint(step, &folder, c)));
        facts.push((
            c.text("plan_files.files"),
            format!(
                "`{folder}/apply.{}`, `{folder}/rollback.{}`",
                extension(&step.script.language),
                extension(&step.rollback.language)
            ),
        ));
        if step.template {
            facts.push((
                c.text("plan_files.template_short"),
                c.text("plan_files.template"),
            ));
        }
        for (label, value) in facts {
            let _ = writeln!(s, "- **{label}**: {value}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_empty_folder_is_refused_and_an_empty_or_new_one_accepted() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_output_dir(dir.path()).is_ok());
        assert!(check_output_dir(&dir.path().join("new")).is_ok());
        std::fs::write(dir.path().join("x"), "").unwrap();
        let e = check_output_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is not empty"), "{e}");
        let e = check_output_dir(&dir.path().join("x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a folder"), "{e}");
    }
}
