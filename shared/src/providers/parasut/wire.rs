//! Paraşüt's JSON:API documents (docs/parasut-wire.md): the bodies we send
//! and the fields we read, nothing more.

use serde_json::{json, Value};

use crate::domain::invoice::{Buyer, InternetSale, InvoicePlan, Shipment, Shipper, TaxId};

/// JSON:API media type we send and accept (P2).
pub const MEDIA_TYPE: &str = "application/vnd.api+json";
/// The OAuth2 redirect URI of the password grant (P3).
pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";

/// A token answer (P4).
#[derive(serde::Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    pub expires_in: u64,
}

/// `POST /contacts` (P13).
pub fn contact_body(buyer: &Buyer, tax_id: Option<&TaxId>) -> Value {
    let mut attributes = json!({
        "name": buyer.name,
        "account_type": "customer",
        "contact_type": if matches!(tax_id, Some(TaxId::Vkn(_))) { "company" } else { "person" },
        "address": buyer.address,
        "city": buyer.city,
        "is_abroad": false,
    });
    let put = |attributes: &mut Value, key: &str, value: &Option<String>| {
        if let Some(v) = value {
            attributes[key] = json!(v);
        }
    };
    put(&mut attributes, "email", &buyer.email);
    put(&mut attributes, "tax_number", &buyer.tax_number);
    put(&mut attributes, "tax_office", &buyer.tax_office);
    put(&mut attributes, "district", &buyer.district);
    put(&mut attributes, "phone", &buyer.phone);
    json!({"data": {"type": "contacts", "attributes": attributes}})
}

/// The identity we find our sales invoice by (P20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceNumber {
    pub series: String,
    pub sequence: i64,
}

/// `POST /sales_invoices` (P15, P16).
pub fn sales_invoice_body(
    plan: &InvoicePlan,
    number: &InvoiceNumber,
    order_ref: &str,
    issue_date: &str,
    buyer: &Buyer,
    contact_id: &str,
) -> Value {
    let details: Vec<Value> = plan
        .lines
        .iter()
        .map(|line| {
            let mut attributes = json!({
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vat_rate": line.vat_rate,
                "description": line.description,
            });
            if let Some(discount) = &line.discount_value {
                attributes["discount_type"] = json!("amount");
                attributes["discount_value"] = json!(discount);
            }
            json!({"type": "sales_invoice_details", "attributes": attributes})
        })
        .collect();
    let mut attributes = json!({
        "item_type": "invoice",
        "issue_date": issue_date,
        "due_date": issue_date,
        "description": format!("AyazTrade {order_ref}"),
        "invoice_series": number.series,
        "invoice_id": number.sequence,
        "currency": plan.currency_code,
        "billing_address": buyer.address,
        "city": buyer.city,
        "is_abroad": false,
        "order_no": order_ref,
        "order_date": issue_date,
    });
    if let Some(v) = &buyer.tax_number {
        attributes["tax_number"] = json!(v);
    }
    if let Some(v) = &buyer.tax_office {
        attributes["tax_office"] = json!(v);
    }
    if let Some(v) = &buyer.district {
        attributes["district"] = json!(v);
    }
    json!({"data": {
        "type": "sales_invoices",
        "attributes": attributes,
        "relationships": {
            "contact": {"data": {"id": contact_id, "type": "contacts"}},
            "details": {"data": details},
        }
    }})
}

/// `POST /e_archives` (P24, P35, P36).
pub fn e_archive_body(
    sales_invoice_id: &str,
    sale: Option<&InternetSale>,
    shipment: Option<&Shipment>,
) -> Value {
    let mut attributes = json!({});
    if let Some(sale) = sale {
        attributes["internet_sale"] = json!({
            "url": sale.url,
            "payment_type": sale.payment_type,
            "payment_platform": sale.payment_platform,
            "payment_date": sale.payment_date,
        });
    }
    if let Some(shipment) = shipment {
        attributes["shipment"] = match &shipment.shipper {
            Shipper::Carrier { title, vkn } => {
                json!({"title": title, "vkn": vkn, "date": shipment.date})
            }
            Shipper::Courier { name, tckn } => {
                json!({"name": name, "tckn": tckn, "date": shipment.date})
            }
        };
    }
    json!({"data": {
        "type": "e_archives",
        "attributes": attributes,
        "relationships": {"sales_invoice": {"data": {"id": sales_invoice_id, "type": "sales_invoices"}}}
    }})
}

/// `POST /e_invoices` (P25): basic scenario, to the buyer's inbox.
pub fn e_invoice_body(sales_invoice_id: &str, to: &str) -> Value {
    json!({"data": {
        "type": "e_invoices",
        "attributes": {"scenario": "basic", "to": to},
        "relationships": {"invoice": {"data": {"id": sales_invoice_id, "type": "sales_invoices"}}}
    }})
}

