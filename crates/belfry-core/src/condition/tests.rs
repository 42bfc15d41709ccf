//! Evaluation tables: every placeholder, function and operator, and the `resolved` wording
//! (cases marked "Gatus" are taken from Gatus's own condition tests).

mod errors;
mod limits;
mod props;

use std::time::Duration;

use super::Condition;
use crate::check::Observation;

pub(super) fn status(code: u16) -> Observation {
    Observation { status: Some(code), connected: true, ..Observation::default() }
}

pub(super) fn body(text: &str) -> Observation {
    Observation { body: Some(text.to_owned()), connected: true, ..Observation::default() }
}

fn millis(ms: u64) -> Observation {
    Observation { duration_ms: ms, ..Observation::default() }
}

fn cert(expires_in: Duration) -> Observation {
    Observation { certificate_expiration: Some(expires_in), ..Observation::default() }
}

fn ip(addr: &str) -> Observation {
    Observation { ip: Some(addr.to_owned()), ..Observation::default() }
}

fn rcode(code: &str) -> Observation {
    Observation { dns_rcode: Some(code.to_owned()), ..Observation::default() }
}

const HOURS: u64 = 3600;
const HTML: &str =
    r#"<!DOCTYPE html><html lang="en"><head></head><body><div id="user">jane.doe</div></body></html>"#;

