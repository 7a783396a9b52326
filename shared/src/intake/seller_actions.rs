//! Seller actions on a marketplace order: the one way every action (package
//! status, lines not supplied, invoice link) is sent, read back, taken in
//! and recorded — whether a person asks for it through `marketplace-orders`
//! or `accounting` sends an invoice link.
//!
//! Idempotent by asking the marketplace (docs/exactly-once.md § Seller
//! actions): the package is read first (already there: nothing is sent);
//! after a refusal it is read again, because a repeat of a call whose
//! answer was lost is refused yet done. Only the package as the marketplace
//! then has it decides between `done` and `refused`. A status change is
//! taken in like a webhook (`OrderIntake`: stock, `status_changed`); every
//! outcome is recorded on the order with its `marketplace.order.seller_action`
//! in the same write (the order's outbox).

use std::future::Future;

use crate::clock::now_ms;
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::{OrderSnapshot, SellerAction};
use crate::domain::marketplace_order_details::PersonalDataRetention;
use crate::error::{Error, Result};
use crate::intake::marketplace_orders::OrderIntake;
use crate::ports::{EventPublisher, MarketplaceOrderStore};
use crate::providers::marketplace::http::Refusal;
use crate::providers::marketplace::trendyol::orders::TrendyolOrders;

/// What became of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionOutcome {
    /// Sent and accepted (or accepted with the answer lost).
    Done,
    /// The marketplace was there already: nothing sent.
    Already,
    /// The marketplace said no, and its package shows it was not done.
    Refused {
        /// Its message with the HTTP status, as recorded on the order.
        message: String,
        /// The package's status at the marketplace afterwards.
        marketplace_status: String,
    },
}

impl ActionOutcome {
    pub fn word(&self) -> &'static str {
        match self {
            ActionOutcome::Done => "done",
            ActionOutcome::Already => "already",
            ActionOutcome::Refused { .. } => "refused",
        }
    }
}

/// One action on one marketplace package (a Trendyol shipment package id,
/// a Hepsiburada package number).
#[derive(Debug, Clone)]
pub struct PackageAction<'a> {
    pub order_number: &'a str,
    pub package_id: &'a str,
    /// As recorded (`SellerAction::action`).
    pub action: String,
    /// Recorded beside it (`SellerAction::detail`).
    pub detail: Option<String>,
    /// The package's status changes: take it in afterwards (stock, events).
    pub takes_in: bool,
}

pub struct SellerActions<'a, S, P> {
    store: &'a S,
    publisher: &'a P,
    retention: PersonalDataRetention,
}

