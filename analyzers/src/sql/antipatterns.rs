//! The SQL anti-patterns, one small check per pattern over a parsed statement class.
//!
//! Each check returns the offending fragment (at most [`FRAGMENT_CHARS`] characters)
//! or `None`. They judge masked texts: literals are placeholders, so a check that needs
//! a literal (a `LIKE` pattern, an `OFFSET` value) can only judge what survives, and
//! says so.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget,
    JoinConstraint, JoinOperator, LimitClause, OrderByKind, Query, Select, SelectItem, SetExpr,
    Statement, TableFactor, Value, Visit, Visitor, visit_expressions,
};

/// Longest fragment kept as evidence: enough to recognise the clause in the code.
pub(crate) const FRAGMENT_CHARS: usize = 80;

/// An `OFFSET` as the stored text shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Offset {
    /// The value survived masking (unmasked texts only).
    Literal(f64, String),
    /// The value was masked (`?`, `$n`): the page depth is unknown.
    Masked(String),
}

/// Everything found in one statement class, computed once when it is parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Detected {
    pub select_star: Option<String>,
    pub like_leading_wildcard: Option<String>,
    pub function_on_column: Option<String>,
    pub or_across_columns: Option<String>,
    pub not_in_subquery: Option<String>,
    pub order_by_rand: Option<String>,
    pub offset: Option<Offset>,
    pub update_delete_without_where: Option<String>,
    pub cartesian_join: Option<String>,
}

/// Runs every check on one parsed class.
pub(crate) fn check_all(stmts: &[Statement]) -> Detected {
    Detected {
        select_star: select_star(stmts),
        like_leading_wildcard: like_leading_wildcard(stmts),
        function_on_column: function_on_column(stmts),
        or_across_columns: or_across_columns(stmts),
        not_in_subquery: not_in_subquery(stmts),
        order_by_rand: order_by_rand(stmts),
        offset: offset(stmts),
        update_delete_without_where: update_delete_without_where(stmts),
        cartesian_join: cartesian_join(stmts),
    }
}

/// `s` cut to [`FRAGMENT_CHARS`] characters, with an ellipsis when cut.
pub(crate) fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= FRAGMENT_CHARS {
        return s;
    }
    let mut out: String = s.chars().take(FRAGMENT_CHARS - 1).collect();
    out.push('…');
    out
}

fn found(fragment: Option<String>) -> ControlFlow<String> {
    match fragment {
        Some(f) => ControlFlow::Break(f),
        None => ControlFlow::Continue(()),
    }
}

fn first(flow: ControlFlow<String>) -> Option<String> {
    match flow {
        ControlFlow::Break(f) => Some(f),
        ControlFlow::Continue(()) => None,
    }
}

/// Calls `check` on every query, subqueries and CTEs included, until one answers.
fn find_in_queries(
    stmts: &[Statement],
    check: impl FnMut(&Query) -> Option<String>,
) -> Option<String> {
    struct Queries<F>(F);
    impl<F: FnMut(&Query) -> Option<String>> Visitor for Queries<F> {
        type Break = String;
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
            found((self.0)(query))
        }
    }
    let mut visitor = Queries(check);
    stmts.iter().find_map(|s| first(s.visit(&mut visitor)))
}

/// Calls `check` on every expression of the statements until one answers.
fn find_in_exprs(
    stmts: &[Statement],
    mut check: impl FnMut(&Expr) -> Option<String>,
) -> Option<String> {
    stmts
        .iter()
        .find_map(|s| first(visit_expressions(s, |e| found(check(e)))))
}

/// The SELECTs of a query body (both sides of a UNION); nested queries are visited on
/// their own by [`find_in_queries`].
pub(super) fn selects<'a>(body: &'a SetExpr, out: &mut Vec<&'a Select>) {
    match body {
        SetExpr::Select(s) => out.push(s),
        SetExpr::SetOperation { left, right, .. } => {
            selects(left, out);
            selects(right, out);
        }
        _ => {}
    }
}

