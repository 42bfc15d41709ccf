//! Parses arbitrary UTF-8 as a condition and evaluates it against an observation built from the
//! same bytes: neither may panic, and an error's column must lie within the text.
//!
//! Run with `cargo +nightly fuzz run condition_parse` from the workspace root.

#![no_main]

use std::time::Duration;

use belfry_core::{Condition, Observation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first line is the condition; the rest, if any, is the body it is evaluated against
    // (the whole text when there is no second line).
    let (source, body) = text.split_once('\n').unwrap_or((text, text));
    match Condition::parse(source) {
        Ok(condition) => {
            assert_eq!(condition.source(), source);
            let obs = Observation {
                connected: data.len().is_multiple_of(2),
                status: Some(u16::from(data.first().copied().unwrap_or(0)) * 3),
                body: Some(body.to_owned()),
                ip: Some(body.chars().take(39).collect()),
                certificate_expiration: Some(Duration::from_millis(data.len() as u64 * 3_600_000)),
                dns_rcode: Some(body.chars().take(10).collect()),
                duration_ms: data.len() as u64,
                ..Observation::default()
            };
            let result = condition.evaluate(&obs);
            assert_eq!(result.condition, source);
            let _ = condition.evaluate(&Observation::default());
        }
        Err(error) => {
            assert!(error.column >= 1 && error.column <= source.chars().count() + 1, "{error}");
        }
    }
});
