//! Panic containment, through [`contained`]: the very function `Engine::check` runs every
//! check's attempt in.

use std::sync::Arc;

use belfry_core::{CheckResult, Clock, MonitorId, Observation};
use jiff::Timestamp;
use tokio::sync::Semaphore;

use super::{contained, crashed};

struct At(Timestamp);

impl Clock for At {
    fn now(&self) -> Timestamp {
        self.0
    }
}

fn id() -> MonitorId {
    MonitorId::parse("api-http").unwrap()
}

fn crash_time() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

/// Runs `attempt` as the engine runs a check of `api-http` in `local`, the clock at
/// [`crash_time`].
async fn run(attempt: impl Future<Output = CheckResult>) -> CheckResult {
    contained(attempt, id(), "local".to_owned(), Arc::new(At(crash_time()))).await
}

fn passed(at: Timestamp) -> CheckResult {
    CheckResult::judge(id(), "eu", at, &Observation::default(), &[], &[])
}

#[tokio::test]
async fn a_check_that_finishes_is_passed_through() {
    let done = passed(Timestamp::from_second(1_700_000_000).unwrap());
    let expected = done.clone();
    assert_eq!(run(async move { done }).await, expected);
}

#[tokio::test]
async fn a_panicking_check_becomes_a_failed_result_and_releases_what_it_held() {
    let limit = Arc::new(Semaphore::new(1));
    let held = limit.clone();
    let result = run(async move {
        let _permit = held.acquire_owned().await.unwrap();
        tokio::task::yield_now().await;
        panic!("parser exploded on byte {}", 42);
    })
    .await;

    assert_eq!(result, crashed(id(), "local", crash_time(), "parser exploded on byte 42"));
    assert_eq!(limit.available_permits(), 1, "the concurrency permit is given back");
}

#[tokio::test]
async fn a_static_panic_message_is_kept() {
    let result = run(async { panic!("boom") }).await;
    assert_eq!(result.error.as_deref(), Some("the check crashed: boom"));
}

#[tokio::test]
async fn a_panic_without_a_message_is_still_caught() {
    let result = run(async { std::panic::panic_any(42_u8) }).await;
    assert_eq!(result.error.as_deref(), Some("the check crashed: unknown panic"));
}

#[test]
fn a_crashed_check_is_a_failed_result_saying_so() {
    let at = crash_time();

    let result = crashed(id(), "local", at, "boom");

    assert!(!result.ok);
    assert!(!result.inconclusive);
    assert_eq!((result.monitor, result.region.as_str(), result.at), (id(), "local", at));
    assert_eq!(result.error.as_deref(), Some("the check crashed: boom"));
}
