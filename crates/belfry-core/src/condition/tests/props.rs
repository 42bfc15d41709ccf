//! Invariants: parsing and evaluating never panic, whatever the input; what parses keeps its
//! source; comparisons agree with Rust's.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::super::Condition;
use crate::check::Observation;

/// Fragments that exercise every branch of the parser when glued together at random.
const TOKENS: &[&str] = &[
    "[STATUS]",
    "[BODY]",
    "[body]",
    "[IP]",
    "[CONNECTED]",
    "[DNS_RCODE]",
    "[RESPONSE_TIME]",
    "[CERTIFICATE_EXPIRATION]",
    "[STATSU]",
    "[HEADER]",
    ".a",
    ".",
    "[0]",
    "[12]",
    "[*]",
    "[x]",
    "len(",
    "has(",
    "pat(",
    "any(",
    "age(",
    "foo(",
    "(",
    ")",
    "[",
    "]",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=",
    "!",
    " ",
    "  ",
    "\t",
    "200",
    "ok",
    ",",
    "*",
    "?",
    "\\",
    "-",
    "^",
    "é",
    "😀",
    "48h",
    "1.5",
    "0x1F",
    "\"",
];

const CONDITIONS: &[&str] = &[
    "[STATUS] == 200",
    "[BODY] == ok",
    "[BODY].a == 1",
    "[BODY].a.b[0].c != x",
    "[BODY][0][1] > 3",
    "[BODY].a[*].b == 1",
    "[BODY][*][*] < 5",
    "len([BODY]) > 0",
    "len([BODY].a) >= 2",
    "has([BODY].a.b) == true",
    "[BODY] == pat(*ok*)",
    "[BODY].a == any(1, 2, x)",
    "[BODY].a == [BODY].b",
    "[RESPONSE_TIME] < 1s",
    "[CERTIFICATE_EXPIRATION] > 48h",
    "[BODY].n <= 1e308",
];

fn observation(text: &str) -> Observation {
    Observation {
        connected: text.len().is_multiple_of(2),
        status: u16::try_from(text.len() % 600).ok(),
        body: Some(text.to_owned()),
        ip: Some(text.chars().take(15).collect()),
        certificate_expiration: Some(std::time::Duration::from_millis(text.len() as u64 * 1_000_003)),
        dns_rcode: Some(text.chars().rev().take(8).collect()),
        duration_ms: text.len() as u64,
        ..Observation::default()
    }
}

fn check_parse(source: &str) {
    match Condition::parse(source) {
        Ok(condition) => {
            assert_eq!(condition.source(), source);
            let result = condition.evaluate(&observation(source));
            assert_eq!(result.condition, source);
            assert!(!result.resolved.is_empty());
            let _ = condition.evaluate(&Observation::default());
        }
        Err(error) => {
            let len = source.chars().count();
            assert!(
                (1..=len + 1).contains(&error.column),
                "column {} of {source:?} (len {len})",
                error.column
            );
            assert!(!error.message.is_empty());
        }
    }
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(select(TOKENS), 0..14).prop_map(|tokens| tokens.concat())
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                select(&["a", "b", "c", "n"][..]).prop_map(str::to_owned),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn ws() -> impl Strategy<Value = &'static str> {
    select(&["", " ", "  ", "\t"][..])
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(source in any::<String>()) {
        check_parse(&source);
    }

    #[test]
    fn parse_never_panics_on_token_soup(source in token_soup()) {
        check_parse(&source);
    }

    #[test]
    fn valid_conditions_parse_and_keep_their_source(
        (a, left, b, op, c, right, d) in (
            ws(),
            select(&["[STATUS]", "[BODY].a[0].b", "len([BODY].items)", "has([BODY].x)", "[IP]", "raw"][..]),
            ws(),
            select(&["==", "!=", "<", "<=", ">", ">="][..]),
            ws(),
            select(&["200", "ok", "48h", "[BODY].b", "len([BODY])", "{\"a\": 1}", "[1, 2]", "a b c"][..]),
            ws(),
        )
    ) {
        let source = format!("{a}{left}{b}{op}{c}{right}{d}");
        let condition = Condition::parse(&source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        prop_assert_eq!(condition.source(), source.as_str());
    }

    #[test]
    fn evaluate_never_panics_on_arbitrary_bodies(text in any::<String>()) {
        for source in CONDITIONS {
            let _ = Condition::parse(source).unwrap().evaluate(&observation(&text));
        }
    }

    #[test]
    fn evaluate_never_panics_on_json_bodies(value in arb_json()) {
        let text = value.to_string();
        for source in CONDITIONS {
            let _ = Condition::parse(source).unwrap().evaluate(&observation(&text));
        }
    }

    #[test]
    fn status_comparisons_agree_with_rust(
        code in 0u16..1000,
        n in 0u16..1000,
        op in select(&["==", "!=", "<", "<=", ">", ">="][..]),
    ) {
        let result = Condition::parse(&format!("[STATUS] {op} {n}")).unwrap().evaluate(&super::status(code));
        let expected = match op {
            "==" => code == n,
            "!=" => code != n,
            "<" => code < n,
            "<=" => code <= n,
            ">" => code > n,
            _ => code >= n,
        };
        prop_assert_eq!(result.ok, expected);
        prop_assert_eq!(result.resolved, format!("[STATUS] ({code}) {op} {n}"));
    }

    #[test]
    fn json_integers_compare_by_value(n in any::<i64>(), m in any::<i64>()) {
        let obs = super::body(&json!({"k": n}).to_string());
        let equal = Condition::parse(&format!("[BODY].k == {m}")).unwrap().evaluate(&obs);
        prop_assert_eq!(equal.ok, n == m);
        let less = Condition::parse(&format!("[BODY].k < {m}")).unwrap().evaluate(&obs);
        prop_assert_eq!(less.ok, n < m);
    }
}
