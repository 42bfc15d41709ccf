//! The keys of each check kind: `http`, `tcp`, `dns` ([`dns`]), `tls`, `icmp`, `heartbeat`.

mod dns;
pub(super) mod shorthand;

use std::time::Duration;

use belfry_core::MonitorId;
use belfry_core::check::{CheckKind, CheckSpec, HeartbeatCheck, HttpCheck, IcmpCheck, TcpCheck, TlsCheck};

use super::check::{Ctx, Fields};
use super::monitor::Taken;

const HTTP_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "follow_redirects",
    "max_redirects",
    "verify_tls",
    "max_body_bytes",
    "expect_status",
    "expect_body_contains",
    "expect_body_not_contains",
];
const TCP_KEYS: &[&str] = &["host", "port", "send", "expect"];
const DNS_KEYS: &[&str] = &["query"];
const TLS_KEYS: &[&str] = &["host", "port", "server_name", "verify_tls"];
const ICMP_KEYS: &[&str] = &["host", "count", "packet_interval"];
const HEARTBEAT_KEYS: &[&str] = &["token", "expect_every", "grace"];

/// Every kind, in the order they are documented.
pub(super) const ALL: [CheckKind; 6] =
    [CheckKind::Http, CheckKind::Tcp, CheckKind::Dns, CheckKind::Tls, CheckKind::Icmp, CheckKind::Heartbeat];

/// Largest accepted `max_body_bytes` (64 MiB): bodies are held in memory while conditions run.
const MAX_BODY_CAP: u64 = 64 * 1024 * 1024;

/// The keys only monitors of `kind` may have.
pub(super) fn keys(kind: CheckKind) -> &'static [&'static str] {
    match kind {
        CheckKind::Http => HTTP_KEYS,
        CheckKind::Tcp => TCP_KEYS,
        CheckKind::Dns => DNS_KEYS,
        CheckKind::Tls => TLS_KEYS,
        CheckKind::Icmp => ICMP_KEYS,
        CheckKind::Heartbeat => HEARTBEAT_KEYS,
    }
}

pub(super) fn check(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    kind: CheckKind,
    taken: &mut Taken,
    id: Option<&MonitorId>,
) -> Option<CheckSpec> {
    let before = ctx.errors.len();
    let spec = match kind {
        CheckKind::Http => http(ctx, f).map(CheckSpec::Http),
        CheckKind::Tcp => tcp(ctx, f).map(CheckSpec::Tcp),
        CheckKind::Dns => dns::dns(ctx, f).map(CheckSpec::Dns),
        CheckKind::Tls => tls(ctx, f).map(CheckSpec::Tls),
        CheckKind::Icmp => icmp(ctx, f).map(CheckSpec::Icmp),
        CheckKind::Heartbeat => heartbeat(ctx, f, taken, id).map(CheckSpec::Heartbeat),
    };
    spec.filter(|_| ctx.errors.len() == before)
}

