//! The one way a marketplace order gets in, whoever reports it (the webhook
//! function, order-poll): decide (`domain::marketplace_order`), write the
//! order with its stock moves as one transaction, publish the events it put
//! on its outbox, empty the outbox.
//!
//! A crash between writing and publishing leaves the events on the outbox;
//! the next report of the same order (the provider's redelivery, or the
//! poll's next pass over a window it did not finish) publishes them, with
//! the same event ids.

use crate::clock::now_rfc3339;
use crate::domain::delivery::unix_ms_to_rfc3339;
use crate::domain::event::{
    DetailType, DomainEvent, EventDetail, IntegrationErrorDetail, MarketplaceOrderDetail,
    OrderLineDetail, SellerActionDetail, StockDetail,
};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::{
    apply_snapshot_with, refuse_move, LineStock, MarketplaceOrder, OrderChange, OrderEvent,
    OrderSnapshot, PersonalWrite,
};
use crate::domain::marketplace_order_details::PersonalDataRetention;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::ports::{EventPublisher, MarketplaceOrderStore, OrderSave};

/// What taking in a snapshot did to our stored order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    Created,
    Changed,
    Unchanged,
}

impl Intake {
    pub fn as_str(self) -> &'static str {
        match self {
            Intake::Created => "created",
            Intake::Changed => "changed",
            Intake::Unchanged => "unchanged",
        }
    }
}

/// Attempts when the order keeps changing under us (webhook and poll at the
/// same moment).
const MAX_ATTEMPTS: usize = 8;

pub struct OrderIntake<'a, S, P> {
    store: &'a S,
    publisher: &'a P,
    retention: PersonalDataRetention,
}

