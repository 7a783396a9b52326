//! Issue 13's proof, per marketplace: one order's whole loop through the
//! real handlers, against moto (the template's bus, rules and queues) and
//! the fakes — arrival by webhook and poll (once), the read API, picking,
//! the Aras shipment made from the stored order, tracking at the
//! marketplace, the Paraşüt invoice and its link, a claim accepted with its
//! unit back to stock, each step's event on the platform's queue; the
//! buyer never in a log and gone after the retention.
//!
//! [`Loop`] holds the step functions; a marketplace's test strings them
//! together with what only that marketplace has (its fake's controls, its
//! webhook, its package ids).

use aws_lambda_events::event::sqs::SqsEvent;
use ayaztrade::apps::order_poll::PollReport;
use ayaztrade::apps::shipment_tracking::TrackingReport;
use ayaztrade::domain::event::{DetailType, EventDetail};
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::domain::marketplace_order::MarketplaceOrder;
use ayaztrade::ports::MarketplaceOrderStore;
use ayaztrade_tests::aras_fake::{ArasFake, FakeStatus, Fault as ArasFault};
use ayaztrade_tests::catalog_support::{product_json, sqs_event, CatalogHarness};
use ayaztrade_tests::fixtures::{http_request, response_json, CapturedLogs};
use ayaztrade_tests::hepsiburada_fake::{
    EndpointKind as HbEndpointKind, Fault as HbFault, HbOrderSpec, CLAIM_CUSTOMER_NAME,
    CLAIM_EXPLANATION,
};
use ayaztrade_tests::parasut_fake::{self as parasut, ParasutFake};
use ayaztrade_tests::trendyol_fake::{EndpointKind, Fault, Kind, LineSpec, PackageSpec};
use ayaztrade_tests::webhook_support::{
    basic_auth, function_url_request, MARKETPLACE_PASSWORD, MARKETPLACE_USER,
};
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;
const RETENTION_DAYS: i64 = 7;
/// Every function that takes an order in or acts on it keeps the buyer
/// this long after the order closed; Trendyol's budget of
/// marketplace-orders and accounting spaced over 1 s, not 10.
const SETTINGS: &[(&str, &str)] = &[
    ("MARKETPLACE_PERSONAL_DATA_RETENTION_DAYS", "7"),
    ("TRENDYOL_RATE_WINDOW_MS", "1000"),
];
const LINK_TEMPLATE: &str = "https://fatura.example.com/{invoiceNumber}.pdf";

fn try_(minor: i64) -> Value {
    json!({"minor": minor, "currency": "TRY"})
}

/// One marketplace order on its way through every function that touches
/// it, with the fakes of the providers beyond the marketplaces.
struct Loop {
    h: CatalogHarness,
    aras: ArasFake,
    parasut: ParasutFake,
    marketplace: Marketplace,
    number: String,
}

impl Loop {
    /// The stack, the fakes, and `products` listed on both marketplaces
    /// (so a stock move is seen pushed).
    async fn start(marketplace: Marketplace, products: &[Value]) -> Loop {
        let h = CatalogHarness::start(1, &[]).await;
        h.put_products(products).await;
        h.cycle().await;
        h.cycle().await;
        Loop {
            h,
            aras: ArasFake::start().await,
            parasut: ParasutFake::start().await,
            marketplace,
            number: String::new(),
        }
    }

    fn path(&self, rest: &str) -> String {
        format!(
            "/marketplace-orders/{}/{}{rest}",
            self.marketplace.as_str(),
            self.number
        )
    }

    /// The marketplace's webhook call, through the webhook function: the
    /// intake's outcome (`created` / `changed` / `unchanged`) and whether
    /// it was answered from the record of an earlier delivery.
    async fn webhook(&self, method: &str, path: &str, body: &[u8]) -> (String, bool) {
        let auth = basic_auth(MARKETPLACE_USER, MARKETPLACE_PASSWORD);
        let req = function_url_request(method, path, &[("authorization", &auth)], body, false);
        let (status, answer) =
            response_json(self.h.webhook_with(SETTINGS).handle(req).await.unwrap());
        assert_eq!(status, 200, "{answer}");
        (
            answer["outcome"].as_str().unwrap().to_string(),
            answer["duplicate"] == true,
        )
    }

    /// One order-poll run (orders, and claims where the marketplace has them).
    async fn poll(&self) -> PollReport {
        let report = self.h.order_poll(SETTINGS).run(i64::MAX).await;
        assert!(
            report.marketplaces.iter().all(|m| m.error.is_none()),
            "{report:?}"
        );
        report
    }

    /// One order-poll run: `(created, changed)` of this marketplace's
    /// `feed` (`orders`, `claims`).
    async fn polled(&self, feed: &str) -> (u32, u32) {
        let report = self.poll().await;
        let m = report
            .marketplaces
            .iter()
            .find(|m| m.marketplace == self.marketplace.as_str() && m.feed == feed)
            .unwrap_or_else(|| panic!("no {feed} feed polled: {report:?}"));
        (m.created, m.changed)
    }

