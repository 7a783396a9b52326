//! Trendyol: its order-status webhooks and its product services.

pub mod catalog;
pub mod orders;
pub mod webhook;
