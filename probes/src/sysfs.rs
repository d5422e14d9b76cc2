//! Small `/sys` helpers shared by the host probe and the sampler: which block devices
//! are whole disks worth reporting.

use crate::{ProbeError, Root};

/// Virtual devices that only add noise: loop (snaps, images), ram disks, zram swap.
pub(crate) fn is_excluded_disk(name: &str) -> bool {
    name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram")
}

/// Whole disks under `/sys/block` (partitions are not listed there), sorted by name.
pub(crate) fn whole_disks(root: &Root) -> Result<Vec<String>, ProbeError> {
    let mut names = list_dir(root, "sys/block")?;
    names.retain(|n| !is_excluded_disk(n));
    Ok(names)
}

/// Entry names of a directory under the root, sorted.
pub(crate) fn list_dir(root: &Root, rel: &str) -> Result<Vec<String>, ProbeError> {
    let path = root.path(rel);
    let entries = std::fs::read_dir(&path).map_err(|source| ProbeError::Io {
        path: path.clone(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}
