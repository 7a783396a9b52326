//! A storefront order's invoice: what the platform hands us for it
//! (`PUT /accounting/orders/{orderId}/invoice-data`: the buyer, the lines
//! with their VAT rates, the shipping line), checked field by field, and the
//! rule that turns it and our payment ledger into an [`InvoiceRequest`].
//! Pure; nothing is invented.
//!
//! - **When**: our ledger says the order is paid (status `paid`) and the
//!   invoice data is stored; whichever comes second brings the invoice.
//!   Unpaid: wait. Refunded in full before it was invoiced: no sale, no
//!   invoice. Partially refunded before it was invoiced: a person decides
//!   what the invoice states ([`Decision::NotPossible`]).
//! - **Money**: the lines (VAT included, minus their discounts) plus the
//!   shipping line must come to exactly what the payment collected, in its
//!   currency; any difference is [`Decision::NotPossible`] with both amounts.
//! - **Who**: a T.C. identity number (11 digits, a person) or a tax number
//!   (10 digits) with its tax office (a company).
//! - **Dates**: issued on the day (Türkiye) both facts were there — the
//!   later of the payment and the invoice data — so every retry asks for the
//!   same invoice; the e-Arşiv's internet sale is paid on the payment's day,
//!   by card through the gateway that collected it.

use serde::{Deserialize, Serialize};

use crate::domain::invoice::{
    date_in_turkiye, is_date, Buyer, InternetSale, InvoiceLine, InvoiceRequest, Shipment, Shipper,
    TaxId, MAX_LINE_MINOR, PAYMENT_TYPE_CARD,
};
use crate::domain::payment::PaymentStatus;
use crate::domain::payment_ledger::PaymentLedger;
use crate::error::FieldError;
use crate::money::{Currency, Money};

/// The order-ref namespace of storefront orders: `storefront:<orderId>`.
/// Marketplace orders are `<marketplace>:<number>` and no marketplace is
/// called `storefront`, so the two can never name the same invoice.
pub const ORDER_REF_PREFIX: &str = "storefront";

/// The invoice identity of a storefront order.
pub fn order_ref(order_id: &str) -> String {
    format!("{ORDER_REF_PREFIX}:{order_id}")
}

/// The SKU of the shipping line on the invoice.
pub const SHIPPING_SKU: &str = "SHIPPING";
const SHIPPING_NAME: &str = "Kargo";

/// An amount as the platform sends it: minor units and the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    pub amount: i64,
    pub currency: Currency,
}

/// The invoice address (personal data).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceAddress {
    pub line: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    pub city: String,
}

/// The buyer as the invoice names them. Personal data: stored apart with a
/// TTL, never logged (Debug prints nothing of it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceBuyer {
    /// The person's name, or the company's title with a tax number.
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub invoice_address: InvoiceAddress,
    /// T.C. kimlik numarası (11 digits): a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_number: Option<String>,
    /// Vergi kimlik numarası (10 digits): a company, with `taxOffice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_office: Option<String>,
}

impl std::fmt::Debug for InvoiceBuyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InvoiceBuyer(***)")
    }
}

/// One line as the buyer paid it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaleLine {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    /// Per unit, VAT included.
    pub unit_price: Amount,
    /// Percent: 0, 1, 10, 20…
    pub vat_rate: u32,
    /// Off the whole line, VAT included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Amount>,
}

/// The shipping the buyer paid, VAT included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShippingLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub price: Amount,
    pub vat_rate: u32,
}

/// What was sold (no personal data): stored beside the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaleContent {
    pub lines: Vec<SaleLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<ShippingLine>,
}

/// Who shipped the order and when (the e-Arşiv's `shipment` block,
/// docs/parasut-wire.md P36): a cargo company (`carrierTitle`,
/// `carrierTaxNumber`) or a courier (`courierName`, `courierIdentityNumber`),
/// and `date`. A courier is a person: the whole block is kept with the buyer
/// (TTL), never logged (Debug prints nothing of it).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipmentData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_title: Option<String>,
    /// The cargo company's VKN (10 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_tax_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courier_name: Option<String>,
    /// The courier's T.C. kimlik numarası (11 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub courier_identity_number: Option<String>,
    /// YYYY-MM-DD.
    pub date: String,
}

