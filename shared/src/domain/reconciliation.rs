//! Reconciliation, without I/O: which day a run covers (Istanbul time), what
//! a provider's payment says against our ledger of the order it paid, what
//! can be healed through the webhook's own path and what is a difference a
//! person must look at, and the identities that make every difference
//! reported exactly once across reruns.

use serde::{Deserialize, Serialize};

use crate::domain::event::{DetailType, DomainEvent, EventDetail};
use crate::domain::marketplace_order::{status_of, MarketplaceOrder, OrderSnapshot};
use crate::domain::marketplace_order_details::LineFacts;
use crate::domain::payment_ledger::PaymentLedger;
use crate::error::{Error, Result};
use crate::money::Money;

/// Marketplace settlement lines (Trendyol's current-account statement)
/// against our stored orders.
pub mod settlements;

/// Istanbul is UTC+3 all year (no daylight saving since 2016).
pub const ISTANBUL_OFFSET_SECS: i64 = 3 * 3600;
const DAY_SECS: i64 = 24 * 3600;

/// `YYYY-MM-DD` → the unix seconds of its first and next Istanbul
/// midnights: the day is `[start, end)`.
pub fn istanbul_day_bounds(day: &str) -> Result<(i64, i64)> {
    crate::domain::operations::validate_day(day)?;
    let midnight_utc = time::OffsetDateTime::parse(
        &format!("{day}T00:00:00Z"),
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| Error::validation("day", "a date as YYYY-MM-DD"))?
    .unix_timestamp();
    let start = midnight_utc - ISTANBUL_OFFSET_SECS;
    Ok((start, start + DAY_SECS))
}

/// The Istanbul day before the one `now_ms` falls in: what the daily
/// schedule reconciles.
pub fn previous_istanbul_day(now_ms: i64) -> String {
    istanbul_day(now_ms - DAY_SECS * 1000)
}

/// The Istanbul day (`YYYY-MM-DD`) an instant (epoch ms) falls in.
pub fn istanbul_day(ms: i64) -> String {
    let local = ms.div_euclid(1000) + ISTANBUL_OFFSET_SECS;
    let date = time::OffsetDateTime::from_unix_timestamp(local)
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The kinds of difference, as reports and `reconciliation.mismatch` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The provider collected money we have no record of (no order, or a
    /// lost notice that could not be healed).
    MissingHere,
    /// We recorded money the provider does not show.
    MissingAtProvider,
    /// Both know the payment, not for the same amount.
    AmountDiffers,
    /// We say paid, the provider says it did not collect.
    StatusDiffers,
    /// The refunded totals differ and ours is not simply behind.
    RefundDiffers,
    /// A second payment collected (and kept) for an order another paid.
    DuplicateCollection,
}

impl DifferenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::MissingHere => "missing_here",
            DifferenceKind::MissingAtProvider => "missing_at_provider",
            DifferenceKind::AmountDiffers => "amount_differs",
            DifferenceKind::StatusDiffers => "status_differs",
            DifferenceKind::RefundDiffers => "refund_differs",
            DifferenceKind::DuplicateCollection => "duplicate_collection",
        }
    }

    /// What a person must do about it (README § Reconciliation).
    pub fn action(self) -> &'static str {
        match self {
            DifferenceKind::DuplicateCollection => "refund_required",
            _ => "review",
        }
    }
}

/// Whether the provider holds the money of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Collected,
    NotCollected,
}

/// One payment as the provider lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    pub provider: &'static str,
    /// PaymentIntent id, iyzico paymentId.
    pub provider_ref: String,
    /// The order the payment names (Stripe metadata, iyzico basketId).
    pub order_id: Option<String>,
    pub collection: Collection,
    /// The provider's own status word, for the report.
    pub provider_status: String,
    /// Collected (or asked, when not collected).
    pub amount: Money,
    /// Refunded so far (cumulative); `None` when this listing does not
    /// say (iyzico's daily report: refunds are checked on the day they
    /// happen, from their own rows).
    pub refunded_minor: Option<i64>,
}

