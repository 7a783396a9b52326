//! Hepsiburada. For now only its order webhooks; the listing and order API
//! clients arrive with the marketplace issues.

pub mod webhook;
