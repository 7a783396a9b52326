//! A delivered marketplace order as a sales invoice: the stored order
//! (`MKTORDER#…`) and its buyer's personal data (`MKTPII#…`) mapped to an
//! [`InvoiceRequest`]. Pure; nothing is invented: what the invoice needs and
//! the order does not say exactly is a [`NotInvoiceable`] naming it, which
//! the accounting function reports as `integration.error`
//! (`invoice_not_possible`, action `review`).
//!
//! - **When**: every package (unit) of the order has closed — delivered,
//!   returned, cancelled or unsupplied; Trendyol's `unpacked` packages were
//!   dissolved into others and do not count. Until then [`Readiness::Wait`]:
//!   the last package's delivery brings the invoice.
//! - **What**: the lines whose status is `delivered`, each with the
//!   marketplace's unit price before discounts, the discounts it gave (the
//!   seller's and the marketplace's, per unit × quantity) and its VAT rate;
//!   the line's gross must be what the buyer paid for it (its amount).
//! - **Not twice**: a package the seller marked `Invoiced` at the
//!   marketplace through us (Trendyol takes it with the invoice's number,
//!   before shipping) has an invoice made elsewhere — ours would be a
//!   second one for the same sale: [`NotInvoiceable`], a person decides.
//! - **Who**: the invoice address. A tax number (10 digits, VKN) makes it a
//!   company invoice and needs the tax office; otherwise the identity
//!   number (11 digits, TCKN), as given.
//! - **The date**: the day (Türkiye, UTC+3) the last package was delivered,
//!   so every retry asks for the same invoice.
//! - **Internet sale** (e-Arşiv): the marketplace's site, paid through it as
//!   an intermediary (`ODEMEARACISI`), on the day we first saw the order.
//! - **Shipment** (e-Arşiv, [`shipment_for`]): the cargo company that carried
//!   the last delivered package, when `PARASUT_CARGO_COMPANIES` gives its
//!   VKN ([`CargoCompanies`]); otherwise no block.

use std::fmt;

use crate::domain::invoice::{
    date_in_turkiye, Buyer, InternetSale, InvoiceLine, InvoiceRequest, Shipment, Shipper, TaxId,
    PAYMENT_TYPE_INTERMEDIARY,
};
use crate::domain::marketplace_order::MarketplaceOrder;
use crate::domain::marketplace_order_details::{Address, PersonalData};
use crate::money::{Currency, Money};

/// The order ref an order is invoiced under: `<marketplace>:<orderNumber>`.
pub fn order_ref(order: &MarketplaceOrder) -> String {
    format!("{}:{}", order.marketplace.as_str(), order.order_number)
}

/// A cargo company as the merchant names it for the e-Arşiv: the title
/// printed and its VKN (10 digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoCompany {
    /// The marketplace's name for it (`cargoProviderName`), as configured.
    pub name: String,
    pub title: String,
    pub vkn: String,
}

/// `PARASUT_CARGO_COMPANIES`: cargo provider name → title and VKN. The
/// merchant supplies the VKNs; none is built in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CargoCompanies(Vec<CargoCompany>);

fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

