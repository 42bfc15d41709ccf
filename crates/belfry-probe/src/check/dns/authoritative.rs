//! `find_authoritative`: the zone a name lives in, its nameservers (NS records) and their
//! addresses, asked of the configured servers (or the system resolvers), so that each
//! nameserver can then be asked directly.

use std::net::{IpAddr, SocketAddr};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use tokio::time::Instant;

use super::exchange::{self, Failure};

/// The zone and its nameservers, each with the addresses found for it (none: unresolvable).
#[derive(Debug)]
pub(crate) struct Found {
    pub zone: Name,
    pub nameservers: Vec<(Name, Vec<IpAddr>)>,
}

/// Walks up from `name` asking for NS records until a zone apex answers with them. A negative
/// answer's SOA (in the authority section) names the apex directly and shortcuts the walk.
pub(crate) async fn find(name: &Name, resolvers: &[SocketAddr], deadline: Instant) -> Result<Found, String> {
    let mut candidate = name.clone();
    loop {
        let answer = ask(resolvers, &candidate, RecordType::NS, deadline).await?;
        let ns: Vec<Name> = answer
            .answers
            .iter()
            .filter(|r| r.name == candidate)
            .filter_map(|r| match &r.data {
                RData::NS(ns) => Some(ns.0.clone()),
                _ => None,
            })
            .collect();
        if !ns.is_empty() {
            let mut nameservers = Vec::new();
            for server in ns {
                let addrs = addresses(&answer, &server, resolvers, deadline).await;
                nameservers.push((server, addrs));
            }
            return Ok(Found { zone: candidate, nameservers });
        }
        let apex = answer.authorities.iter().find_map(|r| {
            matches!(r.data, RData::SOA(_)).then(|| r.name.clone()).filter(|apex| apex.zone_of(&candidate))
        });
        candidate = match apex {
            Some(apex) if apex != candidate => apex,
            _ if candidate.is_root() => {
                return Err(format!("no NS records found for {name} or any zone above it"));
            }
            _ => candidate.base_name(),
        };
    }
}

/// The addresses of nameserver `server`: the glue in `referral` if any, else A and AAAA lookups.
async fn addresses(
    referral: &Message,
    server: &Name,
    resolvers: &[SocketAddr],
    deadline: Instant,
) -> Vec<IpAddr> {
    let glue: Vec<IpAddr> =
        referral.additionals.iter().filter(|r| r.name == *server).filter_map(address).collect();
    if !glue.is_empty() {
        return glue;
    }
    let mut found = Vec::new();
    for rtype in [RecordType::A, RecordType::AAAA] {
        if let Ok(answer) = ask(resolvers, server, rtype, deadline).await {
            found.extend(answer.answers.iter().filter_map(address));
        }
    }
    found
}

fn address(record: &hickory_proto::rr::Record) -> Option<IpAddr> {
    match &record.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
        _ => None,
    }
}

/// Asks the first resolver that answers with NOERROR or NXDOMAIN.
async fn ask(
    resolvers: &[SocketAddr],
    name: &Name,
    rtype: RecordType,
    deadline: Instant,
) -> Result<Message, String> {
    let query = exchange::query(name, rtype, true);
    let mut last = String::from("no servers to ask");
    for &resolver in resolvers {
        match exchange::exchange(resolver, &query, deadline).await {
            Ok(answer)
                if matches!(
                    answer.message.metadata.response_code,
                    ResponseCode::NoError | ResponseCode::NXDomain
                ) =>
            {
                return Ok(answer.message);
            }
            Ok(answer) => {
                let code = super::answer::rcode_text(answer.message.metadata.response_code);
                last = format!("{resolver} answered {code} for {name} {rtype}");
            }
            Err(Failure { reason, .. }) => last = format!("{resolver}: {reason} asking for {name} {rtype}"),
        }
    }
    Err(format!("cannot find the nameservers: {last}"))
}
