//! Which `Host` headers name this server: the bound address, its loopback names, and the hosts
//! the operator configured (`--allowed-host`, e.g. the public name behind a proxy).
//!
//! Owns that one decision. Used where the browser's own checks rely on the name: the demo page
//! that carries a token (a DNS-rebinding page at `evil.example` resolving to 127.0.0.1 must not
//! get it) and the same-origin shortcut past CORS (`Origin: http://evil.example` with
//! `Host: evil.example` must not pass). Issue 15, item 9. The API itself needs no such check:
//! it answers only to bearer tokens, which a rebinding page does not have.

use std::net::{IpAddr, SocketAddr};

/// The `Host` values this server answers to as itself (lower case, with the port).
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    /// The names of a server bound to `bound`: the address itself, and for a loopback or
    /// unspecified address `localhost`, `127.0.0.1` and `[::1]`; then every `extra` host
    /// (`name:port`, or a bare name meaning the bound port or the scheme's default port).
    pub fn new(bound: SocketAddr, extra: &[String]) -> Self {
        let port = bound.port();
        let mut hosts = vec![with_port(bound.ip(), port)];
        if bound.ip().is_loopback() || bound.ip().is_unspecified() {
            hosts.push(format!("localhost:{port}"));
            hosts.push(format!("127.0.0.1:{port}"));
            hosts.push(format!("[::1]:{port}"));
        }
        for h in extra {
            let h = h.trim().to_ascii_lowercase();
            if h.is_empty() {
                continue;
            }
            if h.contains(':') && !h.ends_with(']') {
                hosts.push(h);
            } else {
                hosts.push(format!("{h}:{port}"));
                hosts.push(h);
            }
        }
        AllowedHosts { hosts }
    }

    /// Whether `host` (a `Host` header) names this server. A missing header does not.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host.map(str::to_ascii_lowercase) else { return false };
        self.hosts.contains(&host)
    }
}

fn with_port(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_configured_hosts_are_allowed_and_nothing_else() {
        let hosts = AllowedHosts::new("127.0.0.1:8080".parse().unwrap(), &["matcher.kommune.dk".into()]);
        for ok in
            ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "matcher.kommune.dk:8080"]
        {
            assert!(hosts.allows(Some(ok)), "{ok}");
        }
        assert!(hosts.allows(Some("matcher.kommune.dk")), "behind a proxy on the default port");
        for bad in ["evil.example", "evil.example:8080", "127.0.0.1:9090", "localhost", ""] {
            assert!(!hosts.allows(Some(bad)), "{bad}");
        }
        assert!(!hosts.allows(None));
    }
}