impl<'a, S, P> SellerActions<'a, S, P>
where
    S: MarketplaceOrderStore,
    P: EventPublisher,
{
    pub fn new(store: &'a S, publisher: &'a P, retention: PersonalDataRetention) -> Self {
        SellerActions {
            store,
            publisher,
            retention,
        }
    }

    /// Runs `action` on a Trendyol package: `reached` says whether the
    /// package as Trendyol has it shows the action done; `send` makes the
    /// call (given the package as read before).
    pub async fn trendyol_package<R, F, Fut>(
        &self,
        client: &TrendyolOrders,
        action: &PackageAction<'_>,
        reached: R,
        send: F,
    ) -> Result<ActionOutcome>
    where
        R: Fn(&OrderSnapshot) -> bool,
        F: FnOnce(OrderSnapshot) -> Fut,
        Fut: Future<Output = Result<std::result::Result<(), Refusal>>>,
    {
        self.package(
            Marketplace::Trendyol,
            action,
            || read_package(client, action.package_id),
            |snap: &OrderSnapshot| snap.marketplace_status.clone(),
            reached,
            send,
            || async {
                if action.takes_in {
                    // What Trendyol now says, taken in like a webhook.
                    let after = read_package(client, action.package_id).await?;
                    OrderIntake::new(self.store, self.publisher)
                        .with_retention(self.retention)
                        .take(&after)
                        .await?;
                }
                Ok(None)
            },
        )
        .await
    }

    /// The one protocol, whichever the marketplace: `read` the package as
    /// the marketplace has it (`status` names its state for a refusal);
    /// when `reached` already, nothing is sent; otherwise `send`, and after
    /// a refusal `read` again: only what the marketplace then shows decides.
    /// `after` (taking the new state in) runs unless refused, and names the
    /// package the action ended in when only the marketplace could tell it
    /// (a new package's number); the outcome is recorded on the order
    /// either way.
    #[allow(clippy::too_many_arguments)]
    pub async fn package<T, Rd, RdFut, St, R, F, Fut, A, AFut>(
        &self,
        marketplace: Marketplace,
        action: &PackageAction<'_>,
        read: Rd,
        status: St,
        reached: R,
        send: F,
        after: A,
    ) -> Result<ActionOutcome>
    where
        Rd: Fn() -> RdFut,
        RdFut: Future<Output = Result<T>>,
        St: Fn(&T) -> String,
        R: Fn(&T) -> bool,
        F: FnOnce(T) -> Fut,
        Fut: Future<Output = Result<std::result::Result<(), Refusal>>>,
        A: FnOnce() -> AFut,
        AFut: Future<Output = Result<Option<String>>>,
    {
        let current = read().await?;
        let mut outcome = ActionOutcome::Already;
        if !reached(&current) {
            outcome = ActionOutcome::Done;
            if let Err(refusal) = send(current).await? {
                // Refused: done anyway (a repeat of a call whose answer
                // was lost), or the marketplace's state forbids it.
                let now = read().await?;
                if !reached(&now) {
                    tracing::warn!(
                        marketplace = marketplace.as_str(),
                        package_id = action.package_id,
                        action = %action.action,
                        http_status = refusal.status,
                        "the marketplace refused a seller action"
                    );
                    let refused = ActionOutcome::Refused {
                        message: format!("{} (HTTP {})", refusal.message, refusal.status),
                        marketplace_status: status(&now),
                    };
                    self.record(marketplace, action, &refused).await?;
                    return Ok(refused);
                }
            }
        }
        let learned = after().await?;
        let action = PackageAction {
            package_id: learned.as_deref().unwrap_or(action.package_id),
            ..action.clone()
        };
        self.record(marketplace, &action, &outcome).await?;
        Ok(outcome)
    }

    /// Records a package action and its outcome on the order
    /// ([`Self::record_action`]).
    pub async fn record(
        &self,
        marketplace: Marketplace,
        action: &PackageAction<'_>,
        outcome: &ActionOutcome,
    ) -> Result<()> {
        let recorded = SellerAction {
            at_ms: now_ms(),
            action: action.action.clone(),
            // None: an action that made no package (a refused packaging).
            package_id: Some(action.package_id.to_string()).filter(|p| !p.is_empty()),
            outcome: outcome.word().to_string(),
            message: match outcome {
                ActionOutcome::Refused { message, .. } => Some(message.clone()),
                _ => None,
            },
            detail: action.detail.clone(),
        };
        self.record_action(marketplace, action.order_number, recorded)
            .await
    }

    /// Records any seller action (a package's, a claim's) on the order at
    /// the version read (re-read on a concurrent change), then publishes
    /// the order's outbox (its `seller_action` event with whatever else
    /// waits there). An order we no longer hold records nothing.
    pub async fn record_action(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        action: SellerAction,
    ) -> Result<()> {
        OrderIntake::new(self.store, self.publisher)
            .amend(marketplace, order_number, |order| {
                let mut order = order.clone();
                order.record_action(action.clone());
                Some(order)
            })
            .await
            .map(|_| ())
    }
}

/// Package `package_id` as Trendyol has it now; 404 when Trendyol no
/// longer lists it.
pub async fn read_package(client: &TrendyolOrders, package_id: &str) -> Result<OrderSnapshot> {
    client
        .package(package_id)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: "Trendyol shipment package (at Trendyol)",
            id: package_id.chars().take(20).collect(),
        })
}
