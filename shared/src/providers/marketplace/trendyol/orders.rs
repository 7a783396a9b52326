//! Trendyol's shipment packages (docs/marketplace-wire.md T8): the list
//! order-poll reads, and the package shape Trendyol's webhooks
//! push (the same model). Read into `OrderSnapshot`s here and nowhere else.
//!
//! UNCONFIRMED (kept in this file): that `startDate`/`endDate` select on the
//! package's last-modified time; that `orderLineItemStatusName` carries a
//! line's own status in the same words as the package status.
//!
//! Tracking numbers (docs/marketplace-wire.md T9): `update_tracking_number`
//! tells Trendyol the number of a parcel we ship with our own carrier (Aras
//! Kargo is in the "seller shipping code must be used" column). CONFIRMED:
//! `PUT …/shipment-packages/{packageId}/update-tracking-number`, answer
//! `HTTP 200`, refusal "Shipment Update Edilebilir Bir Durumda Değil." for
//! cancelled/shipped/delivered packages *and* for a package that was given a
//! number before. UNCONFIRMED (kept in this file): that the Turkish
//! storefront still takes the v2 body `{"trackingNumber": …}` (the TR page is
//! marked "Kullanım Dışı" without naming a successor; the v3 Europe/Gulf body
//! `{cargoSenderNumber, providerCode}` + `storeFrontCode` header is not used
//! here); which package field shows the number afterwards (we accept
//! `cargoSenderNumber` — what v3 says — or `cargoTrackingNumber`); that the
//! refusal is a 4xx with the business envelope.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::Method;
use serde::Deserialize;

use crate::config::TrendyolSettings;
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::{LineSnapshot, OrderSnapshot};
use crate::domain::marketplace_order_details::{
    Address, LineFacts, PackageFacts, PersonalData, SnapshotDetails,
};
use crate::error::Error;
use crate::providers::http::{Endpoint, HttpLayer, StandardRetryRules};
use crate::providers::marketplace::http::{BasicJsonApi, Refusal, TrackingPush, Unreadable};
use crate::providers::marketplace::wire_money::{Decimal, MoneyReader};

/// Claims (returns): getClaims (T14), read by order-poll.
pub mod claims;
/// Sale and return records of the current-account statement (T15), read
/// by reconcile.
pub mod settlements;

const PROVIDER: &str = "trendyol";
/// Longest tracking number we send (Aras barcodes are 10–20 characters;
/// Trendyol publishes no limit).
pub const MAX_TRACKING_NUMBER_LEN: usize = 64;
/// Trendyol's largest page.
pub const MAX_PAGE_SIZE: u32 = 200;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(deserialize_with = "id_text")]
    id: String,
    order_number: String,
    /// `status` is the package status; the sample shows
    /// `shipmentPackageStatus` can differ (docs/marketplace-wire.md T8), so
    /// it is only the fallback.
    status: Option<String>,
    shipment_package_status: Option<String>,
    last_modified_date: Option<i64>,
    order_date: Option<i64>,
    #[serde(default)]
    lines: Vec<Line>,
    // The whole order (docs/marketplace-wire.md T8, "Package" and T12).
    #[serde(default)]
    currency_code: Option<String>,
    #[serde(default)]
    gross_amount: Decimal,
    #[serde(default)]
    total_discount: Decimal,
    #[serde(default)]
    total_ty_discount: Decimal,
    #[serde(default)]
    total_price: Decimal,
    #[serde(default, deserialize_with = "opt_text")]
    customer_id: Option<String>,
    #[serde(default)]
    customer_first_name: Option<String>,
    #[serde(default)]
    customer_last_name: Option<String>,
    #[serde(default)]
    customer_email: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    tax_number: Option<String>,
    /// T.C. kimlik no: the sample says `identityNumber`, an SDK
    /// `tcIdentityNumber` (UNCONFIRMED which; both read).
    #[serde(default, alias = "tcIdentityNumber", deserialize_with = "opt_text")]
    identity_number: Option<String>,
    #[serde(default)]
    shipment_address: Option<AddressWire>,
    #[serde(default)]
    invoice_address: Option<AddressWire>,
    #[serde(default)]
    cargo_provider_name: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    cargo_tracking_number: Option<String>,
    #[serde(default)]
    cargo_tracking_link: Option<String>,
    #[serde(default)]
    agreed_delivery_date: Option<i64>,
    #[serde(default)]
    invoice_link: Option<String>,
    #[serde(default)]
    delivery_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    #[serde(deserialize_with = "id_text")]
    id: String,
    quantity: u32,
    /// The product's `stockCode` as we created it: our SKU.
    merchant_sku: Option<String>,
    order_line_item_status_name: Option<String>,
    #[serde(default)]
    barcode: Option<String>,
    #[serde(default)]
    product_name: Option<String>,
    #[serde(default)]
    currency_code: Option<String>,
    /// UNCONFIRMED meanings (T8): `amount` unit price before discount,
    /// `discount` the seller's discount, `tyDiscount` Trendyol's, `price`
    /// what the buyer pays per unit, `vatBaseAmount` the VAT rate.
    #[serde(default)]
    amount: Decimal,
    #[serde(default)]
    discount: Decimal,
    #[serde(default)]
    ty_discount: Decimal,
    #[serde(default)]
    price: Decimal,
    #[serde(default)]
    vat_base_amount: Decimal,
}

