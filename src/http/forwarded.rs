//! The address a request came from, for per-address throttling: the TCP peer, unless the peer
//! is one of `[server] trusted_proxies`; then the proxies' own record of the hops (`Forwarded`,
//! RFC 7239, or else `X-Forwarded-For`), read from the nearest hop outward and believed only as
//! far as the hops are trusted proxies themselves. Anyone can write these headers: a hop added
//! by the client is never reached while a trusted proxy stands between it and us.

use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::HttpRequest;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

const FORWARDED: HeaderName = HeaderName::from_static("forwarded");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address as far as `trusted` proxies vouch for it.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    Some(behind_proxies(peer, req.headers(), trusted))
}

fn is_trusted(trusted: &[IpNet], address: IpAddr) -> bool {
    let address = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    };
    trusted.iter().any(|net| net.contains(&address))
}

/// The client behind `peer`: each hop, nearest first, replaces it while the one before it was a
/// trusted proxy; a hop that is not an address (`unknown`, an obfuscated name, garbage) stops
/// the walk at the last proxy that named it.
pub fn behind_proxies(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    if !is_trusted(trusted, peer) {
        return peer;
    }
    let hops = hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(address) => {
                client = *address;
                if !is_trusted(trusted, client) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// Every hop the headers list, client first: `Forwarded`'s `for=` when there is a `Forwarded`
/// header, else `X-Forwarded-For`'s entries.
fn hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let lines = |name: &HeaderName| {
        headers
            .get_all(name)
            .map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
    };
    let forwarded = lines(&FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .into_iter()
            .flat_map(|line| match line {
                Some(line) => line.split(',').map(forwarded_for).collect::<Vec<_>>(),
                None => vec![None],
            })
            .collect();
    }
    lines(&X_FORWARDED_FOR)
        .into_iter()
        .flat_map(|line| match line {
            Some(line) => line.split(',').map(node_address).collect::<Vec<_>>(),
            None => vec![None],
        })
        .collect()
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .and_then(|(_, value)| node_address(value))
}

/// A node: `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| {
            node.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|net| net.parse().unwrap()).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let map = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            behind_proxies(ip("198.51.100.1"), &map, &[]),
            ip("198.51.100.1")
        );
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            behind_proxies(ip("198.51.100.1"), &map, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn hops_are_believed_only_as_far_as_trusted_proxies_go() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client wrote 192.0.2.66 itself; the proxy 10.0.0.2 saw it come from 203.0.113.9.
        let map = headers(&[("x-forwarded-for", "192.0.2.66, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(
            behind_proxies(ip("10.0.0.1"), &map, &trusted),
            ip("203.0.113.9")
        );
        // Every hop a proxy: the first one.
        let map = headers(&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]);
        assert_eq!(
            behind_proxies(ip("127.0.0.1"), &map, &trusted),
            ip("10.0.0.3")
        );
        // No header: the proxy itself.
        assert_eq!(
            behind_proxies(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        // An IPv4-mapped peer is its IPv4 address.
        let map = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            behind_proxies(ip("::ffff:10.0.0.1"), &map, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_speaks_rfc_7239() {
        let trusted = nets(&["10.0.0.1/32"]);
        let map = headers(&[
            (
                "forwarded",
                "for=192.0.2.60;proto=http, For=\"[2001:db8:cafe::17]:4711\"",
            ),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            behind_proxies(ip("10.0.0.1"), &map, &trusted),
            ip("2001:db8:cafe::17")
        );
        let map = headers(&[
            ("forwarded", "for=198.51.100.17:8080"),
            ("forwarded", "for=10.0.0.1"),
        ]);
        assert_eq!(
            behind_proxies(ip("10.0.0.1"), &map, &trusted),
            ip("198.51.100.17")
        );
        // An obfuscated hop stops the walk at the proxy that named it.
        let map = headers(&[("forwarded", "for=192.0.2.1, for=_hidden, for=10.0.0.1")]);
        assert_eq!(
            behind_proxies(ip("10.0.0.1"), &map, &trusted),
            ip("10.0.0.1")
        );
        let map = headers(&[("x-forwarded-for", "garbage")]);
        assert_eq!(
            behind_proxies(ip("10.0.0.1"), &map, &trusted),
            ip("10.0.0.1")
        );
    }
}
