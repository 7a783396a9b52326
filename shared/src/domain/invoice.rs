//! Sales invoices for the accounting system (Paraşüt): what we ask for, in
//! integer minor units, and the exact conversion to the provider's
//! VAT-exclusive line fields. No I/O.
//!
//! Our prices are what the buyer pays (VAT included). Paraşüt takes
//! VAT-exclusive unit prices and computes each line's VAT itself
//! (docs/parasut-wire.md P18, UNCONFIRMED: per line, `net × rate / 100`
//! rounded half up to the kuruş). So for each line we look for the net `N`
//! whose VAT brings it back to exactly what the buyer paid for the line
//! (`N + vat(N) = gross`) and send `quantity × unit_price − discount = N`.
//! Some gross amounts have no such net (the VAT of `N` and of `N + 1` can
//! differ by a kuruş, so one gross amount is skipped): such a line is
//! refused, loudly, never rounded. The totals Paraşüt answers are compared
//! with ours ([`InvoicePlan::check_totals`]); a difference is an error.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};

/// Why an invoice cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("invalid invoice request: {0}")]
    Invalid(String),
    #[error("currency {0} cannot be invoiced through Paraşüt (TRY, USD, EUR, GBP only)")]
    Currency(Currency),
    #[error(
        "line {line}: a gross of {gross} minor units at {rate} % VAT has no VAT-exclusive net \
         that the provider's per-line rounding brings back to it"
    )]
    GrossNotRepresentable { line: usize, gross: i64, rate: u32 },
    #[error("the lines add up to {lines} but the order total is {total}")]
    TotalMismatch { lines: Money, total: Money },
    #[error("the provider's {field} is {theirs}, ours is {ours}")]
    ProviderTotalMismatch {
        field: &'static str,
        ours: String,
        theirs: String,
    },
}

/// What identifies the buyer to the tax office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxId {
    /// Vergi kimlik numarası (10 digits): a company; may be an e-Fatura user.
    Vkn(String),
    /// T.C. kimlik numarası (11 digits): a person.
    Tckn(String),
}

impl TaxId {
    pub fn parse(text: &str) -> Result<TaxId, InvoiceError> {
        let digits = text.bytes().all(|b| b.is_ascii_digit());
        match (digits, text.len()) {
            (true, 10) => Ok(TaxId::Vkn(text.to_string())),
            (true, 11) => Ok(TaxId::Tckn(text.to_string())),
            _ => Err(InvoiceError::Invalid(
                "buyer.taxNumber must be a 10-digit VKN or an 11-digit TCKN".into(),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaxId::Vkn(v) | TaxId::Tckn(v) => v,
        }
    }
}

/// The buyer as the invoice names them. Personal data: never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// VKN (10 digits) or TCKN (11 digits); none for a consumer who gave none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_office: Option<String>,
    pub address: String,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl std::fmt::Debug for Buyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Buyer(***)")
    }
}

impl Buyer {
    pub fn tax_id(&self) -> Result<Option<TaxId>, InvoiceError> {
        self.tax_number.as_deref().map(TaxId::parse).transpose()
    }
}

/// One invoice line, as the buyer paid it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    pub description: String,
    pub sku: String,
    pub quantity: u32,
    /// Per unit, VAT included, in minor units of the invoice currency.
    pub unit_price: i64,
    /// Off the whole line, VAT included, in minor units (0 = none).
    #[serde(default)]
    pub discount: i64,
    /// Percent, e.g. 1, 10, 20.
    pub vat_rate: u32,
}

impl InvoiceLine {
    /// What the buyer paid for the line.
    pub fn gross(&self) -> Option<i64> {
        i64::from(self.quantity)
            .checked_mul(self.unit_price)?
            .checked_sub(self.discount)
    }
}

