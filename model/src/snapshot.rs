//! The snapshot file: one zip container per collection run.
//!
//! ```text
//! manifest.json            schema version, tool version, host, window, probe statuses
//! facts/<name>.json        one JSON document per fact group (host, os, network, ...)
//! tables/<name>.parquet    one Parquet file per table (samples, processes, ...)
//! ```
//! A zip because it is one file to copy off a server, and every OS can unpack it for
//! pandas or DuckDB. Parquet entries are stored (they are compressed already), JSON is
//! deflated. See `docs/snapshot-format.md`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::SnapshotError;
use crate::manifest::{
    CollectionWindow, ColumnEntry, FORMAT, HostIdentity, Manifest, ProbeRecord, SCHEMA_VERSION,
    TableEntry,
};
use crate::parquet_io;
use crate::table::Table;

const MANIFEST: &str = "manifest.json";

/// Everything one collection run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    manifest: Manifest,
    facts: BTreeMap<String, serde_json::Value>,
    tables: BTreeMap<String, Table>,
}

impl Snapshot {
    /// An empty snapshot for this tool version.
    pub fn new(host: HostIdentity, window: CollectionWindow) -> Self {
        Self {
            manifest: Manifest {
                format: FORMAT.to_owned(),
                schema_version: SCHEMA_VERSION,
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                host,
                window,
                probes: Vec::new(),
                tables: Vec::new(),
                facts: Vec::new(),
            },
            facts: BTreeMap::new(),
            tables: BTreeMap::new(),
        }
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn set_window(&mut self, window: CollectionWindow) {
        self.manifest.window = window;
    }

    pub fn record_probe(&mut self, record: ProbeRecord) {
        self.manifest.probes.push(record);
    }

    /// Stores a facts document under `name` (replacing any earlier one).
    pub fn set_fact<T: Serialize>(&mut self, name: &str, value: &T) {
        let value = serde_json::to_value(value).expect("facts are plain data and serialise");
        self.facts.insert(name.to_owned(), value);
        self.sync_manifest();
    }

    /// Reads a facts document; `Ok(None)` when the snapshot has none of that name.
    pub fn fact<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, SnapshotError> {
        self.facts
            .get(name)
            .map(|v| {
                T::deserialize(v).map_err(|cause| SnapshotError::Fact {
                    name: name.to_owned(),
                    cause,
                })
            })
            .transpose()
    }

    pub fn put_table(&mut self, name: &str, table: Table) {
        self.tables.insert(name.to_owned(), table);
        self.sync_manifest();
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Keeps the manifest's list of facts and tables true to the content.
    fn sync_manifest(&mut self) {
        self.manifest.facts = self.facts.keys().cloned().collect();
        self.manifest.tables = self
            .tables
            .iter()
            .map(|(name, t)| TableEntry {
                name: name.clone(),
                rows: t.rows() as u64,
                columns: t
                    .columns()
                    .iter()
                    .map(|c| ColumnEntry {
                        name: c.name.clone(),
                        column_type: c.data.column_type(),
                    })
                    .collect(),
            })
            .collect();
    }

    /// Writes the snapshot atomically: to a temporary file beside `path`, flushed to
    /// disk, then renamed, so a crash never leaves a half-written snapshot under `path`.
    pub fn write(&self, path: &Path) -> Result<(), SnapshotError> {
        let write_err = |cause: std::io::Error| SnapshotError::Write {
            path: path.to_owned(),
            cause,
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".perfdiag-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(write_err)?;
        self.write_zip(tmp.as_file_mut()).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(path).map_err(|e| write_err(e.error))?;
        Ok(())
    }

    fn write_zip<W: Write + Seek>(&self, out: W) -> std::io::Result<()> {
        let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        let mut zip = ZipWriter::new(out);
        zip.start_file(MANIFEST, deflated)?;
        serde_json::to_writer_pretty(&mut zip, &self.manifest)?;
        for (name, value) in &self.facts {
            zip.start_file(format!("facts/{name}.json"), deflated)?;
            serde_json::to_writer_pretty(&mut zip, value)?;
        }
        for (name, table) in &self.tables {
            let bytes = parquet_io::encode(table).map_err(std::io::Error::other)?;
            zip.start_file(format!("tables/{name}.parquet"), stored)?;
            zip.write_all(&bytes)?;
        }
        zip.finish()?.flush()
    }

    /// Reads only the manifest: cheap, for `snapshot inspect` and listings.
    pub fn read_manifest(path: &Path) -> Result<Manifest, SnapshotError> {
        let mut archive = open_archive(path)?;
        read_checked_manifest(path, &mut archive)
    }

    /// Reads a whole snapshot, checking format, schema version and every entry's CRC.
    pub fn read(path: &Path) -> Result<Self, SnapshotError> {
        let mut archive = open_archive(path)?;
        let manifest = read_checked_manifest(path, &mut archive)?;
        let corrupt = |detail: String| SnapshotError::Corrupt {
            path: path.to_owned(),
            detail,
        };
        let mut facts = BTreeMap::new();
        for name in &manifest.facts {
            let bytes = read_entry(path, &mut archive, &format!("facts/{name}.json"))?;
            let value = serde_json::from_slice(&bytes)
                .map_err(|e| corrupt(format!("facts/{name}.json is not valid JSON: {e}")))?;
            facts.insert(name.clone(), value);
        }
        let mut tables = BTreeMap::new();
        for entry in &manifest.tables {
            let entry_name = format!("tables/{}.parquet", entry.name);
            let bytes = read_entry(path, &mut archive, &entry_name)?;
            let table = parquet_io::decode(bytes).map_err(|e| {
                corrupt(format!("{entry_name} is not a readable Parquet file: {e}"))
            })?;
            tables.insert(entry.name.clone(), table);
        }
        Ok(Self {
            manifest,
            facts,
            tables,
        })
    }
}

fn open_archive(path: &Path) -> Result<ZipArchive<BufReader<File>>, SnapshotError> {
    let io_err = |cause| SnapshotError::Io {
        path: path.to_owned(),
        cause,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut file, &mut magic).map_err(io_err)?;
    if n == 0 {
        return Err(not_a_snapshot(path, "the file is empty"));
    }
    if magic[..n] != b"PK\x03\x04"[..n] || n < 4 {
        return Err(not_a_snapshot(path, "it is not a zip container"));
    }
    file.rewind().map_err(io_err)?;
    ZipArchive::new(BufReader::new(file)).map_err(|e| match e {
        ZipError::Io(source) => io_err(source),
        other => SnapshotError::Corrupt {
            path: path.to_owned(),
            detail: format!("the zip container is damaged or truncated ({other})"),
        },
    })
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn not_a_snapshot(path: &Path, detail: &str) -> SnapshotError {
    SnapshotError::NotASnapshot {
        path: path.to_owned(),
        detail: detail.to_owned(),
    }
}

fn read_checked_manifest<R: Read + Seek>(
    path: &Path,
    archive: &mut ZipArchive<R>,
) -> Result<Manifest, SnapshotError> {
    if archive.index_for_name(MANIFEST).is_none() {
        return Err(not_a_snapshot(
            path,
            "it is a zip archive without manifest.json",
        ));
    }
    let bytes = read_entry(path, archive, MANIFEST)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| SnapshotError::Corrupt {
            path: path.to_owned(),
            detail: format!("manifest.json is not valid JSON: {e}"),
        })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(not_a_snapshot(
            path,
            "its manifest.json is not a perfdiag manifest",
        ));
    }
    // Check the version before the shape: a newer major may have changed the shape.
    let major = value
        .pointer("/schema_version/major")
        .and_then(serde_json::Value::as_u64);
    if let Some(major) = major.filter(|m| *m > u64::from(SCHEMA_VERSION.major)) {
        let minor = value
            .pointer("/schema_version/minor")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let tool = value
            .get("tool_version")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_owned();
        return Err(SnapshotError::NewerSchema {
            path: path.to_owned(),
            found: format!("{major}.{minor}"),
            writer_version: tool,
        });
    }
    serde_json::from_value(value).map_err(|e| SnapshotError::Corrupt {
        path: path.to_owned(),
        detail: format!("manifest.json does not match schema {SCHEMA_VERSION}: {e}"),
    })
}

fn read_entry<R: Read + Seek>(
    path: &Path,
    archive: &mut ZipArchive<R>,
    name: &str,
) -> Result<Vec<u8>, SnapshotError> {
    let corrupt = |detail: String| SnapshotError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    let mut entry = archive.by_name(name).map_err(|e| match e {
        ZipError::FileNotFound => corrupt(format!("{name} is listed in the manifest but missing")),
        other => corrupt(format!("{name} cannot be opened ({other})")),
    })?;
    let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 30));
    // The zip reader checks the CRC at the end of the entry: a bit flip surfaces here.
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| corrupt(format!("{name} is damaged ({e})")))?;
    Ok(bytes)
}

/// The path a snapshot is written to by default: `perfdiag-<host>-<utc time>.pdsnap`.
pub fn default_file_name(hostname: &str, at: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let host: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(format!(
        "perfdiag-{host}-{}.pdsnap",
        at.format("%Y%m%dT%H%M%SZ")
    ))
}
