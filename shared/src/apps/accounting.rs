//! The `accounting` function: invoices for delivered marketplace orders and
//! paid storefront orders (the storefront part, its routes and its
//! triggers: [`storefront`]).
//!
//! SQS consumer of the accounting queue, fed by the rule
//! `MarketplaceOrderDeliveredRule` (only `marketplace.order.status_changed`
//! whose status closes a package reaches it). Each message on its own: load the
//! order and its buyer's personal data, map them
//! ([`crate::domain::marketplace_invoice::invoice_for`]) and issue the
//! invoice ([`crate::intake::invoices::issue_invoice`], one per order ref).
//! A transient failure (DynamoDB, Paraşüt unreachable, another attempt
//! holding the invoice) fails only that message (partial batch response);
//! an order that cannot be invoiced as stored is an `integration.error`
//! (`invoice_not_possible`, action `review`) and the message is done.
//!
//! The same queue carries `payment.completed` and `invoice.requested`
//! (rule `StorefrontInvoiceRule`), and the function serves the IAM routes
//! `PUT|GET /accounting/orders/{orderId}/invoice-data`: see [`storefront`].
//!
//! Once a marketplace order's invoice is legalized its durable link goes to the marketplace,
//! once per package however often the message comes
//! ([`crate::intake::invoice_links`]; off while `INVOICE_LINK_TEMPLATE` is
//! unset).
//!
//! Accounting off (`PARASUT_COMPANY_ID` unset or `-`): every message is
//! acknowledged and nothing is invoiced; the function says so once per cold
//! start.

mod storefront;

use std::sync::atomic::{AtomicBool, Ordering};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::{now_ms, now_rfc3339};
use crate::config::{
    self, HttpSettings, ParasutSettings, ProcessEnv, Source, StorefrontInvoiceSettings,
};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, IntegrationErrorDetail};
use crate::domain::invoice::{InvoiceRecord, InvoiceRequest};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_invoice::{invoice_for, shipment_for, CargoCompanies, Readiness};
use crate::error::{Error, Result};
use crate::intake::invoice_links::InvoiceLinks;
use crate::intake::invoices::issue_invoice;
use crate::money::Money;
use crate::ports::{
    EventPublisher, InvoiceStore, MarketplaceOrderStore, MarketplacePersonalDataReader,
    PaymentLedgerStore, StorefrontInvoiceDataStore,
};
use crate::providers::http::HttpLayer;
use crate::providers::parasut::ParasutClient;

/// Package statuses that may close an order (docs/events.md status words);
/// the template's rule lets exactly these through.
const CLOSING_STATUSES: [&str; 4] = ["delivered", "returned", "cancelled", "unsupplied"];

/// The `integration.error` kind of an order that cannot be invoiced.
pub const NOT_POSSIBLE: &str = "invoice_not_possible";

/// This function's share of Trendyol's order-endpoint budget (it reads a
/// package before and after sending its invoice link).
const TRENDYOL_REQUESTS_PER_10S: u32 = 2;

/// Time one invoice may take (Paraşüt calls, e-document polls); a message
/// is not started with less left.
pub const MARGIN_MS: i64 = 45_000;

/// The part of the EventBridge envelope we read.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "detail-type", default)]
    detail_type: String,
    detail: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivered {
    marketplace: String,
    order_number: String,
    status: String,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The invoice exists (now or before).
    Invoiced,
    /// Not (yet) for invoicing: another package is on its way, nothing was
    /// delivered, not a closing status, or accounting is off.
    Skipped(&'static str),
    /// Reported as `integration.error` for a person.
    Reported,
}

/// What the function reads and writes: marketplace orders and their
/// buyers, storefront ledgers and invoice data, invoices.
pub trait Store:
    MarketplaceOrderStore
    + MarketplacePersonalDataReader
    + InvoiceStore
    + PaymentLedgerStore
    + StorefrontInvoiceDataStore
{
}

impl<T> Store for T where
    T: MarketplaceOrderStore
        + MarketplacePersonalDataReader
        + InvoiceStore
        + PaymentLedgerStore
        + StorefrontInvoiceDataStore
{
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    /// `None`: accounting off.
    parasut: Option<ParasutClient>,
    storefront: StorefrontInvoiceSettings,
    /// `None`: no invoice links to the marketplaces.
    links: Option<InvoiceLinks>,
    /// `PARASUT_CARGO_COMPANIES`: the e-Arşiv's shipment of marketplace orders.
    cargo: CargoCompanies,
    said_off: AtomicBool,
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        Self::from_source(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), config::event_bus_name(&env)?),
            &env,
            &http,
        )
    }
}

