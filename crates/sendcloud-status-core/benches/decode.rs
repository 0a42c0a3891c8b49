//! Typed page decoding vs a generic `serde_json::Value` parse of the same
//! bytes: 100-record pages in the Chinese and English server profiles.
//!
//! ```sh
//! cargo bench -p sendcloud-status-core --bench decode
//! ```

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sendcloud_status_core::Decoder;

const ZH: [(&str, Option<u16>); 5] = [
    ("投递成功", None),
    ("无效邮件-地址不存在", Some(406)),
    ("软退信-服务不可达", Some(503)),
    ("投递成功", None),
    ("请求中", None),
];
const EN: [(&str, Option<u16>); 5] = [
    ("Delivered", None),
    ("Invalid Mail - Address Does Not Exist", Some(406)),
    ("Soft Bounce - Server Unreachable", Some(503)),
    ("Delivered", None),
    ("Sending", None),
];

/// A realistic page body: shaped like the documented response and the
/// sandbox's, 100 rows.
fn page(statuses: &[(&str, Option<u16>); 5], message: &str) -> Vec<u8> {
    let rows: Vec<String> = (0..100)
        .map(|i| {
            let (status, sub) = statuses[i % 5];
            let sub = sub.map_or(String::new(), |c| format!(r#","subStatus":{c},"subStatusDesc":"{status}""#));
            format!(
                r#"{{"emailId":"1716{i:09}_4576_32113_9310.sc-10_10_127_105-inbound0${i}user@example.com","status":"{status}","apiUser":"sandbox_user","recipients":"user{i}@example.com","requestTime":"2024-05-20 09:{:02}:{:02}","modifiedTime":"2024-05-20 09:{:02}:{:02}","sendLog":"250 2.0.0 OK queued as {i:08X}"{sub}}}"#,
                i % 60,
                (i * 7) % 60,
                (i + 1) % 60,
                (i * 11) % 60
            )
        })
        .collect();
    format!(
        r#"{{"result":true,"statusCode":200,"message":"{message}","info":{{"total":"12345","voListSize":100,"voList":[{}]}}}}"#,
        rows.join(",")
    )
    .into_bytes()
}

fn decode(c: &mut Criterion) {
    let decoder = Decoder::default();
    for (profile, body) in [("zh", page(&ZH, "请求成功")), ("en", page(&EN, "success"))] {
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
