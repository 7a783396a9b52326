//! THE key layout of the one DynamoDB table: every `pk`, `sk` and `gsi1`
//! key the adapters write or read is built here, and nowhere else.
//!
//! | item | pk | sk | gsi1pk / gsi1sk | written by |
//! |---|---|---|---|---|
//! | order | `ORDER#<id>` | `ORDER` | | `aws::dynamo` (content), `aws::payments` (payment ledger, refund lock) |
//! | payment attempt | `ORDER#<id>` | `PAYMENT#<provider>#<ref>` | `REF#<provider>#<ref>` / `ORDER#<id>`; **gsi2** `PAYDAY#<provider>#<Istanbul day created>` / `<created ms, 13 digits>#<ref>` (attempts written before this key existed have none) | `aws::dynamo` |
//! | refund request | `REFUND#<requestId>` | `REFUND` | | `aws::payments` |
//! | idempotency record (= audit of an accepted webhook) | `IDEMP#<scope>#<key>` | `IDEMP` | `AUDIT#<provider>#<yyyy-mm-dd>` / `<received-at>#<event id>` | `aws::idempotency` |
//! | audit of a rejected webhook (sampled) | `WEBHOOK#<provider>#<shard 0–15>` | `<received-at>#<random>` | `AUDIT#<provider>#<yyyy-mm-dd>` / `<received-at>#unapplied-<random>` | `aws::idempotency` |
//! | product | `PRODUCT#<sku>` | `PRODUCT` | while on the work list `CATALOG#PENDING` / `<sku>` | `aws::catalog`, stock also `aws::marketplace_orders` |
//! | catalog plan | `CATALOG#PLAN` | `<plan id>` | | `aws::catalog` |
//! | sync lock | `CATALOG#LOCK` | `LOCK` | | `aws::catalog` |
//! | sent body (Trendyol's 15-minute rule) | `BODY#<scope>#<sha256>` | `BODY` | | `aws::catalog` |
//! | category rules | `CACHE#<marketplace>#category#<id>` | `CACHE` | | `aws::catalog` |
//! | provider health check (cached ≥ 60 s) | `CACHE#health#<provider>` | `CACHE` | | `aws::operations` |
//! | marketplace order | `MKTORDER#<marketplace>#<order number>` | `MKTORDER` | while its outbox holds events `MKTORDER#OUTBOX` / `MKTORDER#<marketplace>#<order number>`; always **gsi2** `MKTLIST#<marketplace>#<status>` / `<first seen ms, 13 digits>#<order number>` | `aws::marketplace_orders` |
//! | marketplace order's personal data (KVKK: erased by TTL; its own partition so IAM can keep readers of orders from it) | `MKTPII#<marketplace>#<order number>` | `PII` | | `aws::marketplace_orders` |
//! | order-poll cursor | `CURSOR#<marketplace>#<feed>` (orders, cancelled) | `CURSOR` | | `aws::marketplace_orders` |
//! | shipment | `SHIPMENT#<shipment id>` | `SHIPMENT` | while tracked `SHIPMENT#OPEN` / `<shipment id>` | `aws::shipments` |
//! | outbound subscription (an ERP/CRM endpoint) | `SUBSCRIPTION` | `<subscription id>` | | `aws::outbound` |
//! | outbound delivery (one event to one endpoint, with its log; TTL) | `DELIVERY#<subscription id>` | `<event id>` | | `aws::outbound` |
//! | invoice (one per order reference) | `INVOICE#<order ref>` | `INVOICE` | | `aws::invoices` |
//! | invoice sequence counter | `COUNTER#invoice#<series>` | `COUNTER` | | `aws::invoices` |
//! | storefront order's invoice data (lines, shipping, outcome; no personal data) | `SFINVOICE#<order id>` | `DATA` | | `aws::storefront_invoices` |
//! | storefront order's invoice buyer (KVKK: erased by TTL; its own partition so IAM can keep other readers from it) | `SFPII#<order id>` | `PII` | | `aws::storefront_invoices` |
//! | reconciliation report of a day (Istanbul) | `RECON#<yyyy-mm-dd>` | `REPORT` | | `aws::reconciliation` |
//! | reconciliation pass cursor | `RECON#<yyyy-mm-dd>` | `PASS#<pass>` | | `aws::reconciliation` |
//! | reconciliation difference | `RECON#<yyyy-mm-dd>` | `DIFF#<provider>#<ref>#<kind>` | | `aws::reconciliation` |
//! | fact healed by reconciliation | `RECON#<yyyy-mm-dd>` | `HEALED#<provider>#<event id>` | | `aws::reconciliation` |
//! | an order a marketplace listed in a run (TTL; its own partition so the report stays one small Query) | `RECON#<yyyy-mm-dd>#LISTED#<provider>#<run id>` | `<order number>` | | `aws::reconciliation` |
//!
//! `gsi2` (`gsi2pk`, `gsi2sk`) lists marketplace orders by marketplace and
//! status in the order we first saw them, and payment attempts by provider
//! and the Istanbul day they were created (reconciliation's
//! `missing_at_provider`); only those items carry its keys.
//!
//! Each adapter's module documentation lists the attributes of its items;
//! `expires_at` is the table's TTL attribute.

