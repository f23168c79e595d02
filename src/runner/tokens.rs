//! Which token each row uses: its own `token_env`, else `--token-env`. Every
//! variable is read once, up front, so a missing one stops the run before
//! anything is sent rather than half-way through.

use std::collections::HashMap;

use crate::secret::{SecretError, Token};
use crate::send::TokenId;
use crate::validate::ValidRow;

/// The run's tokens, by variable name, in a stable order.
#[derive(Debug)]
pub struct TokenTable {
    pub names: Vec<String>,
    pub tokens: Vec<Token>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{error} (needed by {rows} row(s), first at {first}); tokens are read only from the environment"
)]
pub struct TokenError {
    pub error: SecretError,
    pub rows: usize,
    pub first: String,
}

/// The variable a row's token comes from.
pub fn var_for<'a>(row: &'a ValidRow, default_var: &'a str) -> &'a str {
    row.token_env.as_ref().map_or(default_var, |v| v.as_str())
}

impl TokenTable {
    /// Read every variable the rows need. `fallback` supplies a token for an
    /// unset variable (the sandbox demo); otherwise unset is an error.
    pub fn load<'r>(
        rows: impl IntoIterator<Item = &'r ValidRow>,
        default_var: &str,
        fallback: Option<&dyn Fn(&str) -> Token>,
    ) -> Result<(TokenTable, Vec<TokenId>), Vec<TokenError>> {
        // One entry per variable, in order of first use: (name, first row, rows).
        let mut vars: Vec<(String, String, usize)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut ids = Vec::new();
        for row in rows {
            let var = var_for(row, default_var);
            let i = *index.entry(var.to_string()).or_insert_with(|| {
                vars.push((var.to_string(), row.id.source.to_string(), 0));
                vars.len() - 1
            });
            vars[i].2 += 1;
            ids.push(TokenId(i));
        }
        let mut names = Vec::new();
        let mut tokens = Vec::new();
        let mut errors = Vec::new();
        for (name, first, rows) in vars {
            match (Token::from_env(&name), fallback) {
                (Ok(t), _) => tokens.push(t),
                (Err(SecretError::Unset(_)), Some(f)) => tokens.push(f(&name)),
                (Err(error), _) => errors.push(TokenError { error, rows, first }),
            }
            names.push(name);
        }
        if errors.is_empty() {
            Ok((TokenTable { names, tokens }, ids))
        } else {
            Err(errors)
        }
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
        let (table, ids) = TokenTable::load(rows.iter(), "WP_TEST_UNSET_A", Some(&demo)).unwrap();
        assert_eq!(table.names, ["WP_TEST_UNSET_B", "WP_TEST_UNSET_A"]);
        assert_eq!(ids, [TokenId(0), TokenId(1), TokenId(0)]);
        assert_eq!(table.tokens.len(), 2);
    }

    #[test]
    fn an_unset_variable_names_how_many_rows_need_it() {
        let rows = [row(1, None), row(2, Some("WP_TEST_UNSET_C")), row(3, None)];
        let errors = TokenTable::load(rows.iter(), "WP_TEST_UNSET_D", None).unwrap_err();
        assert_eq!(errors.len(), 2);
        let d = errors
            .iter()
            .find(|e| e.error == SecretError::Unset("WP_TEST_UNSET_D".into()))
            .unwrap();
        assert_eq!((d.rows, d.first.as_str()), (2, "m.csv:2"));
    }
}
