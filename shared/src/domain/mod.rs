//! Pure domain types and rules: no I/O, no AWS, no HTTP.

pub mod order;
pub mod payment;

pub use order::{Order, OrderContent, OrderSubmission};
pub use payment::{PaymentAttempt, PaymentStatus};