/// A fact our ledger lacks that the provider proves: applied through the
/// webhook's exactly-once path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heal {
    /// The payment succeeded for the order total: its success was lost.
    Success,
    /// The provider refunded more than we recorded (a lost notice, a refund
    /// made in the provider's dashboard): the new cumulative total.
    Refund { refunded_total: i64, full: bool },
}

/// One side of a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunded: Option<Money>,
    /// Ours: the payment that paid the order, when not this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_by: Option<String>,
}

/// A difference, with both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    pub kind: DifferenceKind,
    pub provider: String,
    pub provider_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The line of the order it is about, where the provider reports per
    /// line (a settlement record's barcode); part of its identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    pub provider_side: Side,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub our_side: Option<Side>,
    pub action: String,
    pub message: String,
}

impl Difference {
    /// The identity of this difference within its day: the same payment
    /// found different in the same way on a rerun is the same difference,
    /// reported once.
    pub fn key(&self) -> String {
        match &self.line {
            Some(line) => format!(
                "{}#{}#{line}#{}",
                self.provider,
                self.provider_ref,
                self.kind.as_str()
            ),
            None => format!(
                "{}#{}#{}",
                self.provider,
                self.provider_ref,
                self.kind.as_str()
            ),
        }
    }
}

/// What comparing one provider payment with our ledger found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Check {
    /// Facts to apply (in order) through the webhook's path.
    pub heal: Vec<Heal>,
    pub difference: Option<Difference>,
}

fn provider_side(p: &ProviderPayment) -> Side {
    Side {
        status: p.provider_status.clone(),
        amount: Some(p.amount),
        refunded: p.refunded_minor.map(|r| Money::new(r, p.amount.currency)),
        paid_by: None,
    }
}

fn our_side(ledger: &PaymentLedger) -> Side {
    let paid_by = match (&ledger.provider, &ledger.provider_ref) {
        (Some(p), Some(r)) => Some(format!("{p}:{r}")),
        _ => None,
    };
    Side {
        status: ledger.status.as_str().to_string(),
        amount: Some(
            ledger
                .paid_minor
                .map_or(ledger.total, |m| Money::new(m, ledger.total.currency)),
        ),
        refunded: Some(Money::new(ledger.refunded_minor, ledger.total.currency)),
        paid_by,
    }
}

fn difference(
    p: &ProviderPayment,
    ledger: Option<&PaymentLedger>,
    kind: DifferenceKind,
    message: &str,
) -> Difference {
    Difference {
        kind,
        provider: p.provider.to_string(),
        provider_ref: p.provider_ref.clone(),
        order_id: ledger
            .map(|l| l.order_id.clone())
            .or_else(|| p.order_id.clone()),
        line: None,
        provider_side: provider_side(p),
        our_side: ledger.map(our_side),
        action: kind.action().to_string(),
        message: message.to_string(),
    }
}

