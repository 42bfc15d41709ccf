//! Reading an answer: the response code as DNS tools print it (`NOERROR`, `NXDOMAIN`), each
//! record as text, the `[BODY]` of a server's answer and the `expect` comparison.

use std::net::IpAddr;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, Record, RecordType};
use serde_json::{Value, json};

/// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`… (`RCODE23` for codes without a name).
pub(crate) fn rcode_text(code: ResponseCode) -> String {
    let name = match code {
        ResponseCode::NoError => "NOERROR",
        ResponseCode::FormErr => "FORMERR",
        ResponseCode::ServFail => "SERVFAIL",
        ResponseCode::NXDomain => "NXDOMAIN",
        ResponseCode::NotImp => "NOTIMP",
        ResponseCode::Refused => "REFUSED",
        ResponseCode::YXDomain => "YXDOMAIN",
        ResponseCode::YXRRSet => "YXRRSET",
        ResponseCode::NXRRSet => "NXRRSET",
        ResponseCode::NotAuth => "NOTAUTH",
        ResponseCode::NotZone => "NOTZONE",
        ResponseCode::BADVERS => "BADVERS",
        ResponseCode::BADKEY => "BADKEY",
        ResponseCode::BADTIME => "BADTIME",
        ResponseCode::BADMODE => "BADMODE",
        ResponseCode::BADNAME => "BADNAME",
        ResponseCode::BADALG => "BADALG",
        ResponseCode::BADTRUNC => "BADTRUNC",
        ResponseCode::BADCOOKIE => "BADCOOKIE",
        other => return format!("RCODE{}", u16::from(other)),
    };
    name.to_owned()
}

/// The value of a record as `[BODY]` shows it, as Gatus does for the types it knows: the address
/// of A/AAAA, the target name of CNAME/NS (with its trailing dot), the exchange of MX,
/// `target:port` of SRV; the record data as in a zone file for the others (TXT text unquoted).
pub(crate) fn value_text(record: &Record) -> String {
    match &record.data {
        RData::MX(mx) => mx.exchange.to_string(),
        RData::SRV(srv) => format!("{}:{}", srv.target, srv.port),
        other => other.to_string(),
    }
}

/// The record data as in a zone file (`10 mail.example.test.`).
pub(crate) fn rdata_text(record: &Record) -> String {
    record.data.to_string()
}

/// The records of an answer that `[BODY]` shows: those of the asked type, or, when there are
/// none (a CNAME to a name the server does not serve), whatever was answered.
pub(crate) fn shown(answers: &[Record], rtype: RecordType) -> Vec<&Record> {
    let of_type: Vec<&Record> = answers.iter().filter(|r| r.record_type() == rtype).collect();
    if of_type.is_empty() { answers.iter().collect() } else { of_type }
}

/// `[BODY]`: empty for no answer, the value itself for one, a JSON array of values for several
/// (so `len([BODY])` counts answers and `[BODY][0]` picks one).
pub(crate) fn body(values: &[String]) -> String {
    match values {
        [] => String::new(),
        [one] => one.clone(),
        many => Value::from(many.to_vec()).to_string(),
    }
}

/// One answer record as recorded in `values.servers[].answers`.
pub(crate) fn record_json(record: &Record) -> Value {
    json!({
        "name": record.name.to_string(),
        "type": record.record_type().to_string(),
        "ttl": record.ttl,
        "data": rdata_text(record),
    })
}

/// Why the answer set differs from `expect`, or `None` when they are the same set.
/// Addresses compare as addresses, names without regard to case or a trailing dot; a value may
/// be written as `[BODY]` shows it or as full record data (`10 mail.example.test`).
pub(crate) fn expect_mismatch(expect: &[String], answers: &[&Record]) -> Option<String> {
    let got: Vec<(String, String)> =
        answers.iter().map(|r| (normalize(&value_text(r)), normalize(&rdata_text(r)))).collect();
    let missing: Vec<&str> = expect
        .iter()
        .filter(|e| {
            let e = normalize(e);
            !got.iter().any(|(value, rdata)| *value == e || *rdata == e)
        })
        .map(String::as_str)
        .collect();
    let wanted: Vec<String> = expect.iter().map(|e| normalize(e)).collect();
    let unexpected: Vec<String> = answers
        .iter()
        .zip(&got)
        .filter(|(_, (value, rdata))| !wanted.iter().any(|w| w == value || w == rdata))
        .map(|(r, _)| value_text(r))
        .collect();
    if missing.is_empty() && unexpected.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("expected {} not answered", missing.join(", ")));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected {}", unexpected.join(", ")));
    }
    Some(parts.join("; "))
}

/// A value in the form it is compared in: an address in canonical form, anything else
/// lower-cased, without a trailing dot and with single spaces.
fn normalize(value: &str) -> String {
    let trimmed = value.trim();
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return ip.to_string();
    }
    let words: Vec<&str> = trimmed.split_whitespace().map(|w| w.strip_suffix('.').unwrap_or(w)).collect();
    words.join(" ").to_lowercase()
}
