//! The index a statement asks for, read from its predicates: for each table, the
//! columns it is filtered or joined on with equality, then the columns the query sorts
//! by, then one column it is filtered on by range (the usual B-tree order: equality,
//! sort, range).
//!
//! Only columns that can be attributed to a table count: qualified ones (`o.customer_id`)
//! and unqualified ones in a statement over a single table. The texts are masked, so a
//! `LIKE ?` pattern is unknown and not used; OR branches and negations are not used
//! either, since no single index serves them.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FromTable, Ident, JoinConstraint, ObjectName, OrderByKind, Query, Select,
    SetExpr, Statement, TableFactor, TableWithJoins, Visit, Visitor,
};

use super::antipatterns::{join_constraint, selects};

/// Most columns suggested in one index: wider ones rarely pay for their writes.
const MAX_COLUMNS: usize = 4;

/// An index one statement would use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexCandidate {
    /// The schema as the statement names it; `None` when unqualified.
    pub schema: Option<String>,
    pub table: String,
    /// Equality columns (compared with values first, then join columns), then sort
    /// columns, then at most one range column.
    pub columns: Vec<String>,
    /// How many of `columns` are compared with values (`= ?`, `IN`, `IS NULL`).
    pub constant: usize,
    /// How many of `columns` are equality columns, join columns included.
    pub equality: usize,
}

impl IndexCandidate {
    /// Whether an existing index (its key columns in order) already leads with a
    /// column this candidate leads with: then a missing index is not why the table is
    /// scanned, and another index would not help. The columns compared with values
    /// lead when there are any: a join column's index (often the primary key) does not
    /// serve the filter of the table the join starts from.
    pub(crate) fn covered_by(&self, existing: &[Vec<String>]) -> bool {
        let lead = if self.constant > 0 {
            self.constant
        } else {
            self.equality.max(1)
        };
        let leading = &self.columns[..lead.min(self.columns.len())];
        existing.iter().any(|index| {
            index
                .first()
                .is_some_and(|first| leading.iter().any(|c| c.eq_ignore_ascii_case(first)))
        })
    }
}

/// How unquoted names are read: PostgreSQL folds them to lower case, MySQL keeps them
/// as written (table names are case-sensitive on most Unix file systems).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fold {
    Lower,
    AsWritten,
}

/// [`candidates`] with PostgreSQL's names.
pub(crate) fn postgres(stmts: &[Statement]) -> Vec<IndexCandidate> {
    candidates(stmts, Fold::Lower)
}

/// [`candidates`] with MySQL's names.
pub(crate) fn mysql(stmts: &[Statement]) -> Vec<IndexCandidate> {
    candidates(stmts, Fold::AsWritten)
}

/// The index candidates of every SELECT (subqueries and CTEs included), UPDATE and
/// DELETE of a parsed statement class, at most one per table and query block.
pub(crate) fn candidates(stmts: &[Statement], fold: Fold) -> Vec<IndexCandidate> {
    struct Queries(Vec<IndexCandidate>, Fold);
    impl Visitor for Queries {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            let mut blocks = Vec::new();
            selects(&query.body, &mut blocks);
            let single = matches!(*query.body, SetExpr::Select(_));
            for select in blocks {
                let order = if single { order_by(query) } else { Vec::new() };
                self.0.extend(of_select(select, &order, self.1));
            }
            ControlFlow::Continue(())
        }
    }
    let mut found = Queries(Vec::new(), fold);
    for stmt in stmts {
        let _ = stmt.visit(&mut found);
        let (from, selection): (Vec<&TableWithJoins>, _) = match stmt {
            Statement::Update(u) => (vec![&u.table], u.selection.as_ref()),
            Statement::Delete(d) => {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &d.from;
                (
                    from.iter().chain(d.using.iter().flatten()).collect(),
                    d.selection.as_ref(),
                )
            }
            _ => continue,
        };
        let mut scope = Scope::new(fold);
        from.into_iter().for_each(|t| scope.add(t));
        let mut uses = vec![Uses::default(); scope.tables.len()];
        if let Some(e) = selection {
            scope.classify(e, &mut uses);
        }
        found.0.extend(scope.into_candidates(uses));
    }
    found.0
}

