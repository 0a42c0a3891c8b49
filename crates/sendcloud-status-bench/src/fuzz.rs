//! A time-boxed random fuzzer for the decoder and the export machine (the
//! stable toolchain has no cargo-fuzz here). Inputs: valid bodies mutated
//! by byte flips, truncation, splicing and insertion, plus random bytes;
//! the export machine gets random answers, faults and timings. Any panic is
//! a failure; every run must end (Done or an error) within a step bound.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use sendcloud_status::chrono::NaiveDate;
use sendcloud_status::core::{
    Action, Credentials, Decoder, Encoder, Endpoint, Export, ExportConfig, Jitter, RateLimit, RateLimiter,
    TransportErrorKind,
};
use sendcloud_status::{Query, RetryPolicy};

const SEEDS: &[&str] = &[
    r#"{"result":true,"statusCode":200,"message":"请求成功","info":{"total":"2","voListSize":2,"voList":[{"emailId":"1$a@b.c","status":"投递成功","apiUser":"u","recipients":"a@b.c","requestTime":"2016-10-18 09:31:59","modifiedTime":"2016-10-18 09:32:08","sendLog":"ok"},{"emailId":"2$a@b.c","status":"无效邮件-地址不存在","subStatus":406,"subStatusDesc":"x"}]}}"#,
    r#"{"result": false, "statuscode": 50000, "message": "interface frequency limited", "info": {}}"#,
    r#"{"result":false,"statusCode":40005,"message":"authentication failed","info":{}}"#,
    r#"{"result":true,"statusCode":200,"info":"{\"total\":1,\"voList\":[{\"emailId\":\"x\",\"subStatus\":\"503\"}]}"}"#,
    r#"{"result":true,"statuscode":200,"info":{"total":null,"voListSize":"","voList":null}}"#,
    "<html><head><title>502 Bad Gateway</title></head></html>",
];

/// Outcome of a fuzz run.
pub struct Report {
    pub decode_execs: u64,
    pub export_execs: u64,
    pub crashes: u64,
    pub hangs: u64,
    pub seconds: f64,
}

pub fn run(budget: Duration, seed: u64) -> Report {
    let started = Instant::now();
    let mut rng = Jitter::new(seed);
    let mut report = Report { decode_execs: 0, export_execs: 0, crashes: 0, hangs: 0, seconds: 0.0 };
    let decoder = Decoder::default();
    while started.elapsed() < budget {
        for _ in 0..200 {
            let body = mutate(&mut rng);
            let status = [200u16, 200, 200, 401, 429, 500, 502][(rng.next_u64() % 7) as usize];
            match catch_unwind(AssertUnwindSafe(|| decoder.decode(status, &body))) {
                Ok(_) => {}
                Err(_) => {
                    report.crashes += 1;
                    eprintln!("decoder panicked on {:?}", String::from_utf8_lossy(&body));
                }
            }
            report.decode_execs += 1;
        }
        match catch_unwind(AssertUnwindSafe(|| drive_export(&mut rng))) {
            Ok(true) => {}
            Ok(false) => report.hangs += 1,
            Err(_) => report.crashes += 1,
        }
        report.export_execs += 1;
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

fn mutate(rng: &mut Jitter) -> Vec<u8> {
    let mut r = || rng.next_u64();
    if r().is_multiple_of(10) {
        let n = (r() % 256) as usize;
        return (0..n).map(|_| r() as u8).collect();
    }
    let mut body = SEEDS[(r() % SEEDS.len() as u64) as usize].as_bytes().to_vec();
    for _ in 0..=(r() % 4) {
        if body.is_empty() {
            break;
        }
        let at = (r() % body.len() as u64) as usize;
        match r() % 5 {
            0 => body[at] ^= 1 << (r() % 8),
            1 => body.truncate(at),
            2 => {
                const JUNK: &[u8] = b"{}[]\",:0-e.\\u";
                body.insert(at, JUNK[(r() % JUNK.len() as u64) as usize]);
            }
            3 => {
                body.remove(at);
            }
            _ => {
                let other = SEEDS[(r() % SEEDS.len() as u64) as usize].as_bytes();
                let from = (r() % other.len() as u64) as usize;
                body.splice(at..at, other[from..].iter().copied().take(40));
            }
        }
    }
    body
}

/// One export against random answers. True when it ended within the bound.
fn drive_export(rng: &mut Jitter) -> bool {
    let encoder = Encoder::new(Endpoint::default(), Credentials::new("u", "k").expect("valid"));
    let mut config = ExportConfig::new(encoder);
    config.parallelism = sendcloud_status::Parallelism::Fixed(1 + (rng.next_u64() % 4) as usize);
    config.retry = RetryPolicy { max_attempts: 1 + (rng.next_u64() % 5) as u32, ..RetryPolicy::default() };
    config.limiter = RateLimiter::new(Some(RateLimit::per_minute(3000).expect("valid"))).shared();
    config.max_records = (rng.next_u64().is_multiple_of(3)).then(|| rng.next_u64() % 50);
    config.jitter_seed = rng.next_u64();
    let days = 1 + (rng.next_u64() % 10) as u32;
    let limit = 1 + (rng.next_u64() % 5) as u32;
    let query = Query::builder().days(days).limit(limit).build().expect("valid");
    let today = NaiveDate::from_ymd_opt(2024, 5, 20).expect("valid");
    let Ok(mut export) = Export::new(config, query, today, None) else { return true };
    let mut now = Instant::now();
    let mut in_flight = Vec::new();
    for _ in 0..20_000 {
        let mut must_answer = false;
        match export.poll(now) {
            Err(_) | Ok(Action::Done) => return true,
            Ok(Action::Send(id, _)) => in_flight.push(id),
            Ok(Action::WaitUntil(t)) => now = t.max(now),
            Ok(Action::AwaitResponse) => must_answer = true,
            Ok(_) => {}
        }
        if !in_flight.is_empty() && (must_answer || rng.next_u64().is_multiple_of(2)) {
            let id = in_flight.remove((rng.next_u64() % in_flight.len() as u64) as usize);
            now += Duration::from_millis(rng.next_u64() % 50);
            match rng.next_u64() % 8 {
                0 => export.handle_transport_error(id, TransportErrorKind::ConnectionReset, now),
                1 => export.handle_transport_error(id, TransportErrorKind::Timeout, now),
                _ => {
                    let body = mutate(rng);
                    export.handle_response(id, 200, &body, now);
                }
            }
        }
    }
    false
}
