//! Cost of one `Sampler::tick()`: the sampler runs every second for hours on
//! production, so a tick must stay cheap.
//!
//! Two cases: the fixture tree captured from a real machine (parsing only, repeatable)
//! and the live `/proc` of this machine (what a tick really costs, reads included).
//! Run with `cargo bench -p perfdiag-probes --bench sampler_tick`.

use criterion::{Criterion, criterion_group, criterion_main};
use perfdiag_probes::{Root, Sampler};

fn tick(c: &mut Criterion) {
    let fixture = Root::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/this-machine"
    ));
    for (name, root) in [
        ("sampler_tick/fixture", fixture),
        ("sampler_tick/live", Root::system()),
    ] {
        let Ok(mut sampler) = Sampler::start(&root) else {
            eprintln!("{name}: no /proc/stat under {root:?}, skipped");
            continue;
        };
        c.bench_function(name, |b| b.iter(|| sampler.tick().expect("tick")));
    }
}

criterion_group!(benches, tick);
criterion_main!(benches);