/// Compares one provider payment with the ledger of the order it names
/// (`None`: no such order here).
pub fn check_payment(p: &ProviderPayment, ledger: Option<&PaymentLedger>) -> Check {
    let Some(ledger) = ledger else {
        return match p.collection {
            Collection::Collected => Check {
                heal: Vec::new(),
                difference: Some(difference(
                    p,
                    None,
                    DifferenceKind::MissingHere,
                    "the provider collected a payment for an order we do not have",
                )),
            },
            Collection::NotCollected => Check::default(),
        };
    };
    let same_currency = p.amount.currency == ledger.total.currency;
    match p.collection {
        Collection::NotCollected => {
            if ledger.paid_by(p.provider, &p.provider_ref) {
                return Check {
                    heal: Vec::new(),
                    difference: Some(difference(
                        p,
                        Some(ledger),
                        DifferenceKind::StatusDiffers,
                        "we recorded this payment as collected; the provider says it was not",
                    )),
                };
            }
            Check::default()
        }
        Collection::Collected if ledger.paid_by(p.provider, &p.provider_ref) => {
            let paid = ledger.paid_minor.unwrap_or_default();
            if !same_currency || paid != p.amount.minor {
                return Check {
                    heal: Vec::new(),
                    difference: Some(difference(
                        p,
                        Some(ledger),
                        DifferenceKind::AmountDiffers,
                        "we recorded another amount for this payment than the provider collected",
                    )),
                };
            }
            refund_check(p, ledger, Vec::new())
        }
        Collection::Collected if ledger.status.is_collected() => {
            // Another payment paid the order. Given back in full: no
            // money kept twice, nothing to do.
            if p.refunded_minor.is_some_and(|r| r >= p.amount.minor) {
                return Check::default();
            }
            Check {
                heal: Vec::new(),
                difference: Some(difference(
                    p,
                    Some(ledger),
                    DifferenceKind::DuplicateCollection,
                    "a second payment was collected and kept for an order another payment paid",
                )),
            }
        }
        Collection::Collected => {
            if !same_currency || p.amount != ledger.total {
                return Check {
                    heal: Vec::new(),
                    difference: Some(difference(
                        p,
                        Some(ledger),
                        DifferenceKind::AmountDiffers,
                        "the provider collected an amount other than the order total; the order is not paid here",
                    )),
                };
            }
            refund_check(p, ledger, vec![Heal::Success])
        }
    }
}

/// The refund side of a payment that paid (or, once healed, pays) the order.
fn refund_check(p: &ProviderPayment, ledger: &PaymentLedger, mut heal: Vec<Heal>) -> Check {
    let Some(refunded) = p.refunded_minor else {
        return Check {
            heal,
            difference: None,
        };
    };
    let ours = if heal.is_empty() {
        ledger.refunded_minor
    } else {
        0
    };
    if refunded > ours {
        heal.push(Heal::Refund {
            refunded_total: refunded,
            full: refunded >= p.amount.minor,
        });
        return Check {
            heal,
            difference: None,
        };
    }
    if refunded < ours {
        return Check {
            heal,
            difference: Some(difference(
                p,
                Some(ledger),
                DifferenceKind::RefundDiffers,
                "we recorded more refunded than the provider shows",
            )),
        };
    }
    Check {
        heal,
        difference: None,
    }
}

/// A payment our ledger says collected that the provider does not know,
/// asked for directly.
pub fn missing_payment_at_provider(
    provider: &'static str,
    provider_ref: &str,
    ledger: &PaymentLedger,
) -> Difference {
    let kind = DifferenceKind::MissingAtProvider;
    Difference {
        kind,
        provider: provider.to_string(),
        provider_ref: provider_ref.to_string(),
        order_id: Some(ledger.order_id.clone()),
        line: None,
        provider_side: Side {
            status: "not_found".into(),
            amount: None,
            refunded: None,
            paid_by: None,
        },
        our_side: Some(our_side(ledger)),
        action: kind.action().to_string(),
        message: "we recorded this payment as collected; the provider does not know it".into(),
    }
}

/// After healing, a heal still wanted is a lost fact the webhook path
/// refused or could not find: reported as its difference.
pub fn unhealed(p: &ProviderPayment, ledger: Option<&PaymentLedger>, heal: &Heal) -> Difference {
    let (kind, message) = match heal {
        Heal::Success => (
            DifferenceKind::MissingHere,
            "the provider collected this payment; its notice never reached us and could not be applied",
        ),
        Heal::Refund { .. } => (
            DifferenceKind::RefundDiffers,
            "the provider refunded more than we recorded and the refund could not be applied",
        ),
    };
    difference(p, ledger, kind, message)
}

// ---- marketplace orders -----------------------------------------------------