/// `internet_sale.payment_type` values Paraşüt takes (docs/parasut-wire.md
/// P24): card, transfer, cash on delivery, payment intermediary.
pub const PAYMENT_TYPES: [&str; 4] = [
    "KREDIKARTI/BANKAKARTI",
    "EFT/HAVALE",
    "KAPIDAODEME",
    "ODEMEARACISI",
];
/// A card payment through a gateway (our storefront: Stripe, iyzico).
pub const PAYMENT_TYPE_CARD: &str = "KREDIKARTI/BANKAKARTI";
/// Paid to an intermediary that passes the money on (a marketplace).
pub const PAYMENT_TYPE_INTERMEDIARY: &str = "ODEMEARACISI";

/// e-Arşiv's internet-sale block (docs/parasut-wire.md P24, P35–P38).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InternetSale {
    pub url: String,
    /// `KREDIKARTI/BANKAKARTI`, `EFT/HAVALE`, `KAPIDAODEME` or `ODEMEARACISI`.
    pub payment_type: String,
    /// e.g. `iyzico`, `stripe`, `trendyol`.
    pub payment_platform: String,
    /// YYYY-MM-DD.
    pub payment_date: String,
}

/// Who carried the goods (docs/parasut-wire.md P36): a cargo company by its
/// title and VKN, or a courier by name and TCKN (personal data).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "by")]
pub enum Shipper {
    Carrier { title: String, vkn: String },
    Courier { name: String, tckn: String },
}

impl std::fmt::Debug for Shipper {
    /// A cargo company is named; a courier (a person) is not.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shipper::Carrier { title, vkn } => write!(f, "Carrier({title:?}, {vkn})"),
            Shipper::Courier { .. } => f.write_str("Courier(***)"),
        }
    }
}

/// e-Arşiv's shipment block (P36): who shipped, and the day (YYYY-MM-DD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub shipper: Shipper,
    pub date: String,
}

/// One sale to invoice. `order_ref` is the identity: one invoice per
/// `order_ref`, however often this is asked (e.g. `storefront:ord-1`,
/// `trendyol:1234567`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRequest {
    pub order_ref: String,
    /// YYYY-MM-DD (the sale's date in Türkiye).
    pub issue_date: String,
    pub currency: Currency,
    pub buyer: Buyer,
    pub lines: Vec<InvoiceLine>,
    /// What the buyer paid in all; must equal the lines' sum.
    pub total: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_sale: Option<InternetSale>,
    /// e-Arşiv only; like the internet sale, not part of the request's
    /// identity (`intake::invoices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<Shipment>,
}

/// A line as Paraşüt takes it: decimal strings, VAT exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderLine {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub vat_rate: String,
    /// `discount_type = amount`; `None` when there is nothing off.
    pub discount_value: Option<String>,
}

/// What we expect the invoice to add up to, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceTotals {
    /// VAT exclusive, after discounts.
    pub net: Money,
    pub vat: Money,
    /// What the buyer paid (= net + vat).
    pub payable: Money,
}

/// The request converted: the provider's lines and the totals they make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoicePlan {
    pub currency_code: &'static str,
    pub lines: Vec<ProviderLine>,
    pub totals: InvoiceTotals,
}

/// The largest line we take (10¹³ minor units: 100 billion lira), so the
/// arithmetic below (× 100, × rate) can never overflow.
pub const MAX_LINE_MINOR: i64 = 10_000_000_000_000;

/// Paraşüt's code for a currency (`TRL` for the lira, P15).
pub fn provider_currency(currency: Currency) -> Result<&'static str, InvoiceError> {
    match currency.code() {
        "TRY" => Ok("TRL"),
        "USD" => Ok("USD"),
        "EUR" => Ok("EUR"),
        "GBP" => Ok("GBP"),
        _ => Err(InvoiceError::Currency(currency)),
    }
}

/// VAT of a net amount: `net × rate / 100`, half up, in minor units.
pub fn vat_of(net: i64, rate: u32) -> i64 {
    (net * i64::from(rate) + 50).div_euclid(100)
}

/// The VAT-exclusive net whose VAT brings it to `gross`, if one exists.
pub fn net_for_gross(gross: i64, rate: u32) -> Option<i64> {
    let estimate = gross * 100 / (100 + i64::from(rate));
    (estimate.saturating_sub(2)..=estimate + 2)
        .filter(|n| *n >= 0)
        .find(|n| n + vat_of(*n, rate) == gross)
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1).div_euclid(b)
}

