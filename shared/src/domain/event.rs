//! Domain events published on EventBridge (source `ayaztrade.integrations`).
//! Schemas are documented in docs/events.md; keep the two in step.

use serde::Serialize;

use crate::money::Money;

pub const EVENT_SOURCE: &str = "ayaztrade.integrations";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailType {
    PaymentCompleted,
    PaymentFailed,
    PaymentRefunded,
    PaymentDisputed,
    PaymentDuplicate,
    MarketplaceOrderCreated,
    MarketplaceOrderStatusChanged,
    MarketplaceOrderSellerAction,
    MarketplaceStockUpdated,
    MarketplaceClaimCreated,
    MarketplaceClaimStatusChanged,
    CatalogSyncCompleted,
    ShipmentCreated,
    ShipmentStatusChanged,
    IntegrationError,
    SyncRequested,
    SubscriptionDisabled,
    InvoiceCreated,
    InvoiceRequested,
    ReconciliationRequested,
    ReconciliationMismatch,
    ReconciliationCompleted,
}

impl DetailType {
    pub fn as_str(self) -> &'static str {
        match self {
            DetailType::PaymentCompleted => "payment.completed",
            DetailType::PaymentFailed => "payment.failed",
            DetailType::PaymentRefunded => "payment.refunded",
            DetailType::PaymentDisputed => "payment.disputed",
            DetailType::PaymentDuplicate => "payment.duplicate",
            DetailType::MarketplaceOrderCreated => "marketplace.order.created",
            DetailType::MarketplaceOrderStatusChanged => "marketplace.order.status_changed",
            DetailType::MarketplaceOrderSellerAction => "marketplace.order.seller_action",
            DetailType::MarketplaceStockUpdated => "marketplace.stock.updated",
            DetailType::MarketplaceClaimCreated => "marketplace.claim.created",
            DetailType::MarketplaceClaimStatusChanged => "marketplace.claim.status_changed",
            DetailType::CatalogSyncCompleted => "catalog.sync.completed",
            DetailType::ShipmentCreated => "shipment.created",
            DetailType::ShipmentStatusChanged => "shipment.status_changed",
            DetailType::IntegrationError => "integration.error",
            DetailType::SyncRequested => "sync.requested",
            DetailType::SubscriptionDisabled => "subscription.disabled",
            DetailType::InvoiceCreated => "invoice.created",
            DetailType::InvoiceRequested => "invoice.requested",
            DetailType::ReconciliationRequested => "reconciliation.requested",
            DetailType::ReconciliationMismatch => "reconciliation.mismatch",
            DetailType::ReconciliationCompleted => "reconciliation.completed",
        }
    }

    /// Every type, for validating what an outbound subscription names.
    pub const ALL: [DetailType; 22] = [
        DetailType::PaymentCompleted,
        DetailType::PaymentFailed,
        DetailType::PaymentRefunded,
        DetailType::PaymentDisputed,
        DetailType::PaymentDuplicate,
        DetailType::MarketplaceOrderCreated,
        DetailType::MarketplaceOrderStatusChanged,
        DetailType::MarketplaceOrderSellerAction,
        DetailType::MarketplaceStockUpdated,
        DetailType::MarketplaceClaimCreated,
        DetailType::MarketplaceClaimStatusChanged,
        DetailType::CatalogSyncCompleted,
        DetailType::ShipmentCreated,
        DetailType::ShipmentStatusChanged,
        DetailType::IntegrationError,
        DetailType::SyncRequested,
        DetailType::SubscriptionDisabled,
        DetailType::InvoiceCreated,
        DetailType::InvoiceRequested,
        DetailType::ReconciliationRequested,
        DetailType::ReconciliationMismatch,
        DetailType::ReconciliationCompleted,
    ];
}

/// One event: `detail-type` plus the JSON `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainEvent {
    #[serde(skip)]
    pub detail_type: DetailType,
    /// Stable across redeliveries: derived from the provider's own event id,
    /// so consumers can dedupe (`stripe:evt_…`, `iyzico:<reference code>`, …).
    pub event_id: String,
    /// When the provider says it happened (RFC 3339).
    pub occurred_at: String,
    #[serde(flatten)]
    pub detail: EventDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EventDetail {
    Payment(PaymentDetail),
    DuplicatePayment(DuplicatePaymentDetail),
    MarketplaceOrder(MarketplaceOrderDetail),
    SellerAction(SellerActionDetail),
    MarketplaceClaim(MarketplaceClaimDetail),
    Stock(StockDetail),
    Shipment(ShipmentDetail),
    CatalogSync(CatalogSyncDetail),
    IntegrationError(IntegrationErrorDetail),
    SyncRequested(crate::domain::operations::SyncRequestedDetail),
    ReconciliationRequested(crate::domain::reconciliation::RequestedDetail),
    ReconciliationMismatch(crate::domain::reconciliation::MismatchDetail),
    ReconciliationCompleted(crate::domain::reconciliation::CompletedDetail),
    SubscriptionDisabled(SubscriptionDisabledDetail),
    Invoice(InvoiceDetail),
    InvoiceRequested(InvoiceRequestedDetail),
}

/// A storefront order whose invoice data arrived after its payment: the
/// accounting function is to invoice it now (docs/events.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRequestedDetail {
    pub order_id: String,
}

