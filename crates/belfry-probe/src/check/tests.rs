use std::time::Duration;

use belfry_core::{CheckSpec, HeartbeatCheck};

use super::{Checkers, body_text, human_duration};

#[tokio::test]
async fn heartbeats_are_not_run() {
    let spec = CheckSpec::Heartbeat(HeartbeatCheck {
        token: "t".to_owned(),
        expect_every: Duration::from_secs(60),
        grace: Duration::ZERO,
    });

    let obs = Checkers::default().run(&spec, Duration::from_secs(1)).await;

    assert_eq!(obs.error.as_deref(), Some("heartbeat monitors are push-based"));
    assert!(!obs.connected);
}

#[test]
fn durations_in_reasons() {
    assert_eq!(human_duration(Duration::from_secs(10)), "10s");
    assert_eq!(human_duration(Duration::from_millis(300)), "300ms");
    assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(human_duration(Duration::ZERO), "0ms");
}

#[test]
fn body_text_is_lossy_and_trims_a_cut_character() {
    assert_eq!(body_text(b"plain".to_vec(), false), "plain");
    assert_eq!(body_text(b"a\xffb".to_vec(), false), "a\u{FFFD}b");
    assert_eq!(body_text("hé".as_bytes()[..2].to_vec(), true), "h");
    assert_eq!(body_text("hé".as_bytes()[..2].to_vec(), false), "h\u{FFFD}");
}
