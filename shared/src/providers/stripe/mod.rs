//! Stripe: PaymentIntents over the real v1 API (form-encoded requests, JSON
//! answers, pinned `Stripe-Version`, `Idempotency-Key` on every POST).

pub mod amount;
pub mod client;
pub mod webhook;
pub mod wire;

pub use amount::{from_stripe_amount, to_stripe_amount};
pub use client::{CreatePaymentIntent, StripeClient, StripeRetryRules};
pub use wire::PaymentIntent;
