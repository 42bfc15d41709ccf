//! Gatus-compatible conditions: `[STATUS] == 200`, `[BODY].data[0].id == 7`, `len([BODY]) > 0`,
//! `[IP] == pat(10.*)`, `[STATUS] == any(200, 204)`, `[CERTIFICATE_EXPIRATION] > 48h`.
//!
//! A condition is parsed once, at config load ([`Condition::parse`] reports the column of the
//! first mistake), and evaluated against each check's [`Observation`]. Evaluation never fails:
//! a value that is missing or not a number makes the condition false, and `resolved` says why.

mod ast;
mod eval;
mod glob;
mod number;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::check::{ConditionResult, Observation};

/// A parsed condition. It travels (to remote probes) as its source text and is parsed again.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Condition {
    source: String,
    expr: ast::Expr,
}

/// Why a condition did not parse; `column` is 1-based, in characters of the condition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ConditionError {}

impl TryFrom<String> for Condition {
    type Error = ConditionError;
    fn try_from(source: String) -> Result<Self, Self::Error> {
        Self::parse(&source)
    }
}

impl From<Condition> for String {
    fn from(condition: Condition) -> Self {
        condition.source
    }
}

impl Condition {
    /// Parses `<left> <op> <right>`, e.g. `[BODY].status == UP`.
    pub fn parse(source: &str) -> Result<Self, ConditionError> {
        let expr = parse::parse(source)?;
        Ok(Self { source: source.to_owned(), expr })
    }

    /// The condition as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether what a check saw satisfies the condition, with the values it compared
    /// (`resolved`, worded like Gatus: `[STATUS] (503) == 200`).
    pub fn evaluate(&self, obs: &Observation) -> ConditionResult {
        let verdict = eval::evaluate(&self.expr, obs);
        ConditionResult { condition: self.source.clone(), ok: verdict.ok, resolved: verdict.resolved }
    }
}
