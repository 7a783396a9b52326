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

/// A payment event to apply to an order, atomically and only forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentChange {
    pub order_id: String,
    pub to: crate::domain::PaymentStatus,
    /// The provider event applying it: re-applying the same event is allowed
    /// (a retry after a failure midway), any other stale event is not.
    pub event_id: String,
    pub provider: String,
    pub provider_ref: String,
    /// Minor units collected (on success).
    pub paid_minor: Option<i64>,
    /// Cumulative minor units refunded (on refunds); must grow.
    pub refunded_minor: Option<i64>,
    /// On success: what was collected. It must equal the order's total and
    /// currency, or the order is not marked paid.
    pub collected: Option<crate::money::Money>,
    pub now: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentApplied {
    Changed,
    /// This very event was applied before (a redelivery after a failure
    /// midway): nothing changes, but its domain event must still go out.
    AlreadyApplied,
    /// The order already is at or beyond this state: nothing changed.
    Stale {
        current: crate::domain::PaymentStatus,
    },
    /// The gateway collected a different amount than the order's total.
    AmountMismatch {
        order_total: crate::money::Money,
    },
    OrderMissing,
}

pub trait PaymentEventStore: Send + Sync {
    fn apply_payment_change(
        &self,
        change: &PaymentChange,
    ) -> impl Future<Output = Result<PaymentApplied>> + Send;

    /// The order a provider reference (e.g. a PaymentIntent id) belongs to.
    fn order_for_provider_ref(
        &self,
        provider: &str,
        provider_ref: &str,
    ) -> impl Future<Output = Result<Option<String>>> + Send;

    /// The order's current payment status, if the order exists.
    fn payment_status(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<crate::domain::PaymentStatus>>> + Send;
}

/// Records a refund we made: the order's refunded total moves from `before`
/// to `after` (refused if another refund got there first).
pub trait RefundRecorder: Send + Sync {
    fn record_refund(
        &self,
        order_id: &str,
        plan: &crate::domain::payment::RefundPlan,
        event_id: &str,
        now: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// Publishes domain events; fails if any entry was not accepted.
pub trait EventPublisher: Send + Sync {
    fn publish(
        &self,
        events: &[crate::domain::event::DomainEvent],
    ) -> impl Future<Output = Result<()>> + Send;
}

/// A delivery that left no idempotency record: refused before it was trusted
/// (`rejected:<reason>`) or trusted but not applicable yet (`unknown_order`).
/// Who, when, what. Never the payload.
#[derive(Debug, Clone)]
pub struct RejectedDelivery<'a> {
    pub provider: &'a str,
    pub received_at: &'a str,
    pub outcome: &'a str,
    pub source_ip: Option<&'a str>,
    pub now_unix: i64,
}

/// Writing the audit entry of a rejected delivery.
pub trait AuditRejected: Send + Sync {
    fn audit_rejected(
        &self,
        entry: &RejectedDelivery<'_>,
    ) -> impl Future<Output = Result<()>> + Send;
}
