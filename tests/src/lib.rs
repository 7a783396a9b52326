//! Test support for AyazTrade Integrations: provider fakes that speak the
//! real wire formats, the local AWS stack, and fixtures.

pub mod fixtures;
pub mod iyzico_fake;
pub mod local_stack;
pub mod stripe_fake;
pub mod webhook_support;
