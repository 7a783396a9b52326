//! The real Aras client (`ayaztrade::providers::aras`) against the Aras
//! fake: golden paths, each fault as the right typed error, repeated and
//! lost-answer SetOrders resolved to the one existing shipment (never an
//! update of it), cancel after dispatch, tracking, escaping round trips, and
//! the facts of Aras's integration document (docs/aras-wire.md O6, O16–O20,
//! C3), each test quoting it.

use std::time::Duration;

use ayaztrade::config::ArasSettings;
use ayaztrade::config::Secret;
use ayaztrade::domain::shipping::{Parcel, ParcelInput, TrackingStatus};
use ayaztrade::error::{Error, ProviderFailure};
use ayaztrade::money::{Currency, Money};
use ayaztrade::providers::aras::order::set_order_envelope;
use ayaztrade::providers::aras::{
    ArasClient, CancelOutcome, CashOnDelivery, CodCollection, Payor, Piece, Receiver,
    SetOrderOutcome, ShipmentOrder,
};
use ayaztrade::providers::http::HttpLayer;
use ayaztrade_tests::aras_fake::{self as fake, ArasFake, FakeStatus, Fault};
use ayaztrade_tests::fixtures::fast_http_settings;
use ayaztrade_tests::raw_http::send;

fn settings(fake: &ArasFake) -> ArasSettings {
    ArasSettings {
        order_service_url: fake.order_service_url(),
        query_service_url: fake.query_service_url(),
        username: fake::USERNAME.into(),
        password: Secret::new(fake::PASSWORD),
        query_username: fake::QUERY_USERNAME.into(),
        query_password: Secret::new(fake::QUERY_PASSWORD),
        customer_code: fake::CUSTOMER_CODE.into(),
        requests_per_second: 1000,
    }
}

async fn setup() -> (ArasFake, ArasClient) {
    let fake = ArasFake::start().await;
    let client = ArasClient::new(HttpLayer::new(fast_http_settings()), settings(&fake));
    (fake, client)
}

fn parcel(l: i64, w: i64, h: i64, g: i64) -> Parcel {
    Parcel::new(
        ParcelInput {
            length_mm: l,
            width_mm: w,
            height_mm: h,
            weight_grams: g,
        },
        "",
    )
    .unwrap()
}

fn order(code: &str) -> ShipmentOrder {
    ShipmentOrder {
        integration_code: code.into(),
        trading_waybill_number: format!("W{}", code.replace('-', "")),
        invoice_number: Some("INV-1".into()),
        receiver: Receiver {
            name: "Ayşe Yılmaz".into(),
            address: "Moda Cd. No:1".into(),
            city_name: "İstanbul".into(),
            town_name: "Kadıköy".into(),
            district_name: Some("Caferağa".into()),
            phone1: "05321234567".into(),
            phone2: None,
            tax_number: None,
            tax_office: None,
        },
        pieces: vec![
            Piece {
                barcode_number: format!("{code}-1"),
                parcel: parcel(300, 200, 100, 2_345),
                product_number: None,
                description: None,
            },
            Piece {
                barcode_number: format!("{code}-2"),
                parcel: parcel(100, 100, 100, 100),
                product_number: None,
                description: Some("kitap".into()),
            },
        ],
        cash_on_delivery: None,
        payor: Payor::Sender,
        description: None,
    }
}

fn provider_failure(result: Result<impl std::fmt::Debug, Error>) -> (ProviderFailure, String) {
    match result {
        Err(Error::Provider(p)) => (p.failure, p.message),
        other => panic!("expected a provider error, got {other:?}"),
    }
}