fn order_by(query: &Query) -> Vec<&Expr> {
    match query.order_by.as_ref().map(|o| &o.kind) {
        Some(OrderByKind::Expressions(exprs)) => exprs.iter().map(|o| &o.expr).collect(),
        _ => Vec::new(),
    }
}

fn of_select(select: &Select, order: &[&Expr], fold: Fold) -> Vec<IndexCandidate> {
    let mut scope = Scope::new(fold);
    select.from.iter().for_each(|t| scope.add(t));
    let mut uses = vec![Uses::default(); scope.tables.len()];
    let joins = select.from.iter().flat_map(|t| &t.joins);
    let on = joins.filter_map(|j| match join_constraint(&j.join_operator) {
        Some(JoinConstraint::On(e)) => Some(e),
        _ => None,
    });
    for e in select.selection.iter().chain(on) {
        scope.classify(e, &mut uses);
    }
    // A sort helps only when every sort column belongs to the same table.
    let sorted: Option<Vec<(usize, String)>> = order.iter().map(|e| scope.resolve(e)).collect();
    if let Some(sorted) = sorted
        && let Some(&(table, _)) = sorted.first()
        && sorted.iter().all(|(t, _)| *t == table)
    {
        uses[table].sort = sorted.into_iter().map(|(_, c)| c).collect();
    }
    scope.into_candidates(uses)
}

/// How one statement block uses the columns of one table.
#[derive(Debug, Clone, Default)]
struct Uses {
    constant: Vec<String>,
    join: Vec<String>,
    range: Vec<String>,
    sort: Vec<String>,
}

fn push_new(list: &mut Vec<String>, column: String) {
    if !list.contains(&column) {
        list.push(column);
    }
}

/// A table in the FROM clause of one block.
#[derive(Debug)]
struct InScope {
    schema: Option<String>,
    table: String,
    alias: Option<String>,
}

/// The plain tables of one block, in the order they are named.
#[derive(Debug)]
struct Scope {
    tables: Vec<InScope>,
    fold: Fold,
}

impl Scope {
    fn new(fold: Fold) -> Self {
        Self {
            tables: Vec::new(),
            fold,
        }
    }

    fn ident(&self, i: &Ident) -> String {
        ident(i, self.fold)
    }

