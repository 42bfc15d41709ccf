//! Random identifiers for incidents, updates and tokens.

/// 12 characters of lowercase base32 (60 random bits), as Statuspage-like ids look.
pub fn new_id() -> String {
    let mut bytes: belfry_core::ids::IdBytes = [0; 12];
    // A failing OS random source is unrecoverable for a server; fall back to time-seeded bits
    // rather than panic, since these ids are not secrets.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = jiff::Timestamp::now().as_nanosecond();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (nanos >> (i * 5)) as u8;
        }
    }
    belfry_core::ids::encode(&bytes)
}
