//! `/proc/self/mounts` (or `/proc/mounts`): mounted filesystems.

use crate::ProbeError;

const WHAT: &str = "/proc/mounts";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    pub mount_point: String,
    pub fs_type: String,
    pub options: Vec<String>,
}

pub fn parse_mounts(text: &str) -> Result<Vec<Mount>, ProbeError> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let mut f = line.split_ascii_whitespace();
        let (Some(device), Some(mount_point), Some(fs_type), Some(options)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(ProbeError::parse(WHAT, format!("short line {line:?}")));
        };
        out.push(Mount {
            device: unescape(device),
            mount_point: unescape(mount_point),
            fs_type: fs_type.to_owned(),
            options: options.split(',').map(str::to_owned).collect(),
        });
    }
    Ok(out)
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .and_then(|d| {
                u8::try_from(d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'))).ok()
            });
        match octal {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sample() {
        let m = parse_mounts(
            "proc /proc proc rw,relatime 0 0\n/dev/vda / ext4 rw,relatime,discard 0 0\n\
/dev/sdb1 /mnt/my\\040data xfs rw,noatime 0 0\n",
        )
        .unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[1].device, "/dev/vda");
        assert_eq!(m[1].options, ["rw", "relatime", "discard"]);
        assert_eq!(m[2].mount_point, "/mnt/my data");
    }

    #[test]
    fn malformed() {
        assert!(parse_mounts("/dev/vda / ext4\n").is_err());
        assert_eq!(unescape("a\\999b\\"), "a\\999b\\");
    }
}