/// What comparing one listed marketplace order (a Trendyol package, a
/// Hepsiburada order's listed lines) with our stored order found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCheck {
    /// Nothing to do.
    Same,
    /// We lack the order (a lost notice), one of its packages or lines, or
    /// the marketplace is further along: taken in through the order
    /// intake (the webhook's and the poll's), which moves stock once.
    TakeIn,
    /// A difference a person must look at; the order is left as it is.
    Differs(Box<Difference>),
}

/// The buyer's money of the snapshot's lines, and ours for the same lines
/// (`None` on our side: a line we do not hold facts for).
fn order_sides(
    snap: &OrderSnapshot,
    stored: Option<&MarketplaceOrder>,
) -> (Option<Money>, Option<Money>) {
    let Some(details) = &snap.details else {
        return (None, None);
    };
    // `None` when a line has no amount or the lines mix currencies.
    let theirs = settlements::sum(details.lines.values().map(LineFacts::amount));
    let ours = stored.and_then(|o| {
        settlements::sum(
            details
                .lines
                .keys()
                .map(|id| o.line_facts.get(id).and_then(LineFacts::amount)),
        )
    });
    (theirs, ours)
}

fn order_difference(
    snap: &OrderSnapshot,
    stored: Option<&MarketplaceOrder>,
    kind: DifferenceKind,
    message: String,
) -> Difference {
    let (theirs, ours) = order_sides(snap, stored);
    let unit_id = snap.package_id.clone().unwrap_or_default();
    Difference {
        kind,
        provider: snap.marketplace.as_str().to_string(),
        provider_ref: snap.order_number.clone(),
        order_id: None,
        line: None,
        provider_side: Side {
            status: snap.marketplace_status.clone(),
            amount: theirs,
            refunded: None,
            paid_by: None,
        },
        our_side: stored.map(|o| Side {
            status: o
                .units
                .get(&unit_id)
                .map_or_else(|| o.status().to_string(), |u| u.status.clone()),
            amount: ours,
            refunded: None,
            paid_by: None,
        }),
        action: kind.action().to_string(),
        message,
    }
}

/// Compares one listed order with ours (`None`: we do not have it). Money
/// first: a line whose amount (what the buyer pays, exact `Money`) differs
/// from ours is a difference, and the order is not taken in (the intake
/// would replace our amounts with the marketplace's). Then the status: the
/// marketplace further along is taken in; the marketplace behind a status
/// we recorded before its listing's time is a difference.
pub fn check_marketplace_order(
    snap: &OrderSnapshot,
    stored: Option<&MarketplaceOrder>,
) -> OrderCheck {
    let Some(order) = stored else {
        return OrderCheck::TakeIn;
    };
    if let Some(details) = &snap.details {
        let mut new_line = false;
        for (id, theirs) in &details.lines {
            match order.line_facts.get(id) {
                None => new_line = true,
                Some(ours)
                    if ours.amount() != theirs.amount() || ours.quantity != theirs.quantity =>
                {
                    return OrderCheck::Differs(Box::new(order_difference(
                        snap,
                        stored,
                        DifferenceKind::AmountDiffers,
                        format!("line {id}: the marketplace lists another amount than we recorded"),
                    )));
                }
                Some(_) => {}
            }
        }
        if new_line {
            return OrderCheck::TakeIn;
        }
    }
    if snap
        .lines
        .iter()
        .any(|l| !order.lines.contains_key(&l.line_id))
    {
        return OrderCheck::TakeIn;
    }
    let unit_id = snap.package_id.clone().unwrap_or_default();
    let Some(unit) = order.units.get(&unit_id) else {
        return OrderCheck::TakeIn;
    };
    let theirs = status_of(snap.marketplace, &snap.marketplace_status);
    if theirs.rank > unit.rank {
        return OrderCheck::TakeIn;
    }
    // Ours moved after the marketplace's listing was made (a webhook
    // meanwhile): not a difference.
    let behind = theirs.rank < unit.rank && unit.changed_ms <= snap.occurred_ms;
    let unknown = theirs.rank == 0 && theirs.word != unit.status;
    if behind || unknown {
        return OrderCheck::Differs(Box::new(order_difference(
            snap,
            stored,
            DifferenceKind::StatusDiffers,
            format!(
                "the marketplace says {} where we recorded {}",
                snap.marketplace_status, unit.status
            ),
        )));
    }
    OrderCheck::Same
}

