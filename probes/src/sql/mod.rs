//! SQL text handling shared by the database probes.

mod mask;

pub use mask::mask_literals;