    /// One order-poll run takes one new claim in: one
    /// `marketplace.claim.created` on the platform's queue, its stock
    /// not yet back.
    async fn claim_taken_in(&self) {
        assert_eq!(self.polled("claims").await.0, 1);
        let events = self.marketplace_events().await;
        let created = of_type(&events, "marketplace.claim.created");
        assert_eq!(created.len(), 1, "{events:?}");
        assert_eq!(created[0]["items"][0]["restock"], "pending");
    }

    async fn stored(&self) -> MarketplaceOrder {
        self.h
            .catalog_store()
            .load_marketplace_order(self.marketplace, &self.number)
            .await
            .unwrap()
            .expect("stored order")
            .0
    }

    /// A marketplace-orders route under this order (`rest` after the order
    /// number): its status and body.
    async fn call(&self, method: &str, rest: &str, body: Option<Value>) -> (u16, Value) {
        let app = self.h.marketplace_orders(SETTINGS);
        response_json(
            app.handle(http_request(method, &self.path(rest), body.as_ref()))
                .await
                .unwrap(),
        )
    }

    /// A seller action under this order asked twice, as a client retry
    /// would: recorded `done`, then `already` (the marketplace read back
    /// first, nothing sent again). The order as the repeat answered it.
    async fn act_twice(&self, rest: &str, body: Value) -> Value {
        let mut view = Value::Null;
        for expected in ["done", "already"] {
            let (status, answer) = self.call("POST", rest, Some(body.clone())).await;
            assert_eq!(status, 200, "{answer}");
            let last = &answer["sellerActions"].as_array().unwrap().last().unwrap()["outcome"];
            assert_eq!(last, expected, "{answer}");
            view = answer;
        }
        view
    }

    /// What reached the platform's queue when the order came in: one
    /// `marketplace.order.created` with the line of `sku` × `quantity` and
    /// the total in kuruş, one `marketplace.stock.updated` taking them.
    async fn announced_once(&self, sku: &str, quantity: i64, total: i64) {
        let events = self.marketplace_events().await;
        assert_eq!(
            types(&events),
            ["marketplace.order.created", "marketplace.stock.updated"],
            "{events:?}"
        );
        let created = of_type(&events, "marketplace.order.created")[0];
        assert_eq!(created["total"], try_(total), "{created}");
        assert_eq!(created["lines"][0]["sku"], sku, "{created}");
        assert_eq!(created["lines"][0]["quantity"], quantity, "{created}");
        assert_eq!(
            of_type(&events, "marketplace.stock.updated")[0]["change"],
            -quantity
        );
    }

    /// The read API before anything was done: the order created with its
    /// total, the buyer's name, both addresses with their phone.
    async fn read_with_buyer(&self, total: i64, phone: &str) -> Value {
        let view = self.read().await;
        assert_eq!(view["status"], "created");
        assert_eq!(view["total"], try_(total));
        let buyer = &view["buyer"];
        assert_eq!(buyer["buyerName"], "Test Müşteri", "{view}");
        for address in ["shippingAddress", "invoiceAddress"] {
            assert_eq!(buyer[address]["phone"], phone, "{address}: {view}");
            assert!(
                buyer[address]["address"]
                    .as_str()
                    .unwrap()
                    .contains("Örnek Sok"),
                "{address}: {view}"
            );
        }
        view
    }

    /// `GET /marketplace-orders/{marketplace}/{n}`: the whole order.
    async fn read(&self) -> Value {
        let (status, view) = self.call("GET", "", None).await;
        assert_eq!(status, 200, "{view}");
        view
    }

    /// `POST /shipping/aras/shipments` from the order reference alone
    /// (receiver, address and contents from the stored order), asked twice
    /// as a client retry would: the shipment's record. Aras executed one
    /// SetOrder for it, whatever answer was lost.
    async fn ship(&self, package_id: &str) -> Value {
        let body = json!({
            "marketplaceOrder": {
                "marketplace": self.marketplace.as_str(),
                "orderNumber": self.number,
                "packageId": package_id
            },
            "parcels": [{"weightKg": 1.2, "widthCm": 30, "heightCm": 20, "lengthCm": 10}]
        });
        let app = self.h.shipments(&self.aras, None);
        let mut answers = Vec::new();
        for _ in 0..2 {
            answers.push(response_json(
                app.handle(http_request(
                    "POST",
                    "/shipping/aras/shipments",
                    Some(&body),
                ))
                .await
                .unwrap(),
            ));
        }
        assert_eq!(answers[0].0, 201, "{}", answers[0].1);
        assert_eq!(
            answers[1].0, 200,
            "the repeat answers the record: {}",
            answers[1].1
        );
        let id = answers[0].1["shipmentId"].as_str().unwrap();
        assert_eq!(answers[1].1["shipmentId"], id);
        assert_eq!(self.aras.created_count(), 1);
        assert_eq!(
            self.aras.shipment(id).unwrap().sends,
            1,
            "one SetOrder executed"
        );
        answers.remove(0).1
    }