/// (condition, observation, ok, resolved)
pub(super) fn run(table: Vec<(&str, Observation, bool, &str)>) {
    for (source, obs, ok, resolved) in table {
        let condition = Condition::parse(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        let result = condition.evaluate(&obs);
        assert_eq!(result.condition, source, "condition of {source:?}");
        assert_eq!((result.ok, result.resolved.as_str()), (ok, resolved), "evaluating {source:?}");
    }
}

#[test]
fn status_and_operators() {
    run(vec![
        ("[STATUS] == 200", status(200), true, "[STATUS] (200) == 200"),
        ("[STATUS] == 200", status(503), false, "[STATUS] (503) == 200"),
        ("[STATUS] == 200", Observation::default(), false, "[STATUS] (0) == 200"),
        ("[STATUS]==200", status(200), true, "[STATUS] (200) == 200"),
        ("  [STATUS]   ==200  ", status(503), false, "[STATUS] (503) == 200"),
        ("[STATUS] != 200", status(500), true, "[STATUS] (500) != 200"),
        ("[STATUS] != 200", status(200), false, "[STATUS] (200) != 200"),
        ("[STATUS] < 300", status(201), true, "[STATUS] (201) < 300"),
        ("[STATUS] < 300", status(404), false, "[STATUS] (404) < 300"), // Gatus
        ("[STATUS] <= 299", status(299), true, "[STATUS] (299) <= 299"),
        ("[STATUS] <= 299", status(300), false, "[STATUS] (300) <= 299"),
        ("[STATUS] > 199", status(200), true, "[STATUS] (200) > 199"),
        ("[STATUS] > 199", status(199), false, "[STATUS] (199) > 199"),
        ("[STATUS] >= 200", status(200), true, "[STATUS] (200) >= 200"),
        ("[STATUS]>=200", status(100), false, "[STATUS] (100) >= 200"),
        ("[STATUS] == 0x1F4", status(500), true, "[STATUS] (500) == 0x1F4"),
        ("[status] == 200", status(200), true, "[status] (200) == 200"),
        (
            "[STATUS] == [BODY].code",
            Observation { status: Some(503), ..body(r#"{"code":503}"#) },
            true,
            "[STATUS] (503) == [BODY].code (503)",
        ),
        ("1 == 2", Observation::default(), false, "1 == 2"), // Gatus
        ("raw == raw", Observation::default(), true, "raw == raw"),
    ]);
}

#[test]
fn response_time() {
    run(vec![
        ("[RESPONSE_TIME] < 1000", millis(1200), false, "[RESPONSE_TIME] (1200) < 1000"),
        ("[RESPONSE_TIME] < 1000", millis(999), true, "[RESPONSE_TIME] (999) < 1000"),
        ("[RESPONSE_TIME] < 1s", millis(50), true, "[RESPONSE_TIME] (50) < 1s"), // Gatus
        ("[RESPONSE_TIME] > 1s", millis(2000), true, "[RESPONSE_TIME] (2000) > 1s"),
        ("[RESPONSE_TIME] >= 500", millis(499), false, "[RESPONSE_TIME] (499) >= 500"), // Gatus
        ("[RESPONSE_TIME] <= 500", millis(500), true, "[RESPONSE_TIME] (500) <= 500"),
        // Not a number: fails, where Gatus would read `potato` as 0.
        ("[RESPONSE_TIME] < potato", millis(50), false, "[RESPONSE_TIME] (50) < potato (INVALID)"),
        ("[RESPONSE_TIME] > potato", millis(50), false, "[RESPONSE_TIME] (50) > potato (INVALID)"),
    ]);
}

#[test]
fn body_and_json_paths() {
    run(vec![
        ("[BODY] == test", body("test"), true, "[BODY] (test) == test"),
        ("[BODY] == test", body("  test\n"), true, "[BODY] (test) == test"),
        ("[BODY] == test", Observation::default(), false, "[BODY] () == test"),
        ("[BODY] == 123", body("123"), true, "[BODY] (123) == 123"),
        ("[BODY] > 122", body("123"), true, "[BODY] (123) > 122"),
        ("[BODY] > 123", body("100"), false, "[BODY] (100) > 123"), // Gatus
        ("[BODY] == {\"a\":1}", body("{\"a\":1}"), true, "[BODY] ({\"a\":1}) == {\"a\":1}"),
        ("[BODY].status == UP", body(r#"{"status":"UP"}"#), true, "[BODY].status (UP) == UP"), // Gatus
        ("[BODY].status == ok", body(r#"{"status":"down"}"#), false, "[BODY].status (down) == ok"),
        ("[body].status == UP", body(r#"{"status":"UP"}"#), true, "[body].status (UP) == UP"),
        (
            "[BODY].data.name == john",
            body(r#"{"data": {"id": 1, "name": "john"}}"#),
            true,
            "[BODY].data.name (john) == john",
        ),
        (
            "[BODY].data.name == john",
            body(r#"{"data": {"id": 1}}"#),
            false,
            "[BODY].data.name (INVALID) == john",
        ),
        ("[BODY].data == OK", body(r#"{"data": null}"#), false, "[BODY].data (INVALID) == OK"), // Gatus
        ("[BODY].data == OK", body("null"), false, "[BODY].data (INVALID) == OK"),              // Gatus
        ("[BODY].items[0] == OK", body(r#"{"items": [null]}"#), false, "[BODY].items[0] (INVALID) == OK"),
        ("[BODY].items[5] == 1", body(r#"{"items": [1]}"#), false, "[BODY].items[5] (INVALID) == 1"),
        ("[BODY].a.b == x", body(r#"{"a": "text"}"#), false, "[BODY].a.b (INVALID) == x"),
        ("[BODY].a == x", body("<html>not json"), false, "[BODY].a (INVALID) == x"),
        // A missing path fails `!=` too (Gatus would pass it).
        ("[BODY].data != OK", body("{}"), false, "[BODY].data (INVALID) != OK"),
        ("[BODY][0].id == 1", body(r#"[{"id": 1}, {"id": 2}]"#), true, "[BODY][0].id (1) == 1"), // Gatus
        ("[BODY].[1].id == 2", body(r#"[{"id": 1}, {"id": 2}]"#), true, "[BODY].[1].id (2) == 2"),
        ("[BODY][0].name == test", body(r#"{"statusCode": 500}"#), false, "[BODY][0].name (INVALID) == test"),
        (
            "[BODY].data[1].id == 2",
            body(r#"{"data": [{"id": 1}, {"id": 2}]}"#),
            true,
            "[BODY].data[1].id (2) == 2",
        ),
        (
            "[BODY].list[1][2] == 6",
            body(r#"{"list": [[1, 2, 3], [4, 5, 6]]}"#),
            true,
            "[BODY].list[1][2] (6) == 6",
        ),
        ("[BODY].data == 1", body(r#"{"data": "0x1"}"#), true, "[BODY].data (0x1) == 1"), // Gatus
        ("[BODY].data == 0b10", body(r#"{"data": "0b0010"}"#), true, "[BODY].data (0b0010) == 0b10"),
        ("[BODY].data > 0", body(r#"{"data": "0o1"}"#), true, "[BODY].data (1) > 0"),
        (
            "[BODY].balance > 100",
            body(r#"{"balance": "123.40000000000005"}"#),
            true,
            "[BODY].balance (123.40000000000005) > 100",
        ),
        ("[BODY].load < 0.5", body(r#"{"load": 0.25}"#), true, "[BODY].load (0.25) < 0.5"),
        ("[BODY].load < 0.5", body(r#"{"load": 0.75}"#), false, "[BODY].load (0.75) < 0.5"),
        ("[BODY].count == 1000000", body(r#"{"count": 1000000}"#), true, "[BODY].count (1000000) == 1000000"),
        ("[BODY].ok == true", body(r#"{"ok": true}"#), true, "[BODY].ok (true) == true"),
        (
            "[BODY].obj == {\"a\":1}",
            body(r#"{"obj": {"a": 1}}"#),
            true,
            "[BODY].obj ({\"a\":1}) == {\"a\":1}",
        ),
        (
            "[BODY].tags == [\"a\",\"b\"]",
            body(r#"{"tags": ["a", "b"]}"#),
            true,
            "[BODY].tags ([\"a\",\"b\"]) == [\"a\",\"b\"]",
        ),
        ("[BODY].café == oui", body(r#"{"café": "oui"}"#), true, "[BODY].café (oui) == oui"),
        (
            "[BODY].user.firstName == [BODY].user.lastName",
            body(r#"{"user": {"firstName": "john", "lastName": "doe"}}"#),
            false,
            "[BODY].user.firstName (john) == [BODY].user.lastName (doe)",
        ), // Gatus
    ]);
}

#[test]
fn connected_ip_dns_certificate() {
    run(vec![
        (
            "[CONNECTED] == true",
            Observation { connected: true, ..Observation::default() },
            true,
            "[CONNECTED] (true) == true",
        ),
        ("[CONNECTED] == true", Observation::default(), false, "[CONNECTED] (false) == true"), // Gatus
        ("[IP] == 127.0.0.1", ip("127.0.0.1"), true, "[IP] (127.0.0.1) == 127.0.0.1"),
        ("[IP] == 127.0.0.1", Observation::default(), false, "[IP] () == 127.0.0.1"),
        ("[DNS_RCODE] == NOERROR", rcode("NOERROR"), true, "[DNS_RCODE] (NOERROR) == NOERROR"),
        ("[DNS_RCODE] == NOERROR", rcode("NXDOMAIN"), false, "[DNS_RCODE] (NXDOMAIN) == NOERROR"),
        (
            "[CERTIFICATE_EXPIRATION] > 48h",
            cert(Duration::from_secs(24 * HOURS)),
            false,
            "[CERTIFICATE_EXPIRATION] (24h) > 48h",
        ), // Gatus
        (
            "[CERTIFICATE_EXPIRATION] > 12h",
            cert(Duration::from_secs(24 * HOURS)),
            true,
            "[CERTIFICATE_EXPIRATION] (24h) > 12h",
        ),
        (
            "[CERTIFICATE_EXPIRATION] > 336h",
            cert(Duration::from_secs(720 * HOURS)),
            true,
            "[CERTIFICATE_EXPIRATION] (720h) > 336h",
        ),
        (
            "[CERTIFICATE_EXPIRATION] > 2419200000",
            cert(Duration::from_secs(336 * HOURS)),
            false,
            "[CERTIFICATE_EXPIRATION] (336h) > 2419200000",
        ), // Gatus
        (
            "[CERTIFICATE_EXPIRATION] > 30m",
            cert(Duration::from_secs(5415)),
            true,
            "[CERTIFICATE_EXPIRATION] (1h30m15s) > 30m",
        ),
        (
            "[CERTIFICATE_EXPIRATION] < 1h",
            cert(Duration::from_secs(3615)),
            false,
            "[CERTIFICATE_EXPIRATION] (1h0m15s) < 1h",
        ),
        (
            "[CERTIFICATE_EXPIRATION] > 90m",
            cert(Duration::from_secs(HOURS)),
            false,
            "[CERTIFICATE_EXPIRATION] (1h) > 90m (1h30m)",
        ),
        ("[CERTIFICATE_EXPIRATION] == 0", Observation::default(), true, "[CERTIFICATE_EXPIRATION] (0) == 0"),
        (
            "[CERTIFICATE_EXPIRATION] > 48h",
            Observation::default(),
            false,
            "[CERTIFICATE_EXPIRATION] (0s) > 48h",
        ),
    ]);
}

#[test]
fn len_and_has() {
    let users = r#"[{"age":18,"adult":true}]"#;
    run(vec![
        ("len([BODY].data) > 3", body(r#"{"data": [1, 2]}"#), false, "len([BODY].data) (2) > 3"),
        (
            "len([BODY].data) == 3",
            body(r#"{"data": [{"id": 1}, {"id": 2}, {"id": 3}]}"#),
            true,
            "len([BODY].data) (3) == 3",
        ),
        ("len( [BODY].data ) == 2", body(r#"{"data": [1, 2]}"#), true, "len( [BODY].data ) (2) == 2"),
        ("len([BODY]) == 3", body(r#"[{"id": 1}, {"id": 2}, {"id": 3}]"#), true, "len([BODY]) (3) == 3"),
        ("len([BODY]) == 8", body("john.doe"), true, "len([BODY]) (8) == 8"), // Gatus
        ("len([BODY]) == 20", body(r#"{"name": "john.doe"}"#), true, "len([BODY]) (20) == 20"), // Gatus
        ("len([BODY].name) == 8", body(r#"{"name": "john.doe"}"#), true, "len([BODY].name) (8) == 8"),
        ("len([BODY].name) == 4", body(r#"{"name": "josé"}"#), true, "len([BODY].name) (4) == 4"),
        ("len([BODY].age) == 2", body(r#"{"age":18}"#), true, "len([BODY].age) (2) == 2"), // Gatus
        ("len([BODY].adult) == 4", body(r#"{"adult":true}"#), true, "len([BODY].adult) (4) == 4"), // Gatus
        ("len([BODY][0]) == 23", body(users), true, "len([BODY][0]) (23) == 23"),          // Gatus
        ("len([BODY].data) == 8", body(r#"{"name": "x"}"#), false, "len([BODY].data) (INVALID) == 8"), // Gatus
        ("len([BODY].data) > 3", body(r#"{"name": "x"}"#), false, "len([BODY].data) (INVALID) > 3"),
        ("len([STATUS]) == 3", status(200), true, "len([STATUS]) (3) == 3"),
        ("has([BODY].errors) == false", body("{}"), true, "has([BODY].errors) (false) == false"), // Gatus
        (
            "has([BODY].errors) == false",
            body(r#"{"errors": ["1"]}"#),
            false,
            "has([BODY].errors) (true) == false",
        ),
        (
            "has([BODY].users[0].name) == true",
            body(r#"{"users": [{"name": "a"}]}"#),
            true,
            "has([BODY].users[0].name) (true) == true",
        ),
        ("has([BODY].x) == false", body("not json"), true, "has([BODY].x) (false) == false"),
        ("has([BODY]) == true", body(" \n"), false, "has([BODY]) (false) == true"),
        ("has([IP]) == false", Observation::default(), true, "has([IP]) (false) == false"),
    ]);
}

#[test]
fn pat_and_any() {
    run(vec![
        ("[BODY] == pat(*ok*)", body("all ok here"), true, "[BODY] (all ok here) == pat(*ok*)"),
        ("[BODY] == pat(*ok*)", body("down"), false, "[BODY] (down) == pat(*ok*)"),
        (
            "[BODY].name == pat(john*)",
            body(r#"{"name": "john.doe"}"#),
            true,
            "[BODY].name (john.doe) == pat(john*)",
        ),
        (
            "[BODY].name == pat(bob*)",
            body(r#"{"name": "john.doe"}"#),
            false,
            "[BODY].name (john.doe) == pat(bob*)",
        ),
        (
            "[BODY] == pat(*<div id=\"user\">john.doe</div>*)",
            body(HTML),
            false, // Gatus
            "[BODY] (<!DOCTYPE html><html lang...(truncated)) == pat(*<div id=\"user\">john.doe</div>*)",
        ),
        (
            "pat(*<div id=\"user\">john.doe</div>*) == [BODY]",
            body(HTML),
            false, // Gatus
            "pat(*<div id=\"user\">john.doe</div>*) == [BODY] (<!DOCTYPE html><html lang...(truncated))",
        ),
        (
            "[BODY] == pat(*<div id=\"user\">jane.doe</div>*)",
            body(HTML),
            true,
            "[BODY] (<!DOCTYPE html><html lang...(truncated)) == pat(*<div id=\"user\">jane.doe</div>*)",
        ),
        (
            "[BODY].data == pat(*Whatever*)",
            body(r#"{"data": ["hello", "world", "Whatever"]}"#),
            true,
            "[BODY].data ([\"hello\",\"world\",\"Whateve...(truncated)) == pat(*Whatever*)",
        ),
        ("[IP] == pat(10.*)", ip("10.0.0.0"), true, "[IP] (10.0.0.0) == pat(10.*)"),
        ("[IP] == pat(10.*)", ip("255.255.255.255"), false, "[IP] (255.255.255.255) == pat(10.*)"), // Gatus
        ("[IP] == pat(192.168.?.*)", ip("192.168.1.20"), true, "[IP] (192.168.1.20) == pat(192.168.?.*)"),
        ("[STATUS] == pat(4*)", status(404), true, "[STATUS] (404) == pat(4*)"),
        ("[STATUS] != pat(5*)", status(404), true, "[STATUS] (404) != pat(5*)"),
        ("[BODY] == pat(a[bc]d)", body("abd"), true, "[BODY] (abd) == pat(a[bc]d)"),
        ("[BODY] == pat(a[^bc]d)", body("abd"), false, "[BODY] (abd) == pat(a[^bc]d)"),
        ("[BODY] == pat(v[0-9].*)", body("v2.1"), true, "[BODY] (v2.1) == pat(v[0-9].*)"),
        ("[BODY] == pat(\\*)", body("*"), true, "[BODY] (*) == pat(\\*)"),
        ("[BODY] == pat(\\*)", body("x"), false, "[BODY] (x) == pat(\\*)"),
        ("[BODY] == pat(*)", Observation::default(), true, "[BODY] () == pat(*)"),
        (
            "[BODY] == pat(*/health*)",
            body("GET /health 200"),
            true,
            "[BODY] (GET /health 200) == pat(*/health*)",
        ),
        ("[BODY] == pat(*(*)", body("f(x"), true, "[BODY] (f(x) == pat(*(*)"),
        (
            "[BODY].name == any(john.doe, jane.doe)",
            body(r#"{"name": "jane.doe"}"#),
            true,
            "[BODY].name (jane.doe) == any(john.doe, jane.doe)",
        ),
        (
            "[BODY].name == any(john.doe, jane.doe)",
            body(r#"{"name": "bob"}"#),
            false,
            "[BODY].name (bob) == any(john.doe, jane.doe)",
        ), // Gatus
        ("[STATUS] == any(200, 429)", status(429), true, "[STATUS] (429) == any(200, 429)"),
        ("[STATUS] == any(200, 429)", status(404), false, "[STATUS] (404) == any(200, 429)"), // Gatus
        ("any(200, 429) == [STATUS]", status(429), true, "any(200, 429) == [STATUS] (429)"),  // Gatus
        ("[STATUS] != any(500, 503)", status(200), true, "[STATUS] (200) != any(500, 503)"),
        (
            "[DNS_RCODE] == any(NOERROR, NXDOMAIN)",
            rcode("SERVFAIL"),
            false,
            "[DNS_RCODE] (SERVFAIL) == any(NOERROR, NXDOMAIN)",
        ),
    ]);
}

#[test]
fn source_is_kept_as_written_and_error_displays_column() {
    let condition = Condition::parse("  [STATUS]==200 ").unwrap();
    assert_eq!(condition.source(), "  [STATUS]==200 ");
    let clone = condition.clone();
    assert!(format!("{clone:?}").contains("STATUS"));
    let error = Condition::parse("[STATUS] = 200").unwrap_err();
    assert_eq!(error.to_string(), "column 10: '=' is not an operator; use '=='");
    let _: &dyn std::error::Error = &error;
}