/// A listed order the intake was asked to take in that still compares
/// otherwise (a transition the intake does not apply).
pub fn marketplace_not_taken(
    snap: &OrderSnapshot,
    stored: Option<&MarketplaceOrder>,
) -> Difference {
    order_difference(
        snap,
        stored,
        if stored.is_some() {
            DifferenceKind::StatusDiffers
        } else {
            DifferenceKind::MissingHere
        },
        "the marketplace lists this order so; taking it in did not make ours agree".to_string(),
    )
}

/// One of our orders of the day the marketplace knows nothing of, even
/// when asked for it directly.
pub fn missing_at_marketplace(order: &MarketplaceOrder) -> Difference {
    let amount = order
        .line_facts
        .values()
        .map(LineFacts::amount)
        .try_fold(None::<Money>, |total, a| match (total, a?) {
            (None, a) => Some(Some(a)),
            (Some(t), a) => t.checked_add(a).ok().map(Some),
        })
        .flatten();
    Difference {
        kind: DifferenceKind::MissingAtProvider,
        provider: order.marketplace.as_str().to_string(),
        provider_ref: order.order_number.clone(),
        order_id: None,
        line: None,
        provider_side: Side {
            status: "not_found".into(),
            amount: None,
            refunded: None,
            paid_by: None,
        },
        our_side: Some(Side {
            status: order.status().to_string(),
            amount,
            refunded: None,
            paid_by: None,
        }),
        action: DifferenceKind::MissingAtProvider.action().to_string(),
        message: "we hold this order; the marketplace does not list it, nor find it when asked by its package".into(),
    }
}

// ---- reports and events -----------------------------------------------------

/// Counts of one provider's pass over a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCounts {
    pub provider: String,
    /// Payments (or transactions) the provider listed for the day.
    pub listed: u64,
    /// Provider requests this run made.
    pub requests: u64,
    /// Lost facts applied through the webhook's path.
    pub healed: u64,
    /// Differences recorded (first found by any run of this day).
    pub differences: u64,
    pub done: bool,
}

/// A stored day report as the route answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayReport {
    pub day: String,
    /// `running` or `completed`.
    pub status: String,
    pub run_id: String,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    pub providers: Vec<ProviderCounts>,
    pub differences: Vec<Difference>,
    pub healed: Vec<HealedFact>,
    /// What this deployment does not reconcile (yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<String>,
}

/// A lost fact that reconciliation applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealedFact {
    pub provider: String,
    pub provider_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// `payment_success` or `refund`.
    pub fact: String,
    /// The event identity it was applied with (the webhook's own).
    pub event_id: String,
    /// What the intake made of it (`applied`, `held`, …).
    pub outcome: String,
}

/// `reconciliation.mismatch`: one per difference, ever (docs/events.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MismatchDetail {
    pub day: String,
    #[serde(flatten)]
    pub difference: Difference,
}

/// `reconciliation.completed`: one per run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedDetail {
    pub day: String,
    pub run_id: String,
    pub providers: Vec<ProviderCounts>,
    /// Differences of the day (all runs).
    pub differences: u64,
    /// Lost facts healed for the day (all runs).
    pub healed: u64,
}

/// `reconciliation.requested`: run (or go on with) a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedDetail {
    pub day: String,
    pub run_id: String,
    /// How many invocations this run has had before (a run that makes no
    /// progress stops instead of asking again forever).
    #[serde(default)]
    pub continuation: u32,
}

