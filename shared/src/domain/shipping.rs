//! Parcels, desi, contract tariffs and tracking status: pure rules, no I/O.
//!
//! Units. A parcel's stored measures are integers: millimetres and grams.
//! Desi, kilograms and the charge basis are [`Hundredths`] (0.01 of a desi
//! or a kilogram), the resolution a carrier's waybill shows and the one we
//! send Aras (`"2.50"`). Nothing here is `f64`.
//!
//! Desi per piece = length × width × height (cm) / 3000 (docs/aras-wire.md D1:
//! the Turkish carrier standard; for Aras specifically UNCONFIRMED). In
//! millimetres that is mm³ / 3 000 000 desi, i.e. mm³ / 30 000 hundredths.
//! We **round up** to the next 0.01 desi, and kilograms likewise to the next
//! 10 g: a carrier bills a started unit, so rounding down could quote less
//! than the invoice; rounding each piece (not the sum) is what a per-piece
//! waybill does. The charge basis of a piece is max(desi, kg).
//!
//! Tariffs: Aras publishes no rate API; a merchant's contract price list is
//! configured as JSON ([`Tariff::from_json`]) and [`quote`] prices each piece
//! by its charge basis and sums the pieces.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, FieldError};
use crate::money::{Currency, Money};

/// A count of hundredths (of a desi or a kilogram): 250 is "2.50".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hundredths(pub u64);

impl Hundredths {
    /// Whole units rounded up: 2.01 → 3.
    pub fn ceil_units(self) -> u64 {
        self.0.div_ceil(100)
    }

    /// Parses `"2.5"`, `"2.50"` or `"3"` (at most two decimals, no sign).
    pub fn parse(text: &str) -> Option<Hundredths> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(fraction)) || fraction.len() > 2 {
            return None;
        }
        let whole: u64 = whole.parse().ok()?;
        let fraction: u64 = format!("{fraction:0<2}").parse().ok()?;
        whole
            .checked_mul(100)?
            .checked_add(fraction)
            .map(Hundredths)
    }
}

impl fmt::Display for Hundredths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Sanity bounds that catch unit mistakes (centimetres sent as millimetres,
/// kilograms as grams), not Aras's own limits, which are UNCONFIRMED.
pub const MAX_SIDE_MM: i64 = 3_000;
pub const MAX_WEIGHT_GRAMS: i64 = 1_000_000;
pub const MAX_PIECES: usize = 999;

/// One physical piece as the caller describes it (JSON of the shipment API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParcelInput {
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub weight_grams: i64,
}

/// A validated piece: every side 1..=3000 mm, weight 1..=1 000 000 g.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Parcel {
    length_mm: u32,
    width_mm: u32,
    height_mm: u32,
    weight_grams: u32,
}

