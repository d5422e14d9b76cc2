//! SQL Server index steps: the missing indexes the analyzers merged (evidence
//! `mssql.index.candidate` and its details), created once each, and unused
//! nonclustered indexes disabled — not dropped, so `ALTER INDEX … REBUILD` brings one
//! back with its definition intact.

use perfdiag_model::{Finding, Phase, Risk, Value};

use super::mssql::{bracket, nstr, per_target};
use super::mssql_databases::names;
use super::{Draft, StepDef, index_ddl, verify};

/// Longest identifier SQL Server accepts.
const MAX_NAME: usize = 128;

/// One index to create, read from the evidence.
#[derive(Debug, Default)]
struct Candidate {
    /// `[schema].[table] ([a], [b])`.
    target: String,
    database: String,
    include: Option<String>,
}

/// The candidates of a finding, in evidence order: each starts at
/// `mssql.index.candidate`; the details that follow belong to it.
fn candidates(f: &Finding) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for e in &f.evidence {
        let Value::Text { text } = &e.observed else {
            continue;
        };
        match e.metric.as_str() {
            "mssql.index.candidate" => out.push(Candidate {
                target: text.clone(),
                ..Candidate::default()
            }),
            "mssql.index.candidate.database" => {
                if let Some(c) = out.last_mut() {
                    c.database = text.clone();
                }
            }
            "mssql.index.candidate.include" => {
                if let Some(c) = out.last_mut() {
                    c.include = Some(text.clone());
                }
            }
            _ => {}
        }
    }
    out
}

/// `ix_<table>_<columns>` in lower case, anything but letters, digits and `_` made
/// `_`, cut to [`MAX_NAME`].
fn index_name(table: &str, columns: &str) -> String {
    let base = index_ddl::index_name(table, columns);
    let mut name = format!("ix_{}", base.trim_end_matches("_idx"));
    name.truncate(MAX_NAME);
    name
}

/// `[name]` without brackets, for names built from it.
fn unbracket(name: &str) -> String {
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .replace("]]", "]")
}

pub(super) const CREATE_MISSING: StepDef = StepDef {
    id: "mssql.indexes.create_missing",
    rule_id: "mssql.indexes.missing",
    phase: Phase::SqlIndexes,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let enterprise = m
                .and_then(|m| m.engine_edition)
                .is_some_and(|e| e == 3 || e == 8);
            let mut script = format!(
                "-- Suggestions of the missing-index DMVs, merged where their keys overlap.\n\
                 -- Review each against the table's existing indexes before running; create\n\
                 -- them off-peak{}.\n",
                if enterprise {
                    " (Enterprise: add WITH (ONLINE = ON) to keep the table writable)"
                } else {
                    ": creation blocks writes to the table meanwhile"
                }
            );
            let mut rollback = String::new();
            let mut created = Vec::new();
            for c in candidates(f) {
                let Some((table, columns)) = index_ddl::split_target(&c.target) else {
                    continue;
                };
                let plain_table = table
                    .rsplit("].[")
                    .next()
                    .map(unbracket)
                    .unwrap_or_default();
                let name = index_name(&plain_table, &unbracket_all(columns));
                if created.contains(&(c.database.clone(), name.clone())) {
                    continue;
                }
                created.push((c.database.clone(), name.clone()));
                let include = c
                    .include
                    .as_ref()
                    .map(|i| format!(" INCLUDE ({i})"))
                    .unwrap_or_default();
                script.push_str(&format!(
                    "USE {db};\n\
                     IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID({obj}) AND name = {n})\n\
                     BEGIN\n\
                     \x20   CREATE INDEX {b} ON {table} ({columns}){include};\n\
                     END;\n",
                    db = bracket(&c.database),
                    obj = nstr(table),
                    n = nstr(&name),
                    b = bracket(&name),
                ));
                rollback.push_str(&format!(
                    "USE {};\nDROP INDEX IF EXISTS {} ON {table};\n",
                    bracket(&c.database),
                    bracket(&name)
                ));
            }
            if created.is_empty() {
                script.push_str("-- The finding names no index.\n");
                rollback.push_str("-- Nothing to undo: no index is created.\n");
            }
            (script, rollback)
        });
        Draft {
            script: scripts.0,
            rollback: scripts.1,
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("mssql.index.improvement.max", "< 100000"),
        }
    },
};

/// `[a], [b]` as `a, b` for names.
fn unbracket_all(columns: &str) -> String {
    columns
        .split(", ")
        .map(unbracket)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[db].[schema].[table].[index]` as its four parts, unquoted.
fn four_parts(name: &str) -> Option<[String; 4]> {
    let inner = name.strip_prefix('[')?.strip_suffix(']')?;
    let parts: Vec<String> = inner.split("].[").map(|p| p.replace("]]", "]")).collect();
    <[String; 4]>::try_from(parts).ok()
}

pub(super) const DISABLE_UNUSED: StepDef = StepDef {
    id: "mssql.indexes.disable_unused",
    rule_id: "mssql.indexes.unused_writes",
    phase: Phase::SqlIndexes,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let mut script = String::from(
                "-- Disabling keeps the definition: the rollback rebuilds the index. Watch the\n\
                 -- workload for a full business cycle (month end) before dropping any of them.\n",
            );
            let mut rollback = String::new();
            let all = names(f, "mssql.index.unused.names");
            for [db, schema, table, index] in all.iter().filter_map(|n| four_parts(n)) {
                let object = format!("{}.{}", bracket(&schema), bracket(&table));
                script.push_str(&format!(
                    "USE {db};\n\
                     IF EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID({obj}) AND name = {n} AND is_disabled = 0)\n\
                     BEGIN\n\
                     \x20   ALTER INDEX {ix} ON {object} DISABLE;\n\
                     END;\n",
                    db = bracket(&db),
                    obj = nstr(&object),
                    n = nstr(&index),
                    ix = bracket(&index),
                ));
                rollback.push_str(&format!(
                    "USE {};\nALTER INDEX {} ON {object} REBUILD;\n",
                    bracket(&db),
                    bracket(&index)
                ));
            }
            if rollback.is_empty() {
                script.push_str("-- The finding names no index.\n");
                rollback.push_str("-- Nothing to undo: no index is disabled.\n");
            }
            (script, rollback)
        });
        Draft {
            script: scripts.0,
            rollback: scripts.1,
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("mssql.index.unused", "= 0"),
        }
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_split_and_built_plainly() {
        assert_eq!(
            four_parts("[erp].[dbo].[order]]s].[ix_a]"),
            Some([
                "erp".to_owned(),
                "dbo".to_owned(),
                "order]s".to_owned(),
                "ix_a".to_owned()
            ])
        );
        assert_eq!(four_parts("erp.dbo.orders.ix"), None);
        assert_eq!(
            index_name("orders", "customer_id, created_at"),
            "ix_orders_customer_id_created_at"
        );
    }
}
