//! Paraşüt (accounting: contacts, sales invoices, e-Arşiv / e-Fatura):
//! `client` (OAuth2 token cache, JSON:API calls), `wire` (the documents).
//! Every fact relied on: docs/parasut-wire.md.

pub mod client;
pub mod wire;

pub use client::{DocumentKind, Failure, ParasutClient};

pub const PROVIDER: &str = "parasut";