impl<'a, S, P> OrderIntake<'a, S, P>
where
    S: MarketplaceOrderStore,
    P: EventPublisher,
{
    /// Keeps personal data for the default retention; apps pass theirs
    /// with [`Self::with_retention`].
    pub fn new(store: &'a S, publisher: &'a P) -> Self {
        OrderIntake {
            store,
            publisher,
            retention: PersonalDataRetention::default(),
        }
    }

    pub fn with_retention(mut self, retention: PersonalDataRetention) -> Self {
        self.retention = retention;
        self
    }

    pub async fn take(&self, snap: &OrderSnapshot) -> Result<Intake> {
        for _ in 0..MAX_ATTEMPTS {
            let stored = self
                .store
                .load_marketplace_order(snap.marketplace, &snap.order_number)
                .await?;
            let (current, version) = match &stored {
                Some((order, version)) => (Some(order), Some(*version)),
                None => (None, None),
            };
            let mut change = apply_snapshot_with(current, snap, self.retention);
            if !change.changed {
                // Events a crashed predecessor wrote but did not publish.
                if let (Some(order), Some(version)) = (current, version) {
                    if !order.outbox.is_empty() {
                        self.publish(order, version).await?;
                    }
                }
                return Ok(Intake::Unchanged);
            }
            let saved = loop {
                match self
                    .store
                    .save_marketplace_order(&change, version, &now_rfc3339())
                    .await?
                {
                    OrderSave::Saved { version } => break Some(version),
                    OrderSave::Conflict => break None,
                    OrderSave::Refused { sku, refusal } => {
                        tracing::warn!(
                            marketplace = snap.marketplace.as_str(),
                            order_number = %snap.order_number,
                            sku = %sku,
                            ?refusal,
                            "a product refused an order's stock move"
                        );
                        change = refuse_move(change, &sku, refusal);
                    }
                }
            };
            let Some(version) = saved else {
                // Someone else wrote the order (or a product) meanwhile.
                tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(5..50))).await;
                continue;
            };
            self.publish(&change.order, version).await?;
            return Ok(if stored.is_none() {
                Intake::Created
            } else {
                Intake::Changed
            });
        }
        Err(Error::Store(format!(
            "marketplace order {} kept changing; gave up after {MAX_ATTEMPTS} attempts",
            snap.order_number
        )))
    }

    /// Writes a change to the stored order that moves no stock and keeps
    /// its personal data (a seller action, a kept commission): `amend`
    /// gives the order to write, or `None` when there is nothing to write.
    /// Applied at the version read, read again on a concurrent change;
    /// then what the outbox holds is published. Whether anything was
    /// written (an order we do not hold: nothing).
    pub async fn amend(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        amend: impl Fn(&MarketplaceOrder) -> Option<MarketplaceOrder>,
    ) -> Result<bool> {
        for _ in 0..MAX_ATTEMPTS {
            let Some((order, version)) = self
                .store
                .load_marketplace_order(marketplace, order_number)
                .await?
            else {
                return Ok(false);
            };
            let Some(order) = amend(&order) else {
                return Ok(false);
            };
            let change = OrderChange {
                order,
                moves: Vec::new(),
                changed: true,
                personal: PersonalWrite::Unchanged,
            };
            match self
                .store
                .save_marketplace_order(&change, Some(version), &now_rfc3339())
                .await?
            {
                OrderSave::Saved { .. } => {
                    self.flush(marketplace, order_number).await?;
                    return Ok(true);
                }
                OrderSave::Conflict | OrderSave::Refused { .. } => continue,
            }
        }
        Err(Error::Store(format!(
            "marketplace order {order_number} kept changing; the change was not written"
        )))
    }

    /// Publishes what an order's outbox still holds (a publish that failed
    /// after its write); true when there was something.
    pub async fn flush(&self, marketplace: Marketplace, order_number: &str) -> Result<bool> {
        match self
            .store
            .load_marketplace_order(marketplace, order_number)
            .await?
        {
            Some((order, version)) if !order.outbox.is_empty() => {
                self.publish(&order, version).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn publish(&self, order: &MarketplaceOrder, version: u64) -> Result<()> {
        let events: Vec<DomainEvent> = order
            .outbox
            .iter()
            .map(|e| domain_event(order, e))
            .collect();
        self.publisher.publish(&events).await?;
        self.store.clear_order_outbox(order, version).await
    }
}

fn stock_word(stock: LineStock) -> &'static str {
    match stock {
        LineStock::Taken => "taken",
        LineStock::NotTaken => "not_taken",
        LineStock::Oversold => "oversold",
        LineStock::Untracked => "untracked",
    }
}

/// An outbox entry as published.
pub fn domain_event(order: &MarketplaceOrder, event: &OrderEvent) -> DomainEvent {
    let (detail_type, event_id, occurred_ms, detail) = match event {
        OrderEvent::Created {
            event_id,
            occurred_ms,
            package_id,
            status,
            marketplace_status,
        } => (
            DetailType::MarketplaceOrderCreated,
            event_id,
            occurred_ms,
            order_detail(
                order,
                package_id,
                status,
                marketplace_status,
                None,
                line_details(order),
            ),
        ),
        OrderEvent::StatusChanged {
            event_id,
            occurred_ms,
            package_id,
            status,
            marketplace_status,
            previous_status,
        } => (
            DetailType::MarketplaceOrderStatusChanged,
            event_id,
            occurred_ms,
            order_detail(
                order,
                package_id,
                status,
                marketplace_status,
                previous_status.clone(),
                line_details(order),
            ),
        ),
        OrderEvent::StockChanged {
            event_id,
            occurred_ms,
            sku,
            change,
            line_id,
        } => (
            DetailType::MarketplaceStockUpdated,
            event_id,
            occurred_ms,
            stock_detail(order, sku, *change, line_id),
        ),
        OrderEvent::Oversold {
            event_id,
            occurred_ms,
            sku,
            quantity,
            line_id,
        } => (
            DetailType::IntegrationError,
            event_id,
            occurred_ms,
            oversell_detail(order, sku, *quantity, line_id),
        ),
        OrderEvent::TotalsMismatch {
            event_id,
            occurred_ms,
            package_id,
            problems,
        } => (
            DetailType::IntegrationError,
            event_id,
            occurred_ms,
            totals_detail(order, package_id.as_deref(), problems),
        ),
        OrderEvent::SellerAction { event_id, action } => (
            DetailType::MarketplaceOrderSellerAction,
            event_id,
            &action.at_ms,
            EventDetail::SellerAction(SellerActionDetail {
                marketplace: order.marketplace.as_str().to_string(),
                order_number: order.order_number.clone(),
                package_id: action.package_id.clone(),
                action: action.action.clone(),
                outcome: action.outcome.clone(),
                message: action.message.clone(),
                detail: action.detail.clone(),
            }),
        ),
        OrderEvent::ClaimCreated {
            event_id,
            occurred_ms,
            claim_id,
        } => (
            DetailType::MarketplaceClaimCreated,
            event_id,
            occurred_ms,
            crate::intake::marketplace_claims::claim_detail(order, claim_id, None),
        ),
        OrderEvent::ClaimStatusChanged {
            event_id,
            occurred_ms,
            claim_id,
            item_id,
            previous_status,
            ..
        } => (
            DetailType::MarketplaceClaimStatusChanged,
            event_id,
            occurred_ms,
            crate::intake::marketplace_claims::claim_detail(
                order,
                claim_id,
                Some((item_id, previous_status.clone())),
            ),
        ),
    };
    DomainEvent {
        detail_type,
        event_id: event_id.clone(),
        occurred_at: unix_ms_to_rfc3339(*occurred_ms).unwrap_or_else(now_rfc3339),
        detail,
    }
}

/// The detail of `marketplace.order.created` / `.status_changed`.
fn order_detail(
    order: &MarketplaceOrder,
    package_id: &Option<String>,
    status: &str,
    marketplace_status: &str,
    previous_status: Option<String>,
    lines: Vec<OrderLineDetail>,
) -> EventDetail {
    EventDetail::MarketplaceOrder(MarketplaceOrderDetail {
        marketplace: order.marketplace.as_str().to_string(),
        order_number: order.order_number.clone(),
        package_id: package_id.clone(),
        status: status.to_string(),
        marketplace_status: marketplace_status.to_string(),
        previous_status,
        lines,
        total: order_total(order),
    })
}

/// What the buyer pays for the whole order: the lines' amounts added up,
/// when every line has one in one currency.
pub fn order_total(order: &MarketplaceOrder) -> Option<Money> {
    let mut total: Option<Money> = None;
    for id in order.lines.keys() {
        let amount = order.line_facts.get(id)?.amount()?;
        total = Some(match total {
            None => amount,
            Some(t) => t.checked_add(amount).ok()?,
        });
    }
    total
}

/// Every line of the order as a created order's event lists it.
fn line_details(order: &MarketplaceOrder) -> Vec<OrderLineDetail> {
    order
        .lines
        .iter()
        .map(|(id, l)| OrderLineDetail {
            line_id: id.clone(),
            sku: l.sku.clone(),
            quantity: l.quantity,
            status: l.status.clone(),
            stock: stock_word(l.stock).to_string(),
            amount: order.line_facts.get(id).and_then(|f| f.amount()),
        })
        .collect()
}

/// The detail of `marketplace.stock.updated`: `line_id` lists the lines
/// that moved, comma-separated.
fn stock_detail(order: &MarketplaceOrder, sku: &str, change: i64, line_id: &str) -> EventDetail {
    EventDetail::Stock(StockDetail {
        sku: sku.to_string(),
        change,
        marketplace: order.marketplace.as_str().to_string(),
        order_number: order.order_number.clone(),
        line_ids: line_id.split(',').map(str::to_owned).collect(),
    })
}

/// The `integration.error` for a line sold while our stock was short.
fn oversell_detail(
    order: &MarketplaceOrder,
    sku: &str,
    quantity: u32,
    line_id: &str,
) -> EventDetail {
    let marketplace = order.marketplace.as_str();
    EventDetail::IntegrationError(IntegrationErrorDetail {
        action: None,
        kind: "oversell".into(),
        provider: marketplace.to_string(),
        order_id: None,
        provider_ref: Some(order.order_number.clone()),
        expected: None,
        received: None,
        message: format!(
            "{marketplace} sold {quantity} of {sku} (order line {line_id}) but our stock was short; \
             the line took no stock"
        ),
    })
}

/// The `integration.error` for a package whose totals do not add up (or
/// whose money could not be read exactly). Problems name fields and
/// amounts, never the buyer.
fn totals_detail(
    order: &MarketplaceOrder,
    package_id: Option<&str>,
    problems: &[String],
) -> EventDetail {
    let marketplace = order.marketplace.as_str();
    EventDetail::IntegrationError(IntegrationErrorDetail {
        action: None,
        kind: "order_totals_mismatch".into(),
        provider: marketplace.to_string(),
        order_id: None,
        provider_ref: Some(order.order_number.clone()),
        expected: None,
        received: None,
        message: format!(
            "{marketplace} order {}{}: {}; recorded on the order, not trusted",
            order.order_number,
            package_id
                .map(|p| format!(" package {p}"))
                .unwrap_or_default(),
            problems.join("; ")
        ),
    })
}
