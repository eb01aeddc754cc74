//! Time to save one observation durably on a native file database (WAL, synchronous=FULL):
//! the row and its outbox event in one committed transaction.

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use patrol::domain::observation::{Action, Category};
use patrol::domain::records::ObservationInput;
use patrol::domain::ward::WardSetup;
use patrol::service::handle::DEMO_WARD;
use patrol::store::Store;

fn save_observation(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
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
    c.bench_function("save_observation_native_durable", |b| {
        b.iter(|| store.observe(&input, Utc::now()).expect("save"))
    });
}

criterion_group!(benches, save_observation);
criterion_main!(benches);