impl Parcel {
    /// Validates one piece; errors name fields under `prefix`
    /// (e.g. `parcels[2]`).
    pub fn new(input: ParcelInput, prefix: &str) -> Result<Parcel, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut check = |name: &str, value: i64, max: i64, unit: &str| -> u32 {
            let field = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            if value <= 0 {
                errors.push(FieldError::new(field, format!("must be at least 1 {unit}")));
                0
            } else if value > max {
                errors.push(FieldError::new(
                    field,
                    format!("must be at most {max} {unit} (is the unit right?)"),
                ));
                0
            } else {
                // 1..=max with max < u32::MAX.
                value as u32
            }
        };
        let parcel = Parcel {
            length_mm: check("lengthMm", input.length_mm, MAX_SIDE_MM, "mm"),
            width_mm: check("widthMm", input.width_mm, MAX_SIDE_MM, "mm"),
            height_mm: check("heightMm", input.height_mm, MAX_SIDE_MM, "mm"),
            weight_grams: check("weightGrams", input.weight_grams, MAX_WEIGHT_GRAMS, "g"),
        };
        if errors.is_empty() {
            Ok(parcel)
        } else {
            Err(errors)
        }
    }

    /// Validates all pieces of a shipment, reporting every bad field at once.
    pub fn validate_all(inputs: &[ParcelInput]) -> Result<Vec<Parcel>, Error> {
        if inputs.is_empty() {
            return Err(Error::validation(
                "parcels",
                "at least one parcel is required",
            ));
        }
        if inputs.len() > MAX_PIECES {
            return Err(Error::validation(
                "parcels",
                format!("at most {MAX_PIECES} parcels per shipment"),
            ));
        }
        let mut parcels = Vec::with_capacity(inputs.len());
        let mut errors = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            match Parcel::new(*input, &format!("parcels[{i}]")) {
                Ok(p) => parcels.push(p),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(parcels)
        } else {
            Err(Error::Validation(errors))
        }
    }

    pub fn length_mm(&self) -> u32 {
        self.length_mm
    }
    pub fn width_mm(&self) -> u32 {
        self.width_mm
    }
    pub fn height_mm(&self) -> u32 {
        self.height_mm
    }
    pub fn weight_grams(&self) -> u32 {
        self.weight_grams
    }

    /// Volumetric weight, rounded up to 0.01 desi.
    pub fn desi(&self) -> Hundredths {
        let mm3 = u64::from(self.length_mm) * u64::from(self.width_mm) * u64::from(self.height_mm);
        Hundredths(mm3.div_ceil(30_000))
    }

    /// Actual weight in kilograms, rounded up to 0.01 kg.
    pub fn kg(&self) -> Hundredths {
        Hundredths(u64::from(self.weight_grams).div_ceil(10))
    }

    /// What the carrier bills this piece by: the larger of desi and kg.
    pub fn charge_basis(&self) -> Hundredths {
        self.desi().max(self.kg())
    }
}

/// Per-piece measures and their exact sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentMeasure {
    pub pieces: Vec<PieceMeasure>,
    pub total_desi: Hundredths,
    pub total_kg: Hundredths,
    pub total_charge_basis: Hundredths,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PieceMeasure {
    pub desi: Hundredths,
    pub kg: Hundredths,
    pub charge_basis: Hundredths,
}

/// Measures every piece and sums them (bounded inputs cannot overflow a u64:
/// 999 pieces × 9·10⁵ hundredths).
pub fn measure(parcels: &[Parcel]) -> ShipmentMeasure {
    let pieces: Vec<PieceMeasure> = parcels
        .iter()
        .map(|p| PieceMeasure {
            desi: p.desi(),
            kg: p.kg(),
            charge_basis: p.charge_basis(),
        })
        .collect();
    let sum = |f: fn(&PieceMeasure) -> Hundredths| Hundredths(pieces.iter().map(|p| f(p).0).sum());
    ShipmentMeasure {
        total_desi: sum(|p| p.desi),
        total_kg: sum(|p| p.kg),
        total_charge_basis: sum(|p| p.charge_basis),
        pieces,
    }
}

/// Turkish carriers' distance zones, the columns of a contract price list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Region {
    /// Şehir içi.
    SameCity,
    /// Yakın mesafe.
    Near,
    /// Kısa mesafe.
    Short,
    /// Orta mesafe.
    Middle,
    /// Uzun mesafe.
    Long,
}

