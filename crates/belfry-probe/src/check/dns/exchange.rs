//! One DNS exchange with one server: a query over UDP (sent again every second until an answer
//! or the deadline), repeated over TCP when the UDP answer is truncated.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use crate::check::net::io_reason;

/// How long to wait for a UDP answer before sending the query again.
const RESEND_AFTER: Duration = Duration::from_secs(1);
/// The EDNS payload size offered (the DNS flag day 2020 value: fits unfragmented everywhere).
const EDNS_PAYLOAD: u16 = 1232;

/// Why a server gave no usable answer; `outcome` is the short word recorded per server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// `timeout`, `unreachable` or `error`.
    pub outcome: &'static str,
    pub reason: String,
}

impl Failure {
    fn error(reason: impl Into<String>) -> Self {
        Self { outcome: "error", reason: reason.into() }
    }

    fn io(e: &io::Error, transport: &str) -> Self {
        match e.kind() {
            // A UDP port nobody listens on answers with ICMP "port unreachable", which a
            // connected UDP socket reports as a refused connection.
            io::ErrorKind::ConnectionRefused => Self {
                outcome: "unreachable",
                reason: format!("connection refused: nothing listens on the server's {transport} port"),
            },
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                Self { outcome: "unreachable", reason: format!("{} ({transport})", io_reason(e)) }
            }
            _ => Self::error(format!("{} ({transport})", io_reason(e))),
        }
    }
}

/// An answer and the transport that carried it (`udp` or `tcp`).
pub(crate) struct Answer {
    pub message: Message,
    pub transport: &'static str,
}

/// A query for `name`/`rtype`, asking for recursion when `recursion` (resolvers) and not when
/// asking an authoritative server.
pub(crate) fn query(name: &Name, rtype: RecordType, recursion: bool) -> Message {
    let mut message = Message::query();
    message.add_query(Query::query(name.clone(), rtype));
    message.metadata.recursion_desired = recursion;
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    message.set_edns(edns);
    message
}

/// Sends `query` to `server` and waits until `deadline` for the matching answer.
pub(crate) async fn exchange(
    server: SocketAddr,
    query: &Message,
    deadline: Instant,
) -> Result<Answer, Failure> {
    let bytes = query.to_vec().map_err(|e| Failure::error(format!("cannot encode the query: {e}")))?;
    let message = udp(server, query, &bytes, deadline).await?;
    if !message.metadata.truncation {
        return Ok(Answer { message, transport: "udp" });
    }
    let message = match timeout_at(deadline, tcp(server, query, &bytes)).await {
        Ok(result) => result?,
        Err(_) => return Err(Failure { outcome: "timeout", reason: "timed out over TCP".to_owned() }),
    };
    Ok(Answer { message, transport: "tcp" })
}

async fn udp(
    server: SocketAddr,
    query: &Message,
    bytes: &[u8],
    deadline: Instant,
) -> Result<Message, Failure> {
    let local: SocketAddr = if server.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket = UdpSocket::bind(local).await.map_err(|e| Failure::io(&e, "UDP"))?;
    socket.connect(server).await.map_err(|e| Failure::io(&e, "UDP"))?;
    let mut buf = vec![0u8; 65_535];
    loop {
        socket.send(bytes).await.map_err(|e| Failure::io(&e, "UDP"))?;
        let resend_at = (Instant::now() + RESEND_AFTER).min(deadline);
        loop {
            match timeout_at(resend_at, socket.recv(&mut buf)).await {
                Err(_) if resend_at >= deadline => {
                    return Err(Failure { outcome: "timeout", reason: "timed out".to_owned() });
                }
                Err(_) => break,
                Ok(Err(e)) => return Err(Failure::io(&e, "UDP")),
                Ok(Ok(n)) => {
                    // Anything that does not answer our query is ignored (a late answer to an
                    // earlier send has the same id and is as good).
                    if let Some(message) = matching(query, &buf[..n])? {
                        return Ok(message);
                    }
                }
            }
        }
    }
}

async fn tcp(server: SocketAddr, query: &Message, bytes: &[u8]) -> Result<Message, Failure> {
    let mut stream = TcpStream::connect(server).await.map_err(|e| Failure::io(&e, "TCP"))?;
    let len = u16::try_from(bytes.len()).map_err(|_| Failure::error("query too long for TCP"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await.map_err(|e| Failure::io(&e, "TCP"))?;
    loop {
        let len = stream.read_u16().await.map_err(|e| Failure::io(&e, "TCP"))?;
        let mut buf = vec![0u8; usize::from(len)];
        stream.read_exact(&mut buf).await.map_err(|e| Failure::io(&e, "TCP"))?;
        if let Some(message) = matching(query, &buf)? {
            return Ok(message);
        }
    }
}

/// The answer in `bytes` if it answers `query` (same id and question); a malformed packet is
/// an error, a well-formed one for another query is `None`.
fn matching(query: &Message, bytes: &[u8]) -> Result<Option<Message>, Failure> {
    let message = Message::from_vec(bytes)
        .map_err(|e| Failure::error(format!("malformed answer from the server: {e}")))?;
    let same_question = match (message.queries.first(), query.queries.first()) {
        (Some(got), Some(asked)) => got.name() == asked.name() && got.query_type() == asked.query_type(),
        // Some servers leave the question out of error answers.
        (None, _) => true,
        (Some(_), None) => false,
    };
    let ok = message.metadata.id == query.metadata.id && same_question;
    Ok(ok.then_some(message))
}
