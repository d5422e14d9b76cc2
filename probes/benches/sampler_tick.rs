//! Cost of one `Sampler::tick()` over the fixture tree captured from this machine:
//! the sampler runs every second for hours on production, so a tick must stay cheap.

use criterion::{Criterion, criterion_group, criterion_main};
use perfdiag_probes::{Root, Sampler};

fn tick(c: &mut Criterion) {
    let root = Root::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/this-machine"
    ));
    let mut sampler = Sampler::start(&root).expect("fixture tree has /proc/stat");
    c.bench_function("sampler_tick_this_machine", |b| {
        b.iter(|| sampler.tick().expect("tick"));
    });
}

criterion_group!(benches, tick);
criterion_main!(benches);