impl<S, P> App<S, P>
where
    S: Store,
    P: EventPublisher,
{
    pub fn from_source(store: S, publisher: P, env: &dyn Source, http: &HttpLayer) -> Result<Self> {
        let parasut = ParasutSettings::from_env(env)?.map(|s| ParasutClient::new(http.clone(), s));
        let storefront = StorefrontInvoiceSettings::from_env(env)?;
        // No STOREFRONT_URL: marketplace orders are still invoiced (their
        // internet sale names the marketplace's site); a storefront order
        // with invoice data is reported, not invoiced (`storefront.rs`). A
        // stack updated without the new parameter keeps invoicing.
        let links = match config::invoice_link_template(env)? {
            Some(template) => Some(InvoiceLinks::new(
                crate::providers::marketplace::orders::order_clients(
                    env,
                    http,
                    TRENDYOL_REQUESTS_PER_10S,
                )?,
                template,
                config::personal_data_retention(env)?,
            )),
            None => None,
        };
        Ok(App {
            store,
            publisher,
            parasut,
            storefront,
            links,
            cargo: config::cargo_companies(env)?,
            said_off: AtomicBool::new(false),
        })
    }

    /// The Lambda handler: an HTTP API request (IAM, the storefront invoice
    /// data routes) or an SQS batch of the accounting queue.
    pub async fn handle(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<serde_json::Value>,
    ) -> std::result::Result<serde_json::Value, lambda_http::Error> {
        let input = event.payload;
        if let Some((method, path)) = crate::api::http_api_route(&input) {
            return Ok(self.route(method, path, &input).await);
        }
        let batch: SqsEvent = serde_json::from_value(input)?;
        // A deadline not in the future is none (a local invoke gives 0).
        let deadline_ms = i64::try_from(event.context.deadline)
            .ok()
            .filter(|d| *d > now_ms());
        Ok(serde_json::to_value(
            self.process_until(batch, deadline_ms).await,
        )?)
    }

    /// Each message on its own (in order: one invoice at a time keeps within
    /// Paraşüt's rate); the failed ones are reported for redelivery.
    pub async fn process(&self, event: SqsEvent) -> SqsBatchResponse {
        self.process_until(event, None).await
    }

    /// As [`Self::process`]; a message not started [`MARGIN_MS`] before the
    /// deadline is handed back (a failure, redelivered) rather than cut off
    /// half way by the function's timeout.
    pub async fn process_until(
        &self,
        event: SqsEvent,
        deadline_ms: Option<i64>,
    ) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in event.records {
            let late = deadline_ms.is_some_and(|d| now_ms() + MARGIN_MS > d);
            let outcome = if late {
                Err(Error::Internal("no time left in this invocation".into()))
            } else {
                self.process_record(&record).await
            };
            if let Err(e) = outcome {
                let id = record.message_id.clone().unwrap_or_default();
                tracing::warn!(message_id = %id, error = %e, "invoice not issued now; SQS will redeliver the message");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// One message: `Err` only for what a retry may mend.
    pub async fn process_record(&self, record: &SqsMessage) -> Result<Outcome> {
        let Some(client) = &self.parasut else {
            if !self.said_off.swap(true, Ordering::Relaxed) {
                tracing::info!(
                    "accounting is off (PARASUT_COMPANY_ID unset): deliveries are not invoiced"
                );
            }
            return Ok(Outcome::Skipped("accounting off"));
        };
        let envelope = record.body.as_deref().map(serde_json::from_str::<Envelope>);
        let Some(Ok(envelope)) = envelope else {
            // Never gets better: the DLQ keeps it for a person.
            return Err(Error::Internal("unreadable accounting message".into()));
        };
        if storefront::TRIGGERS.contains(&envelope.detail_type.as_str()) {
            return self.storefront_trigger(client, &envelope.detail).await;
        }
        let Ok(detail) = serde_json::from_value::<Delivered>(envelope.detail) else {
            return Err(Error::Internal(
                "unreadable marketplace.order.status_changed message".into(),
            ));
        };
        // Any status that closes a package may be the last one: an order
        // whose other package is cancelled after this one was delivered is
        // ready only then (the mapping decides; it waits while any is open).
        if !CLOSING_STATUSES.contains(&detail.status.as_str()) {
            return Ok(Outcome::Skipped("not a closing status"));
        }
        let marketplace = Marketplace::parse(&detail.marketplace).ok_or_else(|| {
            Error::Internal(format!("unknown marketplace {:?}", detail.marketplace))
        })?;
        let order_ref = format!("{}:{}", marketplace.as_str(), detail.order_number);
        let Some((order, _)) = self
            .store
            .load_marketplace_order(marketplace, &detail.order_number)
            .await?
        else {
            return self
                .report(&order_ref, "the order is not stored".into())
                .await;
        };
        let personal = self
            .store
            .marketplace_personal_data(marketplace, &order.order_number, now_ms())
            .await?;
        let request = match invoice_for(&order, personal.as_ref()) {
            Ok(Readiness::Invoice(mut request)) => {
                request.shipment = shipment_for(&order, &request.issue_date, &self.cargo);
                request
            }
            Ok(Readiness::Wait(why)) => {
                tracing::info!(order_ref, why, "not invoiced yet");
                return Ok(Outcome::Skipped("a package is still open"));
            }
            Ok(Readiness::NothingDelivered) => {
                tracing::info!(order_ref, "nothing delivered: no invoice");
                return Ok(Outcome::Skipped("nothing delivered"));
            }
            Err(why) => return self.report(&order_ref, why.to_string()).await,
        };
        let (outcome, record) = self.issue(client, &request).await?;
        if let (Some(links), Some(record)) = (&self.links, &record) {
            links
                .send(&self.store, &self.publisher, &order, record)
                .await?;
        }
        Ok(outcome)
    }

    /// Issues `request` ([`issue_invoice`]) and says what its answer means
    /// for the message (with the record when the invoice exists): `Err` only
    /// for what a retry may mend.
    async fn issue(
        &self,
        client: &ParasutClient,
        request: &InvoiceRequest,
    ) -> Result<(Outcome, Option<InvoiceRecord>)> {
        let order_ref = request.order_ref.as_str();
        match issue_invoice(&self.store, client, &self.publisher, request).await {
            Ok(record) => {
                tracing::info!(order_ref, stage = ?record.stage, "invoice issued");
                Ok((Outcome::Invoiced, Some(record)))
            }
            // Already reported by issue_invoice (a failed invoice, one
            // Paraşüt cannot represent): a person decides.
            Err(Error::Conflict {
                code: "invoice_needs_review",
                ..
            })
            | Err(Error::Unprocessable {
                code: "invoice_not_representable",
                ..
            }) => Ok((Outcome::Reported, None)),
            // The order changed after its invoice was made (e.g. a line
            // returned later): the invoice stands; a person decides whether a
            // return document is due.
            Err(Error::Unprocessable {
                code: "invoice_request_differs",
                ..
            }) => {
                self.report(
                    order_ref,
                    "the order changed after it was invoiced (e.g. a return): the invoice stands, \
                     nothing new was issued"
                        .into(),
                )
                .await?;
                Ok((Outcome::Reported, None))
            }
            Err(e @ (Error::Validation(_) | Error::Unprocessable { .. })) => {
                self.report(order_ref, e.to_string()).await?;
                Ok((Outcome::Reported, None))
            }
            Err(e) => Err(e),
        }
    }

    /// `integration.error` `invoice_not_possible` (the same problem of the
    /// same order has one `eventId`); the message is done.
    async fn report(&self, order_ref: &str, message: String) -> Result<Outcome> {
        self.report_money(order_ref, message, None, None).await
    }

    /// [`Self::report`] with the two amounts that differ (`expected`: what
    /// was paid, `received`: what the invoice would state).
    async fn report_money(
        &self,
        order_ref: &str,
        message: String,
        expected: Option<Money>,
        received: Option<Money>,
    ) -> Result<Outcome> {
        tracing::error!(
            order_ref,
            kind = NOT_POSSIBLE,
            "order not invoiced: a person must review it"
        );
        let digest = hex::encode(Sha256::digest(message.as_bytes()));
        self.publisher
            .publish(&[DomainEvent {
                detail_type: DetailType::IntegrationError,
                event_id: format!("accounting:{order_ref}:{NOT_POSSIBLE}:{}", &digest[..16]),
                occurred_at: now_rfc3339(),
                detail: EventDetail::IntegrationError(IntegrationErrorDetail {
                    kind: NOT_POSSIBLE.into(),
                    provider: crate::providers::parasut::PROVIDER.into(),
                    order_id: Some(order_ref.to_string()),
                    provider_ref: None,
                    expected,
                    received,
                    message,
                    action: Some("review".into()),
                }),
            }])
            .await?;
        Ok(Outcome::Reported)
    }
}
