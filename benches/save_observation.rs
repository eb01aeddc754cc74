//! Time to save one observation durably on a native file database (WAL, synchronous=FULL):
//! the row and its outbox event in one committed transaction. The database lives on a real disk,
//! not a tmpfs: in `SAVE_BENCH_DIR` if set, else in cargo's target tmp dir; the filesystem it ran
//! on is printed, then p50/p99 of single saves, then criterion's estimate.

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use patrol::domain::observation::{Action, Category};
use patrol::domain::records::ObservationInput;
use patrol::domain::ward::WardSetup;
use patrol::domain::ward::DEMO_WARD;
use patrol::store::Store;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Single saves timed for the percentiles.
const SAVES: usize = 2_000;

/// The mount `path` lives on, from /proc/self/mountinfo: (mount point, filesystem type, source).
fn filesystem(path: &Path) -> Option<(String, String, String)> {
    let path = path.canonicalize().ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines()
        .filter_map(|line| {
            // "id parent major:minor root MOUNT_POINT options [optional...] - FSTYPE SOURCE ..."
            let (left, right) = line.split_once(" - ")?;
            let mount = left.split(' ').nth(4)?.replace("\\040", " ");
            let mut right = right.split(' ');
            let (fstype, source) = (right.next()?, right.next()?);
            path.starts_with(&mount)
                .then(|| (mount, fstype.to_string(), source.to_string()))
        })
        .max_by_key(|(mount, _, _)| mount.len())
}

fn save_observation(c: &mut Criterion) {
    let base = std::env::var_os("SAVE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&base).expect("bench dir");
    let dir = tempfile::tempdir_in(&base).expect("temp dir");
    match filesystem(dir.path()) {
        Some((mount, fstype, source)) => println!(
            "database in {}: {fstype} on {source} (mounted at {mount})",
            dir.path().display()
        ),
        None => println!("database in {} (filesystem unknown)", dir.path().display()),
    }
    let mut store = Store::open_file(&dir.path().join("bench.db")).expect("open");
    store
        .load_setup(WardSetup::from_json(DEMO_WARD).expect("demo"))
        .expect("setup");
    store
        .start_shift("ca1", &["demo-m1".to_string()], Utc::now())
        .expect("start");
    let input = ObservationInput {
        category: Some(Category::SuspiciousVehicle),
        description: "Hai người đi xe máy không biển số, chạy chậm quanh chợ".into(),
        plate: "29A-123.45".into(),
        action: Some(Action::Watched),
        ..Default::default()
    };
    let mut ms: Vec<f64> = (0..SAVES)
        .map(|_| {
            let t = Instant::now();
            store.observe(&input, Utc::now()).expect("save");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| ms[((p * ms.len() as f64) as usize).min(ms.len() - 1)];
    println!(
        "durable save, {SAVES} single saves: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        pct(0.5),
        pct(0.99),
        ms[ms.len() - 1]
    );
    c.bench_function("save_observation_native_durable", |b| {
        b.iter(|| store.observe(&input, Utc::now()).expect("save"))
    });
}

criterion_group!(benches, save_observation);
criterion_main!(benches);
