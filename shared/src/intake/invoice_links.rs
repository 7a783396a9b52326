//! The invoice link of a marketplace order, sent once to the marketplace
//! after its Paraşüt invoice is legalized (issue 15 item 3).
//!
//! `accounting` calls [`InvoiceLinks::send`] after `issue_invoice`; every
//! redelivery of its message calls it again, so it is safe to repeat:
//!
//! - a package whose link is recorded on the order (`invoice_link`, done or
//!   already) is not asked about again;
//! - otherwise the one seller-action protocol runs
//!   (`intake::seller_actions`): the package is read (carrying our link:
//!   nothing sent), the link sent, and after a refusal (Trendyol's 409 for
//!   a package with an invoice — ours, when a lost answer was repeated) read
//!   again; only what Trendyol then shows decides;
//! - a refusal Trendyol keeps is recorded on the order and becomes an
//!   `integration.error` `invoice_link_refused` (one `eventId` per package)
//!   for a person; the message is done.
//!
//! The link is `INVOICE_LINK_TEMPLATE` with the invoice number — never
//! Paraşüt's one-hour PDF link (`config::invoice_link_template`).
//!
//! Hepsiburada (docs/marketplace-wire.md H13): per *package number* — the
//! ones its delivered lines carry on the order, and those Hepsiburada's
//! missing-invoice list names for this order. The read is the package
//! (unknown there: 404) and whether the missing-invoice list still names it
//! (not listed: an invoice is there, sent now or before). The call carries
//! the invoice number's serial and row number with the link.

use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::domain::event::{DetailType, DomainEvent, EventDetail, IntegrationErrorDetail};
use crate::domain::invoice::{InvoiceRecord, InvoiceStage};
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::MarketplaceOrder;
use crate::domain::marketplace_order_details::PersonalDataRetention;
use crate::error::Error;
use crate::error::Result;
use crate::intake::seller_actions::{ActionOutcome, PackageAction, SellerActions};
use crate::ports::{EventPublisher, MarketplaceOrderStore};
use crate::providers::marketplace::hepsiburada::orders::{
    HbInvoice, HbInvoiceState, HepsiburadaOrders,
};
use crate::providers::marketplace::orders::{OrderClient, OrderClients};
use crate::providers::marketplace::trendyol::orders::{check_invoice_link, TrendyolOrders};

/// The recorded action's name.
pub const ACTION: &str = "invoice_link";
/// The `integration.error` kind of a link the marketplace refused.
pub const REFUSED: &str = "invoice_link_refused";

/// Sends `link` as package `package_id`'s invoice link at Trendyol, by the
/// one seller-action protocol (the route and accounting both come here).
pub async fn send_trendyol_invoice_link<S, P>(
    actions: &SellerActions<'_, S, P>,
    client: &TrendyolOrders,
    order_number: &str,
    package_id: &str,
    link: &str,
) -> Result<ActionOutcome>
where
    S: MarketplaceOrderStore,
    P: EventPublisher,
{
    let action = PackageAction {
        order_number,
        package_id,
        action: ACTION.to_string(),
        detail: Some(link.to_string()),
        takes_in: false,
    };
    actions
        .trendyol_package(
            client,
            &action,
            |snap| {
                snap.details
                    .as_ref()
                    .and_then(|d| d.package.invoice_link.as_deref())
                    == Some(link)
            },
            |_| client.send_invoice_link(package_id, link),
        )
        .await
}

/// Sends `invoice` as package `package_number`'s invoice link at
/// Hepsiburada, by the same one protocol (the route and accounting both
/// come here).
pub async fn send_hepsiburada_invoice_link<S, P>(
    actions: &SellerActions<'_, S, P>,
    client: &HepsiburadaOrders,
    order_number: &str,
    package_number: &str,
    invoice: &HbInvoice,
) -> Result<ActionOutcome>
where
    S: MarketplaceOrderStore,
    P: EventPublisher,
{
    let action = PackageAction {
        order_number,
        package_id: package_number,
        action: ACTION.to_string(),
        detail: Some(invoice.link.clone()),
        takes_in: false,
    };
    actions
        .package(
            Marketplace::Hepsiburada,
            &action,
            || async {
                client
                    .invoice_state(package_number)
                    .await?
                    .ok_or_else(|| Error::NotFound {
                        what: "Hepsiburada package (at Hepsiburada)",
                        id: package_number.chars().take(40).collect(),
                    })
            },
            |state: &HbInvoiceState| state.status.clone(),
            |state: &HbInvoiceState| !state.missing_invoice,
            |_| client.send_invoice_link(package_number, invoice),
            || async { Ok(None) },
        )
        .await
}

