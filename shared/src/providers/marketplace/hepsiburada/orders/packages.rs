//! Packaging of order lines at Hepsiburada (docs/marketplace-wire.md H13),
//! on the OMS host:
//!
//! - create: `POST /packages/merchantid/{merchantId}` "Kalem veya Kalemleri
//!   Paketleme", body `{"lineItemRequests": [{"id", "quantity"}],
//!   "parcelQuantity"?, "deci"?}` → 201 `{"packageNumber", "barcode"}`
//!   (CONFIRMED [HB-OAS]);
//! - read back: `GET /packages/merchantid/{merchantId}?timespan=<hours>&limit=10&Offset=<n>`
//!   "Saticiya Ait Paket Bilgilerini Listeleme", a bare JSON array of
//!   packages with their `items[]` (`lineItemId`, `orderNumber`,
//!   `quantity`, …); `limit` at most and by default 10, `Offset` with a
//!   capital O, `timespan` hours back from now (CONFIRMED [HB-OAS]).
//!
//! The create is not repeatable (each call may make a package), so the
//! HTTP layer never repeats it after an unclear failure; the caller reads
//! the list back instead ([`HepsiburadaOrders::package_holding`]): a live
//! package whose items are exactly the asked lines and quantities is the
//! one we made.
//!
//! UNCONFIRMED (kept in this file): which date `timespan` counts from (we
//! take it as the packaging time), the list's order and that an unpacked
//! package stays listed with status `Unpacked` (we skip packages whose
//! status is `Unpacked` or `Cancelled`), the 4xx for a line already packed
//! or not packable (its body is taken as Hepsiburada's message, a JSON
//! string as the OAS documents for its 400s).
//!
//! The list also carries the buyer (names, addresses, phone, e-mail,
//! identity number): only package number, barcode, status, cargo company
//! and the items' line ids, order numbers and quantities are read here, and
//! nothing of it is logged.

use bytes::Bytes;
use http::Method;
use serde::Deserialize;

use super::HepsiburadaOrders;
use crate::error::Error;
use crate::providers::marketplace::http::Refusal;

/// Largest (and default) page of the package list.
pub const MAX_PACKAGE_LIMIT: u32 = 10;
/// How far back the read-back looks, in hours: the create we are resolving
/// was made moments ago; a day covers a retry the next morning.
pub const READ_BACK_HOURS: u32 = 24;
/// Pages read at most (10 packages each) before giving up with an error a
/// retry may mend: a merchant packing more than this in a day needs a
/// narrower read.
pub const READ_BACK_MAX_PAGES: u64 = 200;

/// One line to pack: Hepsiburada's line item id and how many of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackLine {
    pub line_id: String,
    pub quantity: u32,
}

/// A create request.
#[derive(Debug, Clone, PartialEq)]
pub struct PackRequest {
    pub lines: Vec<PackLine>,
    /// Number of parcels (`parcelQuantity`), when the merchant says.
    pub parcel_quantity: Option<u32>,
    /// Desi of the package (`deci`), when the merchant says.
    pub deci: Option<f64>,
}

/// A package as the list shows it (what we read of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbPackage {
    pub package_number: String,
    pub barcode: Option<String>,
    pub status: Option<String>,
    pub cargo_company: Option<String>,
    /// `(lineItemId, quantity)` per item, as listed.
    pub items: Vec<(String, u32)>,
}

impl HbPackage {
    /// Not dissolved: an unpacked (or cancelled) package no longer holds
    /// its lines.
    pub fn live(&self) -> bool {
        !self.status.as_deref().is_some_and(|s| {
            ["unpacked", "unpack", "cancelled", "canceled"]
                .iter()
                .any(|d| s.eq_ignore_ascii_case(d))
        })
    }