impl std::fmt::Debug for ShipmentData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShipmentData(***)")
    }
}

impl ShipmentData {
    /// Every problem, each naming its field (`shipment.…`).
    fn validate(&self, errors: &mut Vec<FieldError>) {
        let mut err = |field: &str, message: &str| {
            errors.push(FieldError::new(format!("shipment.{field}"), message))
        };
        let name_ok = |v: &Option<String>| {
            v.as_ref()
                .is_some_and(|v| (1..=255).contains(&v.trim().chars().count()))
        };
        let carrier = self.carrier_title.is_some() || self.carrier_tax_number.is_some();
        let courier = self.courier_name.is_some() || self.courier_identity_number.is_some();
        match (carrier, courier) {
            (true, true) => err(
                "courierName",
                "either carrierTitle and carrierTaxNumber (a cargo company) or courierName and \
                 courierIdentityNumber (a courier), not both",
            ),
            (false, false) => err(
                "carrierTitle",
                "carrierTitle and carrierTaxNumber (a cargo company) or courierName and \
                 courierIdentityNumber (a courier) is required",
            ),
            (true, false) => {
                if !name_ok(&self.carrier_title) {
                    err("carrierTitle", "1–255 characters");
                }
                let vkn = self.carrier_tax_number.as_deref().map(TaxId::parse);
                if !matches!(vkn, Some(Ok(TaxId::Vkn(_)))) {
                    err("carrierTaxNumber", "10 digits");
                }
            }
            (false, true) => {
                if !name_ok(&self.courier_name) {
                    err("courierName", "1–255 characters");
                }
                let tckn = self.courier_identity_number.as_deref().map(TaxId::parse);
                if !matches!(tckn, Some(Ok(TaxId::Tckn(_)))) {
                    err("courierIdentityNumber", "11 digits");
                }
            }
        }
        if !is_date(&self.date) {
            err("date", "YYYY-MM-DD");
        }
    }

    /// The e-Arşiv's block, from validated data.
    pub fn to_shipment(&self) -> Option<Shipment> {
        let trimmed = |v: &Option<String>| v.as_deref().map(|v| v.trim().to_string());
        let shipper = match (
            trimmed(&self.carrier_title),
            trimmed(&self.carrier_tax_number),
            trimmed(&self.courier_name),
            trimmed(&self.courier_identity_number),
        ) {
            (Some(title), Some(vkn), None, None) => Shipper::Carrier { title, vkn },
            (None, None, Some(name), Some(tckn)) => Shipper::Courier { name, tckn },
            _ => return None,
        };
        Some(Shipment {
            shipper,
            date: self.date.clone(),
        })
    }
}

/// The body of `PUT /accounting/orders/{orderId}/invoice-data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceData {
    pub buyer: InvoiceBuyer,
    pub lines: Vec<SaleLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<ShippingLine>,
    /// Absent: nothing of it is serialized, so data stored before the field
    /// existed hashes the same (its content hash is unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<ShipmentData>,
}

/// What is kept of the invoice data with a TTL, apart: the buyer and the
/// shipment (a courier's name and identity number are personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalInvoiceData {
    pub buyer: InvoiceBuyer,
    pub shipment: Option<ShipmentData>,
}

impl InvoiceData {
    /// The part kept with a TTL.
    pub fn personal(&self) -> PersonalInvoiceData {
        PersonalInvoiceData {
            buyer: self.buyer.clone(),
            shipment: self.shipment.clone(),
        }
    }

    /// The part kept without a TTL.
    pub fn content(&self) -> SaleContent {
        SaleContent {
            lines: self.lines.clone(),
            shipping: self.shipping.clone(),
        }
    }