#[tokio::test]
async fn set_order_creates_and_the_order_reads_back() {
    let (fake, client) = setup().await;
    let mut o = order("SHP-1001");
    o.cash_on_delivery = Some(CashOnDelivery {
        amount: Money::new(14_990, Currency::TRY),
        collection: CodCollection::Cash,
    });
    let outcome = client.set_order(&o).await.unwrap();
    assert_eq!(
        outcome,
        SetOrderOutcome::Created {
            invoice_key: Some("SHP-1001".into()),
            message: "Başarılı".into()
        }
    );
    assert_eq!(fake.created_count(), 1);
    let stored = fake.shipment("SHP-1001").unwrap();
    assert_eq!(stored.fields["CodAmount"], "149.90");
    assert_eq!(stored.fields["IsCod"], "1");
    assert_eq!(stored.fields["PieceCount"], "2");
    assert_eq!(stored.fields["VolumetricWeight"], "2.34");
    assert_eq!(stored.pieces[1]["Weight"], "0.10");
    let read = client
        .get_order_with_integration_code("SHP-1001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.integration_code(), Some("SHP-1001"));
    assert_eq!(read.barcodes(), ["SHP-1001-1", "SHP-1001-2"]);
    assert_eq!(
        client
            .get_order_with_integration_code("NOPE-1")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn markup_in_names_and_credentials_round_trips() {
    let (fake, client) = setup().await;
    let mut o = order("SHP-1002");
    o.receiver.name = r#"<Ali> & "Veli" 'Ltd'"#.into();
    o.receiver.address = "Sok. <b>1</b> & 2 ]]> --".into();
    client.set_order(&o).await.unwrap();
    let stored = fake.shipment("SHP-1002").unwrap();
    assert_eq!(stored.fields["ReceiverName"], r#"<Ali> & "Veli" 'Ltd'"#);
    assert_eq!(stored.fields["ReceiverAddress"], "Sok. <b>1</b> & 2 ]]> --");
    let read = client
        .get_order_with_integration_code("SHP-1002")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.field("ReceiverName"), Some(r#"<Ali> & "Veli" 'Ltd'"#));
    // The fake's passwords contain & < > " ' : accepted means escaped right,
    // once for the order service and twice (XML in XML) for the query service.
    assert_eq!(
        client.tracking("SHP-1002").await.unwrap().status,
        TrackingStatus::Created
    );
}

#[tokio::test]
async fn a_repeated_set_order_resolves_to_the_existing_shipment() {
    let (fake, client) = setup().await;
    let o = order("SHP-2001");
    assert!(matches!(
        client.set_order(&o).await.unwrap(),
        SetOrderOutcome::Created { .. }
    ));
    let again = client.set_order(&o).await.unwrap();
    let SetOrderOutcome::AlreadyRegistered(existing) = again else {
        panic!("expected the existing order, got {again:?}");
    };
    assert_eq!(existing.integration_code(), Some("SHP-2001"));
    assert_eq!(fake.created_count(), 1);
    // Looked up before each SetOrder; the repeat sends no SetOrder at all.
    assert_eq!(fake.requests(fake::SET_ORDER), 1);
    assert_eq!(fake.requests(fake::GET_ORDER), 2);
    assert_eq!(fake.shipment("SHP-2001").unwrap().sends, 1);
}

#[tokio::test]
async fn a_lost_set_order_answer_is_resolved_by_lookup_without_resending() {
    let (fake, client) = setup().await;
    fake.push_fault_for(
        fake::SET_ORDER,
        Fault::AfterProcessing(Box::new(Fault::Hang(Duration::from_secs(2)))),
    );
    let outcome = client.set_order(&order("SHP-3001")).await.unwrap();
    assert!(
        matches!(outcome, SetOrderOutcome::AlreadyRegistered(ref o) if o.integration_code() == Some("SHP-3001")),
        "{outcome:?}"
    );
    assert_eq!(fake.created_count(), 1);
    assert_eq!(fake.requests(fake::SET_ORDER), 1, "not resent");
    assert_eq!(
        fake.requests(fake::GET_ORDER),
        2,
        "before, and after the lost answer"
    );
}

#[tokio::test]
async fn a_set_order_that_never_arrived_is_sent_again_once() {
    let (fake, client) = setup().await;
    fake.push_fault_for(fake::SET_ORDER, Fault::Status(502));
    let outcome = client.set_order(&order("SHP-3002")).await.unwrap();
    assert!(
        matches!(outcome, SetOrderOutcome::Created { .. }),
        "{outcome:?}"
    );
    assert_eq!(fake.created_count(), 1);
    assert_eq!(fake.requests(fake::SET_ORDER), 2);
    assert_eq!(fake.requests(fake::GET_ORDER), 2);
    // Two ambiguous failures in a row: reported, not looped.
    fake.push_fault_for(fake::SET_ORDER, Fault::Malformed);
    fake.push_fault_for(fake::SET_ORDER, Fault::Malformed);
    let (failure, message) = provider_failure(client.set_order(&order("SHP-3003")).await);
    assert_eq!(failure, ProviderFailure::Unavailable);
    assert!(message.contains("unreadable"), "{message}");
    assert_eq!(fake.created_count(), 1);
}

#[tokio::test]
async fn soap_faults_are_typed_errors_and_not_repeated() {
    let (fake, client) = setup().await;
    fake.push_fault(Fault::SoapFault {
        code: "soap:Server".into(),
        message: "Object reference not set to an instance of an object.".into(),
    });
    let (failure, message) = provider_failure(client.get_order_with_integration_code("X-1").await);
    assert_eq!(failure, ProviderFailure::Unavailable);
    assert!(message.contains("Object reference"), "{message}");
    assert_eq!(
        fake.requests(fake::GET_ORDER),
        1,
        "a SOAP fault is an answer"
    );
    fake.push_fault_for(
        fake::SET_ORDER,
        Fault::SoapFault {
            code: "soap:Client".into(),
            message: "Server was unable to read request.".into(),
        },
    );
    let (failure, _) = provider_failure(client.set_order(&order("SHP-4001")).await);
    assert_eq!(failure, ProviderFailure::Rejected);
    assert_eq!(fake.created_count(), 0);
}

#[tokio::test]
async fn gateway_errors_and_hangs_on_reads_are_retried_then_reported() {
    let (fake, client) = setup().await;
    fake.push_fault(Fault::Status(503));
    fake.push_fault(Fault::Hang(Duration::from_secs(2)));
    assert_eq!(
        client.get_order_with_integration_code("X-2").await.unwrap(),
        None
    );
    assert_eq!(fake.requests(fake::GET_ORDER), 3);
    for _ in 0..3 {
        fake.push_fault(Fault::Status(503));
    }
    let (failure, message) = provider_failure(client.get_order_with_integration_code("X-2").await);
    assert_eq!(failure, ProviderFailure::Unavailable);
    assert!(message.contains("503"), "{message}");
    fake.push_fault(Fault::Malformed);
    let (failure, message) = provider_failure(client.get_order_with_integration_code("X-2").await);
    assert_eq!(failure, ProviderFailure::Unavailable);
    assert!(message.contains("unreadable"), "{message}");
}

#[tokio::test]
async fn result_code_refusals_carry_aras_message() {
    let (fake, client) = setup().await;
    client.set_order(&order("SHP-5001")).await.unwrap();
    // Another shipment reusing a barcode: refused by Aras, with its reason.
    let mut clash = order("SHP-5002");
    clash.pieces[0].barcode_number = "SHP-5001-1".into();
    let err = client.set_order(&clash).await.unwrap_err();
    let Error::Provider(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(p.failure, ProviderFailure::Rejected);
    // Aras's document: "70026 | … Barkod daha önce gönderilmiş."
    assert_eq!(p.provider_code.as_deref(), Some("70026"));
    assert!(p.message.contains("Barkod"), "{}", p.message);
    assert_eq!(fake.created_count(), 1);
    // Wrong credentials.
    let mut wrong = settings(&fake);
    wrong.password = Secret::new("nope");
    let bad = ArasClient::new(HttpLayer::new(fast_http_settings()), wrong);
    let (failure, _) = provider_failure(bad.set_order(&order("SHP-5003")).await);
    assert_eq!(failure, ProviderFailure::Unauthorized);
    let (failure, _) = provider_failure(bad.get_order_with_integration_code("SHP-5001").await);
    assert_eq!(failure, ProviderFailure::Unauthorized);
    let (failure, _) = provider_failure(bad.cancel_dispatch("SHP-5001").await);
    assert_eq!(failure, ProviderFailure::Unauthorized);
    // Invalid orders never leave the process.
    let mut invalid = order("SHP-5004");
    invalid.receiver.town_name = String::new();
    assert!(matches!(
        client.set_order(&invalid).await,
        Err(Error::Validation(_))
    ));
    // The bad client's lookup was refused before any SetOrder.
    assert_eq!(fake.requests(fake::SET_ORDER), 2);
}

#[tokio::test]
async fn cancel_before_and_after_dispatch() {
    let (fake, client) = setup().await;
    client.set_order(&order("SHP-6001")).await.unwrap();
    client.set_order(&order("SHP-6002")).await.unwrap();
    assert_eq!(
        client.cancel_dispatch("SHP-6001").await.unwrap(),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        client.cancel_dispatch("SHP-6001").await.unwrap(),
        CancelOutcome::NotFound
    );
    fake.dispatch("SHP-6002");
    assert_eq!(
        client.cancel_dispatch("SHP-6002").await.unwrap(),
        CancelOutcome::AlreadyDispatched
    );
    assert!(fake.shipment("SHP-6002").is_some());
}

#[tokio::test]
async fn tracking_follows_the_shipment() {
    let (fake, client) = setup().await;
    client.set_order(&order("SHP-7001")).await.unwrap();
    let t = client.tracking("SHP-7001").await.unwrap();
    assert_eq!(t.status, TrackingStatus::Created);
    assert!(t.events.is_empty());
    fake.advance("SHP-7001", FakeStatus::AtOriginBranch);
    fake.advance("SHP-7001", FakeStatus::OutForDelivery);
    let t = client.tracking("SHP-7001").await.unwrap();
    assert_eq!(t.status, TrackingStatus::OutForDelivery);
    assert_eq!(t.status_text.as_deref(), Some("Teslimatta"));
    assert_eq!(t.events.len(), 2);
    assert_eq!(t.events[0].status, TrackingStatus::InTransit);
    assert_eq!(t.events[1].location.as_deref(), Some("KADIKÖY"));
    assert!(t.tracking_number.is_some());
    fake.advance("SHP-7001", FakeStatus::Delivered);
    assert_eq!(
        client.tracking("SHP-7001").await.unwrap().status,
        TrackingStatus::Delivered
    );
    client.set_order(&order("SHP-7002")).await.unwrap();
    fake.advance("SHP-7002", FakeStatus::Returned);
    assert_eq!(
        client.tracking("SHP-7002").await.unwrap().status,
        TrackingStatus::Returned
    );
    assert_eq!(fake.requests(fake::GET_QUERY_JSON), 8);
}

#[tokio::test]
async fn query_service_refusals_and_faults_are_errors() {
    let (fake, client) = setup().await;
    let mut wrong = settings(&fake);
    wrong.customer_code = "999".into();
    let bad = ArasClient::new(HttpLayer::new(fast_http_settings()), wrong);
    let (failure, message) = provider_failure(bad.tracking("SHP-1").await);
    assert_eq!(failure, ProviderFailure::Rejected);
    assert!(message.contains("müşteri kodu"), "{message}");
    fake.push_fault(Fault::SoapFault {
        code: "s:Client".into(),
        message: "The message could not be processed.".into(),
    });
    let (failure, _) = provider_failure(client.get_query_json(1, &[]).await);
    assert_eq!(failure, ProviderFailure::Rejected);
    assert_eq!(client.get_query_json(31, &[]).await.unwrap(), vec![]);
}

#[tokio::test]
async fn the_fake_checks_transport_and_envelope() {
    let fake = ArasFake::start().await;
    let envelope = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetOrderWithIntegrationCode xmlns="http://tempuri.org/"><integrationCode>A</integrationCode></GetOrderWithIntegrationCode></soap:Body></soap:Envelope>"#;
    let headers = |ct: &str, action: &str| {
        vec![
            ("content-type", ct.to_string()),
            ("soapaction", action.to_string()),
        ]
    };
    let ok_ct = "text/xml; charset=utf-8";
    let wrong_action = send(
        &fake.base_url,
        "POST",
        fake::ORDER_PATH,
        &headers(ok_ct, "\"http://tempuri.org/SetOrder\""),
        envelope.as_bytes(),
    )
    .await;
    assert_eq!(wrong_action.status, 500);
    assert!(String::from_utf8_lossy(&wrong_action.body).contains("SOAPAction"));
    let json = send(
        &fake.base_url,
        "POST",
        fake::ORDER_PATH,
        &headers(
            "application/json",
            "\"http://tempuri.org/GetOrderWithIntegrationCode\"",
        ),
        envelope.as_bytes(),
    )
    .await;
    assert_eq!(json.status, 415);
    let soap12 = envelope.replace(
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    );
    let version = send(
        &fake.base_url,
        "POST",
        fake::ORDER_PATH,
        &headers(ok_ct, "\"http://tempuri.org/GetOrderWithIntegrationCode\""),
        soap12.as_bytes(),
    )
    .await;
    assert_eq!(version.status, 500);
    let get = send(&fake.base_url, "GET", fake::ORDER_PATH, &[], b"").await;
    assert_eq!(get.status, 405);
    let right = send(
        &fake.base_url,
        "POST",
        fake::ORDER_PATH,
        &headers(ok_ct, "\"http://tempuri.org/GetOrderWithIntegrationCode\""),
        envelope.as_bytes(),
    )
    .await;
    // Right shape, no credentials: answered with Aras's refusal, not a fault.
    assert_eq!(right.status, 200);
    assert!(String::from_utf8_lossy(&right.body).contains("<ResultCode>1000</ResultCode>"));
}

// ---- issue 17: facts from Aras's integration document --------------------

/// An order-service call straight to the fake (bypassing the client's
/// checks); the answer's text.
async fn raw_order_call(fake: &ArasFake, operation: &str, body: &str) -> String {
    let answer = send(
        &fake.base_url,
        "POST",
        fake::ORDER_PATH,
        &[
            ("content-type", "text/xml; charset=utf-8".to_string()),
            ("soapaction", format!("\"http://tempuri.org/{operation}\"")),
        ],
        body.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200);
    String::from_utf8_lossy(&answer.body).into_owned()
}

async fn raw_set_order(fake: &ArasFake, o: &ShipmentOrder, password: &str) -> String {
    raw_order_call(
        fake,
        "SetOrder",
        &set_order_envelope(o, fake::USERNAME, password),
    )
    .await
}

fn result_code(answer: &str) -> &str {
    let start = answer.find("<ResultCode>").expect("a ResultCode") + "<ResultCode>".len();
    let end = answer[start..].find('<').unwrap() + start;
    &answer[start..end]
}

#[tokio::test]
async fn trading_waybill_number_is_sent_and_required() {
    // Aras's document, SetOrder parameters: "TradingWaybillNumber |
    // String(16) | Sevk İrsaliye No. | Evet"; return code "70121 |
    // TradingWaybillNumber 16 karakterden fazla olamaz."
    let (fake, client) = setup().await;
    client.set_order(&order("SHP-8001")).await.unwrap();
    assert_eq!(
        fake.shipment("SHP-8001").unwrap().fields["TradingWaybillNumber"],
        "WSHP8001"
    );
    let mut long = order("SHP-8002");
    long.trading_waybill_number = "12345678901234567".into();
    assert_eq!(
        result_code(&raw_set_order(&fake, &long, fake::PASSWORD).await),
        "70121"
    );
    assert!(matches!(
        client.set_order(&long).await,
        Err(Error::Validation(_))
    ));
    let mut empty = order("SHP-8003");
    empty.trading_waybill_number = " ".into();
    let answer = raw_set_order(&fake, &empty, fake::PASSWORD).await;
    assert_ne!(result_code(&answer), "0", "{answer}");
    assert!(fake.shipment("SHP-8003").is_none());
}

#[tokio::test]
async fn bad_credentials_are_1000_and_an_authentication_failure() {
    // Aras's document, SetOrder return codes: "1000/1002 | Kullanıcı Adı ve
    // Şifre yanlış / Entegrasyon bilgi hatası." — no negative codes.
    let (fake, _) = setup().await;
    let answer = raw_set_order(&fake, &order("SHP-8101"), "wrong").await;
    assert_eq!(result_code(&answer), "1000");
    let mut wrong = settings(&fake);
    wrong.password = Secret::new("wrong");
    let bad = ArasClient::new(HttpLayer::new(fast_http_settings()), wrong);
    let err = bad.set_order(&order("SHP-8101")).await.unwrap_err();
    let Error::Provider(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        p.failure,
        ProviderFailure::Unauthorized,
        "not a rejected shipment"
    );
    assert_eq!(p.provider_code.as_deref(), Some("1000"));
    assert_eq!(fake.created_count(), 0);
}

#[tokio::test]
async fn integration_code_is_two_to_thirty_two_characters() {
    // Aras's document: "935 | IntegrationCode alanı boş olamaz veya uzunluk
    // hatası (2-32 karakter)."
    let (fake, client) = setup().await;
    let mut one = order("SHP-8201");
    one.integration_code = "7".into();
    assert_eq!(
        result_code(&raw_set_order(&fake, &one, fake::PASSWORD).await),
        "935"
    );
    assert!(matches!(
        client.set_order(&one).await,
        Err(Error::Validation(_))
    ));
    let mut two = order("SHP-8202");
    two.integration_code = "78".into();
    assert!(matches!(
        client.set_order(&two).await.unwrap(),
        SetOrderOutcome::Created { .. }
    ));
    assert_eq!(fake.created_count(), 1);
}

#[tokio::test]
async fn a_repeated_set_order_updates_at_aras_but_never_from_the_client() {
    // Aras's document: "935 | Bir siparişe ait bilgiler en fazla 20 kez
    // gönderilebilir." and "60022/70027 | İrsaliyesi kesildiği için
    // bilgiler güncellenemez." — a resend with the same IntegrationCode
    // updates the order (up to 20 times); it is not refused as a duplicate.
    let (fake, client) = setup().await;
    let first = order("SHP-8301");
    let mut second = first.clone();
    second.receiver.name = "Mehmet Kaya".into();
    assert_eq!(
        result_code(&raw_set_order(&fake, &first, fake::PASSWORD).await),
        "0"
    );
    assert_eq!(
        result_code(&raw_set_order(&fake, &second, fake::PASSWORD).await),
        "0"
    );
    let held = fake.shipment("SHP-8301").unwrap();
    assert_eq!(
        held.fields["ReceiverName"], "Mehmet Kaya",
        "updated, not refused"
    );
    assert_eq!((held.sends, fake.created_count()), (2, 1));
    for _ in 2..20 {
        assert_eq!(
            result_code(&raw_set_order(&fake, &first, fake::PASSWORD).await),
            "0"
        );
    }
    assert_eq!(
        result_code(&raw_set_order(&fake, &first, fake::PASSWORD).await),
        "935"
    );
    // The client never updates an order Aras holds: other content for the
    // same IntegrationCode comes back as the order Aras has, unchanged.
    let ours = order("SHP-8302");
    client.set_order(&ours).await.unwrap();
    let mut changed = ours.clone();
    changed.receiver.address = "Başka Sk. No:9".into();
    let outcome = client.set_order(&changed).await.unwrap();
    let SetOrderOutcome::AlreadyRegistered(existing) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(existing.field("ReceiverAddress"), Some("Moda Cd. No:1"));
    let held = fake.shipment("SHP-8302").unwrap();
    assert_eq!(held.sends, 1, "no second SetOrder reached Aras");
    assert_eq!(held.fields["ReceiverAddress"], "Moda Cd. No:1");
    fake.dispatch("SHP-8302");
    assert_eq!(
        result_code(&raw_set_order(&fake, &changed, fake::PASSWORD).await),
        "60022"
    );
}

#[tokio::test]
async fn cancel_dispatch_result_is_a_structure() {
    // Aras's document, CancelDispatch: "<DispatchResultInfo> <ResultCode>
    // <ResultMessage> <CargoKey>"; codes "0 Başarılı", "-1 Kayıt
    // bulunamadı", "999 İrsaliyesi Kesilmiş Sipariş İptal Edilemez."
    let (fake, client) = setup().await;
    client.set_order(&order("SHP-8401")).await.unwrap();
    fake.dispatch("SHP-8401");
    let body = ayaztrade::providers::aras::order::by_integration_code_envelope(
        "CancelDispatch",
        "SHP-8401",
        fake::USERNAME,
        fake::PASSWORD,
    );
    let text = raw_order_call(&fake, "CancelDispatch", &body).await;
    assert!(
        text.contains("<CancelDispatchResult><ResultCode>999</ResultCode><ResultMessage>")
            && text.contains("<CargoKey>"),
        "{text}"
    );
    assert_eq!(
        client.cancel_dispatch("SHP-8401").await.unwrap(),
        CancelOutcome::AlreadyDispatched
    );
    assert_eq!(
        client.cancel_dispatch("SHP-8499").await.unwrap(),
        CancelOutcome::NotFound
    );
}
