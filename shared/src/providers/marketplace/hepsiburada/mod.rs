//! Hepsiburada: its order webhooks and its catalogue and listing services.

pub mod catalog;
pub mod orders;
pub mod webhook;