pub(super) fn join_constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    use JoinOperator as J;
    match op {
        J::Join(c)
        | J::Inner(c)
        | J::Left(c)
        | J::LeftOuter(c)
        | J::Right(c)
        | J::RightOuter(c)
        | J::FullOuter(c)
        | J::CrossJoin(c)
        | J::Semi(c)
        | J::LeftSemi(c)
        | J::RightSemi(c)
        | J::Anti(c)
        | J::LeftAnti(c)
        | J::RightAnti(c)
        | J::StraightJoin(c) => Some(c),
        _ => None,
    }
}

/// The filter and join conditions of a SELECT: WHERE and every `JOIN … ON`.
fn conditions(select: &Select) -> Vec<&Expr> {
    let mut out: Vec<&Expr> = select.selection.iter().collect();
    for join in select.from.iter().flat_map(|t| &t.joins) {
        if let Some(JoinConstraint::On(e)) = join_constraint(&join.join_operator) {
            out.push(e);
        }
    }
    out
}

/// Calls `check` on every expression inside WHERE / ON conditions (SELECT, UPDATE,
/// DELETE), until one answers.
fn find_in_conditions(
    stmts: &[Statement],
    mut check: impl FnMut(&Expr) -> Option<String>,
) -> Option<String> {
    let in_exprs = |roots: Vec<&Expr>, check: &mut dyn FnMut(&Expr) -> Option<String>| {
        roots
            .into_iter()
            .find_map(|root| first(visit_expressions(root, |e| found(check(e)))))
    };
    let from_dml = stmts.iter().find_map(|s| {
        let selection = match s {
            Statement::Update(u) => u.selection.as_ref(),
            Statement::Delete(d) => d.selection.as_ref(),
            _ => None,
        };
        in_exprs(selection.into_iter().collect(), &mut check)
    });
    from_dml.or_else(|| {
        find_in_queries(stmts, |q| {
            let mut sel = Vec::new();
            selects(&q.body, &mut sel);
            sel.into_iter()
                .find_map(|s| in_exprs(conditions(s), &mut check))
        })
    })
}

fn is_comparison(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

fn is_column(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
}

fn is_placeholder(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Placeholder(_)))
}

fn string_literal(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// The lower-case last part of a function name (`pg_catalog.lower` → `lower`).
fn function_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Function(f) => f
            .name
            .to_string()
            .rsplit('.')
            .next()
            .map(|n| n.trim_matches(['"', '`']).to_ascii_lowercase()),
        _ => None,
    }
}

