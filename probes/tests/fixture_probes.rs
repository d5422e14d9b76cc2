//! Each probe on each fixture tree, with concrete values, plus live smoke tests on this
//! machine (which the brief guarantees is Linux with PostgreSQL and MariaDB running).

use std::net::TcpListener;
use std::path::Path;

use perfdiag_model::{ColumnData, ProbeStatus, tables};
use perfdiag_probes::{ProcessTracker, Root, Sampler, host, network, os};

fn fixture(name: &str) -> Root {
    Root::new(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn host_this_machine() {
    let c = host::probe(&fixture("this-machine"));
    assert_eq!(c.record.status, ProbeStatus::Ok, "{:?}", c.record.message);
    let h = c.facts.unwrap();
    assert_eq!(h.hostname, "vm");
    assert_eq!(h.cpu.threads, 2);
    assert_eq!(h.cpu.sockets, Some(1));
    assert_eq!(h.cpu.cores, Some(2));
    assert_eq!(h.cpu.model.as_deref(), Some("AMD EPYC"));
    assert_eq!(h.cpu.max_mhz, None);
    let disks: Vec<&str> = h.disks.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(disks, ["vda"]);
    let vda = &h.disks[0];
    assert_eq!(vda.size_bytes, Some(536_870_912 * 512));
    assert_eq!(vda.scheduler.as_deref(), Some("mq-deadline"));
    assert_eq!(vda.rotational, Some(true));
    assert_eq!(vda.read_ahead_kb, Some(8192));
    assert_eq!(vda.model, None);
    let root_fs = h.filesystems.iter().find(|f| f.mount_point == "/").unwrap();
    assert_eq!(root_fs.fs_type, "ext4");
    assert!(root_fs.options.iter().any(|o| o == "discard"));
    assert_eq!(root_fs.size_bytes, None, "no statvfs on a fixture tree");
    assert!(h.filesystems.iter().all(|f| f.fs_type != "tmpfs"));
    let eth0 = h.interfaces.iter().find(|i| i.name == "eth0").unwrap();
    assert_eq!(eth0.speed_mbps, None, "-1 is unknown");
    assert!(h.interfaces.iter().all(|i| i.name != "lo"));
    assert_eq!(h.virtualization.hypervisor.as_deref(), Some("vm"));
    assert_eq!(h.virtualization.container.as_deref(), Some("docker"));
    assert!(h.memory.total_bytes > 0);
}

#[test]
fn host_hand_made_trees() {
    let h = host::probe(&fixture("no-swap")).facts.unwrap();
    assert_eq!(h.os_name, "Rocky Linux 9.3 (Blue Onyx)");
    assert_eq!(h.uptime_secs, Some(86400));
    assert_eq!(h.memory.swap_total_bytes, 0);
    assert_eq!(h.memory.total_bytes, 32_768_000 * 1024);
    assert_eq!(h.cpu.threads, 4);
    assert_eq!(h.virtualization.hypervisor.as_deref(), Some("bare-metal"));
    assert_eq!(h.virtualization.container, None);
    assert_eq!(h.disks[0].model.as_deref(), Some("SAMSUNG MZ7LH960"));
    let mps: Vec<&str> = h
        .filesystems
        .iter()
        .map(|f| f.mount_point.as_str())
        .collect();
    assert_eq!(mps, ["/", "/var/lib/pgsql"]);

    let h = host::probe(&fixture("numa")).facts.unwrap();
    assert_eq!(
        (h.cpu.sockets, h.cpu.cores, h.cpu.threads),
        (Some(2), Some(4), 8)
    );
    assert_eq!(h.cpu.max_mhz, Some(3900.0));
    assert_eq!(h.memory.hugepages_total, Some(1024));
    assert_eq!(h.virtualization.hypervisor.as_deref(), Some("vmware"));

    let h = host::probe(&fixture("many-disks")).facts.unwrap();
    let names: Vec<&str> = h.disks.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names.len(), 12);
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("loop") || n.starts_with("ram"))
    );
    let rotating: Vec<&str> = h
        .disks
        .iter()
        .filter(|d| d.rotational == Some(true))
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(rotating, ["sdc"]);
    assert_eq!(h.virtualization.hypervisor.as_deref(), Some("kvm"));
    assert_eq!(h.virtualization.container.as_deref(), Some("docker"));
}

#[test]
fn host_missing_files_is_partial() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("no-swap").path(""), dir.path());
    std::fs::remove_file(dir.path().join("proc/uptime")).unwrap();
    let c = host::probe(&Root::new(dir.path()));
    assert_eq!(c.record.status, ProbeStatus::Partial);
    assert!(c.record.message.unwrap().contains("proc/uptime"));
    assert_eq!(c.facts.unwrap().uptime_secs, None);

    let empty = tempfile::tempdir().unwrap();
    let c = host::probe(&Root::new(empty.path()));
    assert_eq!(c.record.status, ProbeStatus::Partial);
}

