//! Hepsiburada's paid-order list on the OMS host (docs/marketplace-wire.md
//! H6): one item per order *line* waiting to be
//! packed, `offset`/`limit` mandatory (≤ 100), `begindate`/`enddate` windows of
//! at most 24 hours (a wider one is silently cut to 24 h — we never send one).
//!
//! UNCONFIRMED (kept in this file): the dates' time zone (read and written
//! as Turkey time, UTC+03:00), the item date format (ISO 8601), and the
//! status word of listed lines (`Open`).
//!
//! Tracking numbers (docs/marketplace-wire.md H7): a package we ship with
//! our own carrier ("Mağaza Hesabı" model) is moved to InTransit with its
//! tracking data: CONFIRMED `POST /packages/merchantid/{merchantId}/
//! packagenumber/{packageNumber}/intransit` with the required body fields
//! `shippedDate`, `estimatedArrivalDate` (`2020-04-16T10:14:17.707Z`),
//! `trackingUrl`, `trackingNumber`, `trackingPhoneNumber`, `tax` (0), `cost`
//! (0), `deci`; dates no older than 7 days and not before packaging.
//! CONFIRMED `GET /packages/merchantid/{merchantId}/packagenumber/{no}` →
//! one object `{packageNumber, barcode, status, cargoCompany,
//! trackingInfoCode, trackingInfoUrl}` (an array is read too), 404
//! `{"message": "cannot find package …"}`.
//! UNCONFIRMED (kept in this file): the success answer (any 2xx is taken;
//! a third-party SDK says a bare string), the refusal texts and status for a
//! package already InTransit, that `deci` is a JSON number, and that the
//! read-back shows our number in `trackingInfoCode`.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::Method;
use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};

use crate::config::HepsiburadaSettings;
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::{LineSnapshot, OrderSnapshot};
use crate::domain::marketplace_order_details::{
    Address, LineFacts, PackageFacts, PersonalData, SnapshotDetails,
};
use crate::error::Error;
use crate::providers::http::{Endpoint, HttpLayer, StandardRetryRules};
use crate::providers::marketplace::http::{BasicJsonApi, Refusal, TrackingPush, Unreadable};
use crate::providers::marketplace::trendyol::orders::check_tracking_number;
use crate::providers::marketplace::wire_money::{AmountWire, Decimal, MoneyReader};

/// The record-based accounting service (H14), read by reconcile.
pub mod accounting;
/// The cancelled-line list (H15), read by order-poll.
pub mod cancelled;
/// Claims (returns, H16): listed by order-poll, accepted or rejected by
/// marketplace-orders.
pub mod claims;
/// One order by its number, asked by reconcile.
pub mod detail;
/// Packaging of lines and the package list it is read back from (H13).
pub mod packages;

const PROVIDER: &str = "hepsiburada";
pub const MAX_LIMIT: u32 = 100;

/// `yyyy-MM-dd HH:mm` in Turkey time; minutes, so callers align windows to
/// whole minutes.
pub fn hb_date(ms: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .to_offset(UtcOffset::from_hms(3, 0, 0).ok()?);
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    id: String,
    order_number: String,
    #[serde(default)]
    order_date: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(rename = "merchantSKU", alias = "merchantSku", default)]
    merchant_sku: Option<String>,
    quantity: u32,
    // The whole line (docs/marketplace-wire.md H6, item fields; H12).
    #[serde(default)]
    product_barcode: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// "Kalemin birim tutarı" / "Kalemin toplam tutarı": read as what the
    /// buyer pays (UNCONFIRMED whether before or after the discounts).
    #[serde(default)]
    unit_price: AmountWire,
    #[serde(default)]
    total_price: AmountWire,
    #[serde(default)]
    hb_discount: DiscountWire,
    #[serde(default)]
    merchant_discount: DiscountWire,
    #[serde(default)]
    vat: Decimal,
    #[serde(default)]
    vat_rate: Decimal,
    #[serde(default)]
    commission: AmountWire,
    #[serde(default)]
    commission_rate: Decimal,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    customer_name: Option<String>,
    #[serde(default)]
    shipping_address: Option<AddressWire>,
    #[serde(default)]
    invoice: Option<InvoiceWire>,
    #[serde(default)]
    cargo_company: Option<String>,
    #[serde(default)]
    delivery_type: Option<String>,
    #[serde(default)]
    package_number: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiscountWire {
    #[serde(default)]
    unit_price: AmountWire,
}