impl CargoCompanies {
    /// `Name=VKN` or `Name=VKN=Title` entries separated by `;` (the title
    /// defaults to the name). Empty text: none. Every VKN has 10 digits and
    /// no name appears twice (case-insensitively), else why not.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut companies: Vec<CargoCompany> = Vec::new();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let mut parts = entry.splitn(3, '=').map(str::trim);
            let (Some(name), Some(vkn)) = (parts.next(), parts.next()) else {
                return Err(format!("{entry:?}: expected Name=VKN or Name=VKN=Title"));
            };
            let title = parts.next().unwrap_or(name);
            if name.is_empty() || title.is_empty() {
                return Err(format!("{entry:?}: the name and title must not be empty"));
            }
            if !matches!(TaxId::parse(vkn), Ok(TaxId::Vkn(_))) {
                return Err(format!("{name:?}: the VKN must have 10 digits"));
            }
            if companies.iter().any(|c| fold(&c.name) == fold(name)) {
                return Err(format!("{name:?} appears twice"));
            }
            companies.push(CargoCompany {
                name: name.to_string(),
                title: title.to_string(),
                vkn: vkn.to_string(),
            });
        }
        Ok(CargoCompanies(companies))
    }

    /// The company of a cargo provider name, case-insensitively.
    pub fn find(&self, provider: &str) -> Option<&CargoCompany> {
        let provider = fold(provider);
        self.0.iter().find(|c| fold(&c.name) == provider)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The e-Arşiv's shipment block of an invoiced order: the cargo company of
/// the package delivered last (the delivery that dates the invoice), when
/// the merchant gave its VKN; `None` otherwise. Dated the invoice's date
/// (the day of that delivery): the stored order keeps a package's time of
/// its latest status only, so once delivered its shipping time is gone.
pub fn shipment_for(
    order: &MarketplaceOrder,
    issue_date: &str,
    companies: &CargoCompanies,
) -> Option<Shipment> {
    let (last, _) = order
        .units
        .iter()
        .filter(|(_, u)| u.status == "delivered")
        .max_by_key(|(_, u)| u.changed_ms)?;
    let provider = order.packages.get(last)?.cargo_provider.as_deref()?;
    let company = companies.find(provider)?;
    Some(Shipment {
        shipper: Shipper::Carrier {
            title: company.title.clone(),
            vkn: company.vkn.clone(),
        },
        date: issue_date.to_string(),
    })
}

/// Why an order cannot be invoiced as stored: a person decides. Names what
/// is missing, never the buyer's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInvoiceable(pub String);

impl fmt::Display for NotInvoiceable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotInvoiceable {}

/// Whether the order is ready for its invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Ready: the request to issue.
    Invoice(Box<InvoiceRequest>),
    /// A package is still on its way: nothing to do now.
    Wait(&'static str),
    /// Nothing was delivered (all cancelled or returned): no invoice.
    NothingDelivered,
}

const CLOSED: [&str; 4] = ["delivered", "returned", "cancelled", "unsupplied"];
const DISSOLVED: &str = "unpacked";

fn missing(what: impl Into<String>) -> NotInvoiceable {
    NotInvoiceable(what.into())
}

/// `"20"`, `"20.0"`, `"1"` → whole percent; anything else (a fraction of a
/// percent, a word) is not guessed.
fn vat_percent(text: &str) -> Option<u32> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b == b'0')
    {
        return None;
    }
    whole.parse().ok().filter(|r| *r <= 100)
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn same(currency: &mut Option<Currency>, m: Money, line: &str) -> Result<(), NotInvoiceable> {
    match currency {
        Some(c) if *c != m.currency => Err(missing(format!(
            "line {line}: currency {} differs from {c}",
            m.currency
        ))),
        _ => {
            *currency = Some(m.currency);
            Ok(())
        }
    }
}

fn buyer(personal: Option<&PersonalData>) -> Result<Buyer, NotInvoiceable> {
    let personal = personal.ok_or_else(|| {
        missing("the buyer's personal data is gone (erased after the retention, or never given)")
    })?;
    let address: &Address = personal
        .invoice_address
        .as_ref()
        .ok_or_else(|| missing("the order has no invoice address"))?;
    let tax_number = present(&address.tax_number);
    let identity = present(&address.identity_number);
    let (tax_number, tax_office, company) = match (tax_number, identity) {
        (Some(vkn), _) => {
            if !matches!(TaxId::parse(vkn), Ok(TaxId::Vkn(_))) {
                return Err(missing(
                    "the invoice address's tax number is not a 10-digit VKN",
                ));
            }
            let office = present(&address.tax_office)
                .ok_or_else(|| missing("the invoice address has a tax number but no tax office"))?;
            (Some(vkn), Some(office), present(&address.company))
        }
        (None, Some(tckn)) => {
            if !matches!(TaxId::parse(tckn), Ok(TaxId::Tckn(_))) {
                return Err(missing(
                    "the invoice address's identity number is not an 11-digit TCKN",
                ));
            }
            (Some(tckn), None, None)
        }
        (None, None) => (None, None, None),
    };
    let name = company
        .or_else(|| present(&address.name))
        .or_else(|| present(&personal.buyer_name))
        .ok_or_else(|| missing("the invoice address names no one"))?;
    let email = present(&personal.buyer_email).or_else(|| present(&address.email));
    if tax_number.is_none() && email.is_none() {
        return Err(missing(
            "the buyer has neither a tax/identity number nor an e-mail address",
        ));
    }
    Ok(Buyer {
        name: name.to_string(),
        email: email.map(str::to_string),
        tax_number: tax_number.map(str::to_string),
        tax_office: tax_office.map(str::to_string),
        address: present(&address.address)
            .ok_or_else(|| missing("the invoice address has no street address"))?
            .to_string(),
        city: present(&address.city)
            .ok_or_else(|| missing("the invoice address has no city"))?
            .to_string(),
        district: present(&address.district)
            .or_else(|| present(&address.town))
            .map(str::to_string),
        phone: present(&address.phone).map(str::to_string),
    })
}