    fn add(&mut self, t: &TableWithJoins) {
        for factor in std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)) {
            if let TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } = factor
                && let Some((schema, table)) = split(name, self.fold)
            {
                self.tables.push(InScope {
                    schema,
                    table,
                    alias: alias.as_ref().map(|a| self.ident(&a.name)),
                });
            }
        }
    }

    /// The table (index into `tables`) and column a column expression refers to.
    fn resolve(&self, e: &Expr) -> Option<(usize, String)> {
        match e {
            Expr::Nested(inner) => self.resolve(inner),
            Expr::Identifier(c) if self.tables.len() == 1 => Some((0, self.ident(c))),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier = self.ident(&parts[parts.len() - 2]);
                let column = self.ident(&parts[parts.len() - 1]);
                let by_alias = self
                    .tables
                    .iter()
                    .position(|t| t.alias.as_deref() == Some(qualifier.as_str()));
                let by_name = || {
                    self.tables
                        .iter()
                        .position(|t| t.alias.is_none() && t.table == qualifier)
                };
                by_alias.or_else(by_name).map(|i| (i, column))
            }
            _ => None,
        }
    }

    /// Whether `e` mentions a column of table `i` (then it is no constant for it).
    fn mentions(&self, e: &Expr, i: usize) -> bool {
        sqlparser::ast::visit_expressions(e, |x| {
            if self.resolve(x).is_some_and(|(t, _)| t == i) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .is_break()
    }

    /// Adds what one condition tells about each table's columns: its AND-ed parts
    /// one by one.
    fn classify(&self, e: &Expr, uses: &mut [Uses]) {
        match e {
            Expr::Nested(inner) => self.classify(inner, uses),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                self.classify(left, uses);
                self.classify(right, uses);
            }
            Expr::BinaryOp { left, op, right } => {
                let equality = match op {
                    BinaryOperator::Eq => true,
                    BinaryOperator::Lt
                    | BinaryOperator::LtEq
                    | BinaryOperator::Gt
                    | BinaryOperator::GtEq => false,
                    _ => return,
                };
                // Each side that is a column, compared with something that does not
                // depend on its own table: a value, or (equality only) a column of
                // another table, a join.
                for (column, other) in [(left, right), (right, left)] {
                    let Some((t, c)) = self.resolve(column) else {
                        continue;
                    };
                    let list = match (equality, has_column(other)) {
                        _ if self.mentions(other, t) => continue,
                        (true, false) => &mut uses[t].constant,
                        (true, true) => &mut uses[t].join,
                        (false, false) => &mut uses[t].range,
                        (false, true) => continue,
                    };
                    push_new(list, c);
                }
            }
            Expr::In {
                expr,
                negated: false,
                ..
            }
            | Expr::IsNull(expr) => {
                if let Some((t, c)) = self.resolve(expr) {
                    push_new(&mut uses[t].constant, c);
                }
            }
            Expr::Between {
                expr,
                negated: false,
                low,
                high,
            } => {
                if let Some((t, c)) = self.resolve(expr)
                    && !has_column(low)
                    && !has_column(high)
                {
                    push_new(&mut uses[t].range, c);
                }
            }
            _ => {}
        }
    }

    fn into_candidates(self, uses: Vec<Uses>) -> Vec<IndexCandidate> {
        let mut out: Vec<IndexCandidate> = Vec::new();
        for (t, u) in self.tables.into_iter().zip(uses) {
            if u.constant.is_empty() && u.join.is_empty() && u.range.is_empty() {
                continue; // a sort alone rarely makes a scan worth an index
            }
            let mut columns = u.constant.clone();
            for c in u.join.iter().cloned() {
                push_new(&mut columns, c);
            }
            let equality = columns.len();
            for c in u.sort.into_iter().chain(u.range.into_iter().take(1)) {
                push_new(&mut columns, c);
            }
            columns.truncate(MAX_COLUMNS);
            let candidate = IndexCandidate {
                schema: t.schema,
                table: t.table,
                constant: u.constant.len().min(columns.len()),
                equality: equality.min(columns.len()),
                columns,
            };
            // A self-join names a table twice: keep its first use.
            if !out
                .iter()
                .any(|o| o.schema == candidate.schema && o.table == candidate.table)
            {
                out.push(candidate);
            }
        }
        out
    }
}

