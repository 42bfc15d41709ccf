//! `--resolve HOST=IP`: this probe reaches HOST at IP instead of asking DNS, like curl's
//! `--resolve`. For probes behind split-horizon DNS, and for tests that give each region its
//! own target. Applied to the assigned checks as they arrive: `http://` URLs get the IP as
//! host and the original `Host` header; tcp, tls (whose SNI name stays the original), icmp
//! hosts and dns servers get the IP. `https://` URLs are left alone (the certificate is for
//! the name).

use std::collections::HashMap;
use std::net::IpAddr;

use belfry_core::CheckSpec;

/// Host name (lower case) → address.
pub type Overrides = HashMap<String, IpAddr>;

/// Parses `HOST=IP`.
pub fn parse_override(raw: &str) -> Result<(String, IpAddr), String> {
    let (host, ip) = raw.split_once('=').ok_or_else(|| format!("expected HOST=IP, got {raw:?}"))?;
    let host = host.trim().to_ascii_lowercase();
    if host.is_empty() {
        return Err(format!("expected HOST=IP, got {raw:?}"));
    }
    let ip = ip.trim().parse::<IpAddr>().map_err(|_| format!("{:?} is not an IP address", ip.trim()))?;
    Ok((host, ip))
}

/// The check with overridden hosts replaced by their addresses.
pub(super) fn apply(check: &CheckSpec, overrides: &Overrides) -> CheckSpec {
    let mut check = check.clone();
    if overrides.is_empty() {
        return check;
    }
    let lookup = |host: &str| overrides.get(&host.to_ascii_lowercase()).map(IpAddr::to_string);
    match &mut check {
        CheckSpec::Http(http) => {
            if let Ok(mut url) = url::Url::parse(&http.url)
                && url.scheme() == "http"
                && let Some(host) = url.host_str().map(str::to_owned)
                && let Some(ip) = lookup(&host)
                && url.set_host(Some(&ip)).is_ok()
            {
                if !http.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
                    let value = match url.port() {
                        Some(port) => format!("{host}:{port}"),
                        None => host,
                    };
                    http.headers.push(("Host".to_owned(), value));
                }
                http.url = url.to_string();
            }
        }
        CheckSpec::Tcp(tcp) => {
            if let Some(ip) = lookup(&tcp.host) {
                tcp.host = ip;
            }
        }
        CheckSpec::Tls(tls) => {
            if let Some(ip) = lookup(&tls.host) {
                tls.host = ip;
            }
        }
        CheckSpec::Icmp(icmp) => {
            if let Some(ip) = lookup(&icmp.host) {
                icmp.host = ip;
            }
        }
        CheckSpec::Dns(dns) => {
            for server in &mut dns.servers {
                if let Some(ip) = lookup(&server.host) {
                    server.host = ip;
                }
            }
        }
        CheckSpec::Heartbeat(_) => {}
    }
    check
}

#[cfg(test)]
mod tests {
    use belfry_core::{HttpCheck, TlsCheck};

    use super::*;

    fn http(url: &str) -> CheckSpec {
        CheckSpec::Http(HttpCheck {
            url: url.into(),
            method: "GET".into(),
            headers: vec![],
            body: None,
            follow_redirects: false,
            max_redirects: 0,
            verify_tls: true,
            max_body_bytes: 1024,
        })
    }

    #[test]
    fn overrides_parse_and_replace_hosts() {
        assert_eq!(
            parse_override("Api.Test=127.0.0.2"),
            Ok(("api.test".into(), "127.0.0.2".parse().unwrap()))
        );
        assert!(parse_override("api.test").is_err() && parse_override("api.test=nope").is_err());
        let overrides: Overrides = [parse_override("api.test=127.0.0.2").unwrap()].into_iter().collect();

        let CheckSpec::Http(h) = apply(&http("http://API.test:8080/health?x=1"), &overrides) else {
            panic!()
        };
        assert_eq!(h.url, "http://127.0.0.2:8080/health?x=1");
        assert_eq!(h.headers, [("Host".to_owned(), "api.test:8080".to_owned())]);
        let CheckSpec::Http(h) = apply(&http("https://api.test/"), &overrides) else { panic!() };
        assert_eq!(h.url, "https://api.test/", "https keeps its name");
        let CheckSpec::Http(h) = apply(&http("http://other.test/"), &overrides) else { panic!() };
        assert_eq!(h.url, "http://other.test/");

        let tls = CheckSpec::Tls(TlsCheck {
            host: "api.test".into(),
            port: 443,
            server_name: "api.test".into(),
            verify_tls: true,
        });
        let CheckSpec::Tls(t) = apply(&tls, &overrides) else { panic!() };
        assert_eq!((t.host.as_str(), t.server_name.as_str()), ("127.0.0.2", "api.test"));
    }
}