    /// Every problem, each naming its field (empty: valid).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut err = |field: String, message: &str| errors.push(FieldError::new(field, message));
        let b = &self.buyer;
        if !(1..=255).contains(&b.name.trim().chars().count()) {
            err("buyer.name".into(), "1–255 characters");
        }
        let email_ok = b.email.len() <= 254
            && !b.email.contains(char::is_whitespace)
            && b.email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
        if !email_ok {
            err("buyer.email".into(), "an e-mail address");
        }
        if let Some(phone) = &b.phone {
            let digits = phone.bytes().filter(u8::is_ascii_digit).count();
            let ok = phone
                .bytes()
                .all(|c| c.is_ascii_digit() || b"+ ()-".contains(&c));
            if !ok || !(7..=15).contains(&digits) {
                err(
                    "buyer.phone".into(),
                    "7–15 digits, optionally with + ( ) - and spaces",
                );
            }
        }
        if !(1..=500).contains(&b.invoice_address.line.trim().chars().count()) {
            err("buyer.invoiceAddress.line".into(), "1–500 characters");
        }
        if !(1..=100).contains(&b.invoice_address.city.trim().chars().count()) {
            err("buyer.invoiceAddress.city".into(), "1–100 characters");
        }
        if b.invoice_address
            .district
            .as_ref()
            .is_some_and(|d| !(1..=100).contains(&d.trim().chars().count()))
        {
            err(
                "buyer.invoiceAddress.district".into(),
                "1–100 characters when given",
            );
        }
        match (&b.identity_number, &b.tax_number) {
            (Some(_), Some(_)) => err(
                "buyer.taxNumber".into(),
                "either identityNumber (a person) or taxNumber (a company), not both",
            ),
            (None, None) => err(
                "buyer.identityNumber".into(),
                "identityNumber (11 digits) or taxNumber (10 digits) with taxOffice is required",
            ),
            (Some(tckn), None) => {
                if !matches!(TaxId::parse(tckn), Ok(TaxId::Tckn(_))) {
                    err("buyer.identityNumber".into(), "11 digits");
                }
                if b.tax_office.is_some() {
                    err("buyer.taxOffice".into(), "only with a taxNumber");
                }
            }
            (None, Some(vkn)) => {
                if !matches!(TaxId::parse(vkn), Ok(TaxId::Vkn(_))) {
                    err("buyer.taxNumber".into(), "10 digits");
                }
                if b.tax_office
                    .as_ref()
                    .is_none_or(|o| !(1..=100).contains(&o.trim().chars().count()))
                {
                    err(
                        "buyer.taxOffice".into(),
                        "required with a taxNumber (1–100 characters)",
                    );
                }
            }
        }
        if !(1..=500).contains(&self.lines.len()) {
            err("lines".into(), "1–500 lines");
        }
        let currency = self.lines.first().map(|l| l.unit_price.currency);
        let amount = |field: String, a: &Amount, err: &mut dyn FnMut(String, &str)| {
            if !(0..=MAX_LINE_MINOR).contains(&a.amount) {
                err(
                    format!("{field}.amount"),
                    "0 or more minor units, at most 10^13",
                );
            }
            if currency.is_some_and(|c| c != a.currency) {
                err(
                    format!("{field}.currency"),
                    "every amount of an invoice is in one currency (that of lines[0].unitPrice)",
                );
            }
        };
        for (i, line) in self.lines.iter().enumerate() {
            let at = |f: &str| format!("lines[{i}].{f}");
            if !(1..=100).contains(&line.sku.trim().chars().count()) {
                err(at("sku"), "1–100 characters");
            }
            if !(1..=255).contains(&line.name.trim().chars().count()) {
                err(at("name"), "1–255 characters");
            }
            if !(1..=1_000_000).contains(&line.quantity) {
                err(at("quantity"), "1–1000000");
            }
            if line.vat_rate > 100 {
                err(at("vatRate"), "a whole percent, 0–100");
            }
            amount(at("unitPrice"), &line.unit_price, &mut err);
            if let Some(d) = &line.discount {
                amount(at("discount"), d, &mut err);
                let line_gross = i64::from(line.quantity).checked_mul(line.unit_price.amount);
                if line_gross.is_none_or(|g| d.amount > g) {
                    err(at("discount.amount"), "at most quantity × unitPrice");
                }
            }
            if i64::from(line.quantity)
                .checked_mul(line.unit_price.amount)
                .is_none_or(|g| g > MAX_LINE_MINOR)
            {
                err(
                    at("quantity"),
                    "quantity × unitPrice exceeds 10^13 minor units",
                );
            }
        }
        if let Some(s) = &self.shipping {
            if s.name
                .as_ref()
                .is_some_and(|n| !(1..=255).contains(&n.trim().chars().count()))
            {
                err("shipping.name".into(), "1–255 characters when given");
            }
            if s.vat_rate > 100 {
                err("shipping.vatRate".into(), "a whole percent, 0–100");
            }
            amount("shipping.price".into(), &s.price, &mut err);
        }
        if let Some(s) = &self.shipment {
            s.validate(&mut errors);
        }
        errors
    }
}