/// `shippingAddress` and `invoice.address` (CONFIRMED names, H6).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddressWire {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    district: Option<String>,
    #[serde(default)]
    town: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceWire {
    #[serde(default)]
    address: Option<AddressWire>,
    #[serde(default)]
    tax_number: Option<String>,
    #[serde(default)]
    tax_office: Option<String>,
    #[serde(default)]
    turkish_identity_number: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl AddressWire {
    fn into_address(self) -> Address {
        Address {
            name: non_empty(self.name),
            company: None,
            address: non_empty(self.address),
            district: non_empty(self.district),
            town: non_empty(self.town),
            city: non_empty(self.city),
            postal_code: non_empty(self.postal_code),
            country_code: non_empty(self.country_code),
            phone: non_empty(self.phone_number),
            email: non_empty(self.email),
            tax_office: None,
            tax_number: None,
            identity_number: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageWire {
    total_count: u64,
    #[serde(default)]
    items: Vec<Box<serde_json::value::RawValue>>,
}

/// Each raw list item parsed; the ones that cannot be read kept apart.
pub(super) fn parse_items<T>(
    items: Vec<Box<serde_json::value::RawValue>>,
    parse: impl Fn(&[u8]) -> Result<T, serde_json::Error>,
) -> (Vec<T>, Vec<Unreadable>) {
    let mut parsed = Vec::with_capacity(items.len());
    let mut unreadable = Vec::new();
    for raw in items {
        match parse(raw.get().as_bytes()) {
            Ok(t) => parsed.push(t),
            Err(e) => unreadable.push(Unreadable::new(raw.get().as_bytes(), e)),
        }
    }
    (parsed, unreadable)
}

/// One page of order lines.
#[derive(Debug)]
pub struct LinePage {
    /// Lines in the whole window (not orders).
    pub total_count: u64,
    pub lines: Vec<OrderLine>,
    pub unreadable: Vec<Unreadable>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub order_number: String,
    pub order_ms: Option<i64>,
    pub line: LineSnapshot,
    /// Money and product facts of the line.
    pub facts: LineFacts,
    pub currency: Option<crate::money::Currency>,
    pub cargo_provider: Option<String>,
    pub delivery_type: Option<String>,
    /// Money that could not be read exactly.
    pub problems: Vec<String>,
    /// The buyer, as this line repeats it.
    pub personal: PersonalData,
}

fn parse_line(raw: &[u8]) -> Result<OrderLine, serde_json::Error> {
    let item: Item = serde_json::from_slice(raw)?;
    let mut money = MoneyReader::new(None);
    let what = |field: &str| format!("line {} {field}", item.id);
    let unit_sale_price = money.amount(&what("unitPrice"), &item.unit_price);
    let facts = LineFacts {
        barcode: non_empty(item.product_barcode.clone()),
        product_name: non_empty(item.name.clone()),
        quantity: item.quantity,
        unit_price: None,
        unit_discount: money.amount(
            &what("merchantDiscount.unitPrice"),
            &item.merchant_discount.unit_price,
        ),
        unit_marketplace_discount: money
            .amount(&what("hbDiscount.unitPrice"), &item.hb_discount.unit_price),
        unit_sale_price,
        line_total: money.amount(&what("totalPrice"), &item.total_price),
        vat_rate: item.vat_rate.normalized(),
        vat: money.money(&what("vat"), &item.vat),
        commission: money.amount(&what("commission"), &item.commission),
        commission_rate: item.commission_rate.normalized(),
        package_number: non_empty(item.package_number.clone()),
    };
    let invoice_address = item.invoice.map(|inv| {
        let mut a = inv.address.unwrap_or_default().into_address();
        a.tax_number = non_empty(inv.tax_number);
        a.tax_office = non_empty(inv.tax_office);
        a.identity_number = non_empty(inv.turkish_identity_number);
        a
    });
    let shipping_address = item.shipping_address.map(AddressWire::into_address);
    let personal = PersonalData {
        buyer_name: non_empty(item.customer_name),
        buyer_email: shipping_address.as_ref().and_then(|a| a.email.clone()),
        customer_id: non_empty(item.customer_id),
        shipping_address,
        invoice_address,
    };
    Ok(OrderLine {
        order_ms: item.order_date.as_deref().and_then(|d| {
            OffsetDateTime::parse(d, &time::format_description::well_known::Iso8601::DEFAULT)
                .ok()
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        }),
        order_number: item.order_number,
        line: LineSnapshot {
            line_id: item.id,
            sku: item.merchant_sku.filter(|s| !s.is_empty()),
            quantity: item.quantity,
            marketplace_status: item.status,
        },
        facts,
        currency: money.currency,
        cargo_provider: non_empty(item.cargo_company),
        delivery_type: non_empty(item.delivery_type),
        problems: money.problems,
        personal,
    })
}

/// Lines grouped into one snapshot per order, in first-seen order. Listed
/// lines are paid and waiting to be packed: the order's status is `Open`.
/// Hepsiburada lists no order total, so the lines are checked one by one
/// (total = unit price × quantity) and the order's total is not declared.
pub fn snapshots(lines: Vec<OrderLine>, seen_ms: i64) -> Vec<OrderSnapshot> {
    let mut out: Vec<OrderSnapshot> = Vec::new();
    for l in lines {
        let i = match out.iter().position(|s| s.order_number == l.order_number) {
            Some(i) => i,
            None => {
                out.push(OrderSnapshot {
                    marketplace: Marketplace::Hepsiburada,
                    order_number: l.order_number.clone(),
                    package_id: None,
                    marketplace_status: "Open".into(),
                    lines: Vec::new(),
                    occurred_ms: l.order_ms.unwrap_or(seen_ms),
                    details: Some(Box::new(SnapshotDetails {
                        package: PackageFacts {
                            currency: l.currency,
                            cargo_provider: l.cargo_provider.clone(),
                            delivery_type: l.delivery_type.clone(),
                            ..Default::default()
                        },
                        lines: BTreeMap::new(),
                        personal: Some(l.personal.clone()),
                    })),
                });
                out.len() - 1
            }
        };
        let snap = &mut out[i];
        if let Some(d) = snap.details.as_mut() {
            d.lines.insert(l.line.line_id.clone(), l.facts);
            for p in l.problems {
                if !d.package.problems.contains(&p) {
                    d.package.problems.push(p);
                }
            }
        }
        snap.lines.push(l.line);
    }
    out
}

pub struct HepsiburadaOrders {
    api: BasicJsonApi,
    oms_base: String,
    /// The accounting service's host (H14).
    finance_base: String,
    merchant_id: String,
    list: Endpoint,
    /// intransit and the package read-back (order services: 1,000 req/s).
    tracking: Endpoint,
}

impl HepsiburadaOrders {
    pub fn new(http: HttpLayer, settings: &HepsiburadaSettings) -> Result<Self, Error> {
        Ok(HepsiburadaOrders {
            api: BasicJsonApi::new(
                http,
                PROVIDER,
                &settings.merchant_id,
                &settings.service_key,
                &settings.user_agent,
            )?,
            oms_base: settings.oms_base.clone(),
            finance_base: settings.finance_base.clone(),
            merchant_id: settings.merchant_id.clone(),
            // 1,000 requests per second allowed on order services; a poll
            // never comes near it, the limit only guards a runaway loop.
            list: Endpoint::new(PROVIDER, StandardRetryRules).with_rate_limit(100),
            tracking: Endpoint::new(PROVIDER, StandardRetryRules).with_rate_limit(100),
        })
    }

    /// Lines added in `[begin_ms, end_ms)`, both whole minutes, at most 24 h apart.
    pub async fn list(
        &self,
        begin_ms: i64,
        end_ms: i64,
        offset: u64,
        limit: u32,
    ) -> Result<LinePage, Error> {
        let (total_count, items) = self
            .window_page(
                "",
                "hepsiburada_order_lines",
                (begin_ms, end_ms),
                offset,
                limit.min(MAX_LIMIT),
            )
            .await?;
        let (lines, unreadable) = parse_items(items, parse_line);
        Ok(LinePage {
            total_count,
            lines,
            unreadable,
        })
    }

    /// One page of a dated list on the OMS host (`/orders/merchantid/{id}`
    /// followed by `suffix`): its `totalCount` and raw items. The window
    /// is never wider than 24 h (Hepsiburada would cut it silently).
    pub(super) async fn window_page(
        &self,
        suffix: &str,
        operation: &'static str,
        (begin_ms, end_ms): (i64, i64),
        offset: u64,
        limit: u32,
    ) -> Result<(u64, Vec<Box<serde_json::value::RawValue>>), Error> {
        if end_ms - begin_ms > Marketplace::Hepsiburada.max_order_window_ms() {
            return Err(Error::Config(format!(
                "a Hepsiburada {operation} window of {} ms is wider than 24 h (it would be cut silently)",
                end_ms - begin_ms
            )));
        }
        let (Some(begin), Some(end)) = (hb_date(begin_ms), hb_date(end_ms)) else {
            return Err(Error::Config(
                "order window outside representable dates".into(),
            ));
        };
        let url = format!(
            "{}/orders/merchantid/{}{suffix}?offset={offset}&limit={limit}&begindate={}&enddate={}",
            self.oms_base,
            self.merchant_id,
            begin.replace(' ', "%20"),
            end.replace(' ', "%20"),
        );
        let answer = self.api.get(&self.list, operation, url).await?;
        let wire: PageWire = self.api.decode(&answer)?;
        Ok((wire.total_count, wire.items))
    }

    /// Moves package `package_number` to InTransit with our carrier's
    /// tracking data (the "Mağaza Hesabı" model: the package ships with the
    /// merchant's own contracted carrier).
    ///
    /// Retries: repeating the call sets the same state; a repeat that finds
    /// the package already InTransit with this number is read back as
    /// [`TrackingPush::AlreadySet`], so ambiguous failures are retried.
    /// Any refusal is followed by one read of the package: it carries
    /// `tracking_number` → `AlreadySet`, otherwise `Refused`.
    pub async fn send_tracking_number(
        &self,
        package_number: &str,
        tracking_number: &str,
        shipment: &InTransit,
    ) -> Result<TrackingPush, Error> {
        check_package_number(package_number)?;
        check_tracking_number(tracking_number)?;
        let body = intransit_body(tracking_number, shipment)?;
        let url = format!(
            "{}/packages/merchantid/{}/packagenumber/{package_number}/intransit",
            self.oms_base, self.merchant_id
        );
        match self
            .api
            .write_json(
                &self.tracking,
                "hepsiburada_intransit",
                Method::POST,
                url,
                body,
                true,
            )
            .await?
        {
            Ok(_) => Ok(TrackingPush::Accepted),
            Err(refusal) => {
                let url = format!(
                    "{}/packages/merchantid/{}/packagenumber/{package_number}",
                    self.oms_base, self.merchant_id
                );
                let carried = match self
                    .api
                    .get_if_known(&self.tracking, "hepsiburada_package_check", url)
                    .await?
                {
                    Some(answer) => {
                        let rows: Vec<PackageInfo> = match self.api.decode(&answer)? {
                            OneOrMany::Many(rows) => rows,
                            OneOrMany::One(row) => vec![row],
                        };
                        rows.into_iter().find(|r| {
                            r.package_number
                                .as_deref()
                                .is_none_or(|n| n == package_number)
                        })
                    }
                    None => None,
                };
                Ok(classify(refusal, carried, tracking_number))
            }
        }
    }
}

impl HepsiburadaOrders {
    /// Package `package_number` as Hepsiburada has it for an invoice link:
    /// its status, and whether it is still in the missing-invoice list
    /// (docs/marketplace-wire.md H13). `None`: Hepsiburada does not know
    /// the package.
    pub async fn invoice_state(
        &self,
        package_number: &str,
    ) -> Result<Option<HbInvoiceState>, Error> {
        check_package_number(package_number)?;
        let url = format!(
            "{}/packages/merchantid/{}/packagenumber/{package_number}",
            self.oms_base, self.merchant_id
        );
        let Some(answer) = self
            .api
            .get_if_known(&self.tracking, "hepsiburada_package_check", url)
            .await?
        else {
            return Ok(None);
        };
        let rows: Vec<PackageInfo> = match self.api.decode(&answer)? {
            OneOrMany::Many(rows) => rows,
            OneOrMany::One(row) => vec![row],
        };
        let Some(info) = rows.into_iter().find(|r| {
            r.package_number
                .as_deref()
                .is_none_or(|n| n == package_number)
        }) else {
            return Ok(None);
        };
        let missing = self
            .missing_invoices()
            .await?
            .iter()
            .any(|m| m.package_number == package_number);
        Ok(Some(HbInvoiceState {
            status: info.status.unwrap_or_else(|| "unknown".into()),
            missing_invoice: missing,
        }))
    }

    /// Every package Hepsiburada lists as missing an invoice
    /// (`GET /packages/merchantid/{id}/missing-invoice`, paged by
    /// `offset`/`limit`: UNCONFIRMED paging and item fields).
    pub async fn missing_invoices(&self) -> Result<Vec<MissingInvoice>, Error> {
        let mut out = Vec::new();
        for page in 0..MISSING_INVOICE_MAX_PAGES {
            let offset = page * u64::from(MAX_LIMIT);
            let url = format!(
                "{}/packages/merchantid/{}/missing-invoice?offset={offset}&limit={MAX_LIMIT}",
                self.oms_base, self.merchant_id
            );
            let answer = self
                .api
                .get(&self.tracking, "hepsiburada_missing_invoice", url)
                .await?;
            let items = match self.api.decode(&answer)? {
                MissingPage::Items(items) => items,
                MissingPage::Paged { items } => items,
            };
            let n = items.len();
            out.extend(items.into_iter().filter_map(|i| {
                Some(MissingInvoice {
                    package_number: non_empty(i.package_number)?,
                    order_number: non_empty(i.order_number),
                })
            }));
            if n < MAX_LIMIT as usize {
                return Ok(out);
            }
        }
        Err(Error::Config(format!(
            "Hepsiburada lists more than {} packages missing an invoice",
            MISSING_INVOICE_MAX_PAGES * u64::from(MAX_LIMIT)
        )))
    }

    /// Sends the invoice link of package `package_number` (`PUT
    /// …/packagenumber/{no}/invoice`, 204). `Ok(Err)`: Hepsiburada refused
    /// (a package with an invoice already, or not invoiceable): read back.
    /// Repeatable: a repeat of a link that arrived is refused, then read
    /// back as there.
    pub async fn send_invoice_link(
        &self,
        package_number: &str,
        invoice: &HbInvoice,
    ) -> Result<Result<(), Refusal>, Error> {
        check_package_number(package_number)?;
        let body = invoice_body(invoice)?;
        let url = format!(
            "{}/packages/merchantid/{}/packagenumber/{package_number}/invoice",
            self.oms_base, self.merchant_id
        );
        Ok(self
            .api
            .write_json(
                &self.tracking,
                "hepsiburada_invoice_link",
                Method::PUT,
                url,
                body,
                true,
            )
            .await?
            .map(|_| ()))
    }
}

/// At most this many pages of the missing-invoice list are read.
const MISSING_INVOICE_MAX_PAGES: u64 = 50;

/// A package as an invoice link sees it at Hepsiburada.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbInvoiceState {
    pub status: String,
    /// Listed by `missing-invoice`: no invoice there yet.
    pub missing_invoice: bool,
}

/// One item of the missing-invoice list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingInvoice {
    pub package_number: String,
    pub order_number: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum MissingPage {
    Items(Vec<MissingItem>),
    Paged {
        #[serde(alias = "data")]
        items: Vec<MissingItem>,
    },
}

/// UNCONFIRMED item field names (as in the package read and the order list).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MissingItem {
    #[serde(default)]
    package_number: Option<String>,
    #[serde(default)]
    order_number: Option<String>,
}

/// An invoice as Hepsiburada's invoice-link call carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbInvoice {
    /// The durable link (`INVOICE_LINK_TEMPLATE`), https.
    pub link: String,
    /// The GİB invoice number (3-character serial, then the row number).
    pub invoice_number: String,
    /// `arrangementDate`: when the invoice was made (epoch ms).
    pub issued_ms: i64,
}

/// `serialNumber` is the invoice number's 3-character serial, `rowNumber`
/// the rest; `arrangementDate` as `2020-04-16T10:14:17.707Z`. All three
/// UNCONFIRMED (docs/marketplace-wire.md H13).
fn invoice_body(i: &HbInvoice) -> Result<Bytes, Error> {
    if !i.link.starts_with("https://") {
        return Err(Error::validation("invoiceLink", "an https:// link"));
    }
    let n = i.invoice_number.as_str();
    if n.len() < 4 || !n.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            "invoiceNumber",
            "a GİB invoice number (serial and row number, letters and digits)",
        ));
    }
    let Some(date) = hb_instant(i.issued_ms) else {
        return Err(Error::validation(
            "issued_ms",
            "outside representable dates",
        ));
    };
    Ok(Bytes::from(
        serde_json::json!({
            "invoiceLink": i.link,
            "arrangementDate": date,
            "serialNumber": &n[..3],
            "rowNumber": &n[3..],
        })
        .to_string(),
    ))
}