#[test]
fn os_this_machine() {
    let c = os::probe(&fixture("this-machine"));
    assert_eq!(c.record.status, ProbeStatus::Ok, "{:?}", c.record.message);
    let o = c.facts.unwrap();
    assert!(o.sysctls.len() >= 30, "{}", o.sysctls.len());
    assert!(o.sysctl_i64("vm.swappiness").is_some());
    assert!(!o.sysctls["kernel.sem"].contains('\t'));
    assert_eq!(o.transparent_hugepages.as_ref().unwrap().enabled, "madvise");
    assert!(o.cpu_governors.is_empty());
    assert_eq!(o.numa_nodes.len(), 1);
    assert_eq!(o.numa_nodes[0].cpus, "0-1");
    let names: Vec<&str> = o.db_processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["postgres", "mariadbd"], "main processes only");
    assert_eq!(o.db_processes[0].pid, 2205);
    assert!(o.db_processes.iter().all(|p| p.nofile_soft.is_some()));
    assert_eq!(o.time_sync.synchronized, None, "no adjtimex on a fixture");
}

#[test]
fn os_hand_made_trees() {
    let o = os::probe(&fixture("numa")).facts.unwrap();
    assert_eq!(o.sysctl_i64("vm.zone_reclaim_mode"), Some(1));
    assert_eq!(o.sysctls["kernel.sem"], "32000 1024000000 500 32000");
    assert_eq!(o.transparent_hugepages.unwrap().enabled, "always");
    assert_eq!(o.cpu_governors.get("powersave"), Some(&8));
    let nodes: Vec<(u32, &str, Option<u64>)> = o
        .numa_nodes
        .iter()
        .map(|n| (n.id, n.cpus.as_str(), n.mem_total_bytes))
        .collect();
    assert_eq!(
        nodes,
        [
            (0, "0-3", Some(32_768_000 * 1024)),
            (1, "4-7", Some(32_768_000 * 1024))
        ]
    );
    assert!(o.db_processes.is_empty());

    let o = os::probe(&fixture("no-swap")).facts.unwrap();
    assert!(o.cpu_governors.is_empty());
    assert!(o.numa_nodes.is_empty());
    assert_eq!(
        o.transparent_hugepages.unwrap().defrag.as_deref(),
        Some("never")
    );
    assert!(
        !o.sysctls.contains_key("vm.dirty_ratio"),
        "absent ones are left out"
    );
}

#[test]
fn network_counters_and_targets() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().to_string();
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let c = network::probe(&fixture("this-machine"), &[open.clone(), closed.clone()], 5);
    assert_eq!(c.record.status, ProbeStatus::Ok);
    let n = c.facts.unwrap();
    assert_eq!(n.tcp_since_boot.unwrap().active_opens, 119);
    let ok = &n.targets[0];
    assert_eq!(
        (ok.target.as_str(), ok.attempts, ok.failures),
        (open.as_str(), 5, 0)
    );
    assert!(ok.p50_ms.is_some() && ok.p95_ms.is_some() && ok.max_ms.is_some());
    assert!(ok.p50_ms <= ok.p95_ms && ok.p95_ms <= ok.max_ms);
    let bad = &n.targets[1];
    assert_eq!(bad.failures, 5);
    assert_eq!(bad.p50_ms, None);
    assert!(bad.last_error.is_some());

    let n = network::probe(&fixture("numa"), &[], 3).facts.unwrap();
    assert!(n.targets.is_empty());
    assert_eq!(n.tcp_since_boot.unwrap().retrans_segs, 30);

    let unresolvable = network::measure("no-such-host.invalid:5432", 2);
    assert_eq!(unresolvable.failures, 2);
}

#[test]
fn sampler_percentages_and_reset_on_fixture() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("numa").path(""), dir.path());
    let root = Root::new(dir.path());
    let mut s = Sampler::start(&root).unwrap();
    let mut stat = String::from("cpu  825 0 400 8075 0 0 0 0 0 0\n");
    for c in 0..8 {
        // cpu7 went backwards: a reset gives nulls, not a huge number.
        let (user, idle) = if c == 7 { (50, 900) } else { (125, 1075) };
        stat += &format!("cpu{c} {user} 0 50 {idle} 0 0 0 0 0 0\n");
    }
    stat += "ctxt 500\nprocs_running 1\nprocs_blocked 0\n";
    std::fs::write(dir.path().join("proc/stat"), stat).unwrap();
    s.tick().unwrap();
    assert_eq!(s.ticks(), 1);
    let (tables, record) = s.finish();
    assert_eq!(record.id, "sampler");
    let cpu = &tables
        .iter()
        .find(|(n, _)| *n == tables::HOST_CPU)
        .unwrap()
        .1;
    assert_eq!(cpu.rows(), 9);
    let Some(ColumnData::Float64(user)) = cpu.column("user_pct") else {
        panic!()
    };
    let Some(ColumnData::Float64(idle)) = cpu.column("idle_pct") else {
        panic!()
    };
    assert_eq!((user[0], idle[0]), (Some(25.0), Some(75.0)));
    assert_eq!((user[1], idle[1]), (Some(25.0), Some(75.0)));
    assert_eq!(user[8], None);
    let sys = &tables
        .iter()
        .find(|(n, _)| *n == tables::HOST_SYSTEM)
        .unwrap()
        .1;
    let Some(ColumnData::Float64(ctx)) = sys.column("ctx_switches_per_s") else {
        panic!()
    };
    assert_eq!(ctx[0], None, "ctxt went from 1000 to 500");
    let Some(ColumnData::Int64(total)) = sys.column("mem_total_bytes") else {
        panic!()
    };
    assert_eq!(total[0], Some(65_536_000 * 1024));
}