impl Region {
    pub const ALL: [Region; 5] = [
        Region::SameCity,
        Region::Near,
        Region::Short,
        Region::Middle,
        Region::Long,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Region::SameCity => "sameCity",
            Region::Near => "near",
            Region::Short => "short",
            Region::Middle => "middle",
            Region::Long => "long",
        }
    }

    pub fn parse(name: &str) -> Option<Region> {
        Region::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// A merchant's contract price list (TRY).
///
/// JSON (prices are decimal strings in lira, desi limits are numbers or
/// decimal strings with at most two decimals):
///
/// ```json
/// {
///   "currency": "TRY",
///   "bands": [
///     { "upToDesi": 1,  "prices": { "sameCity": "89.90",  "near": "99.90" } },
///     { "upToDesi": 5,  "prices": { "sameCity": "119.90", "near": "134.90" } },
///     { "upToDesi": 30, "prices": { "sameCity": "349.00", "near": "399.00" } }
///   ],
///   "extraPerDesi": { "sameCity": "11.50", "near": "12.75" }
/// }
/// ```
///
/// A piece whose charge basis is at most a band's `upToDesi` (and above the
/// previous band's) costs that band's price. Above the last band it costs the
/// last band's price plus `extraPerDesi` per started desi; without
/// `extraPerDesi` such a piece cannot be quoted. Every band and
/// `extraPerDesi` price the same regions; prices never fall as desi grows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    bands: Vec<Band>,
    extra_per_desi: Option<BTreeMap<Region, i64>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Band {
    up_to: Hundredths,
    /// Kuruş.
    prices: BTreeMap<Region, i64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DecimalJson {
    Whole(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TariffJson {
    #[serde(default)]
    currency: Option<String>,
    bands: Vec<BandJson>,
    #[serde(default)]
    extra_per_desi: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BandJson {
    up_to_desi: DecimalJson,
    prices: BTreeMap<String, String>,
}

impl Tariff {
    /// Parses and validates a tariff; every problem is a field error
    /// (`bands[1].prices.near`, …) so a merchant can fix the file.
    pub fn from_json(json: &str) -> Result<Tariff, Error> {
        let raw: TariffJson = serde_json::from_str(json)
            .map_err(|e| Error::validation("tariff", format!("not a valid tariff: {e}")))?;
        let mut errors = Vec::new();
        if let Some(code) = raw.currency.as_deref() {
            if !code.eq_ignore_ascii_case("TRY") {
                errors.push(FieldError::new("currency", "Aras tariffs are in TRY"));
            }
        }
        if raw.bands.is_empty() {
            errors.push(FieldError::new("bands", "at least one band is required"));
        }
        let prices = |map: &BTreeMap<String, String>, at: &str, errors: &mut Vec<FieldError>| {
            let mut out = BTreeMap::new();
            for (name, text) in map {
                let field = format!("{at}.{name}");
                let Some(region) = Region::parse(name) else {
                    errors.push(FieldError::new(
                        field,
                        "unknown region (sameCity, near, short, middle, long)",
                    ));
                    continue;
                };
                match Money::parse_major(text, Currency::TRY) {
                    Ok(m) if m.minor >= 0 => {
                        out.insert(region, m.minor);
                    }
                    Ok(_) => errors.push(FieldError::new(field, "must not be negative")),
                    Err(_) => errors.push(FieldError::new(
                        field,
                        "must be a lira amount like \"89.90\"",
                    )),
                }
            }
            if map.is_empty() {
                errors.push(FieldError::new(at, "at least one region must be priced"));
            }
            out
        };
        let mut bands: Vec<Band> = Vec::new();
        for (i, band) in raw.bands.iter().enumerate() {
            let at = format!("bands[{i}]");
            let up_to = match &band.up_to_desi {
                DecimalJson::Whole(n) => n.checked_mul(100).map(Hundredths),
                DecimalJson::Text(t) => Hundredths::parse(t),
            };
            let prices = prices(&band.prices, &format!("{at}.prices"), &mut errors);
            let Some(up_to) = up_to.filter(|u| u.0 > 0) else {
                errors.push(FieldError::new(
                    format!("{at}.upToDesi"),
                    "must be a positive desi with at most two decimals",
                ));
                continue;
            };
            if let Some(previous) = bands.last() {
                if up_to <= previous.up_to {
                    errors.push(FieldError::new(
                        format!("{at}.upToDesi"),
                        "bands must be in ascending upToDesi order",
                    ));
                }
                if previous.prices.keys().ne(prices.keys()) {
                    errors.push(FieldError::new(
                        format!("{at}.prices"),
                        "every band must price the same regions",
                    ));
                } else if previous
                    .prices
                    .iter()
                    .any(|(r, p)| prices.get(r).is_some_and(|new| new < p))
                {
                    errors.push(FieldError::new(
                        format!("{at}.prices"),
                        "a price must not be lower than the previous band's",
                    ));
                }
            }
            bands.push(Band { up_to, prices });
        }
        let extra_per_desi = raw.extra_per_desi.as_ref().map(|map| {
            let extra = prices(map, "extraPerDesi", &mut errors);
            if let Some(last) = bands.last() {
                if last.prices.keys().ne(extra.keys()) {
                    errors.push(FieldError::new(
                        "extraPerDesi",
                        "must price the same regions as the bands",
                    ));
                }
            }
            extra
        });
        if errors.is_empty() {
            Ok(Tariff {
                bands,
                extra_per_desi,
            })
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// The regions this tariff prices.
    pub fn regions(&self) -> Vec<Region> {
        self.bands
            .first()
            .map(|b| b.prices.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The price of one piece with this charge basis, in kuruş.
    pub fn piece_price(&self, region: Region, charge_basis: Hundredths) -> Result<i64, Error> {
        let unpriced = || Error::Unprocessable {
            code: "region_not_in_tariff",
            message: format!("the tariff has no price for region {}", region.name()),
        };
        if let Some(band) = self.bands.iter().find(|b| charge_basis <= b.up_to) {
            return band.prices.get(&region).copied().ok_or_else(unpriced);
        }
        let last = self.bands.last().ok_or_else(unpriced)?;
        let base = *last.prices.get(&region).ok_or_else(unpriced)?;
        let Some(extra) = self.extra_per_desi.as_ref() else {
            return Err(Error::Unprocessable {
                code: "parcel_exceeds_tariff",
                message: format!(
                    "a parcel of {charge_basis} desi/kg is above the tariff's last band ({})",
                    last.up_to
                ),
            });
        };
        let per_desi = *extra.get(&region).ok_or_else(unpriced)?;
        let started = Hundredths(charge_basis.0 - last.up_to.0).ceil_units();
        i64::try_from(started)
            .ok()
            .and_then(|n| n.checked_mul(per_desi))
            .and_then(|e| e.checked_add(base))
            .ok_or_else(|| Error::Internal("tariff price overflow".into()))
    }
}

/// The price of sending `parcels` to `region` under `tariff`: each piece is
/// priced by its charge basis and the pieces are summed, in TRY kuruş.
pub fn quote(tariff: &Tariff, region: Region, parcels: &[Parcel]) -> Result<Money, Error> {
    let mut total: i64 = 0;
    for parcel in parcels {
        let price = tariff.piece_price(region, parcel.charge_basis())?;
        total = total
            .checked_add(price)
            .ok_or_else(|| Error::Internal("quote overflow".into()))?;
    }
    Ok(Money::new(total, Currency::TRY))
}

/// Where a shipment is, normalized across carriers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TrackingStatus {
    /// Registered with the carrier, not yet handed over.
    Created,
    /// Accepted by the carrier, moving between branches.
    InTransit,
    /// At the delivery branch (also: waiting there for the receiver).
    AtDeliveryBranch,
    /// With a courier for delivery.
    OutForDelivery,
    /// A delivery attempt failed; the carrier will try again or return it.
    Undelivered,
    Delivered,
    /// Sent back to the sender.
    Returned,
    /// Cancelled before dispatch.
    Cancelled,
    /// A carrier word we do not know; kept for the audit, never overrides a
    /// known status.
    Unknown(String),
}

impl TrackingStatus {
    /// Statuses only move to a higher rank; equal ranks may replace each
    /// other (a courier goes out again after a failed attempt).
    pub fn rank(&self) -> u8 {
        match self {
            TrackingStatus::Unknown(_) => 0,
            TrackingStatus::Created => 10,
            TrackingStatus::InTransit => 20,
            TrackingStatus::AtDeliveryBranch => 30,
            TrackingStatus::OutForDelivery | TrackingStatus::Undelivered => 40,
            TrackingStatus::Delivered | TrackingStatus::Returned | TrackingStatus::Cancelled => 50,
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TrackingStatus::Delivered | TrackingStatus::Returned | TrackingStatus::Cancelled
        )
    }

    /// Whether `next` should replace `self`: never out of a final status,
    /// never backwards, never an unknown word over a known status.
    pub fn accepts(&self, next: &TrackingStatus) -> bool {
        if self.is_final() || next == self {
            return false;
        }
        match next {
            TrackingStatus::Unknown(_) => matches!(self, TrackingStatus::Unknown(_)),
            _ => next.rank() >= self.rank(),
        }
    }

    /// The stable name used in events and the API (`outForDelivery`).
    pub fn name(&self) -> &str {
        match self {
            TrackingStatus::Created => "created",
            TrackingStatus::InTransit => "inTransit",
            TrackingStatus::AtDeliveryBranch => "atDeliveryBranch",
            TrackingStatus::OutForDelivery => "outForDelivery",
            TrackingStatus::Undelivered => "undelivered",
            TrackingStatus::Delivered => "delivered",
            TrackingStatus::Returned => "returned",
            TrackingStatus::Cancelled => "cancelled",
            TrackingStatus::Unknown(_) => "unknown",
        }
    }
}

/// Aras Kargo's words for a shipment's state → [`TrackingStatus`].
///
/// **UNCONFIRMED** (docs/aras-wire.md, "Tracking vocabulary": it is not
/// confirmed). This is the only place that knows Aras's vocabulary; fix it
/// here once real sandbox answers are captured. Current reading, from a
/// third-party client's mapping of GetQueryJSON fields:
/// - `type_code` (`TIP_KODU`) 3 = returned to sender;
/// - `status_code` (`DURUM_KODU`) 1 at origin branch, 2 on the way,
///   3 at delivery branch, 4 out for delivery, 5 partly delivered,
///   6 delivered, 7 redirected;
/// - otherwise the status text (`DURUMU`, or a movement's `ISLEM`) by
///   keyword; an unrecognised text becomes `Unknown(text)`.
pub fn aras_status(
    status_code: Option<&str>,
    type_code: Option<&str>,
    text: Option<&str>,
) -> TrackingStatus {
    if type_code.map(str::trim) == Some("3") {
        return TrackingStatus::Returned;
    }
    match status_code.map(str::trim) {
        Some("1") | Some("2") | Some("7") => return TrackingStatus::InTransit,
        Some("3") => return TrackingStatus::AtDeliveryBranch,
        Some("4") | Some("5") => return TrackingStatus::OutForDelivery,
        Some("6") => return TrackingStatus::Delivered,
        _ => {}
    }
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return TrackingStatus::Unknown(status_code.unwrap_or_default().to_string());
    };
    let folded = fold_turkish(text);
    let has = |w: &str| folded.contains(w);
    if has("IPTAL") {
        TrackingStatus::Cancelled
    } else if has("IADE") {
        TrackingStatus::Returned
    } else if has("TESLIM EDILEMEDI") || has("DEVIR") {
        TrackingStatus::Undelivered
    } else if has("TESLIM EDILDI") {
        TrackingStatus::Delivered
    } else if has("DAGITIM") || has("TESLIMATTA") || has("KURYE") {
        TrackingStatus::OutForDelivery
    } else if has("TESLIMAT SUBE") || has("VARIS SUBE") {
        TrackingStatus::AtDeliveryBranch
    } else if has("YOLDA") || has("CIKIS") || has("TRANSFER") || has("KABUL") {
        TrackingStatus::InTransit
    } else if has("SIPARIS") || has("KAYIT") {
        TrackingStatus::Created
    } else {
        TrackingStatus::Unknown(text.to_string())
    }
}

/// Upper-case ASCII folding of Turkish text ("Teslim Edildi" and
/// "TESLİM EDİLDİ" both become "TESLIM EDILDI").
pub fn fold_turkish(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'ı' | 'İ' | 'i' => 'I',
            'ş' | 'Ş' => 'S',
            'ğ' | 'Ğ' => 'G',
            'ü' | 'Ü' => 'U',
            'ö' | 'Ö' => 'O',
            'ç' | 'Ç' => 'C',
            '_' => ' ',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parcel(l: i64, w: i64, h: i64, g: i64) -> Parcel {
        Parcel::new(
            ParcelInput {
                length_mm: l,
                width_mm: w,
                height_mm: h,
                weight_grams: g,
            },
            "",
        )
        .unwrap()
    }

    const TARIFF: &str = r#"{
        "currency": "TRY",
        "bands": [
            {"upToDesi": 1, "prices": {"sameCity": "89.90", "near": "99.90"}},
            {"upToDesi": "5", "prices": {"sameCity": "119.90", "near": "134.90"}},
            {"upToDesi": "30.5", "prices": {"sameCity": "349.00", "near": "399.00"}}
        ],
        "extraPerDesi": {"sameCity": "11.50", "near": "12.75"}
    }"#;

    #[test]
    fn desi_is_volume_over_3000_rounded_up_per_piece() {
        // 30 × 20 × 10 cm = 6000 cm³ → exactly 2.00 desi.
        assert_eq!(parcel(300, 200, 100, 500).desi(), Hundredths(200));
        // 10 × 10 × 10 cm = 1000 cm³ → 0.333… → 0.34.
        assert_eq!(parcel(100, 100, 100, 1).desi(), Hundredths(34));
        // 1 mm³ still costs 0.01.
        assert_eq!(parcel(1, 1, 1, 1).desi(), Hundredths(1));
        assert_eq!(parcel(100, 100, 100, 1).desi().to_string(), "0.34");
    }

    #[test]
    fn kg_rounds_up_to_ten_grams_and_charge_is_the_larger() {
        let p = parcel(300, 200, 100, 2_345);
        assert_eq!(p.kg(), Hundredths(235));
        assert_eq!(p.charge_basis(), Hundredths(235));
        let light = parcel(600, 400, 400, 1_000);
        assert_eq!(light.desi(), Hundredths(3_200));
        assert_eq!(light.charge_basis(), Hundredths(3_200));
    }

    #[test]
    fn bad_dimensions_are_field_errors_all_at_once() {
        let inputs = [
            ParcelInput {
                length_mm: 300,
                width_mm: 0,
                height_mm: -5,
                weight_grams: 1_000,
            },
            ParcelInput {
                length_mm: 30_000,
                width_mm: 10,
                height_mm: 10,
                weight_grams: 5_000_000,
            },
        ];
        let Err(Error::Validation(fields)) = Parcel::validate_all(&inputs) else {
            panic!("expected validation errors");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "parcels[0].widthMm",
                "parcels[0].heightMm",
                "parcels[1].lengthMm",
                "parcels[1].weightGrams"
            ]
        );
        assert!(Parcel::validate_all(&[]).is_err());
    }

    #[test]
    fn hundredths_parse_and_print() {
        assert_eq!(Hundredths::parse("2.5"), Some(Hundredths(250)));
        assert_eq!(Hundredths::parse("30"), Some(Hundredths(3000)));
        assert_eq!(Hundredths::parse("0.05"), Some(Hundredths(5)));
        for bad in ["", ".5", "1.", "1.234", "-1", "1e3", "ten"] {
            assert_eq!(Hundredths::parse(bad), None, "{bad}");
        }
        assert_eq!(Hundredths(1205).to_string(), "12.05");
        assert_eq!(Hundredths(201).ceil_units(), 3);
        assert_eq!(Hundredths(200).ceil_units(), 2);
    }

    #[test]
    fn quotes_by_band_and_extra_per_started_desi() {
        let t = Tariff::from_json(TARIFF).unwrap();
        assert_eq!(t.regions(), [Region::SameCity, Region::Near]);
        // 2.00 desi → band ≤ 5.
        let two = parcel(300, 200, 100, 500);
        assert_eq!(
            t.piece_price(Region::Near, two.charge_basis()).unwrap(),
            13_490
        );
        // Exactly on a band edge stays in that band.
        assert_eq!(t.piece_price(Region::Near, Hundredths(100)).unwrap(), 9_990);
        assert_eq!(
            t.piece_price(Region::Near, Hundredths(101)).unwrap(),
            13_490
        );
        // 31.00: 0.50 above 30.50 → one started desi.
        assert_eq!(
            t.piece_price(Region::SameCity, Hundredths(3_100)).unwrap(),
            34_900 + 1_150
        );
        assert_eq!(
            t.piece_price(Region::SameCity, Hundredths(3_251)).unwrap(),
            34_900 + 3 * 1_150
        );
        let total = quote(&t, Region::Near, &[two, parcel(100, 100, 100, 100)]).unwrap();
        assert_eq!(total, Money::new(13_490 + 9_990, Currency::TRY));
        let missing = t.piece_price(Region::Long, Hundredths(1)).unwrap_err();
        assert_eq!(missing.code(), "region_not_in_tariff");
    }

    #[test]
    fn without_extra_a_parcel_above_the_last_band_is_refused() {
        let t =
            Tariff::from_json(r#"{"bands":[{"upToDesi":10,"prices":{"long":"200"}}]}"#).unwrap();
        let err = t.piece_price(Region::Long, Hundredths(1_001)).unwrap_err();
        assert_eq!(err.code(), "parcel_exceeds_tariff");
        assert_eq!(
            t.piece_price(Region::Long, Hundredths(1_000)).unwrap(),
            20_000
        );
    }

    #[test]
    fn tariff_validation_names_each_problem() {
        let bad = r#"{
            "currency": "EUR",
            "bands": [
                {"upToDesi": 5, "prices": {"sameCity": "10.00", "mars": "1"}},
                {"upToDesi": 3, "prices": {"sameCity": "-1"}},
                {"upToDesi": "x", "prices": {"sameCity": "9.999"}}
            ],
            "extraPerDesi": {"near": "1"}
        }"#;
        let Err(Error::Validation(fields)) = Tariff::from_json(bad) else {
            panic!("expected validation errors");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        for expected in [
            "currency",
            "bands[0].prices.mars",
            "bands[1].prices.sameCity",
            "bands[1].upToDesi",
            "bands[2].prices.sameCity",
            "bands[2].upToDesi",
            "extraPerDesi",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let falling = r#"{"bands":[
            {"upToDesi":1,"prices":{"near":"20"}},
            {"upToDesi":2,"prices":{"near":"10"}}]}"#;
        assert!(Tariff::from_json(falling).is_err());
        let uneven = r#"{"bands":[
            {"upToDesi":1,"prices":{"near":"20"}},
            {"upToDesi":2,"prices":{"long":"30"}}]}"#;
        assert!(Tariff::from_json(uneven).is_err());
        assert!(Tariff::from_json(r#"{"bands":[]}"#).is_err());
        assert!(Tariff::from_json("not json").is_err());
        assert!(Tariff::from_json(r#"{"bands":[],"surprise":1}"#).is_err());
    }

    #[test]
    fn statuses_only_move_forward() {
        use TrackingStatus::*;
        assert!(Created.accepts(&InTransit));
        assert!(!InTransit.accepts(&Created));
        assert!(OutForDelivery.accepts(&Undelivered));
        assert!(Undelivered.accepts(&OutForDelivery));
        assert!(!Delivered.accepts(&Returned));
        assert!(!Delivered.accepts(&InTransit));
        assert!(!InTransit.accepts(&Unknown("?".into())));
        assert!(Unknown("?".into()).accepts(&Created));
        assert!(!InTransit.accepts(&InTransit));
    }

    #[test]
    fn aras_words_map_to_statuses() {
        use TrackingStatus::*;
        assert_eq!(aras_status(Some("6"), Some("1"), None), Delivered);
        assert_eq!(aras_status(Some("6"), Some("3"), None), Returned);
        assert_eq!(aras_status(Some("3"), None, None), AtDeliveryBranch);
        assert_eq!(aras_status(None, None, Some("Teslim Edildi")), Delivered);
        assert_eq!(aras_status(None, None, Some("TESLİM EDİLDİ")), Delivered);
        assert_eq!(
            aras_status(None, None, Some("TESLİM EDİLEMEDİ")),
            Undelivered
        );
        assert_eq!(aras_status(None, None, Some("Dağıtımda")), OutForDelivery);
        assert_eq!(
            aras_status(None, None, Some("Gönderi iptal edildi")),
            Cancelled
        );
        assert_eq!(
            aras_status(None, None, Some("Uzaylılar aldı")),
            Unknown("Uzaylılar aldı".into())
        );
    }

    fn side() -> impl Strategy<Value = i64> {
        1..=MAX_SIDE_MM
    }
    fn grams() -> impl Strategy<Value = i64> {
        1..=MAX_WEIGHT_GRAMS
    }

    proptest! {
        #[test]
        fn desi_grows_with_every_side(l in side(), w in side(), h in side(), g in grams(), d in 0i64..100) {
            let base = parcel(l, w, h, g).desi();
            prop_assert!(base.0 >= 1);
            let grow = |v: i64| (v + d).min(MAX_SIDE_MM);
            prop_assert!(parcel(grow(l), w, h, g).desi() >= base);
            prop_assert!(parcel(l, grow(w), h, g).desi() >= base);
            prop_assert!(parcel(l, w, grow(h), g).desi() >= base);
            // Rounded up, never down: desi·3 000 000 ≥ mm³ > (desi−0.01)·3 000 000.
            let mm3 = (l * w * h) as u64;
            prop_assert!(base.0 * 30_000 >= mm3);
            prop_assert!((base.0 - 1) * 30_000 < mm3);
        }

        #[test]
        fn charge_basis_covers_desi_and_kg(l in side(), w in side(), h in side(), g in grams()) {
            let p = parcel(l, w, h, g);
            prop_assert!(p.charge_basis() >= p.desi());
            prop_assert!(p.charge_basis() >= p.kg());
            prop_assert!(p.charge_basis() == p.desi() || p.charge_basis() == p.kg());
        }

        #[test]
        fn quote_never_falls_as_charge_grows(a in 1u64..10_000, b in 1u64..10_000) {
            let t = Tariff::from_json(TARIFF).unwrap();
            let (lo, hi) = (a.min(b), a.max(b));
            for region in t.regions() {
                let p_lo = t.piece_price(region, Hundredths(lo)).unwrap();
                let p_hi = t.piece_price(region, Hundredths(hi)).unwrap();
                prop_assert!(p_lo <= p_hi, "{lo}→{p_lo} {hi}→{p_hi}");
                prop_assert!(p_lo >= 0);
            }
        }

        #[test]
        fn totals_are_exact_sums(dims in proptest::collection::vec((side(), side(), side(), grams()), 1..20)) {
            let parcels: Vec<Parcel> = dims.iter().map(|&(l, w, h, g)| parcel(l, w, h, g)).collect();
            let m = measure(&parcels);
            prop_assert_eq!(m.pieces.len(), parcels.len());
            prop_assert_eq!(m.total_desi.0, parcels.iter().map(|p| p.desi().0).sum::<u64>());
            prop_assert_eq!(m.total_kg.0, parcels.iter().map(|p| p.kg().0).sum::<u64>());
            prop_assert_eq!(m.total_charge_basis.0, parcels.iter().map(|p| p.charge_basis().0).sum::<u64>());
            let t = Tariff::from_json(TARIFF).unwrap();
            let total = quote(&t, Region::Near, &parcels).unwrap();
            let by_piece: i64 = parcels.iter().map(|p| t.piece_price(Region::Near, p.charge_basis()).unwrap()).sum();
            prop_assert_eq!(total.minor, by_piece);
        }
    }
}
