//! Which token (and which two-step PIN) each row uses: its own `token_env`
//! (`pin_env`), else the run's default variable. Every variable is read once,
//! up front, so a missing one stops the run before anything is sent rather
//! than half-way through.

use std::collections::HashMap;

use crate::secret::{SecretError, Token};
use crate::send::TokenId;
use crate::validate::ValidRow;

/// The values of the variables a run uses, in order of first use; rows refer
/// to them by index.
#[derive(Debug)]
pub struct VarTable<T> {
    pub names: Vec<String>,
    pub values: Vec<T>,
}

/// The run's tokens.
pub type TokenTable = VarTable<Token>;

#[derive(Debug, thiserror::Error)]
#[error(
    "{error} (needed by {rows} row(s), first at {first}); {what} are read only from the environment"
)]
pub struct VarError {
    pub error: SecretError,
    pub rows: usize,
    pub first: String,
    /// "tokens", "PINs".
    pub what: &'static str,
}

impl<T> VarTable<T> {
    /// Read every variable `uses` names (one `(variable, row)` per row that
    /// needs one) with `read`. `fallback` supplies a value for an unset
    /// variable (the sandbox demo); otherwise unset is an error. Returns the
    /// table and, per use, its index.
    pub fn load<'r>(
        uses: impl IntoIterator<Item = (&'r str, &'r ValidRow)>,
        read: impl Fn(&str) -> Result<T, SecretError>,
        fallback: Option<&dyn Fn(&str) -> T>,
        what: &'static str,
    ) -> Result<(VarTable<T>, Vec<usize>), Vec<VarError>> {
        // One entry per variable, in order of first use: (name, first row, rows).
        let mut vars: Vec<(String, String, usize)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut ids = Vec::new();
        for (var, row) in uses {
            let i = *index.entry(var).or_insert_with(|| {
                vars.push((var.to_string(), row.id.source.to_string(), 0));
                vars.len() - 1
            });
            vars[i].2 += 1;
            ids.push(i);
        }
        let mut names = Vec::new();
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for (name, first, rows) in vars {
            match (read(&name), fallback) {
                (Ok(v), _) => values.push(v),
                (Err(SecretError::Unset(_)), Some(f)) => values.push(f(&name)),
                (Err(error), _) => errors.push(VarError {
                    error,
                    rows,
                    first,
                    what,
                }),
            }
            names.push(name);
        }
        if errors.is_empty() {
            Ok((VarTable { names, values }, ids))
        } else {
            Err(errors)
        }
    }
}

impl TokenTable {
    /// The token of every row: its `token_env`, else `default_var`.
    pub fn for_rows<'r>(
        rows: impl IntoIterator<Item = &'r ValidRow>,
        default_var: &'r str,
        fallback: Option<&dyn Fn(&str) -> Token>,
    ) -> Result<(TokenTable, Vec<TokenId>), Vec<VarError>> {
        let uses = rows.into_iter().map(|r| (r.token_var(default_var), r));
        let (table, ids) = VarTable::load(uses, Token::from_env, fallback, "tokens")?;
        let ids = ids
            .into_iter()
            .map(|i| TokenId(u32::try_from(i).unwrap_or(u32::MAX)));
        Ok((table, ids.collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u32, var: Option<&str>) -> ValidRow {
        ValidRow::fixture(n, "7400000001").token_env(var)
    }

    #[test]
    fn one_token_per_variable_in_order_of_first_use() {
        let rows = [
            row(1, Some("WP_TEST_UNSET_B")),
            row(2, None),
            row(3, Some("WP_TEST_UNSET_B")),
        ];
        let demo = |name: &str| Token::new(format!("demo-{name}"));
        let (table, ids) =
            TokenTable::for_rows(rows.iter(), "WP_TEST_UNSET_A", Some(&demo)).unwrap();
        assert_eq!(table.names, ["WP_TEST_UNSET_B", "WP_TEST_UNSET_A"]);
        assert_eq!(ids, [TokenId(0), TokenId(1), TokenId(0)]);
        assert_eq!(table.values.len(), 2);
    }

    #[test]
    fn an_unset_variable_names_how_many_rows_need_it() {
        let rows = [row(1, None), row(2, Some("WP_TEST_UNSET_C")), row(3, None)];
        let errors = TokenTable::for_rows(rows.iter(), "WP_TEST_UNSET_D", None).unwrap_err();
        assert_eq!(errors.len(), 2);
        let d = errors
            .iter()
            .find(|e| e.error == SecretError::Unset("WP_TEST_UNSET_D".into()))
            .unwrap();
        assert_eq!((d.rows, d.first.as_str()), (2, "m.csv:2"));
    }
}
