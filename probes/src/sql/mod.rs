//! SQL text handling shared by the database probes.

pub mod fingerprint;
mod mask;

pub use fingerprint::{class_id, fingerprint, fingerprint_id};
pub use mask::mask_literals;
