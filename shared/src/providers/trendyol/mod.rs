//! Trendyol. For now only its order-status webhooks; the catalog and order
//! API clients arrive with the marketplace issues.

pub mod webhook;
