//! Typed page decoding vs a generic `serde_json::Value` parse of the same
//! bytes: 100-record pages in the Chinese and English server profiles.
//!
//! ```sh
//! cargo bench -p sendcloud-status-bench --bench decode
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sendcloud_status::core::Decoder;
use sendcloud_status_bench::profiles;

fn decode(c: &mut Criterion) {
    let decoder = Decoder::default();
    for (profile, body) in profiles() {
        assert_eq!(decoder.decode(200, &body).unwrap().records.len(), 100);
        let mut group = c.benchmark_group(format!("decode_page_100_{profile}"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function("typed", |b| b.iter(|| decoder.decode(200, black_box(&body)).unwrap()));
        group.bench_function("serde_json_value", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap())
        });
        group.finish();
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