#[test]
fn sampler_columns_match_the_format() {
    let mut s = Sampler::start(&fixture("this-machine")).unwrap();
    s.tick().unwrap();
    let (tables, _) = s.finish();
    let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["host_cpu", "host_system", "host_disk", "host_net"]);
    let cols = |t: usize| -> Vec<String> {
        tables[t]
            .1
            .columns()
            .iter()
            .map(|c| c.name.clone())
            .collect()
    };
    assert_eq!(cols(0).len(), 10);
    assert_eq!(cols(1).len(), 25);
    assert_eq!(cols(2)[..2], ["ts", "device"]);
    assert_eq!(cols(3)[..2], ["ts", "interface"]);
    let Some(ColumnData::Utf8(dev)) = tables[2].1.column("device") else {
        panic!()
    };
    assert_eq!(dev, &[Some("vda".to_owned())]);
    let Some(ColumnData::Utf8(ifs)) = tables[3].1.column("interface") else {
        panic!()
    };
    assert_eq!(ifs.len(), 3, "eth0, ifb0, ifb1; not lo");
}

#[test]
fn processes_two_readings_on_fixture() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture("this-machine").path(""), dir.path());
    let root = Root::new(dir.path());
    let tracker = ProcessTracker::start(&root);
    // mariadbd burns 1000 more ticks (utime is field 14).
    let path = dir.path().join("proc/3784/stat");
    let text = std::fs::read_to_string(&path).unwrap();
    let (head, tail) = text.split_at(text.rfind(')').unwrap());
    let mut f: Vec<String> = tail[1..].split_whitespace().map(str::to_owned).collect();
    f[11] = (f[11].parse::<u64>().unwrap() + 1000).to_string();
    std::fs::write(&path, format!("{head}) {}\n", f.join(" "))).unwrap();
    // postgres child 2206 exited.
    std::fs::remove_dir_all(dir.path().join("proc/2206")).unwrap();

    let (table, record) = tracker.finish(10);
    assert_eq!(record.status, ProbeStatus::Ok);
    let t = table.unwrap();
    let Some(ColumnData::Int64(pids)) = t.column("pid") else {
        panic!()
    };
    let Some(ColumnData::Float64(cpu)) = t.column("cpu_pct") else {
        panic!()
    };
    let Some(ColumnData::Int64(uid)) = t.column("uid") else {
        panic!()
    };
    assert_eq!(pids[0], Some(3784), "the busiest first");
    assert!(cpu[0].unwrap() > 100.0);
    assert_eq!(cpu[1], Some(0.0));
    assert!(!pids.contains(&Some(2206)));
    assert!(pids.contains(&Some(2205)));
    assert!(uid.iter().all(Option::is_some));
    let names: Vec<String> = t.columns().iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        names,
        ["pid", "name", "uid", "cpu_pct", "rss_bytes", "threads"]
    );
}

#[test]
fn live_sampler_smoke() {
    let mut s = Sampler::start(&Root::system()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    s.tick().unwrap();
    let (tables, record) = s.finish();
    assert_ne!(record.status, ProbeStatus::Failed);
    let cpu = &tables[0].1;
    let Some(ColumnData::Utf8(names)) = cpu.column("cpu") else {
        panic!()
    };
    assert_eq!(names[0].as_deref(), Some("all"));
    assert_eq!(tables[1].1.rows(), 1);
}

#[test]
fn live_probes_smoke() {
    let root = Root::system();
    let h = host::probe(&root);
    assert_ne!(h.record.status, ProbeStatus::Failed);
    let h = h.facts.unwrap();
    assert!(h.cpu.threads >= 1);
    let fs_root = h.filesystems.iter().find(|f| f.mount_point == "/");
    assert!(
        fs_root.is_none_or(|f| f.size_bytes.is_some()),
        "statvfs on the live system"
    );
    let o = os::probe(&root).facts.unwrap();
    assert!(
        o.time_sync.synchronized.is_some(),
        "adjtimex on the live system"
    );
    let (t, rec) = ProcessTracker::start(&root).finish(5);
    assert_eq!(rec.status, ProbeStatus::Ok);
    assert!(t.unwrap().rows() >= 1);
}
