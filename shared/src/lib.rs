//! AyazTrade Integrations: the library every function binary uses.
//!
//! Dependency direction (DESIGN.md §2): function binaries → an `App` module
//! (`payments`, `orders`, `webhooks`) → `domain` + `ports`; adapters (`aws`, `providers`)
//! implement ports; `domain` and `money` depend on nothing.

pub mod aws;
pub mod catalog;
pub mod catalog_worker;
pub mod checkout_token;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod http_api;
pub mod idempotency;
pub mod marketplace_orders;
pub mod money;
pub mod order_poll;
pub mod orders;
pub mod payment_events;
pub mod payments;
pub mod ports;
pub mod product_sync;
pub mod providers;
pub mod refunds;
pub mod shipments;
pub mod telemetry;
pub mod tracking_push;
pub mod webhooks;

pub use error::{Error, Result};
