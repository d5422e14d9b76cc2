//! Security rules: pg_hba.conf letting network clients in without a password (or
//! with a clear-text one), and schema `public` open to CREATE by any login.

use perfdiag_model::{Comparison, Threshold, Value};

use super::per_target;
use crate::baseline::Direction;
use crate::frames::Missing;
use crate::rules::{RuleDef, context, crossed, finding};

/// pg_hba.conf lets network clients in without a password (`trust`), or sends
/// passwords in clear text (`password`) — worst when open to any address.
pub(super) const TRUST_AUTH: RuleDef = RuleDef {
    id: "pg.security.trust_auth",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let rules = facts
                .security
                .as_ref()
                .and_then(|s| s.hba_rules.as_ref())
                .ok_or_else(|| {
                    Missing(
                        "pg_hba rules (facts postgres.security.hba_rules; see probe postgres.hba)"
                            .to_owned(),
                    )
                })?;
            let weak: Vec<String> = rules
                .iter()
                .filter(|r| r.error.is_none() && r.is_network())
                .filter(|r| matches!(r.auth_method.as_deref(), Some("trust" | "password")))
                .map(|r| {
                    let address = if r.matches_any_address() {
                        "any address".to_owned()
                    } else {
                        format!(
                            "{}{}",
                            r.address.as_deref().unwrap_or("?"),
                            r.netmask
                                .as_deref()
                                .map(|m| format!("/{m}"))
                                .unwrap_or_default()
                        )
                    };
                    format!(
                        "line {}: {} {} from {address}",
                        r.line_number.unwrap_or(0),
                        r.conn_type.as_deref().unwrap_or("?"),
                        r.auth_method.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            if weak.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![
                    crossed(
                        "pg.hba.auth_method",
                        Value::text("trust/password"),
                        Threshold::new(Comparison::Equals, Value::text("trust/password")),
                    ),
                    context("pg.hba.weak_rules", Value::text(weak.join("; "))),
                ],
            )])
        })
    },
};

/// PUBLIC may create objects in schema `public`: any login can plant functions or
/// tables that other roles' unqualified names resolve to (CVE-2018-1058).
pub(super) const PUBLIC_SCHEMA_CREATE: RuleDef = RuleDef {
    id: "pg.security.public_schema_create",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let create = facts
                .security
                .as_ref()
                .and_then(|s| s.public_schema_create)
                .ok_or_else(|| {
                    Missing("facts postgres.security.public_schema_create".to_owned())
                })?;
            Ok(if create {
                vec![finding(
                    spec,
                    spec.condition_severity(),
                    Some(facts.target.clone()),
                    vec![crossed(
                        "pg.security.public_schema_create",
                        Value::text("true"),
                        Threshold::new(Comparison::Equals, Value::text("true")),
                    )],
                )]
            } else {
                Vec::new()
            })
        })
    },
};
