//! The `tcp` check kind: resolve and connect (timed), optionally send a line and wait for an
//! expected text in what the peer sends back.

use std::time::Duration;

use belfry_core::{Observation, TcpCheck};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::net::{self, io_reason};
use super::{Budget, Reason, add_phase, body_text};

/// What is read from the peer at most while waiting for `expect`.
const READ_CAP: usize = 64 * 1024;

/// How much of what the peer sent is quoted in a reason.
const QUOTED_CHARS: usize = 100;

pub(super) async fn check(spec: &TcpCheck, timeout: Duration) -> Observation {
    let budget = Budget::start(timeout);
    let mut obs = Observation::default();
    let outcome = run(spec, &budget, &mut obs).await;
    budget.finish(obs, outcome)
}

async fn run(spec: &TcpCheck, budget: &Budget, obs: &mut Observation) -> Result<(), Reason> {
    let (addrs, dns) = net::resolve(&spec.host, spec.port, budget).await?;
    if let Some(took) = dns {
        add_phase(&mut obs.phases.dns_ms, took);
    }
    let (mut stream, peer, took) = net::connect(&addrs, budget).await?;
    add_phase(&mut obs.phases.connect_ms, took);
    obs.connected = true;
    obs.ip = Some(peer.ip().to_string());

    if let Some(send) = &spec.send {
        let write = async {
            stream.write_all(send.as_bytes()).await?;
            stream.flush().await
        };
        budget
            .phase("send", async { write.await.map_err(|e| format!("sending failed: {}", io_reason(&e))) })
            .await?;
    }

    let Some(expect) = &spec.expect else {
        return Ok(());
    };
    let mut got = Vec::new();
    let mut first_byte = None;
    let read = read_until(&mut stream, expect.as_bytes(), &mut got, &mut first_byte);
    let outcome = tokio::time::timeout_at(budget.deadline, read).await;
    if let Some(took) = first_byte {
        add_phase(&mut obs.phases.first_byte_ms, took);
    }
    let result = match outcome {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(not_received(expect, &got)),
        Ok(Err(e)) => Err(format!("reading failed: {}; {}", io_reason(&e), not_received(expect, &got))),
        Err(_) => Err(format!("{}: {}", budget.timed_out("read"), not_received(expect, &got))),
    };
    obs.body = Some(body_text(got, false));
    result
}

/// Reads into `got` until `expect` appears (`true`), or EOF or [`READ_CAP`] (`false`).
/// `first_byte` is set to the wait for the first bytes.
async fn read_until<R: AsyncRead + Unpin>(
    reader: &mut R,
    expect: &[u8],
    got: &mut Vec<u8>,
    first_byte: &mut Option<Duration>,
) -> std::io::Result<bool> {
    if expect.is_empty() {
        return Ok(true);
    }
    let began = Instant::now();
    let mut chunk = vec![0; 8 * 1024];
    while got.len() < READ_CAP {
        let want = chunk.len().min(READ_CAP - got.len());
        let n = reader.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Ok(false);
        }
        if first_byte.is_none() {
            *first_byte = Some(began.elapsed());
        }
        // Search only where the new bytes can complete a match.
        let from = got.len().saturating_sub(expect.len() - 1);
        got.extend_from_slice(&chunk[..n]);
        if got[from..].windows(expect.len()).any(|w| w == expect) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `expected "PONG" not received; got "HELLO"`, with what was got cut to a readable length.
fn not_received(expect: &str, got: &[u8]) -> String {
    let text = String::from_utf8_lossy(got);
    let quoted = match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    };
    format!("expected {expect:?} not received; got {quoted:?}")
}

#[cfg(test)]
mod tests;
