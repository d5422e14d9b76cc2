//! Pure parsers for the `/proc` files the probes read, one file per format, plus the one
//! place that reads them from under a [`Root`](crate::Root).
//!
//! Every `parse_*` takes the file's text and returns a typed value or a
//! [`ProbeError::Parse`]; none of them touches the filesystem or panics on bad input.

pub mod cpuinfo;
pub mod diskstats;
pub mod limits;
pub mod loadavg;
pub mod meminfo;
pub mod mounts;
pub mod netdev;
pub mod pid;
pub mod snmp;
pub mod stat;
pub mod vmstat;

use crate::{ProbeError, Root};

/// Reads a file under the root as text.
pub fn read(root: &Root, rel: &str) -> Result<String, ProbeError> {
    let path = root.path(rel);
    std::fs::read_to_string(&path).map_err(|source| ProbeError::Io { path, source })
}

/// Reads a one-value file (sysctl, sysfs attribute) and trims it.
pub fn read_trimmed(root: &Root, rel: &str) -> Result<String, ProbeError> {
    read(root, rel).map(|s| s.trim().to_owned())
}

/// Parses one numeric field, naming the file in the error.
pub(crate) fn num<T: std::str::FromStr>(what: &'static str, field: &str) -> Result<T, ProbeError> {
    field
        .parse()
        .map_err(|_| ProbeError::parse(what, format!("not a number: {field:?}")))
}
