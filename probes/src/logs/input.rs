//! Opening log files: transparent decompression chosen by magic bytes (gzip, zstd,
//! bzip2 — never the extension, rotated logs are often misnamed), and format detection
//! from the first kilobytes, with a description the CLI can print.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use super::LogFormat;
use super::postgres::PgStderrParser;

/// How much of the input [`open_with_head`] reads for detection.
pub const HEAD_LEN: usize = 64 * 1024;

/// Opens `path`, decompressing `.gz` (multi-member), `.zst` and `.bz2` (multi-stream)
/// transparently.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, io::Error> {
    let mut r = BufReader::with_capacity(256 * 1024, File::open(path)?);
    let magic = r.fill_buf()?;
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(r),
        ))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(r)?)
    } else if magic.starts_with(b"BZh") {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            bzip2::bufread::MultiBzDecoder::new(r),
        ))
    } else {
        Box::new(r)
    })
}

/// Opens `path` and reads up to `head_len` bytes for detection: returns those bytes
/// and a reader that yields the *whole* stream again (head first), so nothing is read
/// twice from disk or decompressed twice.
pub fn open_with_head(
    path: &Path,
    head_len: usize,
) -> Result<(Vec<u8>, Box<dyn Read + Send>), io::Error> {
    let mut r = open(path)?;
    let mut head = Vec::with_capacity(head_len);
    (&mut r).take(head_len as u64).read_to_end(&mut head)?;
    let replay = io::Cursor::new(head.clone());
    Ok((head, Box::new(replay.chain(r))))
}

/// Detects the format of a log from its first bytes, with a description for the CLI
/// (e.g. `PostgreSQL stderr log, prefix '%t [%p]: [%l-1] user=%u,db=%d '`).
pub fn detect(head: &[u8]) -> Option<(LogFormat, String)> {
    let lines = || {
        head.split(|c| *c == b'\n')
            .map(<[u8]>::trim_ascii_end)
            .filter(|l| !l.is_empty())
            .take(200)
    };
    // MySQL slow log markers, or the mysqld header.
    if lines().any(|l| {
        l.starts_with(b"# Time:")
            || l.starts_with(b"# User@Host:")
            || l.starts_with(b"# Query_time:")
            || (l.starts_with(b"Tcp port:") && l.windows(11).any(|w| w == b"Unix socket"))
            || l.windows(13).any(|w| w == b"started with:")
    }) {
        return Some((
            LogFormat::MysqlSlow,
            "MySQL/MariaDB slow query log".to_owned(),
        ));
    }
    if let Some(first) = lines().next()
        && first.starts_with(b"{")
    {
        let has = |k: &[u8]| {
            lines()
                .take(20)
                .any(|l| memchr::memmem::find(l, k).is_some())
        };
        let what = if has(b"\"textPayload\"") {
            "PostgreSQL log in Google Cloud SQL JSON export (textPayload)"
        } else if has(b"\"record\"") && has(b"\"error_severity\"") {
            "PostgreSQL jsonlog wrapped by CloudNativePG"
        } else if has(b"\"error_severity\"") {
            "PostgreSQL jsonlog"
        } else {
            return None;
        };
        return Some((LogFormat::PgJson, what.to_owned()));
    }
    // csvlog: a timestamp (quoted or not) then a comma, and a severity column.
    let csv = lines().take(20).filter(|l| {
        let (l2, q) = l.strip_prefix(b"\"").map_or((*l, false), |x| (x, true));
        super::postgres::is_csv_start(l2, q)
    });
    if csv.count() > 0 {
        return Some((LogFormat::PgCsv, "PostgreSQL csvlog".to_owned()));
    }
    let p = PgStderrParser::detect(head);
    // Require at least one entry line: text that no prefix (not even the generic one)
    // matches is not a PostgreSQL log.
    let year_ok = lines().any(|l| p.starts_entry(l));
    if !year_ok {
        return None;
    }
    let prefix = if p.prefix().contains("%*") {
        None
    } else {
        Some(p.prefix().to_owned())
    };
    Some((LogFormat::PgStderr { prefix }, p.describe()))
}