/// `shipmentAddress` / `invoiceAddress`. CONFIRMED names (T8); `taxOffice`
/// and `taxNumber` on the invoice address of a corporate buyer:
/// UNCONFIRMED (read when present).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressWire {
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    company: Option<String>,
    #[serde(default)]
    address1: Option<String>,
    #[serde(default)]
    address2: Option<String>,
    #[serde(default)]
    full_address: Option<String>,
    #[serde(default)]
    neighborhood: Option<String>,
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    postal_code: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    phone: Option<String>,
    #[serde(default)]
    tax_office: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    tax_number: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl AddressWire {
    fn into_address(self) -> Address {
        let name = non_empty(self.full_name).or_else(|| {
            non_empty(
                [self.first_name, self.last_name]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .into(),
            )
        });
        let address = non_empty(self.full_address).or_else(|| {
            non_empty(
                [self.address1, self.address2, self.neighborhood]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
                    .into(),
            )
        });
        Address {
            name,
            company: non_empty(self.company),
            address,
            district: non_empty(self.district),
            town: None,
            city: non_empty(self.city),
            postal_code: non_empty(self.postal_code),
            country_code: non_empty(self.country_code),
            phone: non_empty(self.phone),
            email: None,
            tax_office: non_empty(self.tax_office),
            tax_number: non_empty(self.tax_number),
            identity_number: None,
        }
    }
}

/// A string or a number as text; `null`/missing/empty → `None`.
fn opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.is_empty() => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

impl Package {
    fn into_snapshot(self) -> Result<OrderSnapshot, serde_json::Error> {
        let Some(status) = self.status.clone().or(self.shipment_package_status.clone()) else {
            return Err(serde::de::Error::missing_field("status"));
        };
        let details = self.details();
        Ok(OrderSnapshot {
            marketplace: Marketplace::Trendyol,
            order_number: self.order_number,
            package_id: Some(self.id),
            marketplace_status: status,
            lines: self
                .lines
                .into_iter()
                .map(|l| LineSnapshot {
                    line_id: l.id,
                    sku: l.merchant_sku.filter(|s| !s.is_empty()),
                    quantity: l.quantity,
                    marketplace_status: l.order_line_item_status_name,
                })
                .collect(),
            occurred_ms: self.last_modified_date.or(self.order_date).unwrap_or(0),
            details: Some(Box::new(details)),
        })
    }

