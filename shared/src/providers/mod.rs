//! Provider clients. Each provider's wire model, client and webhook
//! verification live in its own module; all outbound calls go through `http`.

pub mod aras;
pub mod health;
pub mod http;
pub mod iyzico;
pub mod marketplace;
pub mod outbound;
pub mod parasut;
pub mod signing;
pub mod stripe;
