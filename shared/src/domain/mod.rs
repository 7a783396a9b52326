//! Pure domain types and rules: no I/O, no AWS, no HTTP.

pub mod basket;
pub mod catalog_sync;
pub mod category;
pub mod delivery;
pub mod event;
pub mod invoice;
pub mod marketplace;
pub mod marketplace_claim;
pub mod marketplace_invoice;
pub mod marketplace_order;
pub mod marketplace_order_details;
pub mod operations;
pub mod order;
pub mod outbound;
pub mod payment;
pub mod payment_ledger;
pub mod product;
pub mod reconciliation;
pub mod refund;
pub mod shipment;
pub mod shipping;
pub mod storefront_invoice;

pub use order::{Order, OrderContent, OrderSubmission};
pub use payment::{PaymentAttempt, PaymentEventKind, PaymentStatus};