    /// Money, cargo and buyer. Money that cannot be read exactly is left
    /// out and named in the package's problems.
    fn details(&self) -> SnapshotDetails {
        let mut money = MoneyReader::new(self.currency_code.as_deref());
        let mut lines = BTreeMap::new();
        for l in &self.lines {
            if let (Some(line_currency), Some(package_currency)) =
                (l.currency_code.as_deref(), money.currency)
            {
                if !line_currency.eq_ignore_ascii_case(package_currency.code()) {
                    money.problems.push(format!(
                        "line {}: currency {line_currency} differs from the package's {package_currency}",
                        l.id
                    ));
                }
            }
            let what = |field: &str| format!("line {} {field}", l.id);
            lines.insert(
                l.id.clone(),
                LineFacts {
                    barcode: non_empty(l.barcode.clone()),
                    product_name: non_empty(l.product_name.clone()),
                    quantity: l.quantity,
                    unit_price: money.money(&what("amount"), &l.amount),
                    unit_discount: money.money(&what("discount"), &l.discount),
                    unit_marketplace_discount: money.money(&what("tyDiscount"), &l.ty_discount),
                    unit_sale_price: money.money(&what("price"), &l.price),
                    line_total: None,
                    vat_rate: l.vat_base_amount.normalized(),
                    vat: None,
                    commission: None,
                    commission_rate: None,
                    package_number: None,
                },
            );
        }
        let package = PackageFacts {
            observed_ms: 0,
            currency: money.currency,
            gross: money.money("grossAmount", &self.gross_amount),
            discount: money.money("totalDiscount", &self.total_discount),
            marketplace_discount: money.money("totalTyDiscount", &self.total_ty_discount),
            total: money.money("totalPrice", &self.total_price),
            cargo_provider: non_empty(self.cargo_provider_name.clone()),
            tracking_number: non_empty(self.cargo_tracking_number.clone()),
            tracking_link: non_empty(self.cargo_tracking_link.clone()),
            agreed_delivery_ms: self.agreed_delivery_date.filter(|ms| *ms > 0),
            invoice_link: non_empty(self.invoice_link.clone()),
            delivery_type: non_empty(self.delivery_type.clone()),
            problems: std::mem::take(&mut money.problems),
        };
        let buyer_name = non_empty(
            [
                self.customer_first_name.clone(),
                self.customer_last_name.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
            .into(),
        );
        let mut invoice_address = self
            .invoice_address
            .as_ref()
            .map(|a| a.clone().into_address());
        if let Some(invoice) = invoice_address.as_mut() {
            invoice.tax_number = invoice.tax_number.take().or(self.tax_number.clone());
            invoice.identity_number = non_empty(self.identity_number.clone());
        }
        let personal = PersonalData {
            buyer_name,
            buyer_email: non_empty(self.customer_email.clone()),
            customer_id: self.customer_id.clone(),
            shipping_address: self
                .shipment_address
                .as_ref()
                .map(|a| a.clone().into_address()),
            invoice_address,
        };
        SnapshotDetails {
            package,
            lines,
            personal: Some(personal),
        }
    }
}

/// A package as Trendyol sends it (webhook body or list entry).
pub fn package_snapshot(raw: &[u8]) -> Result<OrderSnapshot, serde_json::Error> {
    serde_json::from_slice::<Package>(raw)?.into_snapshot()
}

/// One page of the list. Packages that cannot be read are counted, not
/// fatal: one odd package must not stop every other order.
#[derive(Debug)]
pub struct PackagePage {
    pub total_elements: u64,
    pub total_pages: u64,
    /// Entries on the page, readable or not.
    pub listed: usize,
    pub packages: Vec<OrderSnapshot>,
    pub unreadable: Vec<Unreadable>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageWire {
    // Required: a page without them cannot be paged safely.
    total_elements: u64,
    total_pages: u64,
    #[serde(default)]
    content: Vec<Box<serde_json::value::RawValue>>,
}

pub struct TrendyolOrders {
    api: BasicJsonApi,
    base: String,
    seller_id: String,
    list: Endpoint,
    /// updateTrackingNumber: its own 50-per-10-s budget at Trendyol.
    tracking: Endpoint,
    /// updatePackage (Picking / Invoiced) and its UnSupplied sibling.
    package_status: Endpoint,
    /// sendInvoiceLink.
    invoice_link: Endpoint,
    /// Claim approve and reject (createClaimIssue) on their own budget, and
    /// the claim issue reasons this instance read (`claims.rs`). Boxed:
    /// `OrderClient`'s two variants stay of a size.
    claim_actions: Box<claims::ClaimActions>,
}

impl TrendyolOrders {
    /// `requests_per_10s`: this function's share of Trendyol's 50 per 10 s
    /// on the order endpoint (order-poll runs alone on it).
    pub fn new(
        http: HttpLayer,
        settings: &TrendyolSettings,
        requests_per_10s: u32,
    ) -> Result<Self, Error> {
        Ok(TrendyolOrders {
            api: BasicJsonApi::new(
                http,
                PROVIDER,
                &settings.api_key,
                &settings.api_secret,
                &settings.user_agent,
            )?,
            base: settings.api_base.clone(),
            seller_id: settings.seller_id.clone(),
            list: Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(requests_per_10s, settings.rate_window),
            tracking: Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(requests_per_10s, settings.rate_window),
            package_status: Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(requests_per_10s, settings.rate_window),
            invoice_link: Endpoint::new(PROVIDER, StandardRetryRules)
                .with_spaced_limit(requests_per_10s, settings.rate_window),
            claim_actions: Box::new(claims::ClaimActions::new(settings.group_window)),
        })
    }

    /// Packages last modified in `[start_ms, end_ms]`, oldest change first.
    pub async fn list(
        &self,
        start_ms: i64,
        end_ms: i64,
        page: u32,
        size: u32,
    ) -> Result<PackagePage, Error> {
        let url = format!(
            "{}/integration/order/sellers/{}/orders?startDate={start_ms}&endDate={end_ms}\
             &page={page}&size={}&orderByField=PackageLastModifiedDate&orderByDirection=ASC",
            self.base,
            self.seller_id,
            size.min(MAX_PAGE_SIZE)
        );
        let answer = self
            .api
            .get(&self.list, "trendyol_shipment_packages", url)
            .await?;
        let wire: PageWire = self.api.decode(&answer)?;
        let listed = wire.content.len();
        let mut packages = Vec::with_capacity(listed);
        let mut unreadable = Vec::new();
        for raw in wire.content {
            match package_snapshot(raw.get().as_bytes()) {
                Ok(p) => packages.push(p),
                Err(e) => unreadable.push(Unreadable::new(raw.get().as_bytes(), e)),
            }
        }
        Ok(PackagePage {
            total_elements: wire.total_elements,
            total_pages: wire.total_pages,
            listed,
            packages,
            unreadable,
        })
    }

