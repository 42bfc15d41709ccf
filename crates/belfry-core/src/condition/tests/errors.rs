//! Parse errors: the column (1-based, in characters) and the gist of the message.

use super::super::Condition;

#[test]
fn parse_errors_point_at_the_mistake() {
    let table: &[(&str, usize, &str)] = &[
        ("", 1, "empty condition"),
        ("   ", 4, "empty condition"),
        ("[STATSU] == 200", 1, "unknown placeholder [STATSU]; did you mean [STATUS]?"),
        ("[RESPONSETIME] < 500", 1, "did you mean [RESPONSE_TIME]?"),
        ("[Bodyy].a == 1", 1, "did you mean [BODY]?"),
        ("[FOO] == 1", 1, "unknown placeholder [FOO]; expected one of [STATUS], [RESPONSE_TIME]"),
        ("[BODY] == [OK]", 11, "unknown placeholder [OK]"),
        ("[BODY].café == [STATSU]", 16, "did you mean [STATUS]?"),
        ("[HEADER].Content-Type == x", 1, "[HEADER] is a Gatus placeholder that Belfry does not support"),
        ("[DOMAIN_EXPIRATION] > 720h", 1, "does not support"),
        ("[STATUS] 200", 10, "expected an operator"),
        ("[STATUS]", 9, "missing operator"),
        ("[STATUS] = 200", 10, "'=' is not an operator; use '=='"),
        ("[STATUS] = = 201", 10, "'=' is not an operator"),
        ("[STATUS] => 200", 10, "'=>' is not an operator; use '>='"),
        ("[STATUS] ? 201", 10, "expected an operator (==, !=, <, <=, >, >=), found '?'"),
        ("[STATUS] ==", 12, "missing value after '=='"),
        ("[STATUS] <=   ", 15, "missing value after '<='"),
        ("[STATUS] === 200", 12, "unexpected '=' after '=='"),
        ("[STATUS] !== 200", 12, "unexpected '=' after '!='"),
        ("[STATUS] <> 200", 11, "unexpected '>' after '<'"),
        ("== 200", 1, "missing left-hand side"),
        ("len([BODY].data > 3", 4, "unclosed '(' of len()"),
        ("len([BODY].data", 4, "unclosed '(' of len()"),
        ("len([BODY].data x) > 3", 17, "unexpected 'x' in len(); expected ')'"),
        ("len([BODY])) == 1", 12, "unmatched ')'"),
        ("[BODY].data] == 1", 12, "unmatched ']'"),
        ("[BODY].data[0 == 1", 12, "unclosed '[' in [BODY] path"),
        ("[STATUS == 200", 1, "unclosed '['"),
        ("[BODY == 1", 1, "unclosed '['"),
        ("[STATUS] == [BODY", 13, "unclosed '['"),
        ("[BODY].data[x] == 1", 13, "bad index [x]"),
        ("[BODY].data[-1] == 1", 13, "bad index [-1]"),
        ("[BODY].data[] == 1", 12, "bad index []"),
        ("[BODY].data[99999999999999999999999] == 1", 13, "index 99999999999999999999999 is too large"),
        ("[BODY]. == 1", 8, "expected a key name after '.'"),
        ("[BODY].a..b == 1", 10, "expected a key name after '.'"),
        ("[STATUS].code == 1", 9, "only [BODY] takes a path"),
        ("foo([BODY]) == 1", 1, "unknown function foo(); expected len(), has(), pat() or any()"),
        ("LEN([BODY]) == 1", 1, "unknown function LEN(); did you mean len()?"),
        ("[BODY] == lne([BODY])", 11, "did you mean len()?"),
        ("age([BODY].t) < 1h", 1, "age() is a Gatus function that Belfry does not support"),
        ("has(200) == true", 5, "has() takes a placeholder"),
        ("len(len([BODY])) > 1", 5, "len() takes a placeholder"),
        ("[STATUS] < pat(4*)", 12, "pat() only works with == and !=, not <"),
        ("any(1, 2) >= [STATUS]", 1, "any() only works with == and !=, not >="),
        ("[BODY] == any()", 14, "any() needs at least one value"),
        ("[BODY] == pat(*ok*", 14, "unclosed '(' of pat()"),
        ("[BODY] == pat(*ok*)  x", 22, "unexpected text after pat(*ok*)"),
        ("pat(*ok* == [BODY]", 4, "unclosed '(' of pat()"),
        ("[BODY] == pat([a-)", 15, "unclosed '[' in pattern"),
        ("[BODY] == pat(x[]y)", 17, "unexpected ']' in pattern class"),
        ("[BODY] == pat([z-a])", 16, "empty range 'z-a'"),
        ("[BODY] == pat(ab\\)", 17, "pattern ends with a lone '\\'"),
        ("[STATUS] == [BODY].code extra", 25, "unexpected 'e' after [BODY].code"),
        ("[BODY] == len([BODY]) x", 23, "unexpected 'x' after len([BODY])"),
    ];
    for &(source, column, message) in table {
        let error = Condition::parse(source).expect_err(source);
        assert_eq!(error.column, column, "column for {source:?}: {error}");
        assert!(
            error.message.contains(message),
            "message for {source:?}: {:?} lacks {message:?}",
            error.message
        );
    }
}

#[test]
fn gatus_conditions_parse() {
    // From Gatus's documentation and tests: a Gatus user's conditions work unchanged.
    for source in [
        "[STATUS] == 200",
        "[STATUS] == any(200, 201, 202, 203)",
        "[STATUS] == [BODY].status",
        "[CONNECTED] == true",
        "[RESPONSE_TIME] < 500",
        "[IP] == 127.0.0.1",
        "[BODY] == 1",
        "[BODY].test.wat == wat",
        "[BODY].age == [BODY].id",
        "[BODY].users[0].id == 1",
        "len([BODY].users) == 100",
        "has([BODY].errors) == false",
        "has([BODY].users[0].name) == true",
        "[BODY].name == pat(john*)",
        "[CERTIFICATE_EXPIRATION] > 48h",
        "[DNS_RCODE] == NOERROR",
        "[BODY] == pat(*<div id=\"user\">john.doe</div>*)",
        "[BODY].data[*].status == UP",
        "[BODY].id == 0x1",
        "[STATUS] < 300",
        "[RESPONSE_TIME] < 1s",
        "[BODY] == [1,2,3]",
        "[BODY].message == Hello (world)",
    ] {
        if let Err(e) = Condition::parse(source) {
            panic!("{source:?}: {e}");
        }
    }
}
