//! Throwaway database servers for tests: each starts its own instance in a temporary
//! folder, on a free port, with its socket in that folder, so a test can plant faults
//! (bad settings, missing indexes, lock chains) without touching the machine's own
//! servers. Dropping the handle stops the server and removes its files.

pub mod mariadb;
pub mod postgres;
