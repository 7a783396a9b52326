//! iyzico's JSON shapes (docs/iyzico-wire.md I18–I27), only what we send and read.
//! Prices are strings in iyzico's format (`price::format_price`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    pub id: String,
    pub name: String,
    pub surname: String,
    pub identity_number: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsm_number: Option<String>,
    pub registration_address: String,
    pub city: String,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
    pub ip: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub contact_name: String,
    pub city: String,
    pub country: String,
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BasketItem {
    pub id: String,
    pub name: String,
    pub category1: String,
    /// `PHYSICAL` or `VIRTUAL`.
    pub item_type: &'static str,
    pub price: String,
}

/// `POST /payment/iyzipos/checkoutform/initialize/auth/ecom`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutFormInitialize {
    pub locale: &'static str,
    /// Our order id: iyzico echoes it, and its notifications carry it as
    /// `paymentConversationId`.
    pub conversation_id: String,
    pub price: String,
    pub paid_price: String,
    pub currency: String,
    pub basket_id: String,
    pub payment_group: &'static str,
    pub callback_url: String,
    pub enabled_installments: Vec<u8>,
    pub buyer: Buyer,
    pub shipping_address: Address,
    pub billing_address: Address,
    pub basket_items: Vec<BasketItem>,
}

/// The envelope of every answer: `status` decides, not the HTTP status.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_group: Option<String>,
    pub conversation_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutFormInitialized {
    pub token: String,
    /// Names of the two fields below: docs/iyzico-wire.md I21.
    pub checkout_form_content: Option<String>,
    pub payment_page_url: Option<String>,
    pub token_expire_time: Option<i64>,
}

/// `POST /payment/iyzipos/checkoutform/auth/ecom/detail`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutFormRetrieve {
    pub locale: &'static str,
    /// Echoed in the answer (and signed there): our order id.
    pub conversation_id: String,
    pub token: String,
}

/// The result of a hosted checkout. Prices come as JSON numbers; they are
/// only ever turned into text (for the signature) or parsed exactly into
/// minor units from that text, never computed with.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutFormResult {
    /// SUCCESS, FAILURE, INIT_THREEDS, CALLBACK_THREEDS, …
    pub payment_status: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::providers::iyzico::webhook::string_or_number"
    )]
    pub payment_id: Option<String>,
    pub price: Option<serde_json::Number>,
    pub paid_price: Option<serde_json::Number>,
    pub currency: Option<String>,
    pub basket_id: Option<String>,
    pub conversation_id: Option<String>,
    pub token: Option<String>,
    pub signature: Option<String>,
}

/// `POST /payment/cancel`: the whole payment, before the bank's end-of-day.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    pub locale: &'static str,
    pub conversation_id: String,
    pub payment_id: String,
    pub ip: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancelled {
    #[serde(
        default,
        deserialize_with = "crate::providers::iyzico::webhook::string_or_number"
    )]
    pub payment_id: Option<String>,
    pub price: Option<serde_json::Number>,
    pub currency: Option<String>,
}

/// `POST /v2/payment/refund`: part or all of a payment as a whole.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    pub locale: &'static str,
    pub conversation_id: String,
    pub payment_id: String,
    pub price: String,
    pub currency: String,
    pub ip: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refunded {
    #[serde(
        default,
        deserialize_with = "crate::providers::iyzico::webhook::string_or_number"
    )]
    pub payment_id: Option<String>,
    pub price: Option<serde_json::Number>,
}

/// `GET /v2/reporting/payment/details`: the payments matching the query,
/// each with its cancels and, per item, its refunds (iyzipay-java
/// `ReportingPaymentDetail`, `PaymentDetail`, `RefundDetail`, `RefundTxDetail`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetailsReport {
    #[serde(default)]
    pub payments: Vec<ReportedPayment>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedPayment {
    #[serde(
        default,
        deserialize_with = "crate::providers::iyzico::webhook::string_or_number"
    )]
    pub payment_id: Option<String>,
    /// `NOT_REFUNDED`, `PARTIALLY_REFUNDED`, `TOTALLY_REFUNDED`.
    pub payment_refund_status: Option<String>,
    pub currency: Option<String>,
    /// The basket total (what we asked; `paidPrice` may add instalment
    /// interest). Read by reconciliation.
    #[serde(default)]
    pub price: Option<serde_json::Number>,
    /// The `basketId` we sent: our order id.
    #[serde(default)]
    pub basket_id: Option<String>,
    #[serde(default)]
    pub cancels: Vec<ReportedRefund>,
    #[serde(default)]
    pub item_transactions: Vec<ReportedItem>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedItem {
    #[serde(default)]
    pub refunds: Vec<ReportedRefund>,
}

/// One refund (`refundConversationId`) or cancel (`cancelConversationId`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedRefund {
    pub refund_price: Option<serde_json::Number>,
    #[serde(alias = "cancelConversationId")]
    pub refund_conversation_id: Option<String>,
    /// Set when the refund or cancel failed.
    pub error_code: Option<String>,
}

/// `GET /v2/reporting/payment/transactions?transactionDate=…&page=…`: one
/// page of a day's transactions (iyzipay-dotnet `TransactionReportResource`,
/// `TransactionReportItem`; docs/iyzico-wire.md I37–I40).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionReport {
    pub current_page: Option<u32>,
    pub total_page_count: Option<u32>,
    #[serde(default)]
    pub transactions: Vec<ReportedTransaction>,
}

/// One transaction of the day's report: a payment, a cancel or a refund.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedTransaction {
    /// `PAYMENT`, `CANCEL`, `REFUND`.
    pub transaction_type: String,
    #[serde(
        default,
        deserialize_with = "crate::providers::iyzico::webhook::string_or_number"
    )]
    pub transaction_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::providers::iyzico::webhook::string_or_number"
    )]
    pub payment_id: Option<String>,
    /// The `conversationId` of the request (ours: the order id).
    pub conversation_id: Option<String>,
    /// The `basketId` we sent (ours: the order id).
    pub basket_id: Option<String>,
    pub price: Option<serde_json::Number>,
    pub paid_price: Option<serde_json::Number>,
    pub transaction_currency: Option<String>,
    /// Meaning not published (docs/iyzico-wire.md I40).
    pub transaction_status: Option<i64>,
}