impl InvoiceRequest {
    pub fn validate(&self) -> Result<(), InvoiceError> {
        let invalid = |m: &str| Err(InvoiceError::Invalid(m.to_string()));
        let id_ok = !self.order_ref.is_empty()
            && self.order_ref.len() <= 100
            && self
                .order_ref
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b));
        if !id_ok {
            return invalid("orderRef: 1–100 of A–Z a–z 0–9 - _ : .");
        }
        if !is_date(&self.issue_date) {
            return invalid("issueDate must be YYYY-MM-DD");
        }
        if self.buyer.name.trim().is_empty() {
            return invalid("buyer.name is required");
        }
        if self.buyer.address.trim().is_empty() || self.buyer.city.trim().is_empty() {
            return invalid("buyer.address and buyer.city are required");
        }
        if let Some(TaxId::Vkn(_)) = self.buyer.tax_id()? {
            if self.buyer.tax_office.as_deref().is_none_or(str::is_empty) {
                return invalid("buyer.taxOffice is required with a VKN");
            }
        }
        if self.buyer.tax_number.is_none() && self.buyer.email.is_none() {
            return invalid("buyer needs a taxNumber or an email to be found again");
        }
        if self.lines.is_empty() || self.lines.len() > 500 {
            return invalid("lines: 1–500");
        }
        for (i, line) in self.lines.iter().enumerate() {
            if line.quantity == 0 || line.unit_price < 0 || line.discount < 0 {
                return invalid(&format!(
                    "lines[{i}]: quantity ≥ 1, unitPrice ≥ 0, discount ≥ 0"
                ));
            }
            if line.vat_rate > 100 {
                return invalid(&format!("lines[{i}].vatRate: 0–100"));
            }
            if line.description.trim().is_empty() {
                return invalid(&format!("lines[{i}].description is required"));
            }
            match line.gross() {
                Some(g) if (0..=MAX_LINE_MINOR).contains(&g) => {}
                Some(g) if g > MAX_LINE_MINOR => {
                    return invalid(&format!(
                        "lines[{i}]: more than {MAX_LINE_MINOR} minor units"
                    ))
                }
                _ => return invalid(&format!("lines[{i}]: the discount exceeds the line")),
            }
        }
        if let Some(sale) = &self.internet_sale {
            if !is_date(&sale.payment_date) {
                return invalid("internetSale.paymentDate must be YYYY-MM-DD");
            }
            if !PAYMENT_TYPES.contains(&sale.payment_type.as_str()) {
                return invalid("internetSale.paymentType is not one Paraşüt takes");
            }
            if !sale.url.starts_with("https://") || sale.payment_platform.trim().is_empty() {
                return invalid("internetSale needs an https url and a paymentPlatform");
            }
        }
        if let Some(shipment) = &self.shipment {
            if !is_date(&shipment.date) {
                return invalid("shipment.date must be YYYY-MM-DD");
            }
            let ok = match &shipment.shipper {
                Shipper::Carrier { title, vkn } => {
                    !title.trim().is_empty() && matches!(TaxId::parse(vkn), Ok(TaxId::Vkn(_)))
                }
                Shipper::Courier { name, tckn } => {
                    !name.trim().is_empty() && matches!(TaxId::parse(tckn), Ok(TaxId::Tckn(_)))
                }
            };
            if !ok {
                return invalid(
                    "shipment: a carrier's title and 10-digit VKN, or a courier's name and \
                     11-digit TCKN",
                );
            }
        }
        Ok(())
    }

    /// The provider's lines and the totals they must make, exact to the
    /// minor unit, or why that is impossible.
    pub fn plan(&self) -> Result<InvoicePlan, InvoiceError> {
        self.validate()?;
        let currency_code = provider_currency(self.currency)?;
        let money = |minor| Money::new(minor, self.currency);
        let (mut net_sum, mut vat_sum, mut gross_sum) = (0i64, 0i64, 0i64);
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            let gross = line.gross().expect("validated");
            let net =
                net_for_gross(gross, line.vat_rate).ok_or(InvoiceError::GrossNotRepresentable {
                    line: i,
                    gross,
                    rate: line.vat_rate,
                })?;
            let q = i64::from(line.quantity);
            // The unit's own net, or just enough for the line's net; the
            // difference (the buyer's discount, plus less than a kuruş per
            // unit when the net does not divide by the quantity) is the
            // line's discount, so quantity × unit − discount = net exactly.
            let unit_net = (line.unit_price * 100 + (100 + i64::from(line.vat_rate)) / 2)
                / (100 + i64::from(line.vat_rate));
            let unit = unit_net.max(ceil_div(net, q));
            let discount = q * unit - net;
            net_sum += net;
            vat_sum += vat_of(net, line.vat_rate);
            gross_sum += gross;
            lines.push(ProviderLine {
                description: format!("{} ({})", line.description, line.sku),
                quantity: line.quantity.to_string(),
                unit_price: money(unit).to_major_string(),
                vat_rate: line.vat_rate.to_string(),
                discount_value: (discount > 0).then(|| money(discount).to_major_string()),
            });
        }
        if gross_sum != self.total {
            return Err(InvoiceError::TotalMismatch {
                lines: money(gross_sum),
                total: money(self.total),
            });
        }
        Ok(InvoicePlan {
            currency_code,
            lines,
            totals: InvoiceTotals {
                net: money(net_sum),
                vat: money(vat_sum),
                payable: money(gross_sum),
            },
        })
    }
}

