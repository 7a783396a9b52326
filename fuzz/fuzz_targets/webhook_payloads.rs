//! Every provider's payload normalization survives arbitrary bytes.
#![no_main]

use ayaztrade::config::Secret;
use ayaztrade::providers::marketplace::hepsiburada::webhook::normalize_hepsiburada_event;
use ayaztrade::providers::iyzico::webhook::{normalize_iyzico_notification, verify_iyzico_signature, Notification};
use ayaztrade::providers::stripe::webhook::normalize_stripe_event;
use ayaztrade::providers::marketplace::trendyol::webhook::normalize_trendyol_package;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = normalize_stripe_event(data);
    let _ = normalize_trendyol_package(data);
    let _ = normalize_hepsiburada_event("createOrder", data);
    let _ = verify_iyzico_signature(Some("00"), data, &Secret::new("k"));
    if let Ok(n) = serde_json::from_slice::<Notification>(data) {
        let _ = normalize_iyzico_notification(n);
    }
});
