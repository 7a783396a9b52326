//! Adapters to AWS services.

pub mod catalog;
pub mod dynamo;
pub mod eventbridge;
pub mod idempotency;
pub mod invoices;
pub mod keys;
pub mod marketplace_order_backfill;
pub mod marketplace_orders;
pub mod operations;
pub mod outbound;
pub mod payments;
pub mod reconciliation;
pub mod sdk;
pub mod shipments;
pub mod sqs;
pub mod storefront_invoices;
