//! iyzico: request authentication (IYZWSv2), price strings, and merchant
//! notifications (webhooks). The payment API client (checkout form, refunds,
//! cancel) is the iyzico payments issue's remaining work.

pub mod auth;
pub mod checkout;
pub mod client;
pub mod price;
pub mod webhook;
pub mod wire;
