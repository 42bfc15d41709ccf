//! The `query:` mapping of a `dns` monitor.

use belfry_core::check::{DnsCheck, DnsRecordType, DnsServer};

use super::super::check::{Ctx, Fields};

const QUERY_KEYS: &[&str] =
    &["name", "type", "servers", "quorum", "find_authoritative", "authoritative_port", "expect"];

pub(in crate::config) fn dns(ctx: &mut Ctx<'_>, f: &Fields<'_>) -> Option<DnsCheck> {
    let Some(node) = f.value("query") else {
        ctx.missing(f, "query");
        return None;
    };
    let q = ctx.map(node, &f.path_of("query"), QUERY_KEYS)?;
    let name = match q.value("name") {
        None => {
            ctx.missing(&q, "name");
            None
        }
        Some(v) => ctx.text(v, &q.path_of("name")).and_then(|name| {
            match belfry_probe::check::dns::validate_name(&name) {
                Ok(()) => Some(name.trim().to_owned()),
                Err(message) => {
                    ctx.error(v, &q.path_of("name"), message);
                    None
                }
            }
        }),
    };
    let types: Vec<&str> = DnsRecordType::ALL.iter().map(|t| t.as_str()).collect();
    let record_type = match q.value("type") {
        None => Some(DnsRecordType::A),
        Some(v) => {
            let path = q.path_of("type");
            let upper = ctx.string(v, &path).map(|t| t.to_ascii_uppercase());
            match upper.and_then(|t| DnsRecordType::ALL.into_iter().find(|k| k.as_str() == t)) {
                Some(t) => Some(t),
                None => {
                    // Reports the unknown type with the list of known ones.
                    ctx.choice(v, &path, "record type", &types);
                    None
                }
            }
        }
    };
    let mut servers = Vec::new();
    let mut servers_ok = true;
    if let Some(v) = q.value("servers") {
        for (i, item) in ctx.seq(v, &q.path_of("servers")).unwrap_or_default().iter().enumerate() {
            let path = format!("{}[{i}]", q.path_of("servers"));
            match ctx.text(item, &path).map(|raw| server(&raw)) {
                Some(Ok(s)) => servers.push(s),
                Some(Err(message)) => {
                    ctx.error(item, &path, message);
                    servers_ok = false;
                }
                None => servers_ok = false,
            }
        }
    }
    let find_authoritative =
        q.value("find_authoritative").map_or(Some(false), |v| ctx.bool(v, &q.path_of("find_authoritative")));
    let authoritative_port = q
        .value("authoritative_port")
        .map_or(Some(53), |v| ctx.int(v, &q.path_of("authoritative_port"), 1..=65535));
    let quorum = match q.value("quorum") {
        None => Some(None),
        Some(v) => {
            let path = q.path_of("quorum");
            let n = ctx.int(v, &path, 1..=1000);
            let listed = servers.len();
            match n {
                Some(n) if listed > 0 && find_authoritative == Some(false) && n as usize > listed => {
                    let message = format!("quorum {n} is more than the {listed} servers listed in `servers`");
                    ctx.error(v, &path, message);
                    None
                }
                Some(n) => Some(Some(n as usize)),
                None => None,
            }
        }
    };
    let mut expect = Vec::new();
    if let Some(v) = q.value("expect") {
        for (i, item) in ctx.seq(v, &q.path_of("expect")).unwrap_or_default().iter().enumerate() {
            if let Some(value) = ctx.text(item, &format!("{}[{i}]", q.path_of("expect"))) {
                expect.push(value.trim().to_owned());
            }
        }
    }
    servers_ok.then_some(())?;
    Some(DnsCheck {
        name: name?,
        record_type: record_type?,
        servers,
        quorum: quorum?,
        find_authoritative: find_authoritative?,
        authoritative_port: authoritative_port? as u16,
        expect,
        server_conditions: Vec::new(),
    })
}

/// `host:port`, `host` (port 53), `[v6]:port` or a bare IPv6 address.
fn server(raw: &str) -> Result<DnsServer, String> {
    let raw = raw.trim();
    let bad = || format!("{raw:?} is not a DNS server: expected host:port, like 127.0.0.1:53 or [::1]:53");
    if raw.contains("://") || raw.contains('/') || raw.contains(char::is_whitespace) {
        return Err(bad());
    }
    if let Ok(ip) = raw.parse::<std::net::Ipv6Addr>() {
        return Ok(DnsServer { host: ip.to_string(), port: 53 });
    }
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        host.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match raw.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (raw, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        None => 53,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("{raw:?}: port {p:?} must be between 1 and 65535")),
        },
    };
    Ok(DnsServer { host: host.to_owned(), port })
}
