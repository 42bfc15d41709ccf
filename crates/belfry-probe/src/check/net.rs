//! Name resolution and TCP connect shared by the check kinds, each a timed phase.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;

use super::{Budget, Reason};

/// Resolves `host`, a name or an IP literal (IPv6 with or without brackets). Returns the
/// addresses and how long the lookup took: `None` for a literal, which needs no lookup.
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    budget: &Budget,
) -> Result<(Vec<SocketAddr>, Option<Duration>), Reason> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok((vec![SocketAddr::new(ip, port)], None));
    }
    let lookup = async {
        let found = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| format!("DNS lookup failed for {bare}: {e}"))?;
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for addr in found {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() {
            return Err(format!("DNS lookup failed for {bare}: no addresses"));
        }
        Ok(addrs)
    };
    let (addrs, took) = budget.phase("DNS lookup", lookup).await?;
    Ok((addrs, Some(took)))
}

/// Connects to the first of `addrs` that accepts, in order. Returns the stream, the peer it
/// reached and how long connecting took; when none accepts, the reason names each address.
pub(crate) async fn connect(
    addrs: &[SocketAddr],
    budget: &Budget,
) -> Result<(TcpStream, SocketAddr, Duration), Reason> {
    let attempts = async {
        let mut failures = Vec::new();
        for &addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok((stream, addr)),
                Err(e) => failures.push(format!("{} ({addr})", io_reason(&e))),
            }
        }
        Err(failures.join("; "))
    };
    let ((stream, peer), took) = budget.phase("connect", attempts).await?;
    // Latency matters more than packet count for a probe's small writes.
    let _ = stream.set_nodelay(true);
    Ok((stream, peer, took))
}

/// A socket error in plain words (`connection refused`), falling back to the OS's text.
pub(crate) fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".to_owned(),
        io::ErrorKind::ConnectionAborted => "connection aborted".to_owned(),
        io::ErrorKind::HostUnreachable => "host unreachable".to_owned(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".to_owned(),
        io::ErrorKind::AddrNotAvailable => "address not available".to_owned(),
        io::ErrorKind::BrokenPipe => "connection closed by peer (broken pipe)".to_owned(),
        _ => e.to_string(),
    }
}