use crate::domain::marketplace::Marketplace;

pub const ORDER_SK: &str = "ORDER";
pub const REFUND_SK: &str = "REFUND";
pub const IDEMPOTENCY_SK: &str = "IDEMP";
pub const PRODUCT_SK: &str = "PRODUCT";
pub const LOCK_SK: &str = "LOCK";
pub const BODY_SK: &str = "BODY";
pub const CACHE_SK: &str = "CACHE";
pub const MARKETPLACE_ORDER_SK: &str = "MKTORDER";
/// The buyer's personal data of a marketplace order, beside the order.
pub const MARKETPLACE_ORDER_PII_SK: &str = "PII";
pub const CURSOR_SK: &str = "CURSOR";
pub const SHIPMENT_SK: &str = "SHIPMENT";
pub const INVOICE_SK: &str = "INVOICE";
pub const COUNTER_SK: &str = "COUNTER";
pub const STOREFRONT_INVOICE_DATA_SK: &str = "DATA";
pub const STOREFRONT_INVOICE_PII_SK: &str = "PII";

/// The one partition of outbound subscriptions (sort key: the id): a
/// handful of endpoints, read together by one Query per delivery batch.
pub const SUBSCRIPTIONS_PK: &str = "SUBSCRIPTION";
pub const RECON_REPORT_SK: &str = "REPORT";
/// Sort-key prefixes of a day's reconciliation items.
pub const RECON_PASS_SK_PREFIX: &str = "PASS#";
pub const RECON_DIFF_SK_PREFIX: &str = "DIFF#";
pub const RECON_HEALED_SK_PREFIX: &str = "HEALED#";

/// The partition of catalog plans (sort key: the plan id).
pub const CATALOG_PLAN_PK: &str = "CATALOG#PLAN";
pub const CATALOG_LOCK_PK: &str = "CATALOG#LOCK";

/// Sparse GSI lists: an item is on one while it has work waiting.
pub const CATALOG_PENDING_LIST: &str = "CATALOG#PENDING";
pub const MARKETPLACE_ORDER_OUTBOX_LIST: &str = "MKTORDER#OUTBOX";
pub const SHIPMENT_OPEN_LIST: &str = "SHIPMENT#OPEN";

pub fn order_pk(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}

pub fn payment_sk(provider: &str, provider_ref: &str) -> String {
    format!("PAYMENT#{provider}#{provider_ref}")
}

/// The sort-key prefix of an order's payment attempts.
pub const PAYMENT_SK_PREFIX: &str = "PAYMENT#";

/// GSI1 partition key: a provider reference (payment intent id, checkout
/// token) that must lead back to our order.
pub fn provider_ref_gsi_pk(provider: &str, provider_ref: &str) -> String {
    format!("REF#{provider}#{provider_ref}")
}

/// A refund request, by the caller's `requestId`.
pub fn refund_pk(request_id: &str) -> String {
    format!("REFUND#{request_id}")
}

pub fn idempotency_pk(scope: &str, key: &str) -> String {
    format!("IDEMP#{scope}#{key}")
}

/// A day's webhook deliveries of one provider, accepted or not.
pub fn audit_gsi_pk(provider: &str, received_at: &str) -> String {
    let day = received_at.get(..10).unwrap_or(received_at);
    format!("AUDIT#{provider}#{day}")
}

/// Rejected deliveries spread over 16 partitions, so a flood of them never
/// heats one key.
pub fn rejected_webhook_pk(provider: &str, shard: u8) -> String {
    format!("WEBHOOK#{provider}#{}", shard % 16)
}

