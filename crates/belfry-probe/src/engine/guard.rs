//! The connectivity guard: before a failure is believed, check that Belfry itself can reach the
//! outside world; if no guard target answers, the failure is ours, not the target's.

use std::time::Duration;

use belfry_core::catalog::ConnectivityGuard;
use jiff::Timestamp;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// How long one verdict is reused, so a mass failure causes one probe, not thousands.
const VERDICT_TTL: Duration = Duration::from_secs(5);

#[derive(Debug, Default)]
pub struct Guard {
    verdict: Mutex<Option<(Timestamp, bool)>>,
}

impl Guard {
    /// Whether our own connectivity is fine (at least one target accepts a TCP connection).
    pub async fn connected(&self, guard: &ConnectivityGuard, now: Timestamp) -> bool {
        let mut verdict = self.verdict.lock().await;
        if let Some((at, ok)) = *verdict
            && now.duration_since(at).unsigned_abs() < VERDICT_TTL
        {
            return ok;
        }
        let mut ok = false;
        for target in &guard.targets {
            if let Ok(Ok(_)) = tokio::time::timeout(guard.timeout, TcpStream::connect(target.as_str())).await
            {
                ok = true;
                break;
            }
        }
        if !ok {
            tracing::warn!(targets = ?guard.targets, "connectivity guard failed: failing results are recorded as inconclusive");
        }
        *verdict = Some((now, ok));
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reachable_target_passes_and_unreachable_fails() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().to_string();
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        let timeout = Duration::from_secs(1);
        let now = Timestamp::now();
        let good = ConnectivityGuard { targets: vec![closed.clone(), open], timeout };
        assert!(Guard::default().connected(&good, now).await);
        let bad = ConnectivityGuard { targets: vec![closed], timeout };
        let g = Guard::default();
        assert!(!g.connected(&bad, now).await);
        // The verdict is cached: even a good guard config reads the cached failure.
        assert!(!g.connected(&good, now).await);
    }
}
