use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use belfry_core::MonitorId;
use futures_util::FutureExt as _;
use jiff::Timestamp;
use tokio::sync::Semaphore;

use super::{crashed, panic_message};

/// What `Engine::check` does around a check: catch its panic and keep the message.
async fn contain<F: Future>(fut: F) -> Result<F::Output, String> {
    AssertUnwindSafe(fut).catch_unwind().await.map_err(|payload| panic_message(payload.as_ref()))
}

#[tokio::test]
async fn a_check_that_finishes_is_passed_through() {
    assert_eq!(contain(async { 7 }).await, Ok(7));
}

#[tokio::test]
async fn a_panicking_check_becomes_an_error_and_releases_what_it_held() {
    let limit = Arc::new(Semaphore::new(1));
    let held = limit.clone();
    let outcome: Result<(), String> = contain(async move {
        let _permit = held.acquire_owned().await.unwrap();
        tokio::task::yield_now().await;
        panic!("parser exploded on byte {}", 42);
    })
    .await;

    assert_eq!(outcome, Err("parser exploded on byte 42".to_owned()));
    assert_eq!(limit.available_permits(), 1, "the concurrency permit is given back");
}

#[tokio::test]
async fn a_static_panic_message_is_kept() {
    let outcome = contain(async { panic!("boom") }).await;
    assert_eq!(outcome, Err::<(), _>("boom".to_owned()));
}

#[test]
fn a_crashed_check_is_a_failed_result_saying_so() {
    let id = MonitorId::parse("api-http").unwrap();
    let at = Timestamp::from_second(1_800_000_000).unwrap();

    let result = crashed(id.clone(), "local", at, "boom");

    assert!(!result.ok);
    assert!(!result.inconclusive);
    assert_eq!((result.monitor, result.region.as_str(), result.at), (id, "local", at));
    assert_eq!(result.error.as_deref(), Some("the check crashed: boom"));
}

#[tokio::test]
async fn a_panic_without_a_message_is_still_caught() {
    let outcome = contain(async { std::panic::panic_any(42_u8) }).await;
    assert_eq!(outcome, Err::<(), _>("unknown panic".to_owned()));
}
