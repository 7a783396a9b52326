//! Our IYZWSv2 header, byte for byte against iyzico's official Python
//! library (`iyzipay`, `IyzipayResource.generate_v2_hash`).

use std::process::Command;

use ayaztrade::config::Secret;
use ayaztrade::providers::iyzico::auth::iyzws_v2_authorization;
use ayaztrade_tests::local_stack::workspace_root;

fn official(api_key: &str, path: &str, secret: &str, random: &str, body: &str) -> String {
    let python = std::env::var("AYAZ_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".venv/bin/python"));
    let out = Command::new(python)
        .args([
            "-c",
            "import sys\nfrom iyzipay.iyzipay_resource import IyzipayResource as R\n\
             print('IYZWSv2 ' + R.generate_v2_hash(*sys.argv[1:6]), end='')",
            api_key,
            path,
            secret,
            random,
            body,
        ])
        .output()
        .expect("run the venv's python with iyzipay (make venv)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn iyzws_v2_matches_the_official_library() {
    let body = r#"{"locale":"tr","conversationId":"ord-2026-11-26-000123","price":"869.2","paidPrice":"869.2","currency":"TRY","basketId":"ord-2026-11-26-000123","paymentGroup":"PRODUCT","callbackUrl":"https://shop.example.com.tr/odeme/sonuc","enabledInstallments":[1,2,3,6],"buyer":{"id":"cust-42","name":"Ayşe","surname":"Yılmaz","city":"İstanbul"},"basketItems":[{"id":"TSHIRT-M","name":"Tişört","itemType":"PHYSICAL","price":"679.8"},{"id":"SHIPPING","name":"Kargo","itemType":"VIRTUAL","price":"189.4"}]}"#;
    for (path, random) in [
        (
            "/payment/iyzipos/checkoutform/initialize/auth/ecom",
            "1795700000123456789",
        ),
        ("/payment/detail", "12345678"),
        ("/v2/payment/refund", "87654321"),
    ] {
        let ours = iyzws_v2_authorization(
            "sandbox-afXhZPW0MQlE4dCUUlHcEopnMBgXnAZI",
            &Secret::new("sandbox-wbwpzKIiplZxI3hh5ALI4FJyAcZKL6kq"),
            random,
            path,
            body.as_bytes(),
        );
        let theirs = official(
            "sandbox-afXhZPW0MQlE4dCUUlHcEopnMBgXnAZI",
            path,
            "sandbox-wbwpzKIiplZxI3hh5ALI4FJyAcZKL6kq",
            random,
            body,
        );
        assert_eq!(ours, theirs, "{path}");
    }
}
