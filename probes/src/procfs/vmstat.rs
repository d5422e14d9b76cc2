//! `/proc/vmstat`: swap traffic and major page faults.

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/vmstat";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vmstat {
    /// Pages swapped in since boot.
    pub pswpin: Option<u64>,
    pub pswpout: Option<u64>,
    pub pgmajfault: Option<u64>,
}

pub fn parse_vmstat(text: &str) -> Result<Vmstat, ProbeError> {
    let mut v = Vmstat::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let slot = match fields.next() {
            Some("pswpin") => &mut v.pswpin,
            Some("pswpout") => &mut v.pswpout,
            Some("pgmajfault") => &mut v.pgmajfault,
            _ => continue,
        };
        let value = fields
            .next()
            .ok_or_else(|| ProbeError::parse(WHAT, format!("no value in {line:?}")))?;
        *slot = Some(num(WHAT, value)?);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sample() {
        let v = parse_vmstat("nr_free_pages 5\npswpin 10\npswpout 20\npgmajfault 30\n").unwrap();
        assert_eq!(
            v,
            Vmstat {
                pswpin: Some(10),
                pswpout: Some(20),
                pgmajfault: Some(30)
            }
        );
        assert_eq!(parse_vmstat("").unwrap(), Vmstat::default());
    }

    #[test]
    fn malformed() {
        assert!(parse_vmstat("pswpin\n").is_err());
        assert!(parse_vmstat("pswpin -1\n").is_err());
    }
}