fn http(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> Option<HttpCheck> {
    let url = match f.value("url") {
        Some(v) => ctx.http_url(v, &f.path_of("url")),
        None => {
            ctx.missing(f, "url");
            None
        }
    };
    let method = match f.value("method") {
        None => Some("GET".to_owned()),
        Some(v) => {
            let path = f.path_of("method");
            ctx.text(v, &path).and_then(|m| {
                let upper = m.to_ascii_uppercase();
                match http::Method::from_bytes(upper.as_bytes()) {
                    Ok(_) => Some(upper),
                    Err(_) => {
                        ctx.error(v, &path, format!("{m:?} is not an HTTP method"));
                        None
                    }
                }
            })
        }
    };
    let mut headers = Vec::new();
    if let Some(v) = f.value("headers")
        && let Some(hf) = ctx.map_open(v, &f.path_of("headers"))
    {
        for key in hf.keys() {
            let path = hf.path_of(&key.value);
            if http::HeaderName::from_bytes(key.value.as_bytes()).is_err() {
                ctx.error_at(key.referenced, &path, format!("{:?} is not a valid header name", key.value));
                continue;
            }
            let Some(value) = hf.get(&key.value).and_then(|val| ctx.string(val, &path)) else { continue };
            if http::HeaderValue::from_str(&value).is_err() {
                let at = hf.get(&key.value).map_or(key.referenced, |val| val.referenced);
                ctx.error_at(at, &path, "header value may not contain control characters or line breaks");
                continue;
            }
            headers.push((key.value.clone(), value));
        }
    }
    let body = f.value("body").and_then(|v| ctx.string(v, &f.path_of("body")));
    let follow_redirects =
        f.value("follow_redirects").map_or(Some(true), |v| ctx.bool(v, &f.path_of("follow_redirects")));
    let max_redirects =
        f.value("max_redirects").map_or(Some(5), |v| ctx.int(v, &f.path_of("max_redirects"), 0..=20));
    let verify_tls = f.value("verify_tls").map_or(Some(true), |v| ctx.bool(v, &f.path_of("verify_tls")));
    let max_body_bytes = f
        .value("max_body_bytes")
        .map_or(Some(1_048_576), |v| ctx.int(v, &f.path_of("max_body_bytes"), 0..=MAX_BODY_CAP));
    Some(HttpCheck {
        url: url?,
        method: method?,
        headers,
        body,
        follow_redirects: follow_redirects?,
        max_redirects: max_redirects? as u8,
        verify_tls: verify_tls?,
        max_body_bytes: max_body_bytes? as usize,
    })
}

fn tcp(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> Option<TcpCheck> {
    let host = host(ctx, f);
    let port = match f.value("port") {
        None => {
            ctx.missing(f, "port");
            None
        }
        Some(v) => ctx.int(v, &f.path_of("port"), 1..=65535),
    };
    let send = f.value("send").and_then(|v| ctx.string(v, &f.path_of("send")));
    let expect = f.value("expect").and_then(|v| ctx.string(v, &f.path_of("expect")));
    Some(TcpCheck { host: host?, port: port? as u16, send, expect })
}

fn tls(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> Option<TlsCheck> {
    let host = host(ctx, f);
    let port = f.value("port").map_or(Some(443), |v| ctx.int(v, &f.path_of("port"), 1..=65535));
    let server_name = match f.value("server_name") {
        None => host.clone(),
        Some(v) => {
            let path = f.path_of("server_name");
            ctx.text(v, &path).and_then(|name| {
                if name.contains(char::is_whitespace) || name.contains('/') || name.contains(':') {
                    ctx.error(v, &path, format!("{name:?} is not a host name"));
                    None
                } else {
                    Some(name)
                }
            })
        }
    };
    let verify_tls = f.value("verify_tls").map_or(Some(true), |v| ctx.bool(v, &f.path_of("verify_tls")));
    Some(TlsCheck { host: host?, port: port? as u16, server_name: server_name?, verify_tls: verify_tls? })
}

fn icmp(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> Option<IcmpCheck> {
    let host = host(ctx, f);
    let count = f.value("count").map_or(Some(3), |v| ctx.int(v, &f.path_of("count"), 1..=100));
    let packet_interval = f.value("packet_interval").map_or(Some(Duration::from_millis(200)), |v| {
        ctx.duration(v, &f.path_of("packet_interval"), Duration::from_millis(10))
    });
    // Refused here, once, rather than as a failed check every interval.
    if let Err(message) = belfry_probe::check::icmp::permitted() {
        let at = f.get("kind").unwrap_or(f.node);
        ctx.error(at, &f.path_of("kind"), message);
        return None;
    }
    Some(IcmpCheck { host: host?, count: count? as u32, packet_interval: packet_interval? })
}

/// `host`: a name or an IP address (IPv6 with or without brackets), without a port.
fn host(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> Option<String> {
    let Some(v) = f.value("host") else {
        ctx.missing(f, "host");
        return None;
    };
    let path = f.path_of("host");
    let raw = ctx.text(v, &path)?;
    let host = raw.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(&raw).to_owned();
    let is_v6 = host.parse::<std::net::Ipv6Addr>().is_ok();
    if host.contains("://") || host.contains('/') || host.contains(char::is_whitespace) {
        ctx.error(v, &path, format!("{raw:?} is not a host name or IP address"));
        None
    } else if host.contains(':') && !is_v6 {
        ctx.error(v, &path, format!("{raw:?} includes a port; put the port in `port`"));
        None
    } else {
        Some(host)
    }
}

fn heartbeat(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    taken: &mut Taken,
    id: Option<&MonitorId>,
) -> Option<HeartbeatCheck> {
    let token = match f.value("token") {
        None => {
            ctx.missing(f, "token");
            None
        }
        Some(v) => {
            let path = f.path_of("token");
            let token = ctx.string(v, &path);
            token.filter(|t| {
                let url_safe = t.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c));
                let message = if t.chars().count() < 16 {
                    "must be at least 16 characters long".to_owned()
                } else if t.len() > 128 {
                    "must be at most 128 characters long".to_owned()
                } else if !url_safe {
                    "may only contain A-Z, a-z, 0-9, '-', '_', '.' and '~' (it is part of a URL)".to_owned()
                } else if let Some((other, line)) = taken.tokens.get(t.as_str()) {
                    format!("already used by monitor `{other}` (line {line})")
                } else {
                    let owner = id.map_or_else(String::new, MonitorId::to_string);
                    taken.tokens.insert(t.clone(), (owner, v.referenced.line()));
                    return true;
                };
                ctx.error(v, &path, message);
                false
            })
        }
    };
    let expect_every = match f.value("expect_every") {
        None => {
            ctx.missing(f, "expect_every");
            None
        }
        Some(v) => ctx.duration(v, &f.path_of("expect_every"), Duration::from_secs(1)),
    };
    let grace = f
        .value("grace")
        .map_or(Some(Duration::from_secs(60)), |v| ctx.duration(v, &f.path_of("grace"), Duration::ZERO));
    Some(HeartbeatCheck { token: token?, expect_every: expect_every?, grace: grace? })
}