pub fn product_pk(sku: &str) -> String {
    format!("PRODUCT#{sku}")
}

/// A body sent to a marketplace, remembered for its duplicate window.
pub fn sent_body_pk(scope: &str, digest: &str) -> String {
    format!("BODY#{scope}#{digest}")
}

pub fn category_cache_pk(marketplace: Marketplace, category_id: u64) -> String {
    format!("CACHE#{}#category#{category_id}", marketplace.as_str())
}

/// The last health check of a provider (`stripe`, `trendyol`, …).
pub fn health_cache_pk(provider: &str) -> String {
    format!("CACHE#health#{provider}")
}

pub fn marketplace_order_pk(marketplace: Marketplace, order_number: &str) -> String {
    format!("MKTORDER#{}#{order_number}", marketplace.as_str())
}

/// gsi2: a marketplace's orders in one status (our normalized word).
pub fn marketplace_order_list_pk(marketplace: Marketplace, status: &str) -> String {
    format!("MKTLIST#{}#{status}", marketplace.as_str())
}

/// gsi2 sort key: first seen (epoch ms, 13 digits so text order is time
/// order until the year 2286), then the order number.
pub fn marketplace_order_list_sk(first_seen_ms: i64, order_number: &str) -> String {
    time_ordered_sk(first_seen_ms, order_number)
}

/// gsi2: a provider's payment attempts created in one Istanbul day.
pub fn payment_day_gsi2_pk(provider: &str, day: &str) -> String {
    format!("PAYDAY#{provider}#{day}")
}

/// gsi2 sort key of a payment attempt: created (epoch ms), then its ref.
pub fn payment_day_gsi2_sk(created_ms: i64, provider_ref: &str) -> String {
    time_ordered_sk(created_ms, provider_ref)
}

/// Epoch ms in 13 digits (text order is time order until the year 2286),
/// then an id.
fn time_ordered_sk(ms: i64, id: &str) -> String {
    format!("{:013}#{id}", ms.max(0))
}

/// The buyer's personal data of a marketplace order: a partition of its
/// own, so `dynamodb:LeadingKeys` can grant orders without it.
pub fn marketplace_personal_data_pk(marketplace: Marketplace, order_number: &str) -> String {
    format!("MKTPII#{}#{order_number}", marketplace.as_str())
}

/// What the platform sent to invoice a storefront order (no personal data).
pub fn storefront_invoice_data_pk(order_id: &str) -> String {
    format!("SFINVOICE#{order_id}")
}

/// The buyer of a storefront order's invoice: a partition of its own, so
/// `dynamodb:LeadingKeys` can grant the rest without it.
pub fn storefront_invoice_personal_data_pk(order_id: &str) -> String {
    format!("SFPII#{order_id}")
}

pub fn order_cursor_pk(marketplace: Marketplace, feed: crate::ports::PollFeed) -> String {
    format!("CURSOR#{}#{}", marketplace.as_str(), feed.as_str())
}

pub fn shipment_pk(id: &str) -> String {
    format!("SHIPMENT#{id}")
}

/// An endpoint's deliveries (sort key: the event id, so one event is
/// delivered to one endpoint once however often it arrives).
pub fn delivery_pk(subscription_id: &str) -> String {
    format!("DELIVERY#{subscription_id}")
}

/// The accounting invoice of one order reference (`storefront:<id>`,
/// `trendyol:<order number>`…).
pub fn invoice_pk(order_ref: &str) -> String {
    format!("INVOICE#{order_ref}")
}

/// The last sequence number handed out in an invoice series.
pub fn invoice_counter_pk(series: &str) -> String {
    format!("COUNTER#invoice#{series}")
}

/// Everything reconciliation keeps about one Istanbul day.
pub fn reconciliation_pk(day: &str) -> String {
    format!("RECON#{day}")
}

/// Where one pass (`stripe-events`, `stripe-intents`, `iyzico-transactions`)
/// of a day's run stands.
pub fn reconciliation_pass_sk(pass: &str) -> String {
    format!("{RECON_PASS_SK_PREFIX}{pass}")
}

/// A difference, by `Difference::key` (provider, ref, kind).
pub fn reconciliation_diff_sk(difference_key: &str) -> String {
    format!("{RECON_DIFF_SK_PREFIX}{difference_key}")
}