impl InvoicePlan {
    /// Compares the totals the provider computed (decimal text, e.g.
    /// `"118.0"`) with ours; any difference is an error.
    pub fn check_totals(&self, payable: &str, vat: &str) -> Result<(), InvoiceError> {
        let currency = self.totals.payable.currency;
        for (field, ours, theirs) in [
            ("net_total", self.totals.payable, payable),
            ("total_vat", self.totals.vat, vat),
        ] {
            let parsed = parse_decimal(theirs, currency);
            if parsed != Some(ours) {
                return Err(InvoiceError::ProviderTotalMismatch {
                    field,
                    ours: ours.to_major_string(),
                    theirs: theirs.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// A provider's decimal text in `currency` ("118", "118.0", "118.50",
/// "118.5000"); `None` when it is not a number or has a non-zero digit
/// beyond the currency's minor unit (never rounded).
pub fn parse_decimal(text: &str, currency: Currency) -> Option<Money> {
    let exponent = currency.exponent() as usize;
    let trimmed = match text.split_once('.') {
        Some((whole, fraction)) if fraction.len() > exponent => {
            let (kept, extra) = fraction.split_at(exponent);
            if !extra.bytes().all(|b| b == b'0') {
                return None;
            }
            if kept.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{kept}")
            }
        }
        _ => text.to_string(),
    };
    Money::parse_major(&trimmed, currency).ok()
}

/// Where one order's invoice stands (stored; see `intake::invoices`).
/// Forward only, except an e-document job that failed, which goes back to
/// [`InvoiceStage::Created`] so a retry makes the e-document again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStage {
    /// Claimed, with our series number; nothing sent for it yet.
    Pending,
    /// The sales invoice create was sent: its outcome is resolved by asking
    /// Paraşüt for our series number before it is ever sent again.
    Creating,
    /// Paraşüt holds the sales invoice (`sales_invoice_id`), totals checked.
    Created,
    /// The e-document create was sent (`job_id` once its answer came).
    Legalizing,
    /// Legalized: number and (temporary) PDF URL known.
    Done,
    /// Needs a person (totals differ, Paraşüt refused the invoice); an
    /// `integration.error` said why.
    Failed,
}

impl InvoiceStage {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStage::Pending => "pending",
            InvoiceStage::Creating => "creating",
            InvoiceStage::Created => "created",
            InvoiceStage::Legalizing => "legalizing",
            InvoiceStage::Done => "done",
            InvoiceStage::Failed => "failed",
        }
    }
}

/// One order's invoice, as stored. No personal data: the buyer stays in the
/// request, which is not stored (only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceRecord {
    pub order_ref: String,
    /// SHA-256 of the request: the same order asked with other content is
    /// refused, not invoiced twice.
    pub request_hash: String,
    pub series: String,
    pub sequence: i64,
    pub stage: InvoiceStage,
    pub totals: InvoiceTotals,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales_invoice_id: Option<String>,
    /// `e_archive` or `e_invoice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The last e-document job's errors (a retry makes a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_url_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// `invoice.created` went out (after `Done`).
    #[serde(default)]
    pub published: bool,
    /// One worker at a time: the lease's end (unix ms), 0 when free.
    #[serde(default)]
    pub lease_until_ms: i64,
    pub updated_at: String,
}

/// Türkiye's offset from UTC (no daylight saving since 2016).
const TURKIYE_OFFSET_MS: i64 = 3 * 3_600_000;

/// The day (YYYY-MM-DD) in Türkiye of a unix time in ms: the dates an
/// invoice states (issue date, payment date).
pub fn date_in_turkiye(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(ms.checked_add(TURKIYE_OFFSET_MS)?) * 1_000_000,
    )
    .ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ))
}

