//! Which token each row uses: its own `token_env`, else `--token-env`. Every
//! variable is read once, up front, so a missing one stops the run before
//! anything is sent rather than half-way through.

use std::collections::BTreeMap;

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
        let mut index: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut ids = Vec::new();
        let mut per_var: Vec<usize> = Vec::new();
        for row in rows {
            let var = var_for(row, default_var);
            let next = index.len();
            let (i, _) = index
                .entry(var.to_string())
                .or_insert_with(|| (next, row.id.source.clone()));
            if *i == per_var.len() {
                per_var.push(0);
            }
            per_var[*i] += 1;
            ids.push(TokenId(*i));
        }
        let mut by_index: Vec<(String, String)> = vec![Default::default(); index.len()];
        for (name, (i, first)) in index {
            by_index[i] = (name, first);
        }
        let mut names = Vec::new();
        let mut tokens = Vec::new();
        let mut errors = Vec::new();
        for (i, (name, first)) in by_index.into_iter().enumerate() {
            match (Token::from_env(&name), fallback) {
                (Ok(t), _) => tokens.push(t),
                (Err(SecretError::Unset(_)), Some(f)) => tokens.push(f(&name)),
                (Err(error), _) => errors.push(TokenError {
                    error,
                    rows: per_var[i],
                    first,
                }),
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