/// The orders `provider` listed in run `run_id` of `day` (sort key: the
/// order number). Under `RECON#` so the reconcile function's
/// `dynamodb:LeadingKeys` covers it; apart from the report's partition.
pub fn reconciliation_listed_pk(day: &str, provider: &str, run_id: &str) -> String {
    format!("RECON#{day}#LISTED#{provider}#{run_id}")
}

pub fn reconciliation_healed_sk(provider: &str, event_id: &str) -> String {
    format!("{RECON_HEALED_SK_PREFIX}{provider}#{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_spelled_as_the_table_says() {
        assert_eq!(order_pk("o-1"), "ORDER#o-1");
        assert_eq!(payment_sk("stripe", "pi_1"), "PAYMENT#stripe#pi_1");
        assert!(payment_sk("stripe", "pi_1").starts_with(PAYMENT_SK_PREFIX));
        assert_eq!(provider_ref_gsi_pk("iyzico", "tok"), "REF#iyzico#tok");
        assert_eq!(refund_pk("r-1"), "REFUND#r-1");
        assert_eq!(
            idempotency_pk("webhook:stripe", "evt_1"),
            "IDEMP#webhook:stripe#evt_1"
        );
        assert_eq!(
            audit_gsi_pk("stripe", "2026-12-02T10:00:00Z"),
            "AUDIT#stripe#2026-12-02"
        );
        assert_eq!(rejected_webhook_pk("iyzico", 17), "WEBHOOK#iyzico#1");
        assert_eq!(product_pk("SKU-1"), "PRODUCT#SKU-1");
        assert_eq!(
            sent_body_pk("trendyol:stock", "ab"),
            "BODY#trendyol:stock#ab"
        );
        assert_eq!(
            category_cache_pk(Marketplace::Hepsiburada, 7),
            "CACHE#hepsiburada#category#7"
        );
        assert_eq!(health_cache_pk("aras"), "CACHE#health#aras");
        assert_eq!(SUBSCRIPTIONS_PK, "SUBSCRIPTION");
        assert_eq!(delivery_pk("sub_1"), "DELIVERY#sub_1");
        assert_eq!(
            payment_day_gsi2_pk("stripe", "2026-12-01"),
            "PAYDAY#stripe#2026-12-01"
        );
        assert_eq!(
            payment_day_gsi2_sk(1_796_072_400_000, "pi_1"),
            "1796072400000#pi_1"
        );
        assert_eq!(
            reconciliation_listed_pk("2026-12-01", "trendyol", "run-1"),
            "RECON#2026-12-01#LISTED#trendyol#run-1"
        );
        assert_eq!(
            marketplace_order_pk(Marketplace::Trendyol, "123"),
            "MKTORDER#trendyol#123"
        );
        assert_eq!(
            order_cursor_pk(Marketplace::Trendyol, crate::ports::PollFeed::Orders),
            "CURSOR#trendyol#orders"
        );
        assert_eq!(shipment_pk("AYZ1"), "SHIPMENT#AYZ1");
        assert_eq!(invoice_pk("storefront:o-1"), "INVOICE#storefront:o-1");
        assert_eq!(invoice_counter_pk("AYZ"), "COUNTER#invoice#AYZ");
        assert_eq!(MARKETPLACE_ORDER_PII_SK, "PII");
        assert_eq!(
            marketplace_order_list_pk(Marketplace::Trendyol, "created"),
            "MKTLIST#trendyol#created"
        );
        assert_eq!(
            marketplace_order_list_sk(1_795_700_000_000, "10654411111"),
            "1795700000000#10654411111"
        );
        assert_eq!(marketplace_order_list_sk(5, "x"), "0000000000005#x");
        assert_eq!(
            marketplace_personal_data_pk(Marketplace::Hepsiburada, "9"),
            "MKTPII#hepsiburada#9"
        );
        assert_eq!(reconciliation_pk("2026-12-01"), "RECON#2026-12-01");
        assert_eq!(
            reconciliation_pass_sk("stripe-events"),
            "PASS#stripe-events"
        );
        assert_eq!(
            reconciliation_diff_sk("stripe#pi_1#amount_differs"),
            "DIFF#stripe#pi_1#amount_differs"
        );
        assert_eq!(
            reconciliation_healed_sk("iyzico", "12:SUCCESS"),
            "HEALED#iyzico#12:SUCCESS"
        );
    }
}
