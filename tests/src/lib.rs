//! Test support for AyazTrade Integrations: provider fakes that speak the
//! real wire formats, the local AWS stack, and fixtures.

pub mod aras_fake;
pub mod catalog_support;
pub mod fixtures;
pub mod hepsiburada_fake;
pub mod iyzico_fake;
pub mod local_stack;
pub mod outbound_support;
pub mod parasut_fake;
pub mod raw_http;
pub mod stripe_fake;
pub mod trendyol_fake;
pub mod webhook_support;
