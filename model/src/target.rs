//! Database target labels (`postgres://user@host:port/db`): which host a target runs
//! on, read the one way the analyzers and the advice both need.

/// The host part of a `scheme://user@host:port/db` label (empty for a socket path).
pub fn url_host(label: &str) -> &str {
    let rest = label.split_once("://").map_or(label, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.split_inclusive(']').next().unwrap_or(host_port);
    }
    host_port.split(':').next().unwrap_or_default()
}

/// True when the target labelled `label` runs on the host the snapshot describes
/// (named `hostname`, when known): a socket, a loopback address or the host's own
/// name. Only then does the host's RAM belong to the database server.
pub fn is_local(label: &str, hostname: Option<&str>) -> bool {
    let host = url_host(label);
    host.is_empty()
        || host.starts_with('/')
        || matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
        || hostname.is_some_and(|h| host.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::is_local;

    #[test]
    fn sockets_loopback_and_the_own_name_are_local() {
        assert!(is_local("postgres://app@localhost/erp", Some("db1")));
        assert!(is_local("postgres://app@DB1:5432/erp", Some("db1")));
        assert!(is_local("postgres:///erp", None));
        assert!(is_local("mysql://root@[::1]:3306", None));
        assert!(!is_local("postgres://app@db2/erp", Some("db1")));
        assert!(!is_local("postgres://app@db1/erp", None));
    }
}
