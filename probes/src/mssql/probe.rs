//! SQL Server sub-probes' helpers: the shared [`Tally`] and quoting of names.

pub(crate) use crate::db::tally::Tally;

/// Quotes a name for T-SQL (`[my db]`), doubling any `]`.
pub(crate) fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bracketed() {
        assert_eq!(quote_name("erp"), "[erp]");
        assert_eq!(quote_name("a]b"), "[a]]b]");
    }
}