/// The carrier data Hepsiburada's intransit call requires besides the
/// tracking number (docs/marketplace-wire.md H7).
#[derive(Debug, Clone, PartialEq)]
pub struct InTransit {
    /// When the carrier took the parcel (epoch ms); not older than 7 days
    /// and not before packaging, or Hepsiburada refuses.
    pub shipped_ms: i64,
    /// Expected delivery (epoch ms).
    pub estimated_arrival_ms: i64,
    /// The carrier's tracking page for this parcel.
    pub tracking_url: String,
    /// The carrier's customer phone line, as shown to the buyer.
    pub tracking_phone_number: String,
    /// Desi of the parcel.
    pub deci: f64,
}

/// `2020-04-16T10:14:17.707Z`, the documented sample format (UTC).
pub fn hb_instant(ms: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

fn intransit_body(tracking_number: &str, s: &InTransit) -> Result<Bytes, Error> {
    let (Some(shipped), Some(arrival)) =
        (hb_instant(s.shipped_ms), hb_instant(s.estimated_arrival_ms))
    else {
        return Err(Error::validation(
            "shipped_ms",
            "dates outside representable range",
        ));
    };
    if !s.deci.is_finite() || s.deci < 0.0 {
        return Err(Error::validation(
            "deci",
            "desi must be a non-negative number",
        ));
    }
    if s.tracking_url.is_empty() {
        return Err(Error::validation(
            "tracking_url",
            "Hepsiburada requires a tracking URL",
        ));
    }
    Ok(Bytes::from(
        serde_json::json!({
            "shippedDate": shipped,
            "estimatedArrivalDate": arrival,
            "trackingUrl": s.tracking_url,
            "trackingNumber": tracking_number,
            "trackingPhoneNumber": s.tracking_phone_number,
            // "0 gönderilmelidir" for both.
            "tax": 0,
            "cost": 0,
            "deci": s.deci,
        })
        .to_string(),
    ))
}

fn check_package_number(package_number: &str) -> Result<(), Error> {
    if package_number.is_empty()
        || package_number.len() > 40
        || !package_number.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::validation(
            "package_number",
            "a Hepsiburada package number is alphanumeric",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<PackageInfo>),
    One(PackageInfo),
}

/// The documented package read (`GET …/packagenumber/{no}`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageInfo {
    #[serde(default)]
    package_number: Option<String>,
    #[serde(default)]
    status: Option<String>,
    /// UNCONFIRMED that our intransit `trackingNumber` shows here.
    #[serde(default)]
    tracking_info_code: Option<String>,
}

