//! `[*]` wildcards, and the bounds that keep evaluation cheap and `resolved` short.

use super::super::Condition;
use super::{body, run};

#[test]
fn wildcard_index() {
    let users = |a: bool, b: bool| body(&format!(r#"{{"users": [{{"active": {a}}}, {{"active": {b}}}]}}"#));
    run(vec![
        (
            "[BODY].users[*].active == true",
            users(true, true),
            true,
            "[BODY].users[*].active == true (2 elements)",
        ),
        (
            "[BODY].users[*].active == true",
            users(true, false),
            false,
            "[BODY].users[1].active (false) == true",
        ),
        (
            "[BODY].users[*].active == true",
            users(false, false),
            false,
            "[BODY].users[0].active (false) == true; [BODY].users[1].active (false) == true",
        ),
        (
            "[BODY].users[*].active == true",
            body(r#"{"users": []}"#),
            false,
            "[BODY].users[*].active == true (no elements matched)",
        ),
        (
            "[BODY].users[*].active == true",
            body("{}"),
            false,
            "[BODY].users[*].active == true (no elements matched)",
        ),
        ("[BODY][*] > 0", body("[1, 2, 0]"), false, "[BODY][2] (0) > 0"),
        (
            "[BODY].a[*].b[*] > 0",
            body(r#"{"a": [{"b": [1, 2]}, {"b": [3, -1]}]}"#),
            false,
            "[BODY].a[1].b[1] (-1) > 0",
        ),
        (
            "len([BODY].groups[*].members) > 0",
            body(r#"{"groups": [{"members": [1]}, {"members": [2, 3]}]}"#),
            true,
            "len([BODY].groups[*].members) > 0 (2 elements)",
        ),
    ]);
}

#[test]
fn wildcard_reports_at_most_ten_failures() {
    let items: Vec<String> = (0..25).map(|_| "0".to_owned()).collect();
    let condition = Condition::parse("[BODY][*] > 0").unwrap();
    let result = condition.evaluate(&body(&format!("[{}]", items.join(","))));
    assert!(!result.ok);
    assert!(result.resolved.starts_with("[BODY][0] (0) > 0; [BODY][1] (0) > 0;"), "{}", result.resolved);
    assert!(result.resolved.ends_with("[BODY][9] (0) > 0; and 15 more"), "{}", result.resolved);
}

#[test]
fn nested_wildcards_are_bounded() {
    let row = format!("[{}]", vec!["1"; 1000].join(","));
    let big = format!("[{}]", vec![row.as_str(); 1000].join(","));
    let result = Condition::parse("[BODY][*][*] > 0").unwrap().evaluate(&body(&big));
    assert!(!result.ok);
    assert!(
        result.resolved.contains("too many elements"),
        "{}",
        &result.resolved[..200.min(result.resolved.len())]
    );
}

#[test]
fn long_values_are_cut_in_resolved() {
    let long = "x".repeat(5000);
    let result = Condition::parse("[BODY] == ok").unwrap().evaluate(&body(&long));
    assert!(!result.ok);
    assert_eq!(result.resolved, format!("[BODY] ({}...(truncated)) == ok", "x".repeat(200)));
}

#[test]
fn hostile_bodies_do_not_break_evaluation() {
    let deep = "[".repeat(100_000);
    let huge = format!("{{\"a\": \"{}ok\"}}", "z".repeat(4_000_000));
    for source in
        ["[BODY][0][0][0] == 1", "len([BODY]) > 0", "has([BODY][0]) == true", "[BODY].a == pat(*ok)"]
    {
        let condition = Condition::parse(source).unwrap();
        let _ = condition.evaluate(&body(&deep));
        let _ = condition.evaluate(&body(&huge));
    }
    let result = Condition::parse("[BODY].a == pat(*z*ok)").unwrap().evaluate(&body(&huge));
    assert!(result.ok);
}