/// Whether any column is referenced inside `e`.
fn has_column(e: &Expr) -> bool {
    visit_expressions(e, |x| {
        if is_column(x) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// The columns referenced inside `e`, lower-cased.
fn columns(e: &Expr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let _ = visit_expressions(e, |x| {
        if is_column(x) {
            out.insert(x.to_string().to_ascii_lowercase());
        }
        ControlFlow::<()>::Continue(())
    });
    out
}

/// `SELECT *` (or `t.*`) in the outermost query: every column is read and sent, covering
/// indexes cannot serve it, and the result changes when the table does. A star over
/// derived tables only (`SELECT * FROM (SELECT a, b …) x`) names its columns inside
/// and is not reported; `count(*)` is not a star.
pub(crate) fn select_star(stmts: &[Statement]) -> Option<String> {
    stmts.iter().find_map(|s| {
        let Statement::Query(q) = s else {
            return None;
        };
        let mut sel = Vec::new();
        selects(&q.body, &mut sel);
        sel.into_iter().find_map(|select| {
            let derived_only = !select.from.is_empty()
                && select.from.iter().all(|t| {
                    std::iter::once(&t.relation)
                        .chain(t.joins.iter().map(|j| &j.relation))
                        .all(|r| matches!(r, TableFactor::Derived { .. }))
                });
            if derived_only {
                return None;
            }
            select.projection.iter().find_map(|item| match item {
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                    Some(short(&format!("SELECT {item}")))
                }
                _ => None,
            })
        })
    })
}

/// The operands of a concatenation (`CONCAT(a, b, …)`, `a || b || …`), or `None`.
fn concat_operands(e: &Expr) -> Option<Vec<&Expr>> {
    match e {
        Expr::Function(f) if function_name(e).as_deref() == Some("concat") => match &f.args {
            FunctionArguments::List(list) => Some(
                list.args
                    .iter()
                    .filter_map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        },
        Expr::BinaryOp {
            op: BinaryOperator::StringConcat,
            ..
        } => {
            // Left-deep: walk down the left side without recursion.
            let mut out = Vec::new();
            let mut cur = e;
            while let Expr::BinaryOp {
                left,
                op: BinaryOperator::StringConcat,
                right,
            } = cur
            {
                out.push(right.as_ref());
                cur = left;
            }
            out.push(cur);
            out.reverse();
            Some(out)
        }
        Expr::Nested(inner) => concat_operands(inner),
        _ => None,
    }
}

/// A `LIKE` / `ILIKE` pattern that starts with a wildcard: no B-tree index can seek it.
///
/// Visible only where the pattern survives masking: a literal `'%…'` (unmasked texts),
/// a concatenation starting with the `'%'` literal, or the masked shape of
/// `CONCAT('%', ?, '%')` / `'%' || ? || '%'` — a concatenation of three or more parts
/// whose first and last parts are placeholders. `LIKE ?` with the wildcard inside the
/// bound value cannot be seen at all.
pub(crate) fn like_leading_wildcard(stmts: &[Statement]) -> Option<String> {
    let leading = |s: &str| s.starts_with('%') || s.starts_with('_');
    find_in_exprs(stmts, |e| {
        let (Expr::Like { pattern, .. } | Expr::ILike { pattern, .. }) = e else {
            return None;
        };
        let fires = match string_literal(pattern) {
            Some(s) => leading(s),
            None => concat_operands(pattern).is_some_and(|parts| {
                let first_leading = parts
                    .first()
                    .and_then(|p| string_literal(p))
                    .is_some_and(leading);
                let masked_contains = parts.len() >= 3
                    && parts.first().is_some_and(|p| is_placeholder(p))
                    && parts.last().is_some_and(|p| is_placeholder(p));
                first_leading || masked_contains
            }),
        };
        fires.then(|| short(&e.to_string()))
    })
}

/// The operand of a predicate when it is a function or cast wrapping a column.
fn wrapped_column(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Nested(inner) => wrapped_column(inner),
        Expr::Function(_)
        | Expr::Cast { .. }
        | Expr::Extract { .. }
        | Expr::Substring { .. }
        | Expr::Trim { .. }
            if has_column(e) =>
        {
            Some(e)
        }
        _ => None,
    }
}

/// A function or cast wrapping a column in a WHERE / ON predicate
/// (`date(created_at) = ?`, `lower(email) = ?`, `id::text = ?`): an index on the bare
/// column cannot be used. The function on the other side (`created_at >= date(?)`) is
/// harmless and not reported. Implicit casts made by the server from mismatched types
/// are invisible in the text.
pub(crate) fn function_on_column(stmts: &[Statement]) -> Option<String> {
    find_in_conditions(stmts, |e| {
        let operand = match e {
            Expr::BinaryOp { left, op, right } if is_comparison(op) => {
                wrapped_column(left).or_else(|| wrapped_column(right))
            }
            Expr::Like { expr, .. }
            | Expr::ILike { expr, .. }
            | Expr::In { expr, .. }
            | Expr::Between { expr, .. } => wrapped_column(expr),
            _ => None,
        };
        operand.map(|_| short(&e.to_string()))
    })
}

/// The disjuncts of an OR chain, without recursion (chains are left-deep).
fn disjuncts(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    while let Some(cur) = stack.pop() {
        match cur {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => {
                stack.push(right);
                stack.push(left);
            }
            Expr::Nested(inner)
                if matches!(
                    inner.as_ref(),
                    Expr::BinaryOp {
                        op: BinaryOperator::Or,
                        ..
                    }
                ) =>
            {
                stack.push(inner);
            }
            other => out.push(other),
        }
    }
    out
}

/// An OR whose branches share no column (`a = ? OR b = ?`): no single index serves
/// it, so the planner scans or merges indexes. Branches on one column (`a = ? OR a = ?`,
/// rewritable as `IN`) or sharing a column (`(a = ? AND b = ?) OR (a = ? AND c = ?)`)
/// are not reported, nor optional filters (`? IS NULL OR a = ?`, a branch without a
/// column).
pub(crate) fn or_across_columns(stmts: &[Statement]) -> Option<String> {
    find_in_conditions(stmts, |e| {
        if !matches!(
            e,
            Expr::BinaryOp {
                op: BinaryOperator::Or,
                ..
            }
        ) {
            return None;
        }
        let sets: Vec<BTreeSet<String>> = disjuncts(e).into_iter().map(columns).collect();
        if sets.len() < 2 || sets.iter().any(BTreeSet::is_empty) {
            return None;
        }
        let common = sets.iter().skip(1).fold(sets[0].clone(), |acc, s| {
            acc.intersection(s).cloned().collect()
        });
        common.is_empty().then(|| short(&e.to_string()))
    })
}

/// `NOT IN (SELECT …)`: a NULL returned by the subquery makes the whole predicate
/// unknown (no rows), and many planners cannot turn it into an anti-join;
/// `NOT EXISTS` is both correct and fast.
pub(crate) fn not_in_subquery(stmts: &[Statement]) -> Option<String> {
    find_in_exprs(stmts, |e| match e {
        Expr::In {
            expr,
            negated: true,
            target: InTarget::Subquery(_),
            ..
        } => Some(short(&format!("{expr} NOT IN (SELECT …)"))),
        _ => None,
    })
}

/// `ORDER BY RAND()` / `random()` / `NEWID()`: every candidate row is read and sorted
/// to return a few.
pub(crate) fn order_by_rand(stmts: &[Statement]) -> Option<String> {
    find_in_queries(stmts, |q| {
        let OrderByKind::Expressions(items) = &q.order_by.as_ref()?.kind else {
            return None;
        };
        items.iter().find_map(|item| {
            matches!(
                function_name(&item.expr).as_deref(),
                Some("rand" | "random" | "newid")
            )
            .then(|| short(&format!("ORDER BY {}", item.expr)))
        })
    })
}

/// The `OFFSET` of a query (`LIMIT n OFFSET m`, MySQL `LIMIT m, n`): the server reads
/// and discards `m` rows on every page. Masked texts show `OFFSET ?`, so the depth is
/// known only in unmasked texts; the rule decides what a masked offset means.
pub(crate) fn offset(stmts: &[Statement]) -> Option<Offset> {
    let mut seen = None;
    let _ = find_in_queries(stmts, |q| {
        let value = match q.limit_clause.as_ref()? {
            LimitClause::LimitOffset { offset, .. } => &offset.as_ref()?.value,
            LimitClause::OffsetCommaLimit { offset, .. } => offset,
        };
        let fragment = short(&format!("OFFSET {value}"));
        let this = match value {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n.parse::<f64>().ok().map(|n| Offset::Literal(n, fragment)),
                Value::Placeholder(_) => Some(Offset::Masked(fragment)),
                _ => None,
            },
            _ => None,
        }?;
        // Keep the deepest visible offset; a literal beats a masked one.
        seen = match (seen.take(), this) {
            (Some(Offset::Literal(a, fa)), Offset::Literal(b, fb)) => Some(if b > a {
                Offset::Literal(b, fb)
            } else {
                Offset::Literal(a, fa)
            }),
            (Some(lit @ Offset::Literal(..)), Offset::Masked(_)) => Some(lit),
            (_, this) => Some(this),
        };
        None
    });
    seen
}

/// `UPDATE` or `DELETE` without `WHERE`: every row is changed and locked. A MySQL
/// `DELETE … LIMIT n` (batched purge) is deliberate and not reported, nor a
/// multi-table form whose join restricts the rows (`UPDATE a JOIN b USING (k) SET …`,
/// `DELETE a FROM a JOIN b ON …`, `DELETE … USING`). PostgreSQL's `UPDATE … FROM u`
/// without WHERE is reported: it updates every row, each from an arbitrary row of `u`.
pub(crate) fn update_delete_without_where(stmts: &[Statement]) -> Option<String> {
    stmts.iter().find_map(|s| match s {
        Statement::Update(u)
            if u.selection.is_none() && u.limit.is_none() && u.table.joins.is_empty() =>
        {
            Some(short(&format!("UPDATE {} SET … (no WHERE)", u.table)))
        }
        Statement::Delete(d)
            if d.selection.is_none()
                && d.limit.is_none()
                && d.using.is_none()
                && d.tables.is_empty() =>
        {
            let (sqlparser::ast::FromTable::WithFromKeyword(from)
            | sqlparser::ast::FromTable::WithoutKeyword(from)) = &d.from;
            if from.iter().any(|t| !t.joins.is_empty()) {
                return None;
            }
            let from = from
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            Some(short(&format!("DELETE FROM {from} (no WHERE)")))
        }
        _ => None,
    })
}

fn is_plain_table(t: &TableFactor) -> bool {
    matches!(t, TableFactor::Table { args: None, .. })
}

/// Whether `e` holds a comparison between two columns (a join predicate).
fn has_join_predicate(e: &Expr) -> bool {
    visit_expressions(e, |x| match x {
        Expr::BinaryOp { left, op, right }
            if is_comparison(op) && has_column(left) && has_column(right) =>
        {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// Tables joined without a join condition: comma joins (`FROM a, b`) or `CROSS JOIN` /
/// `JOIN` without `ON`, when WHERE compares no column with another column. Only plain
/// tables count: a comma join with a derived table or a table function
/// (`FROM t, (SELECT @n := 0) r`, `generate_series`) is a usual idiom. Unqualified
/// columns cannot be attributed to a table, so any column-to-column comparison counts
/// as a join condition.
pub(crate) fn cartesian_join(stmts: &[Statement]) -> Option<String> {
    find_in_queries(stmts, |q| {
        let mut sel = Vec::new();
        selects(&q.body, &mut sel);
        sel.into_iter().find_map(|select| {
            let comma = select
                .from
                .iter()
                .filter(|t| is_plain_table(&t.relation))
                .count()
                >= 2;
            let unconstrained = select.from.iter().flat_map(|t| &t.joins).any(|j| {
                is_plain_table(&j.relation)
                    && matches!(
                        join_constraint(&j.join_operator),
                        Some(JoinConstraint::None)
                    )
            });
            if !(comma || unconstrained) {
                return None;
            }
            if select.selection.as_ref().is_some_and(has_join_predicate) {
                return None;
            }
            let from = select
                .from
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            Some(short(&format!("FROM {from}")))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse::{Origin, parse};

    fn pg(sql: &str) -> Detected {
        check_all(&parse(sql, Origin::Postgres).unwrap_or_else(|| panic!("parses: {sql}")))
    }
    fn my(sql: &str) -> Detected {
        check_all(&parse(sql, Origin::Mysql).unwrap_or_else(|| panic!("parses: {sql}")))
    }

    #[test]
    fn select_star_fires_on_the_outer_projection_only() {
        assert_eq!(
            my("select * from orders where id = ?")
                .select_star
                .as_deref(),
            Some("SELECT *")
        );
        assert_eq!(
            pg("SELECT o.*, c.name FROM orders o JOIN c ON c.id = o.cid")
                .select_star
                .as_deref(),
            Some("SELECT o.*")
        );
        for sql in [
            "select count(*) from orders",
            "select id from orders where exists (select * from items where items.oid = orders.id)",
            "select * from (select id, total from orders) x",
            "update t set a = ? where id = ?",
        ] {
            assert_eq!(my(sql).select_star, None, "{sql}");
        }
    }

    #[test]
    fn like_leading_wildcard_fires_where_the_pattern_survives() {
        assert!(
            my("select id from t where name like '%abc'")
                .like_leading_wildcard
                .is_some()
        );
        assert!(
            my("select id from t where name like concat(?, ?, ?)")
                .like_leading_wildcard
                .is_some()
        );
        assert!(
            my("select id from t where name like concat('%', ?)")
                .like_leading_wildcard
                .is_some()
        );
        assert!(
            pg("SELECT id FROM t WHERE name ILIKE $1 || $2 || $3")
                .like_leading_wildcard
                .is_some()
        );
        assert!(
            pg("SELECT id FROM t WHERE name LIKE '%' || $1")
                .like_leading_wildcard
                .is_some()
        );
        for sql in [
            "select id from t where name like 'abc%'",
            "select id from t where name like ?",
            "select id from t where name like concat(?, '%')",
        ] {
            assert_eq!(my(sql).like_leading_wildcard, None, "{sql}");
        }
    }

    #[test]
    fn function_on_column_fires_on_the_column_side() {
        for sql in [
            "select id from t where date(created_at) = ?",
            "select id from t where lower(email) = ? and status = ?",
            "select id from t join u on lower(u.email) = t.email",
            "update t set a = ? where year(created_at) = ?",
        ] {
            assert!(my(sql).function_on_column.is_some(), "{sql}");
        }
        assert!(
            pg("SELECT id FROM t WHERE id::text = $1")
                .function_on_column
                .is_some()
        );
        let f = my("select id from t where date(created_at) = ?");
        assert_eq!(
            f.function_on_column.as_deref(),
            Some("date(created_at) = ?")
        );
        for sql in [
            "select id from t where created_at >= date(?)",
            "select lower(email) from t where id = ?",
            "select id from t where email = lower(?)",
        ] {
            assert_eq!(my(sql).function_on_column, None, "{sql}");
        }
    }

    #[test]
    fn or_across_columns_needs_branches_without_a_common_column() {
        assert!(
            my("select id from t where a = ? or b = ?")
                .or_across_columns
                .is_some()
        );
        assert!(
            my("select id from t where x = ? and (a = ? or b like ?)")
                .or_across_columns
                .is_some()
        );
        for sql in [
            "select id from t where a = ? or a = ?",
            "select id from t where (a = ? and b = ?) or (a = ? and c = ?)",
            "select id from t where ? is null or a = ?",
            "select case when a = ? or b = ? then 1 end from t",
        ] {
            assert_eq!(my(sql).or_across_columns, None, "{sql}");
        }
    }

    #[test]
    fn not_in_subquery_fires_on_negated_subqueries_only() {
        assert!(
            my("select id from t where id not in (select tid from u)")
                .not_in_subquery
                .is_some()
        );
        assert_eq!(
            my("select id from t where id in (select tid from u)").not_in_subquery,
            None
        );
        assert_eq!(
            my("select id from t where id not in(?+)").not_in_subquery,
            None
        );
    }

    #[test]
    fn order_by_rand_fires_on_random_sorts() {
        assert!(
            my("select id from t order by rand() limit ?")
                .order_by_rand
                .is_some()
        );
        assert!(
            pg("SELECT id FROM t ORDER BY random() LIMIT $1")
                .order_by_rand
                .is_some()
        );
        assert_eq!(
            my("select id from t order by created_at desc").order_by_rand,
            None
        );
    }

    #[test]
    fn offsets_are_read_literal_or_masked() {
        assert_eq!(
            my("select id from t order by id limit 20 offset 50000").offset,
            Some(Offset::Literal(50000.0, "OFFSET 50000".to_owned()))
        );
        assert!(matches!(
            my("select id from t limit ?, ?").offset,
            Some(Offset::Masked(_))
        ));
        assert!(matches!(
            pg("SELECT id FROM t LIMIT $1 OFFSET $2").offset,
            Some(Offset::Masked(_))
        ));
        assert_eq!(my("select id from t limit ?").offset, None);
    }

    #[test]
    fn update_delete_without_where_fires_on_whole_table_changes() {
        assert!(
            my("update t set a = ?")
                .update_delete_without_where
                .is_some()
        );
        assert!(pg("DELETE FROM t").update_delete_without_where.is_some());
        assert!(
            pg("UPDATE t SET x = u.x FROM u")
                .update_delete_without_where
                .is_some()
        );
        for sql in [
            "update t set a = ? where id = ?",
            "delete from t where id = ?",
            "delete from t limit ?",
            "select id from t",
            "update a join b using (k) set a.x = b.x",
            "delete a from a join b on a.id = b.aid",
        ] {
            assert_eq!(my(sql).update_delete_without_where, None, "{sql}");
        }
    }

    #[test]
    fn cartesian_join_needs_tables_without_a_join_condition() {
        assert!(
            my("select a.id from a, b where a.x = ?")
                .cartesian_join
                .is_some()
        );
        assert!(
            my("select a.id from a cross join b")
                .cartesian_join
                .is_some()
        );
        for sql in [
            "select a.id from a, b where a.id = b.aid",
            "select a.id from a join b on a.id = b.aid",
            "select a.id from a, (select @n := 0) r",
            "select id from a",
        ] {
            assert_eq!(my(sql).cartesian_join, None, "{sql}");
        }
    }
}
