//! The end-to-end tests, as one test binary (one link instead of one per
//! file): each module drives the function apps in-process against moto (the
//! local stack, created once per binary) and the provider fakes.
//!
//! Run one area with a filter: `cargo test -p ayaztrade-tests --test e2e refunds::`.

mod accounting;
mod aras_fake;
mod catalog;
mod iyzico_auth;
mod iyzico_checkout;
mod lambda_events;
mod marketplace_actions;
mod marketplace_claims;
mod marketplace_fakes;
mod marketplace_hb_claims;
mod marketplace_hb_packages;
mod marketplace_order_backfill;
mod marketplace_order_fakes;
mod marketplace_order_loop;
mod marketplace_orders;
mod marketplace_whole_orders;
mod operations;
mod orders;
mod outbound;
mod payments;
mod reconcile;
mod reconcile_settlements;
mod refunds;
mod shipments;
mod webhooks;
