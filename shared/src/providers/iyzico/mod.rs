//! iyzico. For now only its merchant notifications (webhooks); the payment
//! API client arrives with the iyzico payments issue.

pub mod webhook;