    /// Tells Trendyol the carrier's tracking number of package `package_id`
    /// (Trendyol's shipment package id, digits only).
    ///
    /// Retries: the call is a write, but the state it sets is the same
    /// however often it is sent, and a repeat that reaches a package which
    /// already carries the number is refused and then read back as
    /// [`TrackingPush::AlreadySet`]. So timeouts and 5xx are retried by the
    /// HTTP layer and the caller may repeat the call freely.
    ///
    /// A refusal is ambiguous at Trendyol (the same message for "delivered"
    /// and "already has a number"), so it is followed by one read of the
    /// package: if it carries `tracking_number`, the answer is `AlreadySet`,
    /// otherwise `Refused` with Trendyol's message and the package status.
    pub async fn update_tracking_number(
        &self,
        package_id: &str,
        tracking_number: &str,
    ) -> Result<TrackingPush, Error> {
        check_package_id(package_id)?;
        check_tracking_number(tracking_number)?;
        let url = format!(
            "{}/integration/order/sellers/{}/shipment-packages/{package_id}/update-tracking-number",
            self.base, self.seller_id
        );
        let body = tracking_body(tracking_number);
        match self
            .api
            .write_json(
                &self.tracking,
                "trendyol_update_tracking_number",
                Method::PUT,
                url,
                body,
                true,
            )
            .await?
        {
            Ok(_) => Ok(TrackingPush::Accepted),
            Err(refusal) => {
                self.classify_refusal(package_id, tracking_number, refusal)
                    .await
            }
        }
    }

    /// Moves package `package_id` to Picking or Invoiced (docs/marketplace-
    /// wire.md T13, updatePackage), with its lines and, for Invoiced, the
    /// invoice number. `Err(refusal)`: Trendyol said no (with its message).
    ///
    /// Retries: the call sets a state, so the HTTP layer may repeat it; a
    /// repeat that Trendyol refuses because the package is already there is
    /// told apart by the caller reading the package back ([`Self::package`]).
    pub async fn update_package_status(
        &self,
        package_id: &str,
        status: PackageStatus,
        lines: &[(String, u32)],
    ) -> Result<Result<(), Refusal>, Error> {
        check_package_id(package_id)?;
        let url = format!(
            "{}/integration/order/sellers/{}/shipment-packages/{package_id}",
            self.base, self.seller_id
        );
        let body = package_status_body(&status, lines)?;
        self.set_state(
            &self.package_status,
            "trendyol_update_package",
            Method::PUT,
            url,
            body,
        )
        .await
    }

    /// Tells Trendyol that the seller cannot supply `lines` (line id,
    /// quantity) of package `package_id`, for reason `reason_id` (one of
    /// [`UNSUPPLIED_REASONS`]); docs/marketplace-wire.md T13. Trendyol then
    /// cancels the package and gives the remaining lines a new one.
    ///
    /// Retries: as [`Self::update_package_status`]; a repeat after a lost
    /// answer meets a cancelled package and is refused, which the caller
    /// tells apart by reading the package back.
    pub async fn unsupply_lines(
        &self,
        package_id: &str,
        lines: &[(String, u32)],
        reason_id: u16,
    ) -> Result<Result<(), Refusal>, Error> {
        check_package_id(package_id)?;
        let url = format!(
            "{}/integration/order/sellers/{}/shipment-packages/{package_id}/items/unsupplied",
            self.base, self.seller_id
        );
        let body = unsupplied_body(lines, reason_id)?;
        self.set_state(
            &self.package_status,
            "trendyol_unsupplied",
            Method::PUT,
            url,
            body,
        )
        .await
    }

    /// Gives Trendyol the link of package `package_id`'s invoice
    /// (sendInvoiceLink, docs/marketplace-wire.md T13); Trendyol e-mails it
    /// to the buyer. Trendyol answers 409 when the package has an invoice
    /// already (ours, when a lost answer is repeated) or the link was given
    /// to another package: the caller reads the package back.
    pub async fn send_invoice_link(
        &self,
        package_id: &str,
        invoice_link: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        check_package_id(package_id)?;
        let url = format!(
            "{}/integration/sellers/{}/seller-invoice-links",
            self.base, self.seller_id
        );
        let body = invoice_link_body(package_id, invoice_link)?;
        self.set_state(
            &self.invoice_link,
            "trendyol_send_invoice_link",
            Method::POST,
            url,
            body,
        )
        .await
    }

