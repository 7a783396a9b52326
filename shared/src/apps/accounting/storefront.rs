//! Storefront orders' invoices (issue 15 item 3; README § Accounting).
//!
//! `payment.completed` carries neither the buyer nor the lines' VAT rates,
//! so the platform hands them to us per order:
//!
//! - `PUT /accounting/orders/{orderId}/invoice-data` (IAM): the buyer, the
//!   lines, the shipping line and optionally who shipped it (the e-Arşiv's
//!   `shipment`), validated field by field ([`InvoiceData::validate`]); the
//!   buyer and the shipment (a courier is a person) are stored apart with a TTL
//!   (`SFPII#`), the rest beside it (`SFINVOICE#`). An identical PUT changes
//!   nothing; other content once the invoice was started is refused (422
//!   `invoice_data_locked`). If our ledger already says paid, the PUT
//!   publishes `invoice.requested`, which brings the order back here
//!   through the accounting queue (an HTTP answer cannot wait for Paraşüt).
//! - `GET` the same path: what was received, the payment status and what
//!   became of the invoice.
//!
//! Each trigger — `payment.completed` and `invoice.requested` on the queue —
//! reads our own records (the ledger, never the event's word, and the
//! invoice data) and decides ([`decide`]): whichever fact arrives second
//! brings the invoice, issued by the one path, [`issue_invoice`] with
//! `orderRef` `storefront:<orderId>` (one invoice however often, however
//! many triggers at once). A payment other than the invoice's total, a
//! partial refund, a buyer whose data was erased → `integration.error`
//! `invoice_not_possible` and the outcome the GET shows.
//!
//! [`issue_invoice`]: crate::intake::invoices::issue_invoice

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{App, Outcome, Store};
use crate::api::http_api_answer;
use crate::clock::{ms_of_rfc3339, now_ms, now_rfc3339, rfc3339_of_ms};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, InvoiceRequestedDetail};
use crate::domain::invoice::InvoiceStage;
use crate::domain::order::validate_order_id;
use crate::domain::storefront_invoice::{
    decide, order_ref, Decision, Facts, InvoiceData, Outcome as InvoiceOutcome, StoredInvoiceData,
};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::ports::EventPublisher;
use crate::providers::parasut::ParasutClient;

/// The queue messages that may bring a storefront order's invoice.
pub(super) const TRIGGERS: [&str; 2] = ["payment.completed", "invoice.requested"];

const ROUTE_PREFIX: &str = "/accounting/orders/";
const ROUTE_SUFFIX: &str = "/invoice-data";

/// The request body of the HTTP API's payload format 2.0.
fn body_of(input: &Value) -> Result<Vec<u8>> {
    let text = input.get("body").and_then(Value::as_str).unwrap_or("");
    if input.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        return base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| Error::validation("", "the body is not valid base64"));
    }
    Ok(text.as_bytes().to_vec())
}

