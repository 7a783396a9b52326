//! CPU cost of accepting a Stripe webhook before any I/O: verify the
//! signature over the raw bytes, parse and normalize a ~4 KiB
//! `payment_intent.succeeded` event. Target (issue 3): ≤ 20 µs.
//!
//!     cargo bench -p ayaztrade --bench webhook

use ayaztrade::config::Secret;
use ayaztrade::providers::stripe::webhook::{normalize_stripe_event, verify_stripe_signature};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const NOW: i64 = 1_795_700_000;

fn fixture() -> Vec<u8> {
    include_str!("../../tests/fixtures/stripe/payment_intent.succeeded.json")
        .replace("{{EVENT_ID}}", "evt_3QxYzAbCdEfGhIjK0aBcDeFg")
        .replace("{{PI_ID}}", "pi_3QxYzAbCdEfGhIjK1aBcDeFg")
        .replace("{{ORDER_ID}}", "ord-2026-11-26-000123")
        .replace("{{AMOUNT}}", "86920")
        .replace("{{CREATED}}", &NOW.to_string())
        .into_bytes()
}

fn header(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{NOW}.").as_bytes());
    mac.update(body);
    format!("t={NOW},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn bench(c: &mut Criterion) {
    let body = fixture();
    let secrets = [
        Secret::new("whsec_bench_current"),
        Secret::new("whsec_bench_previous"),
    ];
    // Signed with the second secret: the worst case tries both.
    let sig = header(&body, "whsec_bench_previous");
    let mut group = c.benchmark_group("stripe_webhook");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("verify_parse_normalize_4KiB", |b| {
        b.iter(|| {
            verify_stripe_signature(Some(black_box(&sig)), black_box(&body), &secrets, NOW, 300)
                .unwrap();
            normalize_stripe_event(black_box(&body)).unwrap()
        })
    });
    group.bench_function("verify_only", |b| {
        b.iter(|| {
            verify_stripe_signature(Some(black_box(&sig)), black_box(&body), &secrets, NOW, 300)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