    /// A write that sets a state (so the HTTP layer may repeat it);
    /// `Err(refusal)`: Trendyol said no, with its message.
    async fn set_state(
        &self,
        endpoint: &Endpoint,
        operation: &'static str,
        method: Method,
        url: String,
        body: Bytes,
    ) -> Result<Result<(), Refusal>, Error> {
        Ok(self
            .api
            .write_json(endpoint, operation, method, url, body, true)
            .await?
            .map(|_| ()))
    }

    /// Package `package_id` as Trendyol has it now (`None`: not found in
    /// the last week, where Trendyol looks without dates).
    pub async fn package(&self, package_id: &str) -> Result<Option<OrderSnapshot>, Error> {
        check_package_id(package_id)?;
        let url = format!(
            "{}/integration/order/sellers/{}/orders?shipmentPackageIds={package_id}&page=0&size=1",
            self.base, self.seller_id
        );
        let Some(answer) = self
            .api
            .get_if_known(&self.list, "trendyol_package", url)
            .await?
        else {
            return Ok(None);
        };
        let wire: PageWire = self.api.decode(&answer)?;
        for raw in wire.content {
            let snap = package_snapshot(raw.get().as_bytes()).map_err(|e| {
                Error::Store(format!("Trendyol package {package_id} unreadable: {e}"))
            })?;
            if snap.package_id.as_deref() == Some(package_id) {
                return Ok(Some(snap));
            }
        }
        Ok(None)
    }

    async fn classify_refusal(
        &self,
        package_id: &str,
        tracking_number: &str,
        refusal: Refusal,
    ) -> Result<TrackingPush, Error> {
        // No dates: Trendyol then looks at the last week, which covers a
        // package being shipped now.
        let url = format!(
            "{}/integration/order/sellers/{}/orders?shipmentPackageIds={package_id}&page=0&size=1",
            self.base, self.seller_id
        );
        let answer = self
            .api
            .get_if_known(&self.list, "trendyol_tracking_check", url)
            .await?;
        let carried = match answer {
            Some(answer) => {
                let wire: PageWire = self.api.decode(&answer)?;
                wire.content
                    .iter()
                    .find_map(|raw| carried_tracking(raw.get().as_bytes(), package_id))
            }
            None => None,
        };
        Ok(classify(refusal, carried, tracking_number))
    }
}

/// What a package read back says about its tracking number: its status and
/// the numbers it carries, when it is package `package_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Carried {
    status: Option<String>,
    numbers: Vec<String>,
}

fn carried_tracking(raw: &[u8], package_id: &str) -> Option<Carried> {
    let v: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let text = |k: &str| match v.get(k)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if text("id")? != package_id {
        return None;
    }
    Some(Carried {
        status: text("status").or_else(|| text("shipmentPackageStatus")),
        // UNCONFIRMED which field shows a seller's number on the TR
        // storefront: v3 says `cargoSenderNumber`; accept either.
        numbers: ["cargoSenderNumber", "cargoTrackingNumber"]
            .iter()
            .filter_map(|k| text(k))
            .collect(),
    })
}

fn classify(refusal: Refusal, carried: Option<Carried>, tracking_number: &str) -> TrackingPush {
    match carried {
        Some(c) if c.numbers.iter().any(|n| n == tracking_number) => TrackingPush::AlreadySet,
        Some(c) => TrackingPush::Refused(format!(
            "{} (HTTP {}; package status {})",
            refusal.message,
            refusal.status,
            c.status.as_deref().unwrap_or("unknown")
        )),
        None => TrackingPush::Refused(format!(
            "{} (HTTP {}; package not found in the last week)",
            refusal.message, refusal.status
        )),
    }
}

/// The statuses a seller sets on a package (T13); the rest come from
/// Trendyol and the carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageStatus {
    Picking,
    Invoiced { invoice_number: String },
}

impl PackageStatus {
    pub fn word(&self) -> &'static str {
        match self {
            PackageStatus::Picking => "Picking",
            PackageStatus::Invoiced { .. } => "Invoiced",
        }
    }
}

/// Longest invoice number we send (e-Arşiv/e-Fatura numbers are 16
/// characters; Trendyol publishes no limit).
pub const MAX_INVOICE_NUMBER_LEN: usize = 32;

