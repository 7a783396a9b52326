//! AyazTrade Integrations: the library every function binary uses.
//!
//! # Layout
//!
//! Read this first. Each folder is one kind of thing; the dependency
//! direction is one way: `functions/*` → `apps` → `intake` / `domain` +
//! `ports`; the adapters (`aws`, `providers`) implement the ports; `domain`
//! and `money` depend on nothing.
//!
//! ```text
//! apps/        one module per function binary, named after it (functions/<name> runs
//!              apps::<name>::App): catalog, catalog_worker, marketplace_orders,
//!              order_poll, orders, payments/ (stripe.rs, iyzico.rs), product_sync,
//!              reconcile, shipment, shipment_tracking, webhook, operations,
//!              subscriptions and deliveries (outbound events). An App is built once
//!              by from_env and answers events with handle; tests build it with local
//!              adapters.
//! intake/      the exactly-once paths several apps share: payment_notices (webhook,
//!              iyzico callback, refunds, reconciliation → the payment ledger), refunds (the one
//!              refund protocol), marketplace_orders (webhook and poll → stored
//!              order, stock moves, events), marketplace_claims (returns on their
//!              order, sellable units back), seller_actions (the one protocol for a
//!              seller action on a marketplace package: read, send, read back, record),
//!              invoices (one Paraşüt invoice per order), invoice_links (its link to
//!              the marketplace, once)
//! api/         what the HTTP apps share: JSON requests and error answers,
//!              Idempotency-Key replay (idempotency), storefront checkout tokens
//! domain/      pure types and rules, no I/O: orders, payments and the payment
//!              ledger, refunds, products and catalog sync, marketplaces and the
//!              Marketplaces set, marketplace orders (and their money, cargo and
//!              buyer: marketplace_order_details), shipments and shipping, events,
//!              outbound (subscriptions, retry schedule, refused addresses),
//!              invoices (exact VAT-exclusive lines; a marketplace order's:
//!              marketplace_invoice, a storefront order's: storefront_invoice),
//!              reconciliation (days, differences)
//! ports.rs     the small traits the apps need, one per capability
//! aws/         adapters: keys.rs (THE key layout of the one table), dynamo, payments,
//!              idempotency, catalog, marketplace_orders (and its gsi2 backfill),
//!              shipments, outbound, invoices, storefront_invoices,
//!              reconciliation,
//!              eventbridge, sqs
//! providers/   http.rs (the one outbound HTTP layer), signing.rs (HMAC and
//!              constant-time compare, Standard Webhooks signatures), outbound.rs
//!              (signed events to subscribers), stripe/, iyzico/, aras/, parasut/, and
//!              marketplace/: trendyol/ and hepsiburada/ (wire model and clients each)
//!              behind the faces the apps use: catalog, orders, tracking, inbound_auth
//! config/      the one reader of the environment: typed settings (payments,
//!              marketplaces, shipping, webhooks, operations, outbound, accounting)
//!              and `config::optional`
//! clock.rs  error.rs  money.rs  telemetry.rs
//! ```
//!
//! Where things are, for example:
//! - the Trendyol stock push: planned by `apps::product_sync`, sent by
//!   `apps::catalog_worker` through `providers::marketplace::catalog`, whose
//!   wire body is `providers::marketplace::trendyol::catalog::wire_item`;
//! - the Stripe signature check: `providers::stripe::webhook::verify_stripe_signature`,
//!   called by `apps::webhook` before anything is parsed or stored;
//! - the key layout: `aws::keys`;
//! - an outbound event to an ERP: `apps::deliveries` (fan-out, retries,
//!   disabling), signed by `providers::signing::standard_webhooks_signature`,
//!   sent by `providers::outbound` through `providers::http` with
//!   `AddressPolicy::PublicOnly` (the SSRF guard);
//! - a storefront order's invoice: the platform's data in by
//!   `apps::accounting` (its `storefront` part), checked and mapped by
//!   `domain::storefront_invoice`, issued by `intake::invoices`;
//! - a marketplace buyer's personal data: read from the wire in
//!   `providers::marketplace::{trendyol,hepsiburada}::orders`, kept apart
//!   and erased by TTL by `aws::marketplace_orders`;
//! - adding a marketplace: `domain::marketplace` and README § Adding a marketplace.

pub mod api;
pub mod apps;
pub mod aws;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod intake;
pub mod money;
pub mod ports;
pub mod providers;
pub mod telemetry;

pub use error::{Error, Result};
