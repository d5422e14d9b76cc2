//! The snapshot file: round trip, and clear errors for every kind of bad file.

use std::io::Write;
use std::path::Path;

use chrono::{TimeZone, Utc};
use perfdiag_model::facts::{CpuFacts, HostFacts};
use perfdiag_model::*;

fn sample_snapshot() -> Snapshot {
    let window = CollectionWindow {
        started_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 0, 0).unwrap(),
        ended_at: Utc.with_ymd_and_hms(2026, 11, 29, 8, 1, 0).unwrap(),
        interval_ms: 1000,
        requested_duration_ms: 60_000,
        ended_early: false,
    };
    let host = HostIdentity {
        hostname: "erp-db01".into(),
        os: "Debian GNU/Linux 12 (bookworm)".into(),
        kernel: Some("6.1.0".into()),
        arch: "x86_64".into(),
        machine_id: None,
    };
    let mut snap = Snapshot::new(host, window);
    snap.set_fact(
        "host",
        &HostFacts {
            hostname: "erp-db01".into(),
            cpu: CpuFacts {
                model: Some("Xeon 数据库".into()),
                threads: 8,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    snap.put_table(
        "host_cpu",
        Table::new()
            .with(
                "ts",
                col::timestamp([Some(1_000_000), Some(2_000_000), None]),
            )
            .with("cpu", col::utf8([Some("all"), None, Some("cpu1")]))
            .with("busy_pct", col::f64([Some(12.5), Some(f64::MAX), None]))
            .with("count", col::i64([None, Some(-3), Some(i64::MAX)]))
            .with("flag", col::bool([Some(true), None, Some(false)])),
    );
    snap.put_table("empty", Table::new().with("x", col::i64([])));
    snap.record_probe(ProbeRecord {
        target: None,
        id: "host".into(),
        status: ProbeStatus::Partial,
        duration_ms: 12,
        message: Some("no permission to read /sys/block/sda/device/model".into()),
        hint: None,
    });
    snap
}

#[test]
fn round_trip_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdsnap");
    let snap = sample_snapshot();
    snap.write(&path).unwrap();
    let back = Snapshot::read(&path).unwrap();
    assert_eq!(back, snap);
    let host: HostFacts = back.fact("host").unwrap().unwrap();
    assert_eq!(host.cpu.model.as_deref(), Some("Xeon 数据库"));
    assert!(back.fact::<HostFacts>("os").unwrap().is_none());
    let manifest = Snapshot::read_manifest(&path).unwrap();
    assert_eq!(manifest.tables.len(), 2);
    assert_eq!(manifest.tables[1].rows, 3);
    // Nothing but the snapshot is left in the folder: the temp file was renamed.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn overwriting_replaces_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdsnap");
    std::fs::write(&path, b"old content").unwrap();
    sample_snapshot().write(&path).unwrap();
    assert!(Snapshot::read(&path).is_ok());
}

fn error_of(path: &Path) -> String {
    Snapshot::read(path).unwrap_err().to_string()
}

#[test]
fn truncated_file_is_reported_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdsnap");
    sample_snapshot().write(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for keep in [bytes.len() / 2, bytes.len() - 10, 10] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let msg = error_of(&path);
        assert!(msg.contains("is damaged"), "{keep}: {msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
    }
}

#[test]
fn flipped_bytes_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pdsnap");
    sample_snapshot().write(&path).unwrap();
    let clean = std::fs::read(&path).unwrap();
    // Flip a byte inside the stored Parquet entry: the CRC check must catch it.
    let at = clean.windows(4).position(|w| w == b"PAR1").unwrap() + 8;
    let mut bytes = clean.clone();
    bytes[at] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let msg = error_of(&path);
    assert!(msg.contains("damaged"), "{msg}");
    assert!(msg.contains("tables/"), "{msg}");
}

#[test]
fn foreign_files_are_not_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    assert!(error_of(&text).contains("not a perfdiag snapshot"));

    let empty = dir.path().join("empty.pdsnap");
    std::fs::write(&empty, "").unwrap();
    assert!(error_of(&empty).contains("empty"));

    let other_zip = dir.path().join("other.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&other_zip).unwrap());
    zip.start_file("readme.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"hi").unwrap();
    zip.finish().unwrap();
    let msg = error_of(&other_zip);
    assert!(msg.contains("without manifest.json"), "{msg}");

    let missing = dir.path().join("nope.pdsnap");
    assert!(error_of(&missing).contains("cannot read"));
}

fn rewrite_manifest(path: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let snap = sample_snapshot();
    let mut manifest = serde_json::to_value(snap.manifest()).unwrap();
    edit(&mut manifest);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    zip.start_file("manifest.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(manifest.to_string().as_bytes()).unwrap();
    zip.finish().unwrap();
}

#[test]
fn newer_major_schema_is_refused_with_the_version_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.pdsnap");
    rewrite_manifest(&path, |m| {
        m["schema_version"]["major"] = 2.into();
        m["schema_version"]["minor"] = 0.into();
        m["tool_version"] = "3.1.0".into();
        m["window"] = "a new shape".into();
    });
    let msg = error_of(&path);
    assert!(msg.contains("schema 2.0"), "{msg}");
    assert!(msg.contains("perfdiag 3.1.0 or newer"), "{msg}");
}

#[test]
fn newer_minor_schema_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minor.pdsnap");
    rewrite_manifest(&path, |m| {
        m["schema_version"]["minor"] = 7.into();
        m["a_field_from_the_future"] = true.into();
        m["facts"] = serde_json::json!([]);
        m["tables"] = serde_json::json!([]);
    });
    let snap = Snapshot::read(&path).unwrap();
    assert_eq!(snap.manifest().schema_version.minor, 7);
}

#[test]
fn default_file_name_is_safe() {
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    assert_eq!(
        default_file_name("db/01 x", at).to_str().unwrap(),
        "perfdiag-db_01_x-20260102T030405Z.pdsnap"
    );
}