/// `marketplace.order.seller_action`: what we asked a marketplace to do
/// with an order and what it said (docs/events.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SellerActionDetail {
    pub marketplace: String,
    pub order_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    /// `package_status:Picking`, `unsupplied:500`, `invoice_link`, …
    pub action: String,
    /// `done`, `already` or `refused`.
    pub outcome: String,
    /// The marketplace's message when it refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An outbound-event endpoint we stopped calling (docs/events.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionDisabledDetail {
    pub subscription_id: String,
    /// The endpoint's host only: a URL's path or query may carry a token.
    pub host: String,
    /// `failing` (only failures for the whole window) or `gone` (HTTP 410).
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    pub last_status: Option<u16>,
}

/// One marketplace batch whose result we recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogSyncDetail {
    pub marketplace: String,
    /// `create`, `content`, `price` or `stock`.
    pub push: String,
    /// The marketplace's batch request / upload / tracking id.
    pub batch_id: String,
    pub acknowledged: usize,
    pub refused: usize,
    /// Items the answer did not mention; they are planned again.
    pub unknown: usize,
    /// SKUs refused, with the marketplace's first reason (at most 50).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<(String, String)>,
}

/// Something a person must look at: money or data that does not add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationErrorDetail {
    /// e.g. `amount_mismatch`.
    pub kind: String,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<Money>,
    pub message: String,
    /// What a person must do: `refund_required` (money was collected that
    /// the order must not keep), `review`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// A second payment collected for an order another payment already paid
/// (two tabs, two gateways): the money must go back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicatePaymentDetail {
    pub order_id: String,
    /// The payment that arrived second.
    pub provider: String,
    pub provider_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The payment that paid the order.
    pub paid_by_provider: String,
    pub paid_by_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_amount: Option<Money>,
    /// Always `refund_required`.
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetail {
    pub order_id: String,
    pub provider: String,
    /// The gateway's payment id (Stripe PaymentIntent `pi_…`, iyzico paymentId).
    pub provider_ref: String,
    /// Amount of this event: paid, refunded so far, or disputed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The order's payment status after the event.
    pub payment_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceOrderDetail {
    pub marketplace: String,
    pub order_number: String,
    /// Trendyol shipment package id / Hepsiburada package number, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    /// Our normalized status word (lowercase).
    pub status: String,
    /// The marketplace's own status or event name.
    pub marketplace_status: String,
    /// `status_changed`: the status before (absent for a new package).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    /// The order's lines as we hold them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLineDetail>,
    /// What the buyer pays for the whole order (absent when a line's money
    /// is unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
}

/// `marketplace.claim.created` (every item) and
/// `marketplace.claim.status_changed` (the item that moved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketplaceClaimDetail {
    pub marketplace: String,
    pub order_number: String,
    pub claim_id: String,
    pub items: Vec<ClaimItemDetail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimItemDetail {
    pub item_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_line_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The marketplace's reason code and name (never the buyer's note).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub status: String,
    pub marketplace_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    /// Units the item returns (Trendyol: 1; Hepsiburada: the claim's).
    pub quantity: u32,
    /// `pending`, `returned` (its units back to stock), `not_sellable`,
    /// `untracked`, `not_held`.
    pub restock: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineDetail {
    pub line_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u32,
    pub status: String,
    /// `taken`, `not_taken`, `oversold` or `untracked`.
    pub stock: String,
    /// What the buyer pays for the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

/// An order's invoice, legalized in the accounting system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDetail {
    /// Ours: `storefront:<order id>`, `trendyol:<order number>`…
    pub order_ref: String,
    /// `parasut`.
    pub provider: String,
    /// The legal number (e-Arşiv / e-Fatura).
    pub invoice_number: String,
    /// `e_archive` or `e_invoice`.
    pub document_kind: String,
    /// Paraşüt's temporary PDF link (valid about an hour).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_url_expires_at: Option<String>,
    /// Paraşüt's sales invoice id.
    pub provider_ref: String,
    pub net: Money,
    pub vat: Money,
    pub total: Money,
}

/// A shipment registered with a carrier, or its tracking status moved on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentDetail {
    /// Ours; also Aras's `IntegrationCode`.
    pub shipment_id: String,
    pub order_id: String,
    /// `aras`.
    pub carrier: String,
    /// `created`, then the tracking status: `inTransit`, `atDeliveryBranch`,
    /// `outForDelivery`, `undelivered`, `delivered`, `returned`, `cancelled`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// When it carries a marketplace package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
}

/// Our stock of a SKU moved because of a marketplace order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockDetail {
    pub sku: String,
    /// Negative: units sold; positive: units given back.
    pub change: i64,
    pub marketplace: String,
    pub order_number: String,
    pub line_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn payment_events_serialize_flat_and_camel_case() {
        let e = DomainEvent {
            detail_type: DetailType::PaymentCompleted,
            event_id: "stripe:evt_1".into(),
            occurred_at: "2026-11-26T10:00:00Z".into(),
            detail: EventDetail::Payment(PaymentDetail {
                order_id: "ord-1".into(),
                provider: "stripe".into(),
                provider_ref: "pi_1".into(),
                amount: Some(Money::new(14990, Currency::TRY)),
                payment_status: "paid".into(),
                failure_code: None,
                failure_message: None,
                dispute_reason: None,
            }),
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["eventId"], "stripe:evt_1");
        assert_eq!(json["orderId"], "ord-1");
        assert_eq!(json["amount"]["minor"], 14990);
        assert_eq!(json["amount"]["currency"], "TRY");
        assert!(json.get("failureCode").is_none());
        assert_eq!(e.detail_type.as_str(), "payment.completed");
    }
}
