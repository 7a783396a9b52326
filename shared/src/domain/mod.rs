//! Pure domain types and rules: no I/O, no AWS, no HTTP.

pub mod basket;
pub mod delivery;
pub mod event;
pub mod order;
pub mod payment;

pub use order::{Order, OrderContent, OrderSubmission};
pub use payment::{PaymentAttempt, PaymentEventKind, PaymentStatus};
