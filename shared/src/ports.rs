//! What the function apps need from the outside world, one small trait per
//! capability, so a handler depends only on what it uses. The DynamoDB
//! adapter in `aws::dynamo` implements them.

use std::future::Future;

use crate::domain::{Order, OrderContent, PaymentAttempt};
use crate::error::Result;

/// The result of writing an order that may already exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderWrite {
    /// Written (created when `version == 1`).
    Written(Order),
    /// Not written: the stored order is collected (paid, refunded) or has
    /// exactly this content already. The stored order is returned.
    Kept(Order),
}

pub trait OrderWriter: Send + Sync {
    /// Creates or replaces the order's content, atomically refusing when the
    /// stored order is already collected or already has the same content.
    fn put_unless_collected(
        &self,
        order_id: &str,
        content: &OrderContent,
        now: &str,
    ) -> impl Future<Output = Result<OrderWrite>> + Send;
}

pub trait OrderReader: Send + Sync {
    /// The order and its payment attempts, strongly consistent.
    fn order_with_attempts(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<(Order, Vec<PaymentAttempt>)>>> + Send;
}

pub trait PaymentAttemptRecorder: Send + Sync {
    /// Records (or refreshes) an attempt; keyed by provider and provider ref,
    /// so recording the same attempt twice is harmless.
    fn record_attempt(&self, attempt: &PaymentAttempt) -> impl Future<Output = Result<()>> + Send;
}