/// A decimal attribute as text, whether Paraşüt sends a JSON number or a
/// string (P19); never through a float we compute with.
pub fn decimal_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A resource's id (a string in JSON:API; tolerated as a number).
pub fn id_of(resource: &Value) -> Option<String> {
    match &resource["id"] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The sales invoice as we read it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesInvoiceView {
    pub id: String,
    pub net_total: Option<String>,
    pub total_vat: Option<String>,
    pub invoice_no: Option<String>,
    /// `active_e_document`: (type, id), when included (P27).
    pub e_document: Option<(String, String)>,
    /// The e-document's `invoice_number`, when included (P28).
    pub e_document_number: Option<String>,
}

pub fn read_sales_invoice(doc: &Value) -> Option<SalesInvoiceView> {
    let data = &doc["data"];
    let id = id_of(data)?;
    let attributes = &data["attributes"];
    let e_document = data["relationships"]["active_e_document"]["data"]
        .as_object()
        .and_then(|d| {
            let kind = d.get("type")?.as_str()?.to_string();
            let id = id_of(&Value::Object(d.clone()))?;
            Some((kind, id))
        });
    let e_document_number = e_document.as_ref().and_then(|(kind, id)| {
        doc["included"].as_array()?.iter().find_map(|inc| {
            (inc["type"].as_str() == Some(kind.as_str()) && id_of(inc).as_deref() == Some(id))
                .then(|| {
                    inc["attributes"]["invoice_number"]
                        .as_str()
                        .map(String::from)
                })
                .flatten()
        })
    });
    Some(SalesInvoiceView {
        id,
        net_total: decimal_text(&attributes["net_total"]),
        total_vat: decimal_text(&attributes["total_vat"]),
        invoice_no: attributes["invoice_no"].as_str().map(String::from),
        e_document,
        e_document_number,
    })
}

/// A trackable job's state (P26).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Done,
    Error(Vec<String>),
}

pub fn read_job(doc: &Value) -> Option<(String, JobStatus)> {
    let data = &doc["data"];
    let id = id_of(data)?;
    let attributes = &data["attributes"];
    let status = match attributes["status"].as_str()? {
        "pending" | "running" => JobStatus::Running,
        "done" => JobStatus::Done,
        "error" => JobStatus::Error(
            attributes["errors"]
                .as_array()
                .map(|errors| {
                    errors
                        .iter()
                        .map(|e| e.as_str().map_or_else(|| e.to_string(), String::from))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => return None,
    };
    Some((id, status))
}

/// The `title`s of a JSON:API error answer (P10), never its `detail`,
/// which may quote the buyer's data.
pub fn error_titles(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v["errors"].as_array().map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["title"].as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "no error title".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sales_invoice_with_its_e_archive_reads_back() {
        let doc = json!({
            "data": {"id": "42", "type": "sales_invoices",
                "attributes": {"net_total": "118.0", "total_vat": 18.5, "invoice_no": "AYZ7"},
                "relationships": {"active_e_document": {"data": {"id": "9", "type": "e_archives"}}}},
            "included": [{"id": "9", "type": "e_archives", "attributes": {"invoice_number": "ABC2026000000001"}}]
        });
        let view = read_sales_invoice(&doc).unwrap();
        assert_eq!(view.id, "42");
        assert_eq!(view.net_total.as_deref(), Some("118.0"));
        assert_eq!(view.total_vat.as_deref(), Some("18.5"));
        assert_eq!(view.e_document, Some(("e_archives".into(), "9".into())));
        assert_eq!(view.e_document_number.as_deref(), Some("ABC2026000000001"));
    }

    #[test]
    fn jobs_and_errors_read() {
        let job = json!({"data": {"id": "7", "type": "trackable_jobs",
            "attributes": {"status": "error", "errors": ["GİB reddetti"]}}});
        assert_eq!(
            read_job(&job),
            Some(("7".into(), JobStatus::Error(vec!["GİB reddetti".into()])))
        );
        let body = br#"{"errors":[{"title":"Unprocessable","detail":"tax_number 1234 invalid"}]}"#;
        assert_eq!(error_titles(body), "Unprocessable");
    }

    #[test]
    fn the_e_archive_sends_a_carrier_or_a_courier_shipment_when_there_is_one() {
        let attrs = |shipment: Option<&Shipment>| {
            e_archive_body("9", None, shipment)["data"]["attributes"].clone()
        };
        assert_eq!(attrs(None), json!({}));
        let carrier = Shipment {
            shipper: Shipper::Carrier {
                title: "Aras Kargo".into(),
                vkn: "1234567890".into(),
            },
            date: "2026-12-02".into(),
        };
        assert_eq!(
            attrs(Some(&carrier))["shipment"],
            json!({"title": "Aras Kargo", "vkn": "1234567890", "date": "2026-12-02"})
        );
        let courier = Shipment {
            shipper: Shipper::Courier {
                name: "Mehmet Kurye".into(),
                tckn: "12345678901".into(),
            },
            date: "2026-12-03".into(),
        };
        assert_eq!(
            attrs(Some(&courier))["shipment"],
            json!({"name": "Mehmet Kurye", "tckn": "12345678901", "date": "2026-12-03"})
        );
    }
}
