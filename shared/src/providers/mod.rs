//! Provider clients. Each provider's wire model, client and webhook
//! verification live in its own module; all outbound calls go through `http`.

pub mod aras;
pub mod catalog;
pub mod hepsiburada;
pub mod http;
pub mod inbound_auth;
pub mod iyzico;
pub mod marketplace_http;
pub mod signing;
pub mod stripe;
pub mod trendyol;