/// Whether `e` references any column (of this block or, correlated, an outer one).
fn has_column(e: &Expr) -> bool {
    sqlparser::ast::visit_expressions(e, |x| {
        if matches!(x, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// An identifier as the server resolves it: quoted ones keep their case, unquoted ones
/// are folded as `fold` says.
fn ident(i: &Ident, fold: Fold) -> String {
    if i.quote_style.is_none() && fold == Fold::Lower {
        i.value.to_lowercase()
    } else {
        i.value.clone()
    }
}

/// `(schema, table)` of a table name; `None` for a name that is not plain identifiers.
fn split(name: &ObjectName, fold: Fold) -> Option<(Option<String>, String)> {
    let parts: Option<Vec<String>> = name
        .0
        .iter()
        .map(|p| p.as_ident().map(|i| ident(i, fold)))
        .collect();
    let mut parts = parts?;
    let table = parts.pop()?;
    Some((parts.pop(), table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse::{Origin, parse};

    fn of(sql: &str, origin: Origin) -> Vec<(String, Vec<String>)> {
        let stmts = parse(sql, origin).unwrap_or_else(|| panic!("parses: {sql}"));
        let fold = match origin {
            Origin::Postgres => Fold::Lower,
            _ => Fold::AsWritten,
        };
        candidates(&stmts, fold)
            .into_iter()
            .map(|c| {
                let table = match c.schema {
                    Some(s) => format!("{s}.{}", c.table),
                    None => c.table,
                };
                (table, c.columns)
            })
            .collect()
    }

    fn one(table: &str, columns: &[&str]) -> (String, Vec<String>) {
        (
            table.to_owned(),
            columns.iter().map(|c| (*c).to_owned()).collect(),
        )
    }

    #[test]
    fn equality_then_sort_then_one_range_column() {
        assert_eq!(
            of(
                "SELECT id, total FROM public.orders WHERE customer_id = $1 AND status IN ($2, $3) \
                 AND created_at > $4 AND amount < $5 ORDER BY created_at DESC LIMIT 10",
                Origin::Postgres
            ),
            vec![one(
                "public.orders",
                &["customer_id", "status", "created_at"]
            )]
        );
        assert_eq!(
            of(
                "select * from `shop`.`Orders` where `Ref` = ? and `day` between ? and ?",
                Origin::Mysql
            ),
            vec![one("shop.Orders", &["Ref", "day"])]
        );
        assert_eq!(
            of(
                "SELECT * FROM big WHERE k IS NULL OR v = $1",
                Origin::Postgres
            ),
            Vec::new(),
            "an OR is served by no single index"
        );
        assert_eq!(
            of(
                "SELECT * FROM t WHERE a <> $1 AND NOT b = $2",
                Origin::Postgres
            ),
            Vec::new()
        );
    }

    #[test]
    fn postgres_folds_unquoted_names_and_mysql_keeps_them() {
        assert_eq!(
            of(
                "SELECT * FROM Sales.Orders WHERE \"Ref\" = $1 AND Day = $2",
                Origin::Postgres
            ),
            vec![one("sales.orders", &["Ref", "day"])]
        );
        assert_eq!(
            of(
                "select * from Sales.Orders o where o.Ref = ?",
                Origin::Mysql
            ),
            vec![one("Sales.Orders", &["Ref"])]
        );
    }

    #[test]
    fn joins_give_each_table_its_own_columns() {
        assert_eq!(
            of(
                "SELECT o.id FROM orders o JOIN order_lines l ON l.order_id = o.id \
                 WHERE o.customer_id = $1 AND l.sku = $2 AND region = $3",
                Origin::Postgres
            ),
            vec![
                one("orders", &["customer_id", "id"]),
                one("order_lines", &["sku", "order_id"]),
            ],
            "an unqualified column in a join cannot be placed, so `region` is left out"
        );
        assert_eq!(
            of(
                "select a.x from a, b where a.id = b.a_id and b.kind = ?",
                Origin::Mysql
            ),
            vec![one("a", &["id"]), one("b", &["kind", "a_id"])]
        );
    }

    #[test]
    fn subqueries_updates_and_deletes_are_read_too() {
        assert_eq!(
            of(
                "SELECT * FROM customers c WHERE c.id IN \
                 (SELECT customer_id FROM orders WHERE total > $1)",
                Origin::Postgres
            ),
            vec![one("customers", &["id"]), one("orders", &["total"])]
        );
        assert_eq!(
            of(
                "UPDATE accounts SET balance = balance - $1 WHERE owner = $2",
                Origin::Postgres
            ),
            vec![one("accounts", &["owner"])]
        );
        assert_eq!(
            of("delete from sessions where expires_at < ?", Origin::Mysql),
            vec![one("sessions", &["expires_at"])]
        );
        assert_eq!(
            of("INSERT INTO t (a) VALUES ($1)", Origin::Postgres),
            Vec::new()
        );
    }

    #[test]
    fn a_column_compared_with_its_own_table_is_no_constant() {
        assert_eq!(
            of("SELECT * FROM t WHERE a = b + 1", Origin::Postgres),
            Vec::new()
        );
        assert_eq!(
            of(
                "SELECT * FROM t WHERE created > updated AND k = $1",
                Origin::Postgres
            ),
            vec![one("t", &["k"])]
        );
    }

    #[test]
    fn an_index_leading_with_an_equality_column_covers() {
        let c = IndexCandidate {
            schema: None,
            table: "orders".into(),
            columns: vec!["customer_id".into(), "status".into(), "created".into()],
            constant: 2,
            equality: 2,
        };
        let idx = |cols: &[&str]| cols.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        assert!(c.covered_by(&[idx(&["status", "id"])]));
        assert!(!c.covered_by(&[idx(&["created"]), idx(&["id"])]));
        assert!(!c.covered_by(&[]));
        let range_only = IndexCandidate {
            columns: vec!["created".into()],
            constant: 0,
            equality: 0,
            ..c.clone()
        };
        assert!(range_only.covered_by(&[idx(&["created", "id"])]));
        // The join column's index (the primary key) does not serve the value filter.
        let joined = IndexCandidate {
            columns: vec!["customer_id".into(), "id".into()],
            constant: 1,
            equality: 2,
            ..c
        };
        assert!(!joined.covered_by(&[idx(&["id"])]));
        assert!(joined.covered_by(&[idx(&["customer_id"])]));
    }
}
