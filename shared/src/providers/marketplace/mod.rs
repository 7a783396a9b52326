//! Trendyol and Hepsiburada: each marketplace's wire model and client in its
//! own module, and the faces the apps use to treat them alike (catalog,
//! orders, tracking, inbound auth).

pub mod catalog;
pub mod hepsiburada;
pub mod http;
pub mod inbound_auth;
pub mod orders;
pub mod tracking;
pub mod trendyol;
pub mod wire_money;
