//! The exactly-once paths that several apps share (docs/exactly-once.md):
//! payment notices (webhook, callback, refunds), the refund protocol
//! (payments API, auto-refund from the webhook) and marketplace orders
//! (webhook, poll), seller actions on marketplace orders, and accounting
//! invoices (one per order, Paraşüt) with their links to the marketplace.

pub mod invoice_links;
pub mod invoices;
pub mod marketplace_orders;
pub mod payment_notices;
pub mod refunds;
pub mod seller_actions;
