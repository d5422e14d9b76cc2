//! Typed facts documents: what probes learned once per collection (not sampled).
//!
//! Every field a probe may fail to read is an `Option`: `None` is "unknown", never zero.

pub mod host;
pub mod mssql;
pub mod mysql;
pub mod network;
pub mod os;
pub mod postgres;

pub use host::{
    CpuFacts, DiskFacts, FilesystemFacts, HostFacts, InterfaceFacts, MemoryFacts, Virtualization,
};
pub use mssql::MssqlFacts;
pub use mysql::MysqlFacts;
pub use network::{NetworkFacts, TcpCounters, TcpRtt};
pub use os::{NumaNode, OsFacts, ProcessLimits, ThpFacts, TimeSync};
pub use postgres::PostgresFacts;