    /// One shipment-tracking run (Aras read, tracking numbers pushed).
    async fn track(&self) -> TrackingReport {
        self.h
            .shipment_tracking(&self.aras)
            .poll_tracking()
            .await
            .unwrap()
    }

    /// The shipment [`Loop::ship`] made as Aras received it: each of
    /// `fields` as the stored order gave it.
    fn sent_to_aras(&self, id: &str, fields: &[(&str, &str)]) {
        let sent = self.aras.shipment(id).unwrap().fields;
        for (field, value) in fields {
            assert_eq!(
                sent.get(*field).map(String::as_str),
                Some(*value),
                "{field}: {sent:?}"
            );
        }
    }

    /// Aras has the parcel on its way: shipment-tracking pushes its
    /// tracking number to the marketplace once (not before, not again) and
    /// `shipment.created`, `shipment.status_changed` (inTransit) reach the
    /// platform's queue. The tracking number.
    async fn on_its_way(&self, id: &str) -> String {
        assert_eq!(self.track().await.pushed, 0, "not handed over yet");
        self.aras.advance(id, FakeStatus::OnTheWay);
        assert_eq!(self.track().await.pushed, 1);
        assert_eq!(self.track().await.pushed, 0);
        let shipped = self.shipment_events().await;
        assert_eq!(
            types(&shipped),
            ["shipment.created", "shipment.status_changed"],
            "{shipped:?}"
        );
        assert_eq!(
            of_type(&shipped, "shipment.status_changed")[0]["status"],
            "inTransit"
        );
        self.aras.shipment(id).unwrap().tracking_number
    }

    /// After [`Loop::account`]: one Paraşüt invoice, net `net_total` for
    /// an order of `total` kuruş; `invoice.created` once on the outbound
    /// queue; the invoice link's `seller_action` (done) on the platform's
    /// queue. The link.
    async fn invoiced_once(&self, net_total: &str, total: i64) -> String {
        assert_eq!(self.parasut.invoice_count(), 1);
        assert_eq!(self.parasut.requests(parasut::CREATE_INVOICE), 1);
        assert_eq!(self.parasut.invoice_attributes()[0]["net_total"], net_total);
        let invoices = self.invoices();
        assert_eq!(invoices.len(), 1, "{invoices:?}");
        assert_eq!(invoices[0].total.minor, total);
        let link = LINK_TEMPLATE.replace("{invoiceNumber}", &invoices[0].invoice_number);
        let outbound = self.outbound_invoices().await;
        assert_eq!(outbound.len(), 1, "{outbound:?}");
        assert_eq!(
            outbound[0]["invoiceNumber"],
            invoices[0].invoice_number.as_str()
        );
        let events = self.marketplace_events().await;
        let actions: Vec<(&Value, &Value, &Value)> =
            of_type(&events, "marketplace.order.seller_action")
                .into_iter()
                .map(|d| (&d["action"], &d["outcome"], &d["detail"]))
                .collect();
        assert_eq!(
            actions,
            [(&json!("invoice_link"), &json!("done"), &json!(link))],
            "{events:?}"
        );
        link
    }

    /// After a claim's approval gave `sku` one unit back (its stock now
    /// `stock`): a poll after it moves nothing, the claim's
    /// `status_changed` (accepted, returned) and one `stock.updated` (+1)
    /// reach the platform's queue, and the catalog pushes the new figure
    /// to both marketplaces.
    async fn unit_back_once(&self, sku: &str, stock: i64) {
        assert_eq!(self.h.stock(sku).await, stock, "one unit back");
        assert_eq!(self.polled("claims").await, (0, 0));
        assert_eq!(
            self.h.stock(sku).await,
            stock,
            "the poll after it moves nothing"
        );
        let events = self.marketplace_events().await;
        let changed = of_type(&events, "marketplace.claim.status_changed");
        assert_eq!(changed.len(), 1, "{events:?}");
        assert_eq!(
            (
                &changed[0]["items"][0]["status"],
                &changed[0]["items"][0]["restock"]
            ),
            (&json!("accepted"), &json!("returned"))
        );
        let moved = of_type(&events, "marketplace.stock.updated");
        assert_eq!(moved.len(), 1, "{events:?}");
        assert_eq!(
            (&moved[0]["sku"], &moved[0]["change"]),
            (&json!(sku), &json!(1))
        );
        self.h.cycle().await;
        self.h.cycle().await;
        assert_eq!(
            self.h
                .trendyol
                .product(&format!("BC-{sku}"))
                .unwrap()
                .quantity,
            stock
        );
        assert_eq!(self.h.hepsiburada.listing(sku).unwrap().stock, Some(stock));
    }

