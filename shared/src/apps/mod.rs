//! One module per function binary, named after it (`functions/<name>` runs
//! `apps::<name>::App`). An `App` holds its ports, is built once by
//! `from_env` and answers events with `handle`; tests build it in-process
//! with local adapters, no Lambda runtime needed.

pub mod accounting;
pub mod catalog;
pub mod catalog_worker;
pub mod deliveries;
pub mod marketplace_orders;
pub mod operations;
pub mod order_poll;
pub mod orders;
pub mod payments;
pub mod product_sync;
pub mod reconcile;
pub mod shipment;
pub mod shipment_tracking;
pub mod subscriptions;
pub mod webhook;