/// `{"status", "lines": [{"lineId", "quantity"}], "params": {"invoiceNumber"}}`
/// (T13): line ids are numbers on the wire.
fn package_status_body(status: &PackageStatus, lines: &[(String, u32)]) -> Result<Bytes, Error> {
    let mut body = serde_json::json!({"status": status.word(), "lines": wire_lines(lines)?});
    if let PackageStatus::Invoiced { invoice_number } = status {
        if invoice_number.is_empty()
            || invoice_number.len() > MAX_INVOICE_NUMBER_LEN
            || !invoice_number.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::validation(
                "invoiceNumber",
                "1-32 printable ASCII characters without spaces",
            ));
        }
        body["params"] = serde_json::json!({"invoiceNumber": invoice_number});
    }
    Ok(Bytes::from(body.to_string()))
}

/// Trendyol's reasons for lines not supplied (T13, CONFIRMED
/// developers.trendyol.com "Tedarik Edememe Bildirimi"): id and name.
pub const UNSUPPLIED_REASONS: [(u16, &str); 6] = [
    (500, "Stok tükendi"),
    (501, "Kusurlu/Defolu/Bozuk Ürün"),
    (502, "Hatalı Fiyat"),
    (504, "Entegrasyon Hatası"),
    (505, "Toplu Alım"),
    (506, "Mücbir Sebep"),
];

/// `{"lines": [{"lineId", "quantity"}], "reasonId"}` (T13).
fn unsupplied_body(lines: &[(String, u32)], reason_id: u16) -> Result<Bytes, Error> {
    if !UNSUPPLIED_REASONS.iter().any(|(id, _)| *id == reason_id) {
        return Err(Error::validation(
            "reasonId",
            "one of Trendyol's reasons: 500, 501, 502, 504, 505, 506",
        ));
    }
    if lines.is_empty() {
        return Err(Error::validation("lines", "at least one line"));
    }
    Ok(Bytes::from(
        serde_json::json!({"lines": wire_lines(lines)?, "reasonId": reason_id}).to_string(),
    ))
}

/// Longest invoice link we send (Trendyol publishes no limit).
pub const MAX_INVOICE_LINK_LEN: usize = 1024;

/// An `https://` URL without spaces or control characters, at most
/// [`MAX_INVOICE_LINK_LEN`]: what a buyer's mail can carry.
pub fn check_invoice_link(link: &str) -> Result<(), Error> {
    let ok = link.len() <= MAX_INVOICE_LINK_LEN
        && link
            .strip_prefix("https://")
            .is_some_and(|rest| rest.len() > 3 && rest.contains('.'))
        && link.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "invoiceLink",
            "an https:// URL of at most 1024 printable ASCII characters",
        ))
    }
}

/// `{"invoiceLink", "shipmentPackageId"}` (T13; `invoiceNumber` and
/// `invoiceDateTime` are required only for micro-export packages and are
/// not sent).
fn invoice_link_body(package_id: &str, invoice_link: &str) -> Result<Bytes, Error> {
    check_invoice_link(invoice_link)?;
    let id: u64 = package_id.parse().map_err(|_| {
        Error::validation("package_id", "a Trendyol shipment package id is a number")
    })?;
    Ok(Bytes::from(
        serde_json::json!({"invoiceLink": invoice_link, "shipmentPackageId": id}).to_string(),
    ))
}

/// `[{"lineId", "quantity"}]`: line ids are numbers on the wire.
fn wire_lines(lines: &[(String, u32)]) -> Result<Vec<serde_json::Value>, Error> {
    lines
        .iter()
        .map(|(id, quantity)| {
            let id: u64 = id
                .parse()
                .map_err(|_| Error::validation("lines", "Trendyol line ids are numbers"))?;
            Ok(serde_json::json!({"lineId": id, "quantity": quantity}))
        })
        .collect()
}

/// UNCONFIRMED: the Turkish storefront's v2 body.
fn tracking_body(tracking_number: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "trackingNumber": tracking_number }).to_string())
}

fn check_package_id(package_id: &str) -> Result<(), Error> {
    if package_id.is_empty()
        || package_id.len() > 19
        || !package_id.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Error::validation(
            "package_id",
            "a Trendyol shipment package id is a number",
        ));
    }
    Ok(())
}