    /// The accounting function on the messages the template's rule put on
    /// its queue, each batch handled, then handed over once more (an SQS
    /// redelivery): the batch's detail types.
    async fn account(&self) -> Vec<String> {
        let mut settings = SETTINGS.to_vec();
        settings.push(("INVOICE_LINK_TEMPLATE", LINK_TEMPLATE));
        let app = self.h.accounting(&self.parasut, &settings);
        let queue = &self.h.stack.accounting_queue_url;
        let received = self
            .h
            .sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        let batch: SqsEvent = sqs_event(&messages);
        for _ in 0..2 {
            let response = app.process(batch.clone()).await;
            assert!(
                response.batch_item_failures.is_empty(),
                "{:?}",
                response.batch_item_failures
            );
        }
        for m in &messages {
            self.h
                .sqs
                .delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        messages
            .iter()
            .map(|m| {
                let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                assert_eq!(
                    body["detail"]["orderNumber"],
                    self.number.as_str(),
                    "{body}"
                );
                body["detail-type"].as_str().unwrap().to_string()
            })
            .collect()
    }

    /// The `invoice.created` of this order's invoices.
    fn invoices(&self) -> Vec<ayaztrade::domain::event::InvoiceDetail> {
        let order_ref = format!("{}:{}", self.marketplace.as_str(), self.number);
        self.h
            .publisher
            .of_type(DetailType::InvoiceCreated)
            .into_iter()
            .filter_map(|e| match e.detail {
                EventDetail::Invoice(d) if d.order_ref == order_ref => Some(d),
                _ => None,
            })
            .collect()
    }

    /// The `invoice.created` of this order on the outbound queue (what
    /// the deliveries function posts to the ERP / accounting endpoints).
    async fn outbound_invoices(&self) -> Vec<Value> {
        let order_ref = format!("{}:{}", self.marketplace.as_str(), self.number);
        self.h
            .queued_where(&self.h.stack.outbound_queue_url, |d| {
                d["orderRef"] == order_ref.as_str()
            })
            .await
            .into_iter()
            .filter(|(t, _)| t == "invoice.created")
            .map(|(_, d)| d)
            .collect()
    }

    /// What reached the platform's `marketplace-events` queue for this
    /// order since the last look.
    async fn marketplace_events(&self) -> Vec<(String, Value)> {
        self.h
            .platform_events(&self.h.stack.marketplace_events_queue_url, &self.number)
            .await
    }

    /// What reached the platform's `shipment-events` queue for this order.
    async fn shipment_events(&self) -> Vec<(String, Value)> {
        self.h
            .platform_events(&self.h.stack.shipment_events_queue_url, &self.number)
            .await
    }

    /// The personal data's TTL is the retention after the order closed
    /// (moto never expires items); then the item goes as DynamoDB's TTL
    /// deletes it, and the read API has no buyer.
    async fn buyer_erased_after_retention(&self, closed_ms: i64) {
        let order = self.stored().await;
        let erase_at = order.personal.as_ref().unwrap().erase_after_ms;
        assert_eq!(erase_at, closed_ms + RETENTION_DAYS * DAY_MS);
        assert_eq!(
            self.h
                .personal_data_ttl(self.marketplace, &self.number)
                .await,
            Some(erase_at / 1000 + 1),
            "DynamoDB deletes it the second after"
        );
        assert!(self.read().await["buyer"].is_object(), "kept until then");
        self.h
            .erase_personal_data(self.marketplace, &self.number)
            .await;
        let view = self.read().await;
        assert_eq!(view["buyer"], Value::Null, "{view}");
        assert!(view["personalDataErasedAt"].is_string(), "{view}");
    }
}

/// `(detail-type, detail)` of one type.
pub(super) fn of_type<'a>(events: &'a [(String, Value)], t: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|(dt, _)| dt == t)
        .map(|(_, d)| d)
        .collect()
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    let mut t: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    t.sort();
    t
}

