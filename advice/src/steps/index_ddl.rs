//! The pieces of a `CREATE INDEX` built from the index the analyzers found asked for
//! (evidence `pg.index.candidate` / `mysql.index.candidate`): the target as the
//! evidence writes it, `schema.table (a, b)` with names quoted for the engine, split
//! into its table and column list, and a conventional index name.

use perfdiag_model::{Finding, Value};

/// The script and rollback adding, online, the indexes the findings' evidence asks for
/// on MySQL or MariaDB (`mysql.index.candidate`, each followed by the statement asking
/// for it), and naming those an existing index already covers (`mysql.index.covered_by`).
/// `None` when the evidence names neither. An index two findings ask for is added once.
pub(crate) fn mysql_indexes(findings: &[&Finding]) -> Option<(String, String)> {
    let (mut script, mut rollback) = (String::new(), String::new());
    let mut added: Vec<String> = Vec::new();
    for f in findings {
        // The evidence lists each index asked for, then the statement asking for it.
        let mut current: Option<(bool, &str)> = None;
        for e in &f.evidence {
            let Value::Text { text } = &e.observed else {
                continue;
            };
            match e.metric.as_str() {
                "mysql.index.candidate" => current = Some((true, text)),
                "mysql.index.covered_by" => current = Some((false, text)),
                "mysql.index.candidate.query" => {
                    let Some((add, target)) = current.take() else {
                        continue;
                    };
                    let asked = format!("-- Asked for by {text}\n");
                    match split_target(target).filter(|_| add) {
                        Some((table, columns)) => {
                            let name = index_name(table, columns);
                            script.push_str(&asked);
                            let key = format!("{table} {name}");
                            if added.contains(&key) {
                                script.push_str(&format!("--   (the index {name} above)\n"));
                                continue;
                            }
                            added.push(key);
                            script.push_str(&format!(
                                "ALTER TABLE {table} ADD INDEX {name} ({columns}), ALGORITHM=INPLACE, LOCK=NONE;\n\
                                 ANALYZE TABLE {table};\n"
                            ));
                            rollback.push_str(&format!(
                                "ALTER TABLE {table} DROP INDEX {name}, ALGORITHM=INPLACE, LOCK=NONE;\n"
                            ));
                        }
                        None => script.push_str(&format!(
                            "-- An index already leads with the filtered columns: {target}\n{asked}\
                             -- EXPLAIN the statement with typical values: a type or collation mismatch,\n\
                             -- a function on the column or a filter matching most rows keeps it unused.\n"
                        )),
                    }
                }
                _ => {}
            }
        }
    }
    if script.is_empty() {
        return None;
    }
    script.push_str("-- Then EXPLAIN the statements again: type should be ref/range, not ALL.\n");
    if rollback.is_empty() {
        rollback.push_str("-- Nothing to roll back: no index is added.\n");
    }
    Some((script, rollback))
}

/// Longest index name both engines accept (PostgreSQL 63 bytes, MySQL 64 characters).
const MAX_NAME: usize = 63;

/// `(table, columns)` of `schema.table (a, b)`: split at the first ` (` outside quotes.
pub(crate) fn split_target(target: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    for (i, c) in target.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`') => quote = Some(c),
            (None, '(') if target[..i].ends_with(' ') => {
                let columns = target[i + 1..].strip_suffix(')')?;
                let table = target[..i].trim_end();
                return (!table.is_empty() && !columns.trim().is_empty())
                    .then_some((table, columns));
            }
            _ => {}
        }
    }
    None
}

/// `<table>_<columns>_idx` from the unquoted names, in lower case with anything but
/// letters, digits and `_` made `_`, cut to [`MAX_NAME`] bytes: PostgreSQL's own
/// naming for an unnamed index, and a name that needs no quoting.
pub(crate) fn index_name(table: &str, columns: &str) -> String {
    let table = table.rsplit('.').next().unwrap_or(table);
    let mut name: String = format!("{table}_{}", columns.replace(", ", "_"))
        .chars()
        .filter(|c| !matches!(c, '"' | '`'))
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name.truncate(MAX_NAME - "_idx".len());
    name.push_str("_idx");
    name
}

/// The schema part of a qualified table (`public` when unqualified), as written.
pub(crate) fn schema_of(table: &str) -> &str {
    split_qualified(table).map_or("public", |(schema, _)| schema)
}

/// `schema` and `table` of `schema.table`, at the last dot outside quotes.
fn split_qualified(table: &str) -> Option<(&str, &str)> {
    let mut quote: Option<char> = None;
    let mut dot = None;
    for (i, c) in table.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`') => quote = Some(c),
            (None, '.') => dot = Some(i),
            _ => {}
        }
    }
    dot.map(|i| (&table[..i], &table[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_outside_quotes() {
        assert_eq!(
            split_target("public.orders (customer_id, created_at)"),
            Some(("public.orders", "customer_id, created_at"))
        );
        assert_eq!(
            split_target("`shop`.`odd (name)` (`a (b)`, `c`)"),
            Some(("`shop`.`odd (name)`", "`a (b)`, `c`"))
        );
        assert_eq!(split_target("orders"), None);
        assert_eq!(split_target("orders ()"), None);
        assert_eq!(split_target("orders (a"), None);
    }

    #[test]
    fn names_are_plain_and_bounded() {
        assert_eq!(
            index_name("public.orders", "customer_id, created_at"),
            "orders_customer_id_created_at_idx"
        );
        assert_eq!(
            index_name("`shop`.`Orders`", "`Ref`, `day`"),
            "orders_ref_day_idx"
        );
        let long = index_name("t", &"very_long_column_name, ".repeat(10));
        assert_eq!(long.len(), MAX_NAME);
        assert!(long.ends_with("_idx"));
        assert_eq!(schema_of("\"My.Schema\".t"), "\"My.Schema\"");
        assert_eq!(schema_of("t"), "public");
    }
}