/// Printable ASCII without spaces, at most [`MAX_TRACKING_NUMBER_LEN`].
pub(crate) fn check_tracking_number(tracking_number: &str) -> Result<(), Error> {
    if tracking_number.is_empty()
        || tracking_number.len() > MAX_TRACKING_NUMBER_LEN
        || !tracking_number.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Error::validation(
            "tracking_number",
            "a tracking number is 1-64 printable ASCII characters without spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_reads_into_a_snapshot() {
        let body = br#"{"id": 3330111, "orderNumber": "10654411111", "status": "Created",
            "shipmentPackageStatus": "Created", "orderDate": 1795690000000,
            "lastModifiedDate": 1795700000000, "lines": [
              {"id": 55, "quantity": 2, "merchantSku": "SKU-1", "barcode": "869",
               "orderLineItemStatusName": "Created", "price": 10.5},
              {"id": "56", "quantity": 1, "merchantSku": ""}]}"#;
        let s = package_snapshot(body).unwrap();
        assert_eq!(s.package_id.as_deref(), Some("3330111"));
        assert_eq!(s.order_number, "10654411111");
        assert_eq!(s.occurred_ms, 1_795_700_000_000);
        assert_eq!(s.lines[0].sku.as_deref(), Some("SKU-1"));
        assert_eq!(s.lines[0].quantity, 2);
        assert_eq!(s.lines[1].line_id, "56");
        assert_eq!(s.lines[1].sku, None, "an empty merchantSku is no SKU");
    }

    #[test]
    fn a_package_carries_exact_money_cargo_and_the_buyer_apart() {
        let body = r#"{"id": 3330111, "orderNumber": "10654411111", "status": "Picking",
            "lastModifiedDate": 1795700000000, "currencyCode": "TRY",
            "grossAmount": 249.80, "totalDiscount": 20.0, "totalTyDiscount": 0,
            "totalPrice": 229.8, "customerId": 991, "customerFirstName": "Ayşe",
            "customerLastName": "Yılmaz", "customerEmail": "pf+1@trendyolmail.com",
            "taxNumber": null, "identityNumber": "11111111111",
            "cargoProviderName": "Aras Kargo Marketplace", "cargoTrackingNumber": 7330000000001,
            "cargoTrackingLink": "https://kargotakip.trendyol.com/?token=x",
            "agreedDeliveryDate": 1795900000000, "invoiceLink": null,
            "shipmentAddress": {"firstName": "Ayşe", "lastName": "Yılmaz", "address1": "Moda Cad. 5",
              "address2": "", "district": "Kadıköy", "city": "İstanbul", "postalCode": "34710",
              "countryCode": "TR", "phone": "05321234567", "fullName": "Ayşe Yılmaz"},
            "invoiceAddress": {"fullName": "Ayşe Yılmaz", "fullAddress": "Moda Cad. 5 Kadıköy İstanbul",
              "company": "Acme Ltd", "taxOffice": "Kadıköy", "taxNumber": "1234567890"},
            "lines": [{"id": 55, "quantity": 2, "merchantSku": "SKU-1", "barcode": "869",
               "productName": "Kupa", "currencyCode": "TRY", "amount": 124.90,
               "discount": 10.00, "tyDiscount": 0, "price": 114.90, "vatBaseAmount": 20}]}"#;
        let s = package_snapshot(body.as_bytes()).unwrap();
        let d = s.details.unwrap();
        let try_ = |minor| Some(crate::money::Money::new(minor, crate::money::Currency::TRY));
        assert_eq!(d.package.total, try_(22980));
        assert_eq!(d.package.gross, try_(24980));
        assert_eq!(d.package.discount, try_(2000));
        assert_eq!(d.package.tracking_number.as_deref(), Some("7330000000001"));
        assert_eq!(d.package.agreed_delivery_ms, Some(1_795_900_000_000));
        assert!(d.package.problems.is_empty(), "{:?}", d.package.problems);
        let line = &d.lines["55"];
        assert_eq!(line.unit_price, try_(12490));
        assert_eq!(line.unit_sale_price, try_(11490));
        assert_eq!(line.unit_discount, try_(1000));
        assert_eq!(line.vat_rate.as_deref(), Some("20"));
        assert_eq!(line.amount(), try_(22980));
        let p = d.personal.unwrap();
        assert_eq!(p.buyer_name.as_deref(), Some("Ayşe Yılmaz"));
        let ship = p.shipping_address.unwrap();
        assert_eq!(ship.phone.as_deref(), Some("05321234567"));
        assert_eq!(ship.address.as_deref(), Some("Moda Cad. 5"));
        let inv = p.invoice_address.unwrap();
        assert_eq!(inv.tax_number.as_deref(), Some("1234567890"));
        assert_eq!(inv.tax_office.as_deref(), Some("Kadıköy"));
        assert_eq!(inv.identity_number.as_deref(), Some("11111111111"));
    }

    #[test]
    fn money_that_is_not_exact_is_a_problem_not_a_rounding() {
        let body = br#"{"id": 1, "orderNumber": "1", "status": "Created", "currencyCode": "TRY",
            "totalPrice": 10.005, "lines": [{"id": 2, "quantity": 1, "price": 10.0}]}"#;
        let d = package_snapshot(body).unwrap().details.unwrap();
        assert_eq!(d.package.total, None);
        assert!(
            d.package.problems[0].starts_with("totalPrice"),
            "{:?}",
            d.package.problems
        );
    }

    #[test]
    fn odd_packages_are_errors_not_panics() {
        assert!(package_snapshot(br#"{"id": [], "orderNumber": "1", "status": "x"}"#).is_err());
        assert!(package_snapshot(br#"{"id": 1, "status": "Created"}"#).is_err());
        assert!(package_snapshot(br#"{"id": 1, "orderNumber": "1"}"#).is_err());
        assert!(package_snapshot(
            br#"{"id": 1, "orderNumber": "1", "status": "Created",
            "lines": [{"id": 1, "quantity": -1}]}"#
        )
        .is_err());
        assert!(package_snapshot(b"[]").is_err());
    }

    fn refusal() -> Refusal {
        Refusal {
            status: 400,
            message: "Shipment Update Edilebilir Bir Durumda Değil.".into(),
        }
    }

    #[test]
    fn the_package_status_body_is_the_update_package_shape() {
        let lines = [("55".to_string(), 2)];
        let body: serde_json::Value =
            serde_json::from_slice(&package_status_body(&PackageStatus::Picking, &lines).unwrap())
                .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"status": "Picking", "lines": [{"lineId": 55, "quantity": 2}]})
        );
        let invoiced = PackageStatus::Invoiced {
            invoice_number: "GIB2026000000001".into(),
        };
        let body: serde_json::Value =
            serde_json::from_slice(&package_status_body(&invoiced, &lines).unwrap()).unwrap();
        assert_eq!(body["params"]["invoiceNumber"], "GIB2026000000001");
        let blank = PackageStatus::Invoiced {
            invoice_number: "a b".into(),
        };
        assert!(package_status_body(&blank, &lines).is_err());
        assert!(package_status_body(&PackageStatus::Picking, &[("x".into(), 1)]).is_err());
    }

    #[test]
    fn the_unsupplied_and_invoice_link_bodies_are_the_documented_shapes() {
        let lines = [("55".to_string(), 1)];
        let body: serde_json::Value =
            serde_json::from_slice(&unsupplied_body(&lines, 500).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"lines": [{"lineId": 55, "quantity": 1}], "reasonId": 500})
        );
        for bad in [0, 503, 507] {
            assert!(unsupplied_body(&lines, bad).is_err(), "{bad}");
        }
        assert!(unsupplied_body(&[], 500).is_err());
        let body: serde_json::Value = serde_json::from_slice(
            &invoice_link_body("3700000001", "https://fatura.example.com/a.pdf").unwrap(),
        )
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"invoiceLink": "https://fatura.example.com/a.pdf",
                "shipmentPackageId": 3_700_000_001u64})
        );
        for bad in [
            "http://fatura.example.com/a.pdf",
            "https://",
            "https://a b.com/x",
            "ftp://x.com",
        ] {
            assert!(check_invoice_link(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_tracking_body_is_the_tr_v2_shape() {
        let body: serde_json::Value = serde_json::from_slice(&tracking_body("ARS123\"x")).unwrap();
        assert_eq!(body, serde_json::json!({"trackingNumber": "ARS123\"x"}));
    }

    #[test]
    fn ids_and_numbers_are_checked_before_sending() {
        assert!(check_package_id("3700000001").is_ok());
        for bad in ["", "12a", "1/2", "../x", "12345678901234567890"] {
            assert!(check_package_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_tracking_number("1234567890").is_ok());
        for bad in ["", "12 34", "12\n", &"9".repeat(65), "ş1"] {
            assert!(check_tracking_number(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_refusal_is_already_set_only_when_the_package_carries_our_number() {
        let pkg = br#"{"id": 3700000001, "status": "Picking", "cargoSenderNumber": "ARS1",
            "cargoTrackingNumber": 7330000001}"#;
        let c = carried_tracking(pkg, "3700000001");
        assert_eq!(
            classify(refusal(), c.clone(), "ARS1"),
            TrackingPush::AlreadySet
        );
        assert_eq!(
            classify(refusal(), c.clone(), "7330000001"),
            TrackingPush::AlreadySet
        );
        match classify(refusal(), c, "ARS2") {
            TrackingPush::Refused(m) => {
                assert!(m.contains("Edilebilir"), "{m}");
                assert!(m.contains("Picking"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        let delivered = br#"{"id": 3700000001, "status": "Delivered"}"#;
        assert!(matches!(
            classify(refusal(), carried_tracking(delivered, "3700000001"), "ARS1"),
            TrackingPush::Refused(m) if m.contains("Delivered")
        ));
        assert_eq!(carried_tracking(delivered, "3700000002"), None);
        assert!(matches!(
            classify(refusal(), None, "ARS1"),
            TrackingPush::Refused(m) if m.contains("not found")
        ));
    }
}