    /// Live and holding exactly `lines` (line id and quantity, items of the
    /// same line added up): the package a create of `lines` made.
    pub fn holds_exactly(&self, lines: &[PackLine]) -> bool {
        let quantity_of = |id: &str| -> u64 {
            self.items
                .iter()
                .filter(|(l, _)| l == id)
                .map(|(_, q)| u64::from(*q))
                .sum()
        };
        self.live()
            && !lines.is_empty()
            && lines
                .iter()
                .all(|l| quantity_of(&l.line_id) == u64::from(l.quantity))
            && self
                .items
                .iter()
                .all(|(id, _)| lines.iter().any(|l| &l.line_id == id))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageWire {
    package_number: String,
    #[serde(default)]
    barcode: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    cargo_company: Option<String>,
    #[serde(default)]
    items: Vec<ItemWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemWire {
    line_item_id: String,
    quantity: u32,
}

/// The create's 201 answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedWire {
    package_number: String,
}

fn parse_package(raw: &[u8]) -> Result<HbPackage, serde_json::Error> {
    let p: PackageWire = serde_json::from_slice(raw)?;
    Ok(HbPackage {
        package_number: p.package_number,
        barcode: p.barcode,
        status: p.status,
        cargo_company: p.cargo_company,
        items: p
            .items
            .into_iter()
            .map(|i| (i.line_item_id, i.quantity))
            .collect(),
    })
}

/// The create's body; `Err` names the bad field.
fn create_body(request: &PackRequest) -> Result<Bytes, Error> {
    if request.lines.is_empty() {
        return Err(Error::validation("lines", "at least one line"));
    }
    for l in &request.lines {
        super::cancelled::check_line_id(&l.line_id)?;
        if l.quantity == 0 {
            return Err(Error::validation("quantity", "at least 1"));
        }
    }
    if request.deci.is_some_and(|d| !d.is_finite() || d < 0.0) {
        return Err(Error::validation("deci", "a non-negative number"));
    }
    let mut body = serde_json::json!({
        "lineItemRequests": request
            .lines
            .iter()
            .map(|l| serde_json::json!({"id": l.line_id, "quantity": l.quantity}))
            .collect::<Vec<_>>(),
    });
    if let Some(n) = request.parcel_quantity {
        body["parcelQuantity"] = n.into();
    }
    if let Some(d) = request.deci {
        body["deci"] = d.into();
    }
    Ok(Bytes::from(body.to_string()))
}

impl HepsiburadaOrders {
    /// Packs `request.lines` into one new package. `Ok(Ok(number))`: 2xx
    /// with the new package number; `Ok(Err)`: refused (a line already
    /// packed, cancelled, not packable together…) — read back with
    /// [`Self::package_holding`]; `Err`: transport, 401/403, 429 (after the
    /// HTTP layer's retries) and 5xx — the outcome is unknown, read back too.
    /// Not repeatable: never repeated by the HTTP layer after it may have
    /// reached Hepsiburada.
    pub async fn create_package(
        &self,
        request: &PackRequest,
    ) -> Result<Result<String, Refusal>, Error> {
        let body = create_body(request)?;
        let url = format!("{}/packages/merchantid/{}", self.oms_base, self.merchant_id);
        match self
            .api
            .write_json(
                &self.tracking,
                "hepsiburada_create_package",
                Method::POST,
                url,
                body,
                false,
            )
            .await?
        {
            Ok(answer) => {
                let created: CreatedWire = self.api.decode(&answer)?;
                Ok(Ok(created.package_number))
            }
            Err(refusal) => Ok(Err(refusal)),
        }
    }

    /// One page of the merchant's packages of the last `timespan_hours`.
    pub async fn list_packages(
        &self,
        timespan_hours: u32,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<HbPackage>, Error> {
        let limit = limit.clamp(1, MAX_PACKAGE_LIMIT);
        // `Offset` with a capital O, as the OAS and the changelog write it.
        let url = format!(
            "{}/packages/merchantid/{}?timespan={timespan_hours}&limit={limit}&Offset={offset}",
            self.oms_base, self.merchant_id
        );
        let answer = self
            .api
            .get(&self.tracking, "hepsiburada_package_list", url)
            .await?;
        let items: Vec<Box<serde_json::value::RawValue>> = self.api.decode(&answer)?;
        let (packages, unreadable) = super::parse_items(items, parse_package);
        if !unreadable.is_empty() {
            tracing::warn!(
                count = unreadable.len(),
                "Hepsiburada listed packages we could not read"
            );
        }
        Ok(packages)
    }

    /// The live package of the last [`READ_BACK_HOURS`] that holds exactly
    /// `lines`, if any: whether a create of them happened.
    pub async fn package_holding(&self, lines: &[PackLine]) -> Result<Option<HbPackage>, Error> {
        for page in 0..READ_BACK_MAX_PAGES {
            let packages = self
                .list_packages(
                    READ_BACK_HOURS,
                    page * u64::from(MAX_PACKAGE_LIMIT),
                    MAX_PACKAGE_LIMIT,
                )
                .await?;
            let n = packages.len();
            if let Some(found) = packages.into_iter().find(|p| p.holds_exactly(lines)) {
                return Ok(Some(found));
            }
            if n < MAX_PACKAGE_LIMIT as usize {
                return Ok(None);
            }
        }
        Err(Error::Config(format!(
            "Hepsiburada lists more than {} packages in {READ_BACK_HOURS} h; the read-back gave up",
            READ_BACK_MAX_PAGES * u64::from(MAX_PACKAGE_LIMIT)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, quantity: u32) -> PackLine {
        PackLine {
            line_id: id.into(),
            quantity,
        }
    }

    #[test]
    fn the_create_body_names_lines_and_only_what_was_given() {
        let request = PackRequest {
            lines: vec![line("a-1", 2), line("b-2", 1)],
            parcel_quantity: None,
            deci: None,
        };
        let v: serde_json::Value = serde_json::from_slice(&create_body(&request).unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"lineItemRequests": [
                {"id": "a-1", "quantity": 2}, {"id": "b-2", "quantity": 1}]})
        );
        let request = PackRequest {
            parcel_quantity: Some(2),
            deci: Some(3.5),
            ..request
        };
        let v: serde_json::Value = serde_json::from_slice(&create_body(&request).unwrap()).unwrap();
        assert_eq!((&v["parcelQuantity"], &v["deci"]), (&2.into(), &3.5.into()));
        for bad in [
            PackRequest {
                lines: vec![],
                ..request.clone()
            },
            PackRequest {
                lines: vec![line("a/1", 1)],
                ..request.clone()
            },
            PackRequest {
                lines: vec![line("a", 0)],
                ..request.clone()
            },
            PackRequest {
                deci: Some(f64::NAN),
                ..request.clone()
            },
        ] {
            assert!(create_body(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_package_holds_exactly_the_lines_a_create_asked_for() {
        let raw = br#"{"packageNumber": "5000031669", "barcode": "6231", "status": "Packaged",
            "cargoCompany": "Aras Kargo", "customerName": "Ali Veli", "email": "a@example.com",
            "items": [{"lineItemId": "a-1", "orderNumber": "4001", "quantity": 1, "merchantSku": "S"},
                      {"lineItemId": "a-1", "orderNumber": "4001", "quantity": 1},
                      {"lineItemId": "b-2", "orderNumber": "4001", "quantity": 1}]}"#;
        let p = parse_package(raw).unwrap();
        assert_eq!(p.package_number, "5000031669");
        assert!(p.holds_exactly(&[line("a-1", 2), line("b-2", 1)]));
        assert!(!p.holds_exactly(&[line("a-1", 2)]), "another line is in it");
        assert!(!p.holds_exactly(&[line("a-1", 1), line("b-2", 1)]));
        assert!(!p.holds_exactly(&[]));
        let unpacked = HbPackage {
            status: Some("Unpacked".into()),
            ..p.clone()
        };
        assert!(!unpacked.holds_exactly(&[line("a-1", 2), line("b-2", 1)]));
        assert!(parse_package(br#"{"barcode": "1"}"#).is_err());
    }
}