#[tokio::test]
async fn a_trendyol_order_goes_the_whole_loop_once_with_its_events_on_the_platform_queues_and_its_buyer_never_logged(
) {
    let sku = "LOOP-T";
    let mut w = Loop::start(Marketplace::Trendyol, &[product_json(sku, 5, 12_490)]).await;
    let (logs, _guard) = CapturedLogs::start_debug();
    let mut line = LineSpec::new(sku, 2, 114.90);
    line.list_price = 124.90;
    let package = w.h.trendyol.add_package(PackageSpec::new(vec![line]));
    w.number = package["orderNumber"].as_str().unwrap().to_string();
    let package_id = package["id"].as_i64().unwrap();
    let pid = package_id.to_string();

    // 1. In by webhook, then the poll and Trendyol's redelivery: stored once,
    // stock taken once, one `marketplace.order.created` on the queue.
    let body = w.h.trendyol.webhook_body(package_id);
    assert_eq!(
        w.webhook("POST", "/webhooks/trendyol", &body).await,
        ("created".to_string(), false)
    );
    let report = w.poll().await;
    assert_eq!(
        (
            report.marketplaces[0].created,
            report.marketplaces[0].changed
        ),
        (0, 0),
        "{report:?}"
    );
    assert_eq!(
        w.webhook("POST", "/webhooks/trendyol", &body).await,
        ("created".to_string(), true),
        "the redelivery is answered from the first delivery's record"
    );
    assert_eq!(w.h.stock(sku).await, 3, "2 taken, once");
    w.announced_once(sku, 2, 22_980).await;

    // 2. The read API: buyer, both addresses, lines with exact money.
    let view = w.read_with_buyer(22_980, "05320000001").await;
    let l = &view["lines"][0];
    assert_eq!(
        (l["sku"].as_str(), l["quantity"].as_u64()),
        (Some(sku), Some(2))
    );
    assert_eq!(l["details"]["unitPrice"], try_(12_490));
    assert_eq!(l["details"]["unitSalePrice"], try_(11_490));
    assert_eq!(view["packages"][0]["details"]["gross"], try_(24_980));
    assert_eq!(view["packages"][0]["details"]["total"], try_(22_980));

    // 3. Picking, asked twice: Trendyol executed it once.
    let view = w
        .act_twice(
            &format!("/packages/{pid}/status"),
            json!({"status": "picking"}),
        )
        .await;
    assert_eq!(view["packages"][0]["status"], "picking");
    assert_eq!(
        w.h.trendyol.package_updates(),
        [(package_id, "Picking".to_string(), None)]
    );
    let events = w.marketplace_events().await;
    let statuses: Vec<&Value> = of_type(&events, "marketplace.order.status_changed")
        .into_iter()
        .map(|d| &d["status"])
        .collect();
    assert_eq!(statuses, [&json!("picking")], "{events:?}");
    assert_eq!(
        of_type(&events, "marketplace.order.seller_action").len(),
        2,
        "{events:?}"
    );

    // 4. The Aras shipment from the order reference (Aras's answer to
    // the SetOrder lost); its tracking number reaches Trendyol once it is
    // on its way, and only once.
    w.aras.push_fault_for(
        "SetOrder",
        ArasFault::AfterProcessing(Box::new(ArasFault::Status(502))),
    );
    let shipment = w.ship(&pid).await;
    let id = shipment["shipmentId"].as_str().unwrap().to_string();
    w.sent_to_aras(
        &id,
        &[
            ("ReceiverName", "Test Müşteri"),
            (
                "ReceiverAddress",
                "Test Mah. Örnek Sok. No:1 Şişli İstanbul",
            ),
            ("ReceiverCityName", "İstanbul"),
            ("ReceiverTownName", "Şişli"),
            ("ReceiverPhone1", "05320000001"),
            ("Description", "2 × Test Ürün LOOP-T"),
        ],
    );
    let tracking = w.on_its_way(&id).await;
    assert_eq!(
        w.h.trendyol.tracking_updates(),
        [(package_id, tracking)],
        "Trendyol took the number once"
    );

    // Trendyol sees it shipped, Aras delivers, Trendyol says delivered.
    w.h.trendyol.update_status(package_id, "Shipped");
    assert_eq!(w.poll().await.marketplaces[0].changed, 1);
    w.aras.advance(&id, FakeStatus::Delivered);
    assert_eq!(w.track().await.changed, 1);
    w.h.trendyol.update_status(package_id, "Delivered");
    assert_eq!(w.poll().await.marketplaces[0].changed, 1);
    let delivered_ms = w.stored().await.units[&pid].changed_ms;
    let events = w.marketplace_events().await;
    let statuses: Vec<&Value> = of_type(&events, "marketplace.order.status_changed")
        .into_iter()
        .map(|d| &d["status"])
        .collect();
    assert_eq!(
        statuses,
        [&json!("shipped"), &json!("delivered")],
        "{events:?}"
    );
    let shipped = w.shipment_events().await;
    assert_eq!(
        of_type(&shipped, "shipment.status_changed")[0]["status"],
        "delivered",
        "{shipped:?}"
    );

    // 5. Invoiced: the delivered event reaches accounting's queue through
    // the template's rule; the Paraşüt invoice exact to the kuruş and its
    // link at Trendyol — once, though SQS hands the message over twice and
    // Trendyol's answer to the link is lost (read back: it is there).
    w.h.trendyol.set_faults_hit(EndpointKind::Orders, false);
    w.h.trendyol.push_fault(Fault::LostAnswer(504));
    assert_eq!(w.account().await, ["marketplace.order.status_changed"]);
    w.h.trendyol.set_faults_hit(EndpointKind::Orders, true);
    let link = w.invoiced_once("229.80", 22_980).await;
    assert_eq!(w.h.trendyol.invoice_links(), [(package_id, link)]);
    assert_eq!(
        w.h.trendyol.invoice_link_request_count(),
        2,
        "sent, answer lost, repeated; the redelivery sent nothing"
    );

    // 6. The buyer returns one unit (changed mind: sellable). The poll
    // takes the claim in; when the parcel is back, the approval reaches
    // Trendyol once and one unit comes back to stock, once.
    let hb_pushes = w.h.hepsiburada.accepted_count(sku, Kind::Stock);
    let (claim, items) = w.h.trendyol.add_claim(package_id, &[(0, 1)], 401);
    w.claim_taken_in().await;
    w.h.trendyol
        .set_claim_item_status(&claim, &items, "WaitingInAction");
    w.poll().await;
    w.marketplace_events().await;
    w.act_twice(&format!("/claims/{claim}/approve"), json!({}))
        .await;
    assert_eq!(
        w.h.trendyol.claim_approvals(),
        [(claim.clone(), items.clone())]
    );
    // The catalog pushes the new figure to both marketplaces, once.
    w.unit_back_once(sku, 4).await;
    assert_eq!(
        w.h.hepsiburada.accepted_count(sku, Kind::Stock),
        hb_pushes + 1
    );

    // 9. The buyer: erased the retention after delivery, then gone from
    // the read API.
    w.buyer_erased_after_retention(delivered_ms).await;

    // 8. Never in a log, the whole way (the capture ran to the end: the
    // accounting step and the claim's are in it).
    let text = logs.text();
    assert!(
        text.contains("invoice issued") && text.contains("trendyol_approve_claim"),
        "{text}"
    );
    let customer = package["customerId"].as_i64().unwrap().to_string();
    logs.assert_free_of(&[
        "Test Müşteri",
        "Örnek Sok",
        "05320000001",
        "trendyolmail",
        &format!("pf+{customer}"),
        "00000000000",
    ]);
}