fn classify(refusal: Refusal, carried: Option<PackageInfo>, tracking_number: &str) -> TrackingPush {
    match carried {
        Some(p) if p.tracking_info_code.as_deref() == Some(tracking_number) => {
            TrackingPush::AlreadySet
        }
        Some(p) => TrackingPush::Refused(format!(
            "{} (HTTP {}; package status {})",
            refusal.message,
            refusal.status,
            p.status.as_deref().unwrap_or("unknown")
        )),
        None => TrackingPush::Refused(format!(
            "{} (HTTP {}; package not found)",
            refusal.message, refusal.status
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_turkey_time_minutes() {
        // 2026-11-26T13:33:20Z = 16:33 in Istanbul.
        assert_eq!(
            hb_date(1_795_700_000_000).as_deref(),
            Some("2026-11-26 16:33")
        );
    }

    #[test]
    fn a_line_carries_exact_money_and_the_buyer_apart() {
        let raw = r#"{"id": "a1", "orderNumber": "HB1", "orderDate": "2024-05-11T13:20:30.123+03:00",
            "status": "Open", "merchantSKU": "SKU-1", "productBarcode": "869", "name": "Kupa",
            "quantity": 3, "unitPrice": {"amount": 33.33, "currency": "TRY"},
            "totalPrice": {"amount": 99.99, "currency": "TRY"},
            "hbDiscount": {"unitPrice": {"amount": 0, "currency": "TRY"}},
            "merchantDiscount": {"unitPrice": {"amount": 1.5, "currency": "TRY"}},
            "vat": 16.67, "vatRate": 20.0, "commission": {"amount": 15.0, "currency": "TRY"},
            "commissionRate": 15, "customerName": "Ali Veli", "cargoCompany": "Aras Kargo",
            "shippingAddress": {"name": "Ali Veli", "address": "Bağdat Cad. 1", "town": "Kadıköy",
              "district": "Moda", "city": "İstanbul", "phoneNumber": "05551112233",
              "email": "ali@example.com", "countryCode": "TR"},
            "invoice": {"address": {"name": "Ali Veli", "address": "Bağdat Cad. 1"},
              "taxNumber": "", "taxOffice": "", "turkishIdentityNumber": "11111111111"}}"#;
        let l = parse_line(raw.as_bytes()).unwrap();
        let try_ = |minor| Some(crate::money::Money::new(minor, crate::money::Currency::TRY));
        assert_eq!(l.facts.unit_sale_price, try_(3333));
        assert_eq!(l.facts.line_total, try_(9999));
        assert_eq!(l.facts.unit_discount, try_(150));
        assert_eq!(l.facts.vat, try_(1667));
        assert_eq!(l.facts.commission, try_(1500));
        assert_eq!(l.facts.vat_rate.as_deref(), Some("20"));
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert_eq!(l.personal.buyer_email.as_deref(), Some("ali@example.com"));
        let inv = l.personal.invoice_address.as_ref().unwrap();
        assert_eq!(inv.identity_number.as_deref(), Some("11111111111"));
        assert_eq!(inv.tax_number, None, "an empty tax number is none");
        let s = snapshots(vec![l], 0);
        let d = s[0].details.as_ref().unwrap();
        assert_eq!(d.package.cargo_provider.as_deref(), Some("Aras Kargo"));
        assert_eq!(d.lines["a1"].amount(), try_(9999));
    }

    #[test]
    fn lines_group_into_orders() {
        let a = br#"{"id": "l1", "orderNumber": "O1", "merchantSKU": "A", "quantity": 2,
            "status": "Open", "orderDate": "2026-11-26T16:33:20.000+03:00"}"#;
        let b = br#"{"id": "l2", "orderNumber": "O2", "merchantSKU": "B", "quantity": 1}"#;
        let c = br#"{"id": "l3", "orderNumber": "O1", "merchantSKU": "", "quantity": 1}"#;
        let lines = [&a[..], &b[..], &c[..]]
            .iter()
            .map(|r| parse_line(r).unwrap())
            .collect();
        let s = snapshots(lines, 5);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].lines.len(), 2);
        assert_eq!(s[0].occurred_ms, 1_795_700_000_000);
        assert_eq!(s[0].lines[1].sku, None);
        assert_eq!(s[1].occurred_ms, 5);
        assert!(parse_line(br#"{"id": "x", "orderNumber": "1", "quantity": "two"}"#).is_err());
    }

    fn shipment() -> InTransit {
        InTransit {
            shipped_ms: 1_795_700_000_000,
            estimated_arrival_ms: 1_795_872_800_000,
            tracking_url: "https://kargotakip.araskargo.com.tr/mainpage.aspx?code=ARS1".into(),
            tracking_phone_number: "4442552".into(),
            deci: 2.5,
        }
    }

    #[test]
    fn the_invoice_body_splits_the_gib_number() {
        let invoice = HbInvoice {
            link: "https://fatura.example.com/GIB2026000000001.pdf".into(),
            invoice_number: "GIB2026000000001".into(),
            issued_ms: 1_795_700_000_000,
        };
        let v: serde_json::Value =
            serde_json::from_slice(&invoice_body(&invoice).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "invoiceLink": "https://fatura.example.com/GIB2026000000001.pdf",
                "arrangementDate": "2026-11-26T13:33:20.000Z",
                "serialNumber": "GIB",
                "rowNumber": "2026000000001",
            })
        );
        let bad = HbInvoice {
            link: "http://x".into(),
            ..invoice.clone()
        };
        assert!(invoice_body(&bad).is_err());
        let bad = HbInvoice {
            invoice_number: "A/1".into(),
            ..invoice
        };
        assert!(invoice_body(&bad).is_err());
    }

    #[test]
    fn the_intransit_body_has_every_required_field() {
        let body: serde_json::Value =
            serde_json::from_slice(&intransit_body("ARS1", &shipment()).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "shippedDate": "2026-11-26T13:33:20.000Z",
                "estimatedArrivalDate": "2026-11-28T13:33:20.000Z",
                "trackingUrl": "https://kargotakip.araskargo.com.tr/mainpage.aspx?code=ARS1",
                "trackingNumber": "ARS1",
                "trackingPhoneNumber": "4442552",
                "tax": 0,
                "cost": 0,
                "deci": 2.5,
            })
        );
        let mut bad = shipment();
        bad.deci = f64::NAN;
        assert!(intransit_body("ARS1", &bad).is_err());
        let mut bad = shipment();
        bad.tracking_url.clear();
        assert!(intransit_body("ARS1", &bad).is_err());
        assert!(check_package_number("5000031669").is_ok());
        assert!(check_package_number("50/00").is_err());
        assert!(check_package_number("").is_err());
    }

    #[test]
    fn a_refusal_is_already_set_only_when_the_package_carries_our_number() {
        let refusal = || Refusal {
            status: 400,
            message: "package is not packaged".into(),
        };
        let rows: OneOrMany = serde_json::from_slice(
            br#"[{"packageNumber": "5000031669", "barcode": "623", "status": "InTransit",
              "cargoCompany": "Aras Kargo", "trackingInfoCode": "ARS1", "trackingInfoUrl": "u"}]"#,
        )
        .unwrap();
        let OneOrMany::Many(mut rows) = rows else {
            panic!("an array")
        };
        let row = rows.remove(0);
        assert_eq!(
            classify(refusal(), Some(row), "ARS1"),
            TrackingPush::AlreadySet
        );
        let other: PackageInfo =
            serde_json::from_str(r#"{"status": "Delivered", "trackingInfoCode": "X9"}"#).unwrap();
        assert!(matches!(
            classify(refusal(), Some(other), "ARS1"),
            TrackingPush::Refused(m) if m.contains("Delivered") && m.contains("not packaged")
        ));
        assert!(matches!(
            classify(refusal(), None, "ARS1"),
            TrackingPush::Refused(m) if m.contains("not found")
        ));
    }
}