/// `YYYY-MM-DD` (digits; not a calendar check).
pub fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(unit_price: i64, quantity: u32, discount: i64, vat_rate: u32) -> InvoiceLine {
        InvoiceLine {
            description: "Tişört".into(),
            sku: "TSHIRT-M".into(),
            quantity,
            unit_price,
            discount,
            vat_rate,
        }
    }

    fn request(lines: Vec<InvoiceLine>) -> InvoiceRequest {
        let total = lines.iter().map(|l| l.gross().unwrap()).sum();
        InvoiceRequest {
            order_ref: "storefront:ord-1".into(),
            issue_date: "2026-12-02".into(),
            currency: Currency::TRY,
            buyer: Buyer {
                name: "Ayşe Yılmaz".into(),
                email: Some("ayse@example.com".into()),
                tax_number: Some("12345678901".into()),
                tax_office: None,
                address: "Moda Cad. 5".into(),
                city: "İstanbul".into(),
                district: Some("Kadıköy".into()),
                phone: None,
            },
            lines,
            total,
            internet_sale: None,
            shipment: None,
        }
    }

    /// What the provider would compute from our lines under P18.
    fn provider_view(plan: &InvoicePlan) -> (i64, i64) {
        let minor = |s: &str| parse_decimal(s, Currency::TRY).unwrap().minor;
        plan.lines.iter().fold((0, 0), |(net, vat), l| {
            let q: i64 = l.quantity.parse().unwrap();
            let line_net = q * minor(&l.unit_price) - l.discount_value.as_deref().map_or(0, minor);
            let rate: u32 = l.vat_rate.parse().unwrap();
            (net + line_net, vat + vat_of(line_net, rate))
        })
    }

    #[test]
    fn lines_at_one_ten_and_twenty_percent_with_discounts_add_up_to_the_kurus() {
        let req = request(vec![
            line(34990, 2, 2000, 20), // 679.80 gross
            line(12950, 3, 0, 10),    // 388.50 gross
            line(4999, 1, 499, 1),    // 45.00 gross
            line(10000, 1, 0, 20),
        ]);
        let plan = req.plan().unwrap();
        assert_eq!(plan.currency_code, "TRL");
        assert_eq!(plan.totals.payable.minor, 67980 + 38850 + 4500 + 10000);
        assert_eq!(
            plan.totals.net.minor + plan.totals.vat.minor,
            plan.totals.payable.minor
        );
        let (net, vat) = provider_view(&plan);
        assert_eq!((net, vat), (plan.totals.net.minor, plan.totals.vat.minor));
        // 679.80 at 20 %: net 566.50, VAT 113.30; unit 291.58 × 2 − 16.66.
        assert_eq!(plan.lines[0].unit_price, "291.58");
        assert_eq!(plan.lines[0].discount_value.as_deref(), Some("16.66"));
        assert_eq!(plan.lines[0].vat_rate, "20");
        assert_eq!(plan.lines[0].description, "Tişört (TSHIRT-M)");
        // 100.00 at 20 %: 83.33 + 16.67, no discount.
        assert_eq!(plan.lines[3].unit_price, "83.33");
        assert_eq!(plan.lines[3].discount_value, None);
        plan.check_totals("1213.3", &plan.totals.vat.to_major_string())
            .unwrap();
    }

    #[test]
    fn every_representable_gross_converts_exactly() {
        for rate in [0, 1, 10, 20] {
            for quantity in [1, 2, 3, 7] {
                for unit in (1..3000).step_by(7) {
                    for discount in [0, 1, 99] {
                        let l = line(unit, quantity, discount.min(unit), rate);
                        let req = request(vec![l]);
                        match req.plan() {
                            Ok(plan) => {
                                let (net, vat) = provider_view(&plan);
                                assert_eq!(net + vat, req.total, "{rate} {quantity} {unit}");
                                assert_eq!(net, plan.totals.net.minor);
                                assert!(plan.lines[0]
                                    .discount_value
                                    .as_deref()
                                    .is_none_or(|d| !d.starts_with('-')));
                            }
                            Err(InvoiceError::GrossNotRepresentable { gross, .. }) => {
                                assert!(net_for_gross(gross, rate).is_none());
                                assert!((0..=gross).all(|n| n + vat_of(n, rate) != gross));
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_gross_no_net_reaches_is_refused_not_rounded() {
        // At 20 %: net 2 → 2.00 + 0 (0.4 rounds down), net 3 → 3 + 1 (0.6 up):
        // a gross of 3 kuruş has no net.
        assert_eq!(net_for_gross(3, 20), None);
        let err = request(vec![line(3, 1, 0, 20)]).plan().unwrap_err();
        assert_eq!(
            err,
            InvoiceError::GrossNotRepresentable {
                line: 0,
                gross: 3,
                rate: 20
            }
        );
    }

    #[test]
    fn a_total_other_than_the_lines_is_refused() {
        let mut req = request(vec![line(10000, 1, 0, 20)]);
        req.total = 9999;
        assert!(matches!(
            req.plan(),
            Err(InvoiceError::TotalMismatch { .. })
        ));
    }

    #[test]
    fn provider_totals_must_match_ours() {
        let plan = request(vec![line(10000, 1, 0, 20)]).plan().unwrap();
        plan.check_totals("100.0", "16.67").unwrap();
        plan.check_totals("100", "16.6700").unwrap();
        let err = plan.check_totals("100.01", "16.67").unwrap_err();
        assert!(matches!(
            err,
            InvoiceError::ProviderTotalMismatch {
                field: "net_total",
                ..
            }
        ));
        assert!(plan.check_totals("100.00", "16.666").is_err());
        assert!(plan.check_totals("abc", "16.67").is_err());
    }

    #[test]
    fn only_the_providers_currencies_and_sane_requests_pass() {
        let mut req = request(vec![line(10000, 1, 0, 20)]);
        req.currency = Currency::parse("JPY").unwrap();
        assert!(matches!(req.plan(), Err(InvoiceError::Currency(_))));
        let mut req = request(vec![line(10000, 1, 20000, 20)]);
        req.total = -10000;
        assert!(matches!(req.plan(), Err(InvoiceError::Invalid(_))));
        let req = request(vec![line(i64::MAX / 2, 2, 0, 20)]);
        assert!(matches!(req.plan(), Err(InvoiceError::Invalid(_))));
        let mut req = request(vec![line(10000, 1, 0, 20)]);
        req.buyer.tax_number = Some("1234567890".into());
        assert!(req.validate().is_err(), "a VKN needs its tax office");
        req.buyer.tax_office = Some("Kadıköy".into());
        req.validate().unwrap();
        req.buyer.tax_number = Some("12345".into());
        assert!(req.validate().is_err());
    }

    #[test]
    fn the_buyer_never_prints() {
        let req = request(vec![line(10000, 1, 0, 20)]);
        let text = format!("{req:?}");
        assert!(!text.contains("Ayşe") && !text.contains("ayse@") && !text.contains("1234567"));
    }
}