/// The other way to invoice (README § Order to cash): the seller marks the
/// package `Invoiced` at Trendyol with an invoice made elsewhere, before
/// shipping. When the order closes, accounting issues no second invoice
/// for the sale: a person is told (`integration.error`), Paraşüt and
/// Trendyol's invoice link are untouched, however often the message comes.
#[tokio::test]
async fn an_order_invoiced_elsewhere_gets_no_second_invoice_from_accounting() {
    let sku = "LOOP-E";
    let mut w = Loop::start(Marketplace::Trendyol, &[product_json(sku, 5, 10_000)]).await;
    let package = w.h.trendyol.add_package(PackageSpec::line(sku, 1, 100.0));
    w.number = package["orderNumber"].as_str().unwrap().to_string();
    let package_id = package["id"].as_i64().unwrap();
    assert_eq!(w.poll().await.marketplaces[0].created, 1);
    let view = w
        .act_twice(
            &format!("/packages/{package_id}/status"),
            json!({"status": "invoiced", "invoiceNumber": "ABC2026000000042"}),
        )
        .await;
    assert_eq!(view["packages"][0]["status"], "invoiced", "{view}");
    assert_eq!(
        w.h.trendyol.package_updates(),
        [(
            package_id,
            "Invoiced".to_string(),
            Some("ABC2026000000042".to_string())
        )]
    );
    w.h.trendyol.update_status(package_id, "Shipped");
    w.h.trendyol.update_status(package_id, "Delivered");
    assert_eq!(w.poll().await.marketplaces[0].changed, 1);

    assert_eq!(w.account().await, ["marketplace.order.status_changed"]);
    assert_eq!(w.parasut.invoice_count(), 0, "no second invoice");
    assert_eq!(w.parasut.requests(parasut::CREATE_INVOICE), 0);
    assert!(w.invoices().is_empty());
    assert_eq!(w.h.trendyol.invoice_link_request_count(), 0);
    let errors: Vec<(String, EventDetail)> =
        w.h.publisher
            .of_type(DetailType::IntegrationError)
            .into_iter()
            .map(|e| (e.event_id, e.detail))
            .collect();
    assert_eq!(
        errors.len(),
        2,
        "one per delivery of the message: {errors:?}"
    );
    assert_eq!(errors[0].0, errors[1].0, "one eventId: consumers dedupe");
    let EventDetail::IntegrationError(error) = &errors[0].1 else {
        panic!("{errors:?}")
    };
    assert_eq!(
        (error.kind.as_str(), error.action.as_deref()),
        ("invoice_not_possible", Some("review"))
    );
    assert_eq!(
        error.order_id.as_deref(),
        Some(format!("trendyol:{}", w.number).as_str())
    );
    assert!(
        error
            .message
            .contains(&format!("package {package_id} was marked Invoiced")),
        "{}",
        error.message
    );
}

/// Hepsiburada's injected faults hit only its writes (not the reads that
/// settle them) while `writes_only`.
fn hb_faults_on_writes_only(w: &Loop, writes_only: bool) {
    for kind in [HbEndpointKind::Orders, HbEndpointKind::Tracking] {
        w.h.hepsiburada.set_faults_hit(kind, !writes_only);
    }
}