impl<S, P> App<S, P>
where
    S: Store,
    P: EventPublisher,
{
    /// `PUT|GET /accounting/orders/{orderId}/invoice-data`.
    pub(super) async fn route(&self, method: &str, path: &str, input: &Value) -> Value {
        let order_id = path
            .strip_prefix(ROUTE_PREFIX)
            .and_then(|p| p.strip_suffix(ROUTE_SUFFIX));
        let result = match (method, order_id) {
            (_, None) => Err(Error::NoRoute {
                method: method.into(),
                path: path.into(),
            }),
            (_, Some(id)) if validate_order_id(id).is_err() => {
                Err(Error::Validation(vec![validate_order_id(id).unwrap_err()]))
            }
            ("PUT", Some(id)) => match body_of(input) {
                Ok(body) => self.put_invoice_data(id, &body).await,
                Err(e) => Err(e),
            },
            ("GET", Some(id)) => self.invoice_data_view(id).await.map(|v| (200, v)),
            (_, Some(_)) => Err(Error::validation("method", "PUT or GET")),
        };
        match result {
            Ok((status, body)) => http_api_answer(status, &body),
            Err(e) => {
                // Never the body: it carries the buyer's personal data.
                if e.http_status() >= 500 {
                    tracing::error!(code = e.code(), error = %e, "invoice data route failed");
                } else {
                    tracing::info!(
                        code = e.code(),
                        status = e.http_status(),
                        "invoice data refused"
                    );
                }
                http_api_answer(e.http_status(), &e.to_json())
            }
        }
    }

    async fn put_invoice_data(&self, order_id: &str, body: &[u8]) -> Result<(u16, Value)> {
        let data: InvoiceData = crate::api::parse_json(body)?;
        let problems = data.validate();
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        let Some((ledger, _)) = self.store.load_ledger(order_id).await? else {
            return Err(Error::NotFound {
                what: "order",
                id: order_id.to_string(),
            });
        };
        let hash = hex::encode(Sha256::digest(
            serde_json::to_vec(&data).expect("invoice data serializes"),
        ));
        let existing = self.store.invoice_data(order_id).await?;
        let same = existing.as_ref().is_some_and(|d| d.content_hash == hash);
        let status = if let (true, Some(stored)) = (same, existing.as_ref()) {
            // The same data again. If its buyer was erased after the
            // retention, this is the platform sending it again: keep it for
            // another retention (the content, and so the invoice, unchanged).
            if self
                .store
                .invoice_personal_data(order_id, now_ms())
                .await?
                .is_none()
            {
                let mut renewed = stored.clone();
                renewed.erase_after_ms =
                    now_ms().saturating_add(self.storefront.personal_data_retention_ms);
                self.store
                    .put_invoice_data(order_id, &renewed, &data.personal())
                    .await?;
            }
            200
        } else {
            if self
                .store
                .get_invoice(&order_ref(order_id))
                .await?
                .is_some()
            {
                // The order's invoice is claimed with the data it was
                // started from: other data for the same order is refused as
                // a repeat with other parameters (DESIGN §3b: 422).
                return Err(Error::Unprocessable {
                    code: "invoice_data_locked",
                    message: "this order's invoice was started with other data; it is not changed"
                        .into(),
                });
            }
            let now = now_ms();
            let stored = StoredInvoiceData {
                content: data.content(),
                content_hash: hash.clone(),
                received_ms: now,
                erase_after_ms: now.saturating_add(self.storefront.personal_data_retention_ms),
                outcome: None,
            };
            self.store
                .put_invoice_data(order_id, &stored, &data.personal())
                .await?;
            if existing.is_some() {
                200
            } else {
                201
            }
        };
        // The ledger read again after the data is stored: a payment that
        // landed meanwhile found no data and left the invoice to us, so
        // whichever of the two is stored second triggers it.
        let collected = match self.store.load_ledger(order_id).await? {
            Some((now, _)) => now.status.is_collected(),
            None => ledger.status.is_collected(),
        };
        if collected {
            // The payment came first: ask the accounting queue to invoice now.
            self.publisher
                .publish(&[DomainEvent {
                    detail_type: DetailType::InvoiceRequested,
                    event_id: format!("accounting:invoice-data:{order_id}:{}", &hash[..16]),
                    occurred_at: now_rfc3339(),
                    detail: EventDetail::InvoiceRequested(InvoiceRequestedDetail {
                        order_id: order_id.to_string(),
                    }),
                }])
                .await?;
        }
        Ok((status, self.invoice_data_view(order_id).await?))
    }

    /// What the GET answers (no personal data).
    async fn invoice_data_view(&self, order_id: &str) -> Result<Value> {
        let not_found = || Error::NotFound {
            what: "invoice data",
            id: order_id.to_string(),
        };
        let data = self
            .store
            .invoice_data(order_id)
            .await?
            .ok_or_else(not_found)?;
        let payment_status = self
            .store
            .load_ledger(order_id)
            .await?
            .map(|(l, _)| l.status.as_str());
        let invoice = self
            .store
            .get_invoice(&order_ref(order_id))
            .await?
            .map(|(r, _)| {
                json!({
                    "stage": r.stage.as_str(),
                    "invoiceNumber": r.invoice_number,
                    "documentKind": r.document_kind,
                    "documentUrl": r.document_url,
                    "documentUrlExpiresAt": r.document_url_expires_at,
                    "total": r.totals.payable,
                })
            });
        Ok(json!({
            "orderId": order_id,
            "orderRef": order_ref(order_id),
            "receivedAt": rfc3339_of_ms(data.received_ms),
            "buyerErasedAfter": rfc3339_of_ms(data.erase_after_ms),
            "lines": data.content.lines.len(),
            "shipping": data.content.shipping.is_some(),
            "paymentStatus": payment_status,
            "outcome": data.outcome,
            "invoice": invoice,
        }))
    }

    /// `payment.completed` or `invoice.requested` from the queue.
    pub(super) async fn storefront_trigger(
        &self,
        client: &ParasutClient,
        detail: &Value,
    ) -> Result<Outcome> {
        let Some(order_id) = detail.get("orderId").and_then(Value::as_str) else {
            return Err(Error::Internal(
                "a storefront invoice trigger without orderId".into(),
            ));
        };
        self.invoice_storefront_order(client, order_id).await
    }

    /// Invoices the order if it is paid and its invoice data is here;
    /// otherwise leaves it to the other fact's arrival.
    pub async fn invoice_storefront_order(
        &self,
        client: &ParasutClient,
        order_id: &str,
    ) -> Result<Outcome> {
        let Some(data) = self.store.invoice_data(order_id).await? else {
            return Ok(Outcome::Skipped("no invoice data yet"));
        };
        let reference = order_ref(order_id);
        let started = self.store.get_invoice(&reference).await?;
        if let Some((record, _)) = &started {
            if record.stage == InvoiceStage::Done {
                // Invoiced already: a later trigger (a duplicate, a redrive,
                // the same PUT again after a refund) answers the first answer.
                self.record_outcome(order_id, &data, "invoiced", None, None, None)
                    .await?;
                return Ok(Outcome::Invoiced);
            }
        }
        let Some((ledger, _)) = self.store.load_ledger(order_id).await? else {
            return self
                .report(&reference, "the order is not stored".into())
                .await;
        };
        let Some(store_url) = self.storefront.store_url.as_deref() else {
            return self
                .report(
                    &reference,
                    "STOREFRONT_URL is not set: a storefront order's e-Arşiv names the site it \
                     was sold on"
                        .into(),
                )
                .await;
        };
        let personal = self.store.invoice_personal_data(order_id, now_ms()).await?;
        let decision = decide(&Facts {
            order_id,
            content: &data.content,
            received_ms: data.received_ms,
            buyer: personal.as_ref().map(|p| &p.buyer),
            shipment: personal.as_ref().and_then(|p| p.shipment.as_ref()),
            ledger: &ledger,
            paid_ms: ledger.paid_at.as_deref().and_then(ms_of_rfc3339),
            invoice_started: started.is_some(),
            store_url,
        });
        match decision {
            Decision::Wait(why) => {
                self.record_outcome(order_id, &data, "waiting_for_payment", None, None, None)
                    .await?;
                Ok(Outcome::Skipped(why))
            }
            Decision::NotInvoiced(why) => {
                tracing::info!(order_ref = reference, why, "no invoice");
                self.record_outcome(
                    order_id,
                    &data,
                    "not_invoiced",
                    Some(why.into()),
                    None,
                    None,
                )
                .await?;
                Ok(Outcome::Skipped(why))
            }
            Decision::NotPossible {
                reason,
                paid,
                invoiced,
            } => {
                self.report_money(&reference, reason.clone(), paid, invoiced)
                    .await?;
                self.record_outcome(
                    order_id,
                    &data,
                    "not_possible",
                    Some(reason),
                    paid,
                    invoiced,
                )
                .await?;
                Ok(Outcome::Reported)
            }
            Decision::Invoice(request) => {
                let (outcome, _) = self.issue(client, &request).await?;
                let state = match outcome {
                    Outcome::Invoiced => "invoiced",
                    _ => "not_possible",
                };
                self.record_outcome(order_id, &data, state, None, None, None)
                    .await?;
                Ok(outcome)
            }
        }
    }

    /// Stores the outcome unless the record already says so.
    async fn record_outcome(
        &self,
        order_id: &str,
        data: &StoredInvoiceData,
        state: &str,
        reason: Option<String>,
        paid: Option<Money>,
        invoiced: Option<Money>,
    ) -> Result<()> {
        if data
            .outcome
            .as_ref()
            .is_some_and(|o| o.state == state && o.reason == reason)
        {
            return Ok(());
        }
        self.store
            .set_invoice_outcome(
                order_id,
                &InvoiceOutcome {
                    state: state.into(),
                    reason,
                    paid,
                    invoiced,
                    at: now_rfc3339(),
                },
            )
            .await
    }
}