/// The `reconciliation.requested` detail in a Lambda input, if it is one.
pub fn requested(input: &serde_json::Value) -> Option<RequestedDetail> {
    if input.get("detail-type")?.as_str()? != DetailType::ReconciliationRequested.as_str()
        || input.get("source")?.as_str()? != crate::domain::event::EVENT_SOURCE
    {
        return None;
    }
    serde_json::from_value(input.get("detail")?.clone()).ok()
}

pub fn mismatch_event(day: &str, difference: &Difference, now: &str) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::ReconciliationMismatch,
        event_id: format!("reconciliation:{day}:{}", difference.key()),
        occurred_at: now.to_string(),
        detail: EventDetail::ReconciliationMismatch(MismatchDetail {
            day: day.to_string(),
            difference: difference.clone(),
        }),
    }
}

pub fn completed_event(detail: CompletedDetail, now: &str) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::ReconciliationCompleted,
        event_id: format!("reconciliation:{}:{}:completed", detail.day, detail.run_id),
        occurred_at: now.to_string(),
        detail: EventDetail::ReconciliationCompleted(detail),
    }
}

pub fn requested_event(detail: RequestedDetail, now: &str) -> DomainEvent {
    DomainEvent {
        detail_type: DetailType::ReconciliationRequested,
        event_id: format!(
            "reconciliation:{}:{}:requested:{}",
            detail.day, detail.run_id, detail.continuation
        ),
        occurred_at: now.to_string(),
        detail: EventDetail::ReconciliationRequested(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PaymentStatus;
    use crate::money::Currency;

    fn try_(minor: i64) -> Money {
        Money::new(minor, Currency::TRY)
    }

    fn unpaid() -> PaymentLedger {
        PaymentLedger::unpaid("ord-1", try_(10_000))
    }

    fn paid_by(r: &str, refunded: i64) -> PaymentLedger {
        let mut l = unpaid();
        l.status = if refunded > 0 {
            PaymentStatus::PartiallyRefunded
        } else {
            PaymentStatus::Paid
        };
        l.provider = Some("stripe".into());
        l.provider_ref = Some(r.into());
        l.paid_minor = Some(10_000);
        l.refunded_minor = refunded;
        l
    }

    fn collected(amount: i64, refunded: i64) -> ProviderPayment {
        ProviderPayment {
            provider: "stripe",
            provider_ref: "pi_1".into(),
            order_id: Some("ord-1".into()),
            collection: Collection::Collected,
            provider_status: "succeeded".into(),
            amount: try_(amount),
            refunded_minor: Some(refunded),
        }
    }

    #[test]
    fn istanbul_days_start_at_21_utc_the_day_before() {
        let (start, end) = istanbul_day_bounds("2026-12-01").unwrap();
        // 2026-11-30T21:00:00Z
        assert_eq!(start, 1_796_072_400);
        assert_eq!(end - start, 86_400);
        assert!(istanbul_day_bounds("2026-02-30").is_err());
        // 2026-12-01T20:59:59Z is still 1 December in Istanbul (23:59:59),
        // so the previous day is 30 November; a second later it is 2 December.
        assert_eq!(previous_istanbul_day((end - 1) * 1000), "2026-11-30");
        assert_eq!(previous_istanbul_day(end * 1000), "2026-12-01");
    }

    #[test]
    fn a_payment_the_provider_does_not_know_carries_our_side() {
        let d = missing_payment_at_provider("stripe", "pi_9", &paid_by("pi_9", 0));
        assert_eq!(d.key(), "stripe#pi_9#missing_at_provider");
        assert_eq!(d.order_id.as_deref(), Some("ord-1"));
        assert_eq!(d.our_side.unwrap().amount, Some(try_(10_000)));
        assert_eq!(istanbul_day(1_796_072_400_000), "2026-12-01");
        assert_eq!(istanbul_day(1_796_072_399_999), "2026-11-30");
    }

    #[test]
    fn a_lost_success_heals_and_a_matching_payment_is_quiet() {
        let check = check_payment(&collected(10_000, 0), Some(&unpaid()));
        assert_eq!(check.heal, vec![Heal::Success]);
        assert_eq!(check.difference, None);
        assert_eq!(
            check_payment(&collected(10_000, 0), Some(&paid_by("pi_1", 0))),
            Check::default()
        );
    }

    #[test]
    fn a_lost_success_with_a_dashboard_refund_heals_both_in_order() {
        let check = check_payment(&collected(10_000, 2_500), Some(&unpaid()));
        assert_eq!(
            check.heal,
            vec![
                Heal::Success,
                Heal::Refund {
                    refunded_total: 2_500,
                    full: false
                }
            ]
        );
    }

    #[test]
    fn refunds_heal_forward_and_report_backward() {
        let check = check_payment(&collected(10_000, 10_000), Some(&paid_by("pi_1", 2_000)));
        assert_eq!(
            check.heal,
            vec![Heal::Refund {
                refunded_total: 10_000,
                full: true
            }]
        );
        let check = check_payment(&collected(10_000, 1_000), Some(&paid_by("pi_1", 2_000)));
        assert!(check.heal.is_empty());
        assert_eq!(
            check.difference.unwrap().kind,
            DifferenceKind::RefundDiffers
        );
    }

    #[test]
    fn each_kind_of_difference() {
        let kind = |p: &ProviderPayment, l: Option<&PaymentLedger>| {
            check_payment(p, l).difference.map(|d| d.kind)
        };
        assert_eq!(
            kind(&collected(10_000, 0), None),
            Some(DifferenceKind::MissingHere)
        );
        assert_eq!(
            kind(&collected(9_000, 0), Some(&unpaid())),
            Some(DifferenceKind::AmountDiffers)
        );
        assert_eq!(
            kind(&collected(9_000, 0), Some(&paid_by("pi_1", 0))),
            Some(DifferenceKind::AmountDiffers)
        );
        assert_eq!(
            kind(&collected(10_000, 0), Some(&paid_by("pi_other", 0))),
            Some(DifferenceKind::DuplicateCollection)
        );
        // The duplicate was given back in full: nothing kept twice.
        assert_eq!(
            kind(&collected(10_000, 10_000), Some(&paid_by("pi_other", 0))),
            None
        );
        let mut canceled = collected(10_000, 0);
        canceled.collection = Collection::NotCollected;
        canceled.provider_status = "canceled".into();
        assert_eq!(
            kind(&canceled, Some(&paid_by("pi_1", 0))),
            Some(DifferenceKind::StatusDiffers)
        );
        assert_eq!(kind(&canceled, Some(&unpaid())), None);
        assert_eq!(kind(&canceled, None), None);
    }

    #[test]
    fn a_difference_keeps_its_identity_and_both_sides() {
        let d = check_payment(&collected(9_000, 0), Some(&unpaid()))
            .difference
            .unwrap();
        assert_eq!(d.key(), "stripe#pi_1#amount_differs");
        let e = mismatch_event("2026-12-01", &d, "2026-12-02T00:30:00Z");
        assert_eq!(
            e.event_id,
            "reconciliation:2026-12-01:stripe#pi_1#amount_differs"
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "amount_differs");
        assert_eq!(json["providerSide"]["amount"]["minor"], 9_000);
        assert_eq!(json["ourSide"]["amount"]["minor"], 10_000);
        assert_eq!(json["day"], "2026-12-01");
        assert_eq!(e.detail_type.as_str(), "reconciliation.mismatch");
    }

    fn package(status: &str, sale_minor: i64, at: i64) -> OrderSnapshot {
        use crate::domain::marketplace::Marketplace;
        use crate::domain::marketplace_order::LineSnapshot;
        use crate::domain::marketplace_order_details::SnapshotDetails;
        let facts = LineFacts {
            quantity: 2,
            unit_sale_price: Some(try_(sale_minor)),
            ..Default::default()
        };
        OrderSnapshot {
            marketplace: Marketplace::Trendyol,
            order_number: "TY-1".into(),
            package_id: Some("P1".into()),
            marketplace_status: status.into(),
            lines: vec![LineSnapshot {
                line_id: "L1".into(),
                sku: Some("SKU-1".into()),
                quantity: 2,
                marketplace_status: None,
            }],
            occurred_ms: at,
            details: Some(Box::new(SnapshotDetails {
                package: Default::default(),
                lines: [("L1".to_string(), facts)].into(),
                personal: None,
            })),
        }
    }

    fn stored(snap: &OrderSnapshot) -> MarketplaceOrder {
        crate::domain::marketplace_order::apply_snapshot(None, snap).order
    }

    #[test]
    fn a_listed_order_we_lack_or_that_moved_on_is_taken_in() {
        let created = package("Created", 5_000, 1_000);
        assert_eq!(check_marketplace_order(&created, None), OrderCheck::TakeIn);
        let ours = stored(&created);
        assert_eq!(
            check_marketplace_order(&created, Some(&ours)),
            OrderCheck::Same
        );
        let picking = package("Picking", 5_000, 2_000);
        assert_eq!(
            check_marketplace_order(&picking, Some(&ours)),
            OrderCheck::TakeIn
        );
        let mut other_package = picking.clone();
        other_package.package_id = Some("P2".into());
        assert_eq!(
            check_marketplace_order(&other_package, Some(&ours)),
            OrderCheck::TakeIn
        );
    }

    #[test]
    fn another_amount_or_a_status_behind_ours_is_a_difference() {
        let ours = stored(&package("Shipped", 5_000, 2_000));
        let OrderCheck::Differs(d) =
            check_marketplace_order(&package("Shipped", 4_500, 3_000), Some(&ours))
        else {
            panic!("an amount difference");
        };
        assert_eq!(d.kind, DifferenceKind::AmountDiffers);
        assert_eq!(d.key(), "trendyol#TY-1#amount_differs");
        assert_eq!(d.provider_side.amount, Some(try_(9_000)));
        assert_eq!(d.our_side.unwrap().amount, Some(try_(10_000)));
        // The marketplace behind us as of its listing: a difference…
        let OrderCheck::Differs(d) =
            check_marketplace_order(&package("Created", 5_000, 3_000), Some(&ours))
        else {
            panic!("a status difference");
        };
        assert_eq!(d.kind, DifferenceKind::StatusDiffers);
        assert_eq!(d.our_side.unwrap().status, "shipped");
        // … but not when ours moved after the listing was made.
        assert_eq!(
            check_marketplace_order(&package("Created", 5_000, 1_500), Some(&ours)),
            OrderCheck::Same
        );
    }

    #[test]
    fn an_order_the_marketplace_does_not_know_carries_our_side() {
        let ours = stored(&package("Created", 5_000, 1_000));
        let d = missing_at_marketplace(&ours);
        assert_eq!(d.key(), "trendyol#TY-1#missing_at_provider");
        assert_eq!(d.our_side.unwrap().amount, Some(try_(10_000)));
        assert_eq!(
            marketplace_not_taken(&package("Created", 5_000, 1_000), None).kind,
            DifferenceKind::MissingHere
        );
    }

    #[test]
    fn only_our_own_requested_events_are_requests() {
        let input = serde_json::json!({
            "source": "ayaztrade.integrations",
            "detail-type": "reconciliation.requested",
            "detail": {"day": "2026-12-01", "runId": "r1", "continuation": 2}
        });
        assert_eq!(requested(&input).unwrap().continuation, 2);
        let mut other = input.clone();
        other["source"] = "someone.else".into();
        assert_eq!(requested(&other), None);
    }
}