/// Package numbers of a Hepsiburada order's delivered lines, as stored.
pub fn hepsiburada_packages(order: &MarketplaceOrder) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (id, line) in &order.lines {
        let number = order
            .line_facts
            .get(id)
            .and_then(|f| f.package_number.clone());
        if let Some(n) = number.filter(|_| line.status == "delivered") {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// The package numbers a Hepsiburada order is known to have: those its
/// lines carry, those an invoice link was recorded for, and those
/// Hepsiburada's missing-invoice list names for it.
pub async fn hepsiburada_order_packages(
    client: &HepsiburadaOrders,
    order: &MarketplaceOrder,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: String| {
        if !out.contains(&n) {
            out.push(n);
        }
    };
    order
        .line_facts
        .values()
        .filter_map(|f| f.package_number.clone())
        .for_each(&mut add);
    // Only invoice-link actions: a line cancel records its line id there.
    order
        .seller_actions
        .iter()
        .filter(|a| a.action == ACTION)
        .filter_map(|a| a.package_id.clone())
        .for_each(&mut add);
    client
        .missing_invoices()
        .await?
        .into_iter()
        .filter(|m| m.order_number.as_deref() == Some(order.order_number.as_str()))
        .for_each(|m| add(m.package_number));
    Ok(out)
}

/// The durable link of an invoice: the template with its number.
pub fn invoice_link(template: &str, invoice_number: &str) -> Option<String> {
    let link = template.replace("{invoiceNumber}", invoice_number);
    (!invoice_number.is_empty()
        && invoice_number.bytes().all(|b| b.is_ascii_alphanumeric())
        && check_invoice_link(&link).is_ok())
    .then_some(link)
}

/// Packages of `order` the invoice covers (delivered) whose `link` is not
/// recorded as sent (another link recorded for one is tried, and refused
/// by Trendyol for a person to see).
pub fn packages_to_link(order: &MarketplaceOrder, link: &str) -> Vec<String> {
    let delivered = order
        .units
        .iter()
        .filter(|(_, unit)| unit.status == "delivered")
        .map(|(id, _)| id.clone())
        .collect();
    not_linked(order, delivered, link)
}

/// Of `packages`, those whose `link` is not recorded as sent on `order`.
pub fn not_linked(order: &MarketplaceOrder, packages: Vec<String>, link: &str) -> Vec<String> {
    packages
        .into_iter()
        .filter(|id| {
            !order.seller_actions.iter().any(|a| {
                a.action == ACTION
                    && a.package_id.as_deref() == Some(id.as_str())
                    && a.detail.as_deref() == Some(link)
                    && (a.outcome == "done" || a.outcome == "already")
            })
        })
        .collect()
}

/// What [`InvoiceLinks::send`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinksSent {
    /// Packages whose link the marketplace now has (sent now or found there).
    pub linked: usize,
    /// Packages refused (reported).
    pub refused: usize,
}

pub struct InvoiceLinks {
    clients: OrderClients,
    template: String,
    retention: PersonalDataRetention,
}

impl InvoiceLinks {
    pub fn new(clients: OrderClients, template: String, retention: PersonalDataRetention) -> Self {
        InvoiceLinks {
            clients,
            template,
            retention,
        }
    }

    /// Sends the link of `invoice` (legalized) for every delivered package
    /// of `order` not linked yet. `Err` only for what a retry may mend.
    pub async fn send<S, P>(
        &self,
        store: &S,
        publisher: &P,
        order: &MarketplaceOrder,
        invoice: &InvoiceRecord,
    ) -> Result<LinksSent>
    where
        S: MarketplaceOrderStore,
        P: EventPublisher,
    {
        let mut sent = LinksSent::default();
        let order_ref = invoice.order_ref.as_str();
        let Some(number) = invoice
            .invoice_number
            .as_deref()
            .filter(|_| invoice.stage == InvoiceStage::Done)
        else {
            return Ok(sent);
        };
        let Some(link) = invoice_link(&self.template, number) else {
            tracing::warn!(order_ref, "no valid invoice link for this invoice number");
            return Ok(sent);
        };
        let actions = SellerActions::new(store, publisher, self.retention);
        let mut outcomes = Vec::new();
        match (order.marketplace, self.clients.get(order.marketplace)) {
            (Marketplace::Trendyol, Some(OrderClient::Trendyol(client))) => {
                for package_id in packages_to_link(order, &link) {
                    let outcome = send_trendyol_invoice_link(
                        &actions,
                        client,
                        &order.order_number,
                        &package_id,
                        &link,
                    )
                    .await?;
                    outcomes.push((package_id, outcome));
                }
            }
            (Marketplace::Hepsiburada, Some(OrderClient::Hepsiburada(client))) => {
                let mut packages = hepsiburada_packages(order);
                for missing in client.missing_invoices().await? {
                    if missing.order_number.as_deref() == Some(order.order_number.as_str())
                        && !packages.contains(&missing.package_number)
                    {
                        packages.push(missing.package_number);
                    }
                }
                let hb_invoice = HbInvoice {
                    link: link.clone(),
                    invoice_number: number.to_string(),
                    issued_ms: now_ms(),
                };
                for package_number in not_linked(order, packages, &link) {
                    let outcome = match send_hepsiburada_invoice_link(
                        &actions,
                        client,
                        &order.order_number,
                        &package_number,
                        &hb_invoice,
                    )
                    .await
                    {
                        // A package number Hepsiburada does not know: no
                        // retry mends it; a person must look.
                        Err(Error::NotFound { .. }) => ActionOutcome::Refused {
                            message: "package unknown at Hepsiburada".into(),
                            marketplace_status: "unknown".into(),
                        },
                        other => other?,
                    };
                    outcomes.push((package_number, outcome));
                }
            }
            (m, _) => {
                tracing::info!(
                    order_ref,
                    marketplace = m.as_str(),
                    "invoice link not sent: not built or not configured for this marketplace"
                );
                return Ok(sent);
            }
        }
        for (package_id, outcome) in outcomes {
            match outcome {
                ActionOutcome::Done | ActionOutcome::Already => sent.linked += 1,
                ActionOutcome::Refused {
                    message,
                    marketplace_status,
                } => {
                    sent.refused += 1;
                    tracing::error!(
                        order_ref,
                        package_id,
                        kind = REFUSED,
                        "the marketplace refused the invoice link: a person must review it"
                    );
                    publisher
                        .publish(&[DomainEvent {
                            detail_type: DetailType::IntegrationError,
                            event_id: format!("accounting:{order_ref}:{REFUSED}:{package_id}"),
                            occurred_at: now_rfc3339(),
                            detail: EventDetail::IntegrationError(IntegrationErrorDetail {
                                kind: REFUSED.into(),
                                provider: order.marketplace.as_str().into(),
                                order_id: Some(order_ref.to_string()),
                                provider_ref: Some(package_id.clone()),
                                expected: None,
                                received: None,
                                message: format!(
                                    "invoice link of package {package_id} (status \
                                     {marketplace_status}) refused: {message}"
                                ),
                                action: Some("review".into()),
                            }),
                        }])
                        .await?;
                }
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::marketplace_order::{SellerAction, UnitState};

    #[test]
    fn the_link_is_the_template_with_a_plain_invoice_number() {
        let t = "https://fatura.example.com/{invoiceNumber}.pdf";
        assert_eq!(
            invoice_link(t, "GIB2026000000001").as_deref(),
            Some("https://fatura.example.com/GIB2026000000001.pdf")
        );
        assert_eq!(invoice_link(t, ""), None);
        assert_eq!(invoice_link(t, "../x"), None);
        assert_eq!(invoice_link(t, "A B"), None);
    }

    #[test]
    fn only_delivered_packages_without_a_recorded_link_are_linked() {
        let unit = |status: &str| UnitState {
            status: status.into(),
            marketplace_status: status.into(),
            rank: 0,
            changed_ms: 0,
        };
        let mut order = MarketplaceOrder {
            marketplace: Marketplace::Trendyol,
            order_number: "1".into(),
            first_seen_ms: 0,
            units: [
                ("P1".to_string(), unit("delivered")),
                ("P2".to_string(), unit("cancelled")),
                ("P3".to_string(), unit("delivered")),
            ]
            .into(),
            lines: Default::default(),
            outbox: Vec::new(),
            packages: Default::default(),
            line_facts: Default::default(),
            personal: None,
            seller_actions: Vec::new(),
            claims: Default::default(),
        };
        assert_eq!(packages_to_link(&order, "L"), ["P1", "P3"]);
        let action = |package: &str, outcome: &str, link: &str| SellerAction {
            at_ms: 1,
            action: ACTION.into(),
            package_id: Some(package.into()),
            outcome: outcome.into(),
            message: None,
            detail: Some(link.into()),
        };
        order.seller_actions = vec![action("P1", "done", "L"), action("P3", "refused", "L")];
        assert_eq!(
            packages_to_link(&order, "L"),
            ["P3"],
            "a refusal is tried again"
        );
        order.seller_actions = vec![action("P1", "done", "other")];
        assert_eq!(packages_to_link(&order, "L"), ["P1", "P3"]);
    }
}