/// Issue 13's loop for Hepsiburada, on the same harness. Hepsiburada's own
/// shape on the way: its notices name only the order (lines, money and
/// buyer come from the paid-order list the poll reads, so the order is
/// announced when the poll has read them); its lines are packed through
/// our route into a package whose number the shipment, the tracking push
/// and the invoice link use; delivery is learnt from its `deliver` notice
/// (the paid-order list shows only lines waiting to be packed, so the poll
/// cannot see it); its claims come only by the poll. No step is skipped.
#[tokio::test]
async fn a_hepsiburada_order_goes_the_whole_loop_once_with_its_events_on_the_platform_queues_and_its_buyer_never_logged(
) {
    let sku = "LOOP-H";
    let mut w = Loop::start(Marketplace::Hepsiburada, &[product_json(sku, 5, 12_490)]).await;
    let (logs, _guard) = CapturedLogs::start_debug();
    let order = w.h.hepsiburada.add_order(HbOrderSpec::line(sku, 2, 114.90));
    w.number = order.order_number.clone();
    let line_id = order.line_id(sku);

    // 1. Hepsiburada's createOrder notice, the poll, the notice again
    // (Hepsiburada retries): stored once, stock taken once, one
    // `marketplace.order.created`, with the lines and total the poll read.
    let notice = serde_json::to_vec(&json!({"orderNumber": w.number})).unwrap();
    let create = "/webhooks/hepsiburada/createOrder";
    assert_eq!(
        w.webhook("PUT", create, &notice).await,
        ("created".to_string(), false)
    );
    assert_eq!(w.polled("orders").await, (0, 1), "the lines added");
    assert_eq!(
        w.webhook("PUT", create, &notice).await,
        ("created".to_string(), true),
        "the redelivery is answered from the first delivery's record"
    );
    assert_eq!(w.polled("orders").await, (0, 0));
    assert_eq!(w.h.stock(sku).await, 3, "2 taken, once");
    w.announced_once(sku, 2, 22_980).await;

    // 2. The read API: buyer, both addresses, the line in kuruş.
    let view = w.read_with_buyer(22_980, "05000000000").await;
    assert_eq!(
        view["buyer"]["invoiceAddress"]["identityNumber"],
        "11111111111"
    );
    let l = &view["lines"][0];
    assert_eq!(
        (
            l["lineId"].as_str(),
            l["sku"].as_str(),
            l["quantity"].as_u64()
        ),
        (Some(line_id.as_str()), Some(sku), Some(2))
    );
    assert_eq!(l["details"]["unitSalePrice"], try_(11_490));
    assert_eq!(l["details"]["lineTotal"], try_(22_980));
    assert_eq!(l["details"]["vat"], try_(3_830));
    assert_eq!(l["details"]["commission"], try_(3_447), "15 %");

    // 3. Packed through our route, Hepsiburada's answer lost, asked again
    // as a client retry would: one package at Hepsiburada, its number on
    // the line, the seller action on the queue.
    let pack = json!({"lines": [{"lineId": line_id, "quantity": 2}], "parcelQuantity": 1});
    hb_faults_on_writes_only(&w, true);
    w.h.hepsiburada.push_fault(HbFault::LostAnswer(504));
    let faults = w.h.hepsiburada.faults_injected();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let (status, view) = w.call("POST", "/packages", Some(pack.clone())).await;
        assert_eq!(status, 200, "{view}");
        answers.push(view);
    }
    hb_faults_on_writes_only(&w, false);
    assert_eq!(
        w.h.hepsiburada.faults_injected(),
        faults + 1,
        "the answer was lost"
    );
    let made = w.h.hepsiburada.created_packages();
    assert_eq!(made.len(), 1, "executed once");
    assert_eq!(w.h.hepsiburada.create_package_request_count(), 1);
    let package = made[0].clone();
    assert_eq!(
        w.h.hepsiburada.package_items(&package),
        [(line_id.clone(), 2)]
    );
    // The repeat reads Hepsiburada's package list first (our record alone
    // cannot know of an unpack in its panel) and finds the package there.
    for (view, outcomes) in answers.iter().zip([&["done"][..], &["done", "already"]]) {
        assert_eq!(view["lines"][0]["status"], "packaged", "{view}");
        assert_eq!(
            view["lines"][0]["details"]["packageNumber"],
            package.as_str()
        );
        let actions: Vec<(&Value, &Value, &Value)> = view["sellerActions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (&a["action"], &a["outcome"], &a["packageId"]))
            .collect();
        let expected: Vec<(Value, Value, Value)> = outcomes
            .iter()
            .map(|o| (json!("package_lines"), json!(o), json!(package)))
            .collect();
        assert_eq!(
            actions,
            expected
                .iter()
                .map(|(a, o, p)| (a, o, p))
                .collect::<Vec<_>>(),
            "{view}"
        );
    }
    assert_eq!(w.h.stock(sku).await, 3, "packing moves no stock");
    assert_eq!(
        w.polled("orders").await,
        (0, 0),
        "nor does its leaving the list"
    );
    let events = w.marketplace_events().await;
    let actions = of_type(&events, "marketplace.order.seller_action");
    assert_eq!(actions.len(), 2, "done, then already: {events:?}");
    assert!(actions.iter().all(|a| a["action"] == "package_lines"));
    assert!(of_type(&events, "marketplace.order.created").is_empty());
    assert!(of_type(&events, "marketplace.stock.updated").is_empty());

    // 4. The Aras shipment from the order reference and the package
    // number (Aras's answer to the SetOrder lost); the tracking number
    // reaches Hepsiburada (intransit) once it is on its way, once.
    w.aras.push_fault_for(
        "SetOrder",
        ArasFault::AfterProcessing(Box::new(ArasFault::Status(502))),
    );
    let shipment = w.ship(&package).await;
    let id = shipment["shipmentId"].as_str().unwrap().to_string();
    w.sent_to_aras(
        &id,
        &[
            ("ReceiverName", "Test Müşteri"),
            ("ReceiverAddress", "Test Mah. Örnek Sok. No:1"),
            ("ReceiverCityName", "İstanbul"),
            ("ReceiverTownName", "Kadıköy"),
            ("ReceiverDistrictName", "Moda"),
            ("ReceiverPhone1", "05000000000"),
            ("Description", "2 × Test Ürün LOOP-H"),
        ],
    );
    let tracking = w.on_its_way(&id).await;
    assert_eq!(
        w.h.hepsiburada.tracking_updates(),
        [(package.clone(), tracking)],
        "Hepsiburada took the number once"
    );
    assert_eq!(w.h.hepsiburada.intransit_request_count(), 1);

    // 5. Aras delivers; Hepsiburada's package is delivered and it says so
    // by its `deliver` notice, twice.
    w.aras.advance(&id, FakeStatus::Delivered);
    assert_eq!(w.track().await.changed, 1);
    w.h.hepsiburada.set_package_status(&package, "Delivered");
    let deliver = "/webhooks/hepsiburada/deliver";
    assert_eq!(
        w.webhook("PUT", deliver, &notice).await,
        ("changed".to_string(), false)
    );
    assert_eq!(
        w.webhook("PUT", deliver, &notice).await,
        ("changed".to_string(), true)
    );
    let delivered_ms = w.stored().await.units[""].changed_ms;
    let events = w.marketplace_events().await;
    let statuses: Vec<&Value> = of_type(&events, "marketplace.order.status_changed")
        .into_iter()
        .map(|d| &d["status"])
        .collect();
    assert_eq!(statuses, [&json!("delivered")], "{events:?}");
    let shipped = w.shipment_events().await;
    assert_eq!(
        of_type(&shipped, "shipment.status_changed")[0]["status"],
        "delivered",
        "{shipped:?}"
    );

    // Invoiced: the delivered event reaches accounting's queue through the
    // template's rule, handed over twice; one Paraşüt invoice exact to the
    // kuruş, its link at Hepsiburada once though the answer was lost (the
    // missing-invoice list read back no longer names the package).
    hb_faults_on_writes_only(&w, true);
    w.h.hepsiburada.push_fault(HbFault::LostAnswer(504));
    assert_eq!(w.account().await, ["marketplace.order.status_changed"]);
    hb_faults_on_writes_only(&w, false);
    let link = w.invoiced_once("229.80", 22_980).await;
    assert_eq!(w.h.hepsiburada.invoice_links(), [(package.clone(), link)]);
    assert_eq!(
        w.h.hepsiburada.invoice_request_count(),
        2,
        "sent, answer lost, repeated (refused: it is there); the redelivery sent nothing"
    );

    // 6. The buyer returns one unit, found cheaper (sellable). The poll
    // takes the claim in; once Hepsiburada waits for us, the acceptance,
    // asked twice, reaches it once (its answer lost) and one unit comes
    // back to stock, once.
    let trendyol_pushes =
        w.h.trendyol
            .accepted_count(&format!("BC-{sku}"), Kind::Stock);
    let claim = w.h.hepsiburada.add_claim(&w.number, 0, 1, "FoundCheaper");
    w.claim_taken_in().await;
    w.h.hepsiburada.set_claim_status(&claim, "AwaitingAction");
    assert_eq!(w.polled("claims").await, (0, 1));
    w.marketplace_events().await;
    hb_faults_on_writes_only(&w, true);
    w.h.hepsiburada.push_fault(HbFault::LostAnswer(504));
    let faults = w.h.hepsiburada.faults_injected();
    w.act_twice(&format!("/claims/{claim}/approve"), json!({}))
        .await;
    hb_faults_on_writes_only(&w, false);
    assert_eq!(
        w.h.hepsiburada.faults_injected(),
        faults + 1,
        "the answer was lost"
    );
    assert_eq!(
        w.h.hepsiburada.claim_accepts(),
        std::slice::from_ref(&claim)
    );
    // The catalog pushes the new figure to both marketplaces.
    w.unit_back_once(sku, 4).await;
    assert!(
        w.h.trendyol
            .accepted_count(&format!("BC-{sku}"), Kind::Stock)
            > trendyol_pushes
    );

    // 7. The buyer: erased the retention after delivery, then gone from
    // the read API; never in a log, the whole way.
    w.buyer_erased_after_retention(delivered_ms).await;
    let text = logs.text();
    assert!(
        text.contains("invoice issued") && text.contains("webhook processed"),
        "{text}"
    );
    logs.assert_free_of(&[
        "Test Müşteri",
        "Örnek Sok",
        "05000000000",
        "test.musteri@",
        "11111111111",
        &order.items[0]["customerId"].as_str().unwrap()[..8],
        CLAIM_CUSTOMER_NAME,
        CLAIM_EXPLANATION,
    ]);
}