/// The invoice of a stored order, or why not (yet).
pub fn invoice_for(
    order: &MarketplaceOrder,
    personal: Option<&PersonalData>,
) -> Result<Readiness, NotInvoiceable> {
    let counted: Vec<_> = order
        .units
        .values()
        .filter(|u| u.status != DISSOLVED)
        .collect();
    if counted.is_empty() {
        return Ok(Readiness::Wait("no package yet"));
    }
    if counted.iter().any(|u| !CLOSED.contains(&u.status.as_str())) {
        return Ok(Readiness::Wait("a package is still on its way"));
    }
    let delivered_ms = counted
        .iter()
        .filter(|u| u.status == "delivered")
        .map(|u| u.changed_ms)
        .max();
    let delivered: Vec<_> = order
        .lines
        .iter()
        .filter(|(_, l)| l.status == "delivered")
        .collect();
    let Some(delivered_ms) = delivered_ms.filter(|_| !delivered.is_empty()) else {
        return Ok(Readiness::NothingDelivered);
    };
    // Accounting invoices only after the order closed, so it never marks a
    // package Invoiced itself: one marked so (with its invoice number) was
    // invoiced elsewhere.
    if let Some(marked) = order.invoiced_elsewhere() {
        return Err(missing(format!(
            "package {} was marked Invoiced at {} with an invoice made elsewhere: \
             a second invoice for the same sale is not issued",
            marked.package_id.as_deref().unwrap_or("-"),
            order.marketplace.as_str()
        )));
    }
    let problems: Vec<&String> = order.packages.values().flat_map(|p| &p.problems).collect();
    if !problems.is_empty() {
        return Err(missing(format!(
            "the order's totals have a recorded problem: {}",
            problems
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let mut currency = None;
    let mut lines = Vec::with_capacity(delivered.len());
    let mut total = 0i64;
    for (id, state) in delivered {
        let facts = order
            .line_facts
            .get(id)
            .ok_or_else(|| missing(format!("line {id}: no money facts stored")))?;
        let quantity = facts.quantity;
        if quantity == 0 || quantity != state.quantity {
            return Err(missing(format!(
                "line {id}: the quantity is not consistent"
            )));
        }
        let q = i64::from(quantity);
        let rate = facts
            .vat_rate
            .as_deref()
            .ok_or_else(|| missing(format!("line {id}: no VAT rate")))?;
        let vat_rate = vat_percent(rate).ok_or_else(|| {
            missing(format!(
                "line {id}: VAT rate {rate:?} is not a whole percent"
            ))
        })?;
        let amount = facts
            .amount()
            .ok_or_else(|| missing(format!("line {id}: no amount the buyer paid")))?;
        same(&mut currency, amount, id)?;
        let unit = facts
            .unit_price
            .or(facts.unit_sale_price)
            .ok_or_else(|| missing(format!("line {id}: no unit price")))?;
        same(&mut currency, unit, id)?;
        let mut per_unit_discount = 0i64;
        for d in [facts.unit_discount, facts.unit_marketplace_discount]
            .into_iter()
            .flatten()
        {
            same(&mut currency, d, id)?;
            per_unit_discount += d.minor;
        }
        let overflow = || missing(format!("line {id}: amounts out of range"));
        let discount = per_unit_discount.checked_mul(q).ok_or_else(overflow)?;
        let gross = unit
            .minor
            .checked_mul(q)
            .and_then(|g| g.checked_sub(discount))
            .ok_or_else(overflow)?;
        if gross != amount.minor {
            return Err(missing(format!(
                "line {id}: {q} × {unit} less discounts {} is not what the buyer paid, {amount}",
                Money::new(discount, unit.currency)
            )));
        }
        let sku = state
            .sku
            .clone()
            .or_else(|| facts.barcode.clone())
            .ok_or_else(|| missing(format!("line {id}: neither SKU nor barcode")))?;
        let description = present(&facts.product_name)
            .map(str::to_string)
            .unwrap_or_else(|| sku.clone());
        total = total.checked_add(gross).ok_or_else(overflow)?;
        lines.push(InvoiceLine {
            description,
            sku,
            quantity,
            unit_price: unit.minor,
            discount,
            vat_rate,
        });
    }
    let currency = currency.ok_or_else(|| missing("no delivered line has a price"))?;
    // The buyer paid the marketplace when ordering; we store when we first
    // saw the order (minutes later: the webhook or the 5-minute poll), not
    // the marketplace's own order date.
    let (url, platform) = order.marketplace.site();
    let internet_sale = InternetSale {
        url: url.to_string(),
        payment_type: PAYMENT_TYPE_INTERMEDIARY.to_string(),
        payment_platform: platform.to_string(),
        payment_date: date_in_turkiye(order.first_seen_ms)
            .ok_or_else(|| missing("the order's time is out of range"))?,
    };
    Ok(Readiness::Invoice(Box::new(InvoiceRequest {
        order_ref: order_ref(order),
        issue_date: date_in_turkiye(delivered_ms)
            .ok_or_else(|| missing("the delivery time is out of range"))?,
        currency,
        buyer: buyer(personal)?,
        lines,
        total,
        internet_sale: Some(internet_sale),
        shipment: None,
    })))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::marketplace::Marketplace;
    use crate::domain::marketplace_order::{
        package_status_action, LineState, LineStock, SellerAction, UnitState, MAX_SELLER_ACTIONS,
    };
    use crate::domain::marketplace_order_details::{LineFacts, PackageFacts};

    fn try_(minor: i64) -> Option<Money> {
        Some(Money::new(minor, Currency::TRY))
    }

    fn unit(status: &str, changed_ms: i64) -> UnitState {
        UnitState {
            status: status.into(),
            marketplace_status: status.into(),
            rank: 7,
            changed_ms,
        }
    }

    fn state(sku: &str, quantity: u32, status: &str) -> LineState {
        LineState {
            sku: Some(sku.into()),
            quantity,
            status: status.into(),
            marketplace_status: status.into(),
            rank: 7,
            stock: LineStock::Taken,
        }
    }

    fn facts(quantity: u32, unit: i64, discount: i64, ty: i64, rate: &str) -> LineFacts {
        LineFacts {
            barcode: Some("869000".into()),
            product_name: Some("Tişört".into()),
            quantity,
            unit_price: try_(unit),
            unit_discount: try_(discount),
            unit_marketplace_discount: try_(ty),
            unit_sale_price: try_(unit - discount - ty),
            vat_rate: Some(rate.into()),
            ..Default::default()
        }
    }

    fn order() -> MarketplaceOrder {
        // 2026-12-01T22:30:00Z = 2026-12-02 01:30 in Türkiye.
        let delivered = 1_796_164_200_000;
        MarketplaceOrder {
            marketplace: Marketplace::Trendyol,
            order_number: "10654411111".into(),
            first_seen_ms: 0,
            units: BTreeMap::from([
                ("p1".into(), unit("delivered", delivered - 1000)),
                ("p2".into(), unit("delivered", delivered)),
                ("p0".into(), unit("unpacked", 5)),
            ]),
            lines: BTreeMap::from([
                ("55".into(), state("TSHIRT-M", 2, "delivered")),
                ("56".into(), state("MUG", 1, "delivered")),
                ("57".into(), state("CAP", 1, "cancelled")),
            ]),
            outbox: vec![],
            packages: BTreeMap::new(),
            line_facts: BTreeMap::from([
                ("55".into(), facts(2, 14990, 1000, 500, "20")),
                ("56".into(), facts(1, 5000, 0, 0, "10.00")),
                ("57".into(), facts(1, 999, 0, 0, "20")),
            ]),
            personal: None,
            seller_actions: vec![],
            claims: Default::default(),
        }
    }

    fn person() -> PersonalData {
        PersonalData {
            buyer_name: Some("Ayşe Yılmaz".into()),
            buyer_email: Some("ayse@example.com".into()),
            invoice_address: Some(Address {
                name: Some("Ayşe Yılmaz".into()),
                address: Some("Moda Cad. 5".into()),
                district: Some("Kadıköy".into()),
                city: Some("İstanbul".into()),
                identity_number: Some("12345678901".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn request(order: &MarketplaceOrder, p: Option<&PersonalData>) -> InvoiceRequest {
        match invoice_for(order, p).unwrap() {
            Readiness::Invoice(r) => *r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_delivered_order_becomes_its_invoice_with_exact_money() {
        let req = request(&order(), Some(&person()));
        assert_eq!(req.order_ref, "trendyol:10654411111");
        assert_eq!(req.issue_date, "2026-12-02");
        assert_eq!(req.currency, Currency::TRY);
        assert_eq!(req.lines.len(), 2, "the cancelled line is not invoiced");
        let l = &req.lines[0];
        assert_eq!(
            (
                l.sku.as_str(),
                l.quantity,
                l.unit_price,
                l.discount,
                l.vat_rate
            ),
            ("TSHIRT-M", 2, 14990, 3000, 20)
        );
        assert_eq!(l.description, "Tişört");
        assert_eq!((req.lines[1].unit_price, req.lines[1].vat_rate), (5000, 10));
        assert_eq!(req.total, 2 * 13490 + 5000);
        assert_eq!(req.buyer.tax_number.as_deref(), Some("12345678901"));
        assert_eq!(req.buyer.tax_office, None);
        assert_eq!(req.buyer.email.as_deref(), Some("ayse@example.com"));
        assert_eq!(req.buyer.district.as_deref(), Some("Kadıköy"));
        let sale = req.internet_sale.as_ref().unwrap();
        assert_eq!(sale.url, "https://www.trendyol.com");
        assert_eq!(sale.payment_type, "ODEMEARACISI");
        assert_eq!(sale.payment_platform, "Trendyol");
        assert_eq!(sale.payment_date, "1970-01-01", "the day we first saw it");
        req.plan().unwrap();
    }

    fn action(action: &str, outcome: &str) -> SellerAction {
        SellerAction {
            at_ms: 1,
            action: action.into(),
            package_id: Some("p1".into()),
            outcome: outcome.into(),
            detail: None,
            message: None,
        }
    }

    #[test]
    fn a_package_marked_invoiced_through_us_is_never_invoiced_a_second_time() {
        let mut o = order();
        // Picking, an Invoiced the marketplace refused:
        // no invoice was made elsewhere that we know of.
        o.seller_actions = vec![
            action("package_status:Picking", "done"),
            action("package_status:Invoiced", "refused"),
            action("invoice_link", "done"),
        ];
        request(&o, Some(&person()));
        // Found there already (an earlier attempt whose answer was lost)
        // counts as much as done; twenty later actions do not push it out.
        o.record_action(action(&package_status_action("Invoiced"), "already"));
        for _ in 0..25 {
            o.record_action(action("invoice_link", "refused"));
        }
        assert_eq!(o.seller_actions.len(), MAX_SELLER_ACTIONS);
        let why = invoice_for(&o, Some(&person())).unwrap_err().to_string();
        assert!(
            why.contains("package p1 was marked Invoiced at trendyol"),
            "{why}"
        );
        assert!(!why.contains("Ayşe"), "{why}");
        // Still open: nothing to say yet.
        o.units.insert("p3".into(), unit("shipped", 9));
        assert_eq!(
            invoice_for(&o, Some(&person())),
            Ok(Readiness::Wait("a package is still on its way"))
        );
    }

    #[test]
    fn a_company_is_invoiced_under_its_vkn_and_tax_office() {
        let mut p = person();
        let a = p.invoice_address.as_mut().unwrap();
        a.company = Some("Moda Tekstil A.Ş.".into());
        a.tax_number = Some("1234567890".into());
        let err = invoice_for(&order(), Some(&p)).unwrap_err();
        assert!(err.0.contains("tax office"), "{err}");
        p.invoice_address.as_mut().unwrap().tax_office = Some("Kadıköy".into());
        let req = request(&order(), Some(&p));
        assert_eq!(req.buyer.name, "Moda Tekstil A.Ş.");
        assert_eq!(req.buyer.tax_number.as_deref(), Some("1234567890"));
        assert_eq!(req.buyer.tax_office.as_deref(), Some("Kadıköy"));
        req.validate().unwrap();
    }

    #[test]
    fn an_order_still_on_its_way_waits_and_one_never_delivered_has_no_invoice() {
        let mut o = order();
        o.units.insert("p3".into(), unit("shipped", 1));
        assert!(matches!(
            invoice_for(&o, Some(&person())),
            Ok(Readiness::Wait(_))
        ));
        let mut o = order();
        for u in o.units.values_mut() {
            u.status = "cancelled".into();
        }
        for l in o.lines.values_mut() {
            l.status = "cancelled".into();
        }
        assert_eq!(
            invoice_for(&o, Some(&person())),
            Ok(Readiness::NothingDelivered)
        );
    }

    #[test]
    fn what_is_missing_is_named_never_invented() {
        let o = order();
        let err = invoice_for(&o, None).unwrap_err();
        assert!(err.0.contains("personal data is gone"), "{err}");

        let mut o = order();
        o.line_facts.get_mut("55").unwrap().vat_rate = None;
        assert!(invoice_for(&o, Some(&person()))
            .unwrap_err()
            .0
            .contains("no VAT rate"));
        o.line_facts.get_mut("55").unwrap().vat_rate = Some("18.5".into());
        assert!(invoice_for(&o, Some(&person()))
            .unwrap_err()
            .0
            .contains("whole percent"));

        let mut o = order();
        o.packages.insert(
            "p1".into(),
            PackageFacts {
                problems: vec!["package total 10.00 TRY is not the lines' sum 9.99 TRY".into()],
                ..Default::default()
            },
        );
        assert!(invoice_for(&o, Some(&person()))
            .unwrap_err()
            .0
            .contains("totals"));

        let mut o = order();
        o.line_facts.get_mut("55").unwrap().unit_sale_price = try_(13491);
        assert!(invoice_for(&o, Some(&person()))
            .unwrap_err()
            .0
            .contains("not what the buyer paid"));

        let mut p = person();
        p.invoice_address = None;
        assert!(invoice_for(&order(), Some(&p))
            .unwrap_err()
            .0
            .contains("invoice address"));
    }

    #[test]
    fn errors_never_carry_the_buyer() {
        let mut p = person();
        p.invoice_address.as_mut().unwrap().identity_number = Some("123".into());
        let err = invoice_for(&order(), Some(&p)).unwrap_err().to_string();
        assert!(!err.contains("123") && !err.contains("Ayşe"), "{err}");
    }

    #[test]
    fn vat_rates_are_whole_percents_only() {
        assert_eq!(vat_percent("20"), Some(20));
        assert_eq!(vat_percent("1.00"), Some(1));
        assert_eq!(vat_percent("0"), Some(0));
        assert_eq!(vat_percent("18.5"), None);
        assert_eq!(vat_percent("KDV"), None);
        assert_eq!(vat_percent("101"), None);
    }

    fn package(cargo: &str) -> PackageFacts {
        PackageFacts {
            cargo_provider: Some(cargo.into()),
            ..Default::default()
        }
    }

    #[test]
    fn cargo_companies_parse_strictly_and_match_any_case() {
        let c = CargoCompanies::parse(
            "Aras Kargo=1234567890; Yurtiçi Kargo = 9876543210 = Yurtiçi Kargo Servisi A.Ş.;",
        )
        .unwrap();
        let aras = c.find("ARAS KARGO").unwrap();
        assert_eq!(
            (aras.title.as_str(), aras.vkn.as_str()),
            ("Aras Kargo", "1234567890")
        );
        let yk = c.find(" yurtiçi kargo").unwrap();
        assert_eq!(yk.title, "Yurtiçi Kargo Servisi A.Ş.");
        assert!(c.find("MNG Kargo").is_none());
        assert!(CargoCompanies::parse("").unwrap().is_empty());
        for bad in [
            "Aras Kargo=123456789",
            "Aras Kargo=12345678901",
            "Aras Kargo",
            "=1234567890",
            "Aras=1234567890;aras=1234567891",
            "Aras=12345678x0",
        ] {
            assert!(CargoCompanies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_last_delivered_packages_mapped_cargo_company_is_the_shipment() {
        let companies =
            CargoCompanies::parse("Aras Kargo=1234567890;MNG Kargo=1111111111").unwrap();
        let mut o = order();
        o.packages = BTreeMap::from([
            ("p1".into(), package("MNG Kargo")),
            ("p2".into(), package("Aras Kargo Marketplace")),
        ]);
        // p2 was delivered last, by a provider the setting does not name.
        assert_eq!(shipment_for(&o, "2026-12-02", &companies), None);
        o.packages.insert("p2".into(), package("aras kargo"));
        let req = request(&o, Some(&person()));
        let shipment = shipment_for(&o, &req.issue_date, &companies).unwrap();
        assert_eq!(
            shipment,
            Shipment {
                shipper: Shipper::Carrier {
                    title: "Aras Kargo".into(),
                    vkn: "1234567890".into()
                },
                date: "2026-12-02".into()
            }
        );
        let mut with = req.clone();
        with.shipment = Some(shipment);
        with.validate().unwrap();
        // No setting, or no cargo recorded: no block.
        assert_eq!(
            shipment_for(&o, "2026-12-02", &CargoCompanies::default()),
            None
        );
        o.packages.clear();
        assert_eq!(shipment_for(&o, "2026-12-02", &companies), None);
    }
}