/// The stored invoice data of an order (no personal data: the buyer is
/// kept apart, with a TTL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredInvoiceData {
    pub content: SaleContent,
    /// SHA-256 of the whole body (buyer included): an identical PUT changes
    /// nothing, another one after the invoice was started is refused.
    pub content_hash: String,
    /// When this content arrived (ms).
    pub received_ms: i64,
    /// When the buyer's data is erased (ms).
    pub erase_after_ms: i64,
    /// What became of the invoice so far, for the GET route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// What became of a storefront order's invoice (the GET route's `outcome`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// `waiting_for_payment`, `invoicing` (under way, or retried),
    /// `invoiced`, `not_invoiced` (refunded), `not_possible` (a person
    /// decides; an `integration.error` said why).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced: Option<Money>,
    pub at: String,
}

/// What to do about a storefront order's invoice now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Ready: the request to issue.
    Invoice(Box<InvoiceRequest>),
    /// Not yet (not paid): the other fact brings it later.
    Wait(&'static str),
    /// Never: refunded in full before it was invoiced (no sale remains).
    NotInvoiced(&'static str),
    /// Cannot be invoiced as it stands: a person decides
    /// (`integration.error` `invoice_not_possible`).
    NotPossible {
        reason: String,
        /// What the payment collected, when money is the reason.
        paid: Option<Money>,
        /// What the invoice data adds up to.
        invoiced: Option<Money>,
    },
}

fn not_possible(reason: impl Into<String>) -> Decision {
    Decision::NotPossible {
        reason: reason.into(),
        paid: None,
        invoiced: None,
    }
}

/// What [`decide`] looks at.
pub struct Facts<'a> {
    pub order_id: &'a str,
    pub content: &'a SaleContent,
    /// When the invoice data was stored (ms).
    pub received_ms: i64,
    /// `None`: erased after the retention.
    pub buyer: Option<&'a InvoiceBuyer>,
    /// Who shipped it, if the platform said (kept with the buyer).
    pub shipment: Option<&'a ShipmentData>,
    pub ledger: &'a PaymentLedger,
    /// The ledger's `paid_at` read as ms (`None`: not recorded or unreadable).
    pub paid_ms: Option<i64>,
    /// An invoice was already claimed for the order (while it was paid): it
    /// is finished with the same request whatever was refunded since.
    pub invoice_started: bool,
    /// `STOREFRONT_URL`: the site the sale was made on.
    pub store_url: &'a str,
}

/// The name the e-Arşiv gives the gateway that collected the money.
pub fn payment_platform(provider: &str) -> String {
    match provider {
        "stripe" => "Stripe".into(),
        "iyzico" => "iyzico".into(),
        other => other.into(),
    }
}

/// What the stored facts say about the order's invoice.
pub fn decide(facts: &Facts<'_>) -> Decision {
    let ledger = facts.ledger;
    match ledger.status {
        PaymentStatus::Unpaid => return Decision::Wait("not paid yet"),
        _ if facts.invoice_started => {}
        PaymentStatus::Refunded => {
            return Decision::NotInvoiced("refunded in full before it was invoiced")
        }
        PaymentStatus::PartiallyRefunded => {
            return not_possible(
                "partially refunded before it was invoiced: what the invoice states is for a \
                 person to decide",
            )
        }
        PaymentStatus::Paid => {}
    }
    let content = facts.content;
    let Some(currency) = content.lines.first().map(|l| l.unit_price.currency) else {
        return not_possible("the invoice data has no line");
    };
    let mut lines: Vec<InvoiceLine> = content
        .lines
        .iter()
        .map(|l| InvoiceLine {
            description: l.name.trim().to_string(),
            sku: l.sku.trim().to_string(),
            quantity: l.quantity,
            unit_price: l.unit_price.amount,
            discount: l.discount.map_or(0, |d| d.amount),
            vat_rate: l.vat_rate,
        })
        .collect();
    if let Some(s) = &content.shipping {
        lines.push(InvoiceLine {
            description: s
                .name
                .as_deref()
                .map(str::trim)
                .unwrap_or(SHIPPING_NAME)
                .to_string(),
            sku: SHIPPING_SKU.into(),
            quantity: 1,
            unit_price: s.price.amount,
            discount: 0,
            vat_rate: s.vat_rate,
        });
    }
    let total = lines
        .iter()
        .try_fold(0i64, |sum, l| l.gross().and_then(|g| sum.checked_add(g)));
    let Some(total) = total else {
        return not_possible("the invoice data's amounts are out of range");
    };
    let invoiced = Money::new(total, currency);
    let paid = Money::new(ledger.paid_minor.unwrap_or_default(), ledger.total.currency);
    if ledger.paid_minor.is_none() || paid != invoiced {
        return Decision::NotPossible {
            reason: format!(
                "the invoice data adds up to {} {} but the payment collected {} {}: no invoice",
                invoiced.to_major_string(),
                invoiced.currency,
                paid.to_major_string(),
                paid.currency
            ),
            paid: Some(paid),
            invoiced: Some(invoiced),
        };
    }
    let Some(buyer) = facts.buyer else {
        return not_possible(
            "the buyer's invoice data is gone (erased after the retention): send it again",
        );
    };
    let (Some(paid_ms), Some(provider)) = (facts.paid_ms, ledger.provider.as_deref()) else {
        return not_possible(
            "the ledger does not record when or through which gateway it was paid",
        );
    };
    let (Some(issue_date), Some(payment_date)) = (
        date_in_turkiye(paid_ms.max(facts.received_ms)),
        date_in_turkiye(paid_ms),
    ) else {
        return not_possible("the payment time is out of range");
    };
    let tax_number = buyer
        .tax_number
        .clone()
        .or_else(|| buyer.identity_number.clone());
    Decision::Invoice(Box::new(InvoiceRequest {
        order_ref: order_ref(facts.order_id),
        issue_date,
        currency,
        buyer: Buyer {
            name: buyer.name.trim().to_string(),
            email: Some(buyer.email.trim().to_string()),
            tax_office: buyer
                .tax_number
                .as_ref()
                .and(buyer.tax_office.as_deref())
                .map(|o| o.trim().to_string()),
            tax_number,
            address: buyer.invoice_address.line.trim().to_string(),
            city: buyer.invoice_address.city.trim().to_string(),
            district: buyer
                .invoice_address
                .district
                .as_deref()
                .map(|d| d.trim().to_string()),
            phone: buyer.phone.clone(),
        },
        lines,
        total,
        internet_sale: Some(InternetSale {
            url: facts.store_url.to_string(),
            payment_type: PAYMENT_TYPE_CARD.into(),
            payment_platform: payment_platform(provider),
            payment_date,
        }),
        shipment: facts.shipment.and_then(ShipmentData::to_shipment),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::marketplace::Marketplace;

    fn try_(amount: i64) -> Amount {
        Amount {
            amount,
            currency: Currency::TRY,
        }
    }

    fn line(sku: &str, unit: i64, quantity: u32, discount: i64, vat_rate: u32) -> SaleLine {
        SaleLine {
            sku: sku.into(),
            name: format!("Ürün {sku}"),
            quantity,
            unit_price: try_(unit),
            vat_rate,
            discount: (discount > 0).then(|| try_(discount)),
        }
    }

    fn data() -> InvoiceData {
        InvoiceData {
            buyer: InvoiceBuyer {
                name: "Ayşe Yılmaz".into(),
                email: "ayse@example.com".into(),
                phone: Some("+90 532 000 00 00".into()),
                invoice_address: InvoiceAddress {
                    line: "Moda Cad. No:5 D:3".into(),
                    district: Some("Kadıköy".into()),
                    city: "İstanbul".into(),
                },
                identity_number: Some("12345678901".into()),
                tax_number: None,
                tax_office: None,
            },
            // 679.80 at 20 % and 388.50 at 10 %, with a discount.
            lines: vec![
                line("TSHIRT-M", 34990, 2, 2000, 20),
                line("KITAP-1", 12950, 3, 0, 10),
            ],
            shipping: Some(ShippingLine {
                name: None,
                price: try_(4990),
                vat_rate: 20,
            }),
            shipment: None,
        }
    }

    const TOTAL: i64 = 67980 + 38850 + 4990;
    // 2026-12-02T21:30:00Z = 2026-12-03 00:30 in Türkiye.
    const PAID_MS: i64 = 1_796_247_000_000;

    fn paid_ledger(paid: i64, currency: Currency) -> PaymentLedger {
        let mut l = PaymentLedger::unpaid("ord-1", Money::new(paid, currency));
        l.status = PaymentStatus::Paid;
        l.provider = Some("iyzico".into());
        l.provider_ref = Some("pay-1".into());
        l.paid_minor = Some(paid);
        l.paid_at = Some("2026-12-02T21:30:00Z".into());
        l
    }

    fn decide_with(data: &InvoiceData, ledger: &PaymentLedger, received_ms: i64) -> Decision {
        decide(&Facts {
            order_id: "ord-1",
            content: &data.content(),
            received_ms,
            buyer: Some(&data.buyer),
            shipment: data.shipment.as_ref(),
            ledger,
            paid_ms: Some(PAID_MS),
            invoice_started: false,
            store_url: "https://shop.ayaztrade.example",
        })
    }

    fn request(d: Decision) -> InvoiceRequest {
        match d {
            Decision::Invoice(r) => *r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_paid_order_with_its_data_becomes_an_exact_invoice_with_its_internet_sale() {
        let d = data();
        assert!(d.validate().is_empty(), "{:?}", d.validate());
        let req = request(decide_with(&d, &paid_ledger(TOTAL, Currency::TRY), 0));
        assert_eq!(req.order_ref, "storefront:ord-1");
        assert_eq!(req.issue_date, "2026-12-03", "the payment's day in Türkiye");
        assert_eq!(req.total, TOTAL);
        assert_eq!(req.lines.len(), 3);
        assert_eq!(
            (
                req.lines[0].unit_price,
                req.lines[0].discount,
                req.lines[0].vat_rate
            ),
            (34990, 2000, 20)
        );
        assert_eq!(req.lines[2].sku, SHIPPING_SKU);
        assert_eq!(req.lines[2].description, "Kargo");
        assert_eq!(req.buyer.tax_number.as_deref(), Some("12345678901"));
        assert_eq!(req.buyer.tax_office, None);
        let sale = req.internet_sale.as_ref().unwrap();
        assert_eq!(sale.url, "https://shop.ayaztrade.example");
        assert_eq!(sale.payment_type, "KREDIKARTI/BANKAKARTI");
        assert_eq!(sale.payment_platform, "iyzico");
        assert_eq!(sale.payment_date, "2026-12-03");
        let plan = req.plan().unwrap();
        assert_eq!(plan.totals.payable.minor, TOTAL);
        assert_eq!(plan.totals.net.minor + plan.totals.vat.minor, TOTAL);

        // Data a day after the payment: issued that day, paid the day before.
        let later = request(decide_with(
            &d,
            &paid_ledger(TOTAL, Currency::TRY),
            PAID_MS + 86_400_000,
        ));
        assert_eq!(later.issue_date, "2026-12-04");
        assert_eq!(later.internet_sale.unwrap().payment_date, "2026-12-03");
    }

    #[test]
    fn a_company_buyer_carries_its_tax_number_and_office() {
        let mut d = data();
        d.buyer.identity_number = None;
        d.buyer.tax_number = Some("1234567890".into());
        d.buyer.tax_office = Some("Kadıköy".into());
        assert!(d.validate().is_empty());
        let mut ledger = paid_ledger(TOTAL, Currency::TRY);
        ledger.provider = Some("stripe".into());
        let req = request(decide_with(&d, &ledger, 0));
        assert_eq!(req.buyer.tax_number.as_deref(), Some("1234567890"));
        assert_eq!(req.buyer.tax_office.as_deref(), Some("Kadıköy"));
        assert_eq!(
            req.internet_sale.as_ref().unwrap().payment_platform,
            "Stripe"
        );
        req.validate().unwrap();
    }

    #[test]
    fn a_payment_other_than_the_invoice_is_not_invoiced() {
        let d = data();
        let Decision::NotPossible {
            paid,
            invoiced,
            reason,
        } = decide_with(&d, &paid_ledger(TOTAL - 1, Currency::TRY), 0)
        else {
            panic!()
        };
        assert_eq!(paid, Some(Money::new(TOTAL - 1, Currency::TRY)));
        assert_eq!(invoiced, Some(Money::new(TOTAL, Currency::TRY)));
        assert!(
            reason.contains("1118.20") && reason.contains("1118.19"),
            "{reason}"
        );
        let other_currency =
            decide_with(&d, &paid_ledger(TOTAL, Currency::parse("EUR").unwrap()), 0);
        assert!(matches!(other_currency, Decision::NotPossible { .. }));
    }

    #[test]
    fn unpaid_waits_refunded_is_never_invoiced_and_partly_refunded_needs_a_person() {
        let d = data();
        let mut ledger = paid_ledger(TOTAL, Currency::TRY);
        ledger.status = PaymentStatus::Unpaid;
        assert_eq!(decide_with(&d, &ledger, 0), Decision::Wait("not paid yet"));
        ledger.status = PaymentStatus::Refunded;
        assert!(matches!(
            decide_with(&d, &ledger, 0),
            Decision::NotInvoiced(_)
        ));
        ledger.status = PaymentStatus::PartiallyRefunded;
        assert!(matches!(
            decide_with(&d, &ledger, 0),
            Decision::NotPossible { .. }
        ));
        // Paid, but the buyer's data is gone.
        let ledger = paid_ledger(TOTAL, Currency::TRY);
        let gone = decide(&Facts {
            order_id: "ord-1",
            content: &d.content(),
            received_ms: 0,
            buyer: None,
            shipment: None,
            ledger: &ledger,
            paid_ms: Some(PAID_MS),
            invoice_started: false,
            store_url: "https://shop.ayaztrade.example",
        });
        assert!(matches!(gone, Decision::NotPossible { reason, .. } if reason.contains("erased")));
    }

    #[test]
    fn an_invoice_claimed_while_paid_is_finished_with_the_same_request_after_a_refund() {
        let d = data();
        let paid = request(decide_with(&d, &paid_ledger(TOTAL, Currency::TRY), 0));
        for status in [PaymentStatus::Refunded, PaymentStatus::PartiallyRefunded] {
            let mut ledger = paid_ledger(TOTAL, Currency::TRY);
            ledger.status = status;
            let resumed = decide(&Facts {
                order_id: "ord-1",
                content: &d.content(),
                received_ms: 0,
                buyer: Some(&d.buyer),
                shipment: None,
                ledger: &ledger,
                paid_ms: Some(PAID_MS),
                invoice_started: true,
                store_url: "https://shop.ayaztrade.example",
            });
            assert_eq!(request(resumed), paid);
        }
    }

    #[test]
    fn validation_names_each_bad_field() {
        let mut d = data();
        d.buyer.name = " ".into();
        d.buyer.email = "ayse".into();
        d.buyer.identity_number = Some("123".into());
        d.buyer.invoice_address.city = String::new();
        d.lines[0].quantity = 0;
        d.lines[1].vat_rate = 120;
        d.lines[1].unit_price.currency = Currency::parse("EUR").unwrap();
        d.lines[0].discount = Some(try_(1_000_000));
        let fields: Vec<String> = d.validate().into_iter().map(|e| e.field).collect();
        for f in [
            "buyer.name",
            "buyer.email",
            "buyer.identityNumber",
            "buyer.invoiceAddress.city",
            "lines[0].quantity",
            "lines[0].discount.amount",
            "lines[1].vatRate",
            "lines[1].unitPrice.currency",
        ] {
            assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
        }
        let mut d = data();
        d.buyer.tax_number = Some("1234567890".into());
        let fields: Vec<String> = d.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["buyer.taxNumber"], "not both");
        d.buyer.identity_number = None;
        let fields: Vec<String> = d.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["buyer.taxOffice"], "a VKN needs its office");
        d.lines.clear();
        assert!(d.validate().iter().any(|e| e.field == "lines"));
    }

    #[test]
    fn storefront_refs_never_meet_marketplace_refs_and_the_buyer_never_prints() {
        assert_eq!(Marketplace::parse(ORDER_REF_PREFIX), None);
        assert!(!format!("{:?}", data()).contains("Ayşe"));
        assert!(!format!("{:?}", data()).contains("12345678901"));
    }

    fn carrier(title: &str, vkn: &str, date: &str) -> ShipmentData {
        ShipmentData {
            carrier_title: Some(title.into()),
            carrier_tax_number: Some(vkn.into()),
            courier_name: None,
            courier_identity_number: None,
            date: date.into(),
        }
    }

    fn courier(name: &str, tckn: &str, date: &str) -> ShipmentData {
        ShipmentData {
            carrier_title: None,
            carrier_tax_number: None,
            courier_name: Some(name.into()),
            courier_identity_number: Some(tckn.into()),
            date: date.into(),
        }
    }

    fn shipment_errors(s: ShipmentData) -> Vec<String> {
        let mut d = data();
        d.shipment = Some(s);
        d.validate().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_shipment_is_a_carrier_or_a_courier_with_a_date_each_field_named() {
        assert!(shipment_errors(carrier("Aras Kargo", "1234567890", "2026-12-02")).is_empty());
        assert!(shipment_errors(courier("Mehmet Kurye", "12345678901", "2026-12-02")).is_empty());
        assert_eq!(
            shipment_errors(carrier(" ", "123456789", "02.12.2026")),
            [
                "shipment.carrierTitle",
                "shipment.carrierTaxNumber",
                "shipment.date"
            ]
        );
        assert_eq!(
            shipment_errors(courier("Mehmet", "1234567890", "2026-12-02")),
            ["shipment.courierIdentityNumber"]
        );
        let mut both = carrier("Aras Kargo", "1234567890", "2026-12-02");
        both.courier_name = Some("Mehmet".into());
        assert_eq!(shipment_errors(both), ["shipment.courierName"]);
        let mut half = carrier("Aras Kargo", "1234567890", "2026-12-02");
        half.carrier_tax_number = None;
        assert_eq!(shipment_errors(half), ["shipment.carrierTaxNumber"]);
        let neither = ShipmentData {
            carrier_title: None,
            carrier_tax_number: None,
            courier_name: None,
            courier_identity_number: None,
            date: "2026-12-02".into(),
        };
        assert_eq!(shipment_errors(neither), ["shipment.carrierTitle"]);
        // A field we do not know is refused, as everywhere in the body.
        let body =
            r#"{"carrierTitle":"A","carrierTaxNumber":"1234567890","date":"2026-12-02","x":1}"#;
        assert!(serde_json::from_str::<ShipmentData>(body).is_err());
        // Never printed: the courier is a person.
        let printed = format!("{:?}", courier("Mehmet Kurye", "12345678901", "2026-12-02"));
        assert!(!printed.contains("Mehmet") && !printed.contains("12345678901"));
    }

    #[test]
    fn data_without_a_shipment_serializes_as_before_so_its_hash_is_unchanged() {
        let d = data();
        let text = serde_json::to_string(&d).unwrap();
        assert!(!text.contains("shipment"));
        // A body stored before the field existed reads back and hashes the same.
        let back: InvoiceData = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        let mut with = d.clone();
        with.shipment = Some(carrier("Aras Kargo", "1234567890", "2026-12-02"));
        assert_ne!(serde_json::to_string(&with).unwrap(), text);
    }

    #[test]
    fn the_shipment_goes_into_the_e_archive_request() {
        let mut d = data();
        let ledger = paid_ledger(TOTAL, Currency::TRY);
        assert_eq!(request(decide_with(&d, &ledger, 0)).shipment, None);
        d.shipment = Some(carrier(" Aras Kargo ", "1234567890", "2026-12-02"));
        let req = request(decide_with(&d, &ledger, 0));
        assert_eq!(
            req.shipment,
            Some(Shipment {
                shipper: Shipper::Carrier {
                    title: "Aras Kargo".into(),
                    vkn: "1234567890".into()
                },
                date: "2026-12-02".into()
            })
        );
        req.validate().unwrap();
        d.shipment = Some(courier("Mehmet Kurye", "12345678901", "2026-12-03"));
        let req = request(decide_with(&d, &ledger, 0));
        assert_eq!(
            req.shipment.unwrap().shipper,
            Shipper::Courier {
                name: "Mehmet Kurye".into(),
                tckn: "12345678901".into()
            }
        );
    }
}
