//! The `shipment` function (HTTP API, IAM) and the tracking poll
//! (`shipment-tracking`, EventBridge schedule): Aras Kargo shipments,
//! tracking, contract rates, and tracking numbers back to the marketplaces.
//!
//! - `POST /shipping/aras/shipments` registers a shipment with Aras
//!   (`SetOrder`). Its id — Aras's `IntegrationCode` — comes from the order id
//!   and the caller's `reference`, so a retried create finds the first one.
//!   Aras *updates* an order sent again under the same IntegrationCode
//!   (docs/aras-wire.md O18), so one shipment per IntegrationCode holds by
//!   our record: a create first claims the shipment (`Registering`, a
//!   conditional write), and only the claimant sends SetOrder; the client
//!   itself never sends SetOrder for an order Aras already has. A create for
//!   a shipment already created is answered from the record when it asks
//!   for the same content, and refused (409) when it asks for other content.
//! - `GET /shipping/aras/tracking/{code}`: Aras's query service, normalized.
//! - `POST /shipping/aras/rates`: the merchant's contract tariff
//!   (`ARAS_TARIFF_JSON`; Aras has no public rate API).
//! - `DELETE /shipping/aras/shipments/{id}`: `CancelDispatch`; "already
//!   dispatched" is a 409.
//! - The tracking poll reads every open shipment's status, publishes
//!   `shipment.status_changed` when it moves forward, and tells the
//!   marketplace the tracking number once Aras has assigned one.

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::api::{body_bytes, error_response, json_response, parse_json};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::config::{self, HttpSettings, ProcessEnv, Source};
use crate::domain::event::{DetailType, DomainEvent, EventDetail, ShipmentDetail};
use crate::domain::product::Marketplace;
use crate::domain::shipment::{
    own_waybill_number, parse_scaled, shipment_id, tracking_change, MarketplacePackage,
    ShipmentRecord, ShipmentState, TrackingPushState,
};
use crate::domain::shipping::{
    measure, quote, Hundredths, Parcel, ParcelInput, Region, Tariff, TrackingStatus,
};
use crate::error::{Error, FieldError, ProviderFailure, Result};
use crate::money::{Currency, Money};
use crate::ports::{EventPublisher, MarketplaceOrderStore, ShipmentStore};
use crate::providers::aras::order::set_order_envelope;
use crate::providers::aras::{
    ArasClient, ArasOrder, ArasSettings, CancelOutcome, CashOnDelivery, CodCollection, Payor,
    Piece, Receiver, SetOrderOutcome, ShipmentOrder,
};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::tracking::TrackingPushers;

const CARRIER: &str = "aras";

/// How long a create's claim on a shipment lasts: longer than one create
/// can take (two lookups and two SetOrders within the HTTP layer's budget).
const REGISTER_CLAIM_MS: i64 = 5 * 60 * 1000;

/// SHA-256 of the SetOrder `Order` as sent, without credentials.
fn order_digest(order: &ShipmentOrder) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        set_order_envelope(order, "", "").as_bytes(),
    ))
}

/// What Aras holds that is not what `order` asks for, among the fields Aras
/// should echo unchanged (numbers and ids; free text may be normalised).
fn differences(order: &ShipmentOrder, existing: &ArasOrder) -> Vec<&'static str> {
    let mut differs = Vec::new();
    if existing.field("TradingWaybillNumber") != Some(order.trading_waybill_number.trim()) {
        differs.push("TradingWaybillNumber");
    }
    let ours: Vec<&str> = order
        .pieces
        .iter()
        .map(|p| p.barcode_number.trim())
        .collect();
    if existing.barcodes() != ours {
        differs.push("PieceDetails");
    }
    differs
}

fn in_progress(id: &str) -> Error {
    Error::Conflict {
        code: "shipment_in_progress",
        message: format!(
            "shipment {id} is being registered with Aras by another request; retry shortly"
        ),
    }
}

fn differs_conflict(id: &str) -> Error {
    Error::Conflict {
        code: "shipment_differs",
        message: format!(
            "shipment {id} was already created with other content; Aras would update it, so \
             it is not sent again: cancel it, or send another reference for a new shipment"
        ),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    order_id: String,
    /// Tells shipments of one order apart (default `"1"`); the same order
    /// and reference are the same shipment.
    #[serde(default)]
    reference: Option<String>,
    receiver: ReceiverRequest,
    parcels: Vec<ParcelRequest>,
    #[serde(default)]
    cod: Option<CodRequest>,
    #[serde(default)]
    marketplace_order: Option<MarketplacePackage>,
    #[serde(default)]
    description: Option<String>,
    /// The merchant's dispatch note (sevk irsaliyesi) number, 1–16
    /// characters; our own short id when absent (docs/aras-wire.md O20).
    #[serde(default)]
    waybill_number: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReceiverRequest {
    name: String,
    address: String,
    city: String,
    town: String,
    #[serde(default)]
    district: Option<String>,
    phone: String,
    #[serde(default)]
    phone2: Option<String>,
    #[serde(default)]
    tax_number: Option<String>,
    #[serde(default)]
    tax_office: Option<String>,
}

/// Kilograms and centimetres as the caller writes them (`1.5`, `30`):
/// read exactly (grams, millimetres), never through a float.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ParcelRequest {
    weight_kg: Value,
    width_cm: Value,
    height_cm: Value,
    length_cm: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CodRequest {
    amount: Money,
    /// `cash` (default) or `card`.
    #[serde(default)]
    collection: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RatesRequest {
    region: String,
    parcels: Vec<ParcelRequest>,
}

/// A JSON number (or numeric string) scaled to an integer: `"weightKg"` with
/// 3 decimals → grams.
fn scaled(value: &Value, decimals: u32, field: String, errors: &mut Vec<FieldError>) -> i64 {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => String::new(),
    };
    parse_scaled(&text, decimals).unwrap_or_else(|| {
        errors.push(FieldError::new(
            field,
            format!("must be a non-negative number with at most {decimals} decimals"),
        ));
        0
    })
}

fn parcels(requests: &[ParcelRequest]) -> Result<Vec<Parcel>> {
    let mut errors = Vec::new();
    let inputs: Vec<ParcelInput> = requests
        .iter()
        .enumerate()
        .map(|(i, p)| ParcelInput {
            weight_grams: scaled(
                &p.weight_kg,
                3,
                format!("parcels[{i}].weightKg"),
                &mut errors,
            ),
            width_mm: scaled(&p.width_cm, 1, format!("parcels[{i}].widthCm"), &mut errors),
            height_mm: scaled(
                &p.height_cm,
                1,
                format!("parcels[{i}].heightCm"),
                &mut errors,
            ),
            length_mm: scaled(
                &p.length_cm,
                1,
                format!("parcels[{i}].lengthCm"),
                &mut errors,
            ),
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Parcel::validate_all(&inputs)
}

fn hundredths(h: u64) -> String {
    Hundredths(h).to_string()
}

/// The API's view of a shipment.
fn view(r: &ShipmentRecord) -> Value {
    json!({
        "shipmentId": r.shipment_id,
        "orderId": r.order_id,
        "carrier": CARRIER,
        "state": match &r.state {
                ShipmentState::Registering { .. } => "registering",
            ShipmentState::Created => "created",
            ShipmentState::Failed { .. } => "failed",
            ShipmentState::Cancelled => "cancelled",
        },
        "failureReason": match &r.state {
            ShipmentState::Failed { reason } => Some(reason.as_str()),
            _ => None,
        },
        "aras": {
            "integrationCode": r.shipment_id,
            "invoiceKey": r.invoice_key,
            "trackingNumber": r.tracking_number,
            "barcodes": r.barcodes,
        },
        "tracking": r.tracking.name(),
        "measure": {
            "pieces": r.pieces,
            "desi": hundredths(r.desi),
            "kg": hundredths(r.kg),
            "chargeBasis": hundredths(r.charge_basis),
        },
        "cashOnDelivery": r.cash_on_delivery,
        "marketplaceOrder": r.marketplace_package,
    })
}

fn shipment_event(
    detail_type: DetailType,
    r: &ShipmentRecord,
    previous: Option<&TrackingStatus>,
) -> DomainEvent {
    let status = match (&r.state, detail_type) {
        (_, DetailType::ShipmentCreated) => "created".to_string(),
        _ => r.tracking.name().to_string(),
    };
    let event_id = match detail_type {
        DetailType::ShipmentCreated => format!("{CARRIER}:{}:created", r.shipment_id),
        _ => format!("{CARRIER}:{}:{}:{status}", r.shipment_id, r.status_changes),
    };
    DomainEvent {
        detail_type,
        event_id,
        occurred_at: now_rfc3339(),
        detail: EventDetail::Shipment(ShipmentDetail {
            shipment_id: r.shipment_id.clone(),
            order_id: r.order_id.clone(),
            carrier: CARRIER.into(),
            status,
            previous_status: previous.map(|p| p.name().to_string()),
            tracking_number: r.tracking_number.clone(),
            marketplace: r
                .marketplace_package
                .as_ref()
                .map(|p| p.marketplace.as_str().to_string()),
            order_number: r
                .marketplace_package
                .as_ref()
                .map(|p| p.order_number.clone()),
            package_id: r.marketplace_package.as_ref().map(|p| p.package_id.clone()),
        }),
    }
}

/// What one tracking poll did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingReport {
    pub open: u32,
    pub changed: u32,
    pub unchanged: u32,
    pub pushed: u32,
    pub push_refused: u32,
    pub failed: u32,
    /// Not reached before the deadline; the next run goes on.
    pub left: u32,
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    aras: Option<ArasClient>,
    tariff: Option<Tariff>,
    pushers: TrackingPushers,
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        let http = HttpLayer::new(HttpSettings::from_env(&env)?);
        let bus = config::event_bus_name(&env)?;
        Ok(App::new(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), bus),
            ArasSettings::from_env(&env)?.map(|s| ArasClient::new(http.clone(), s)),
            tariff_from_env(&env)?,
            TrackingPushers::from_env(&env, &http)?,
        ))
    }
}

/// `ARAS_TARIFF_JSON`: the merchant's contract price list (see
/// `domain::shipping::Tariff`); unset or `-` = no rates.
pub fn tariff_from_env(env: &dyn Source) -> Result<Option<Tariff>> {
    match crate::config::optional(env, "ARAS_TARIFF_JSON") {
        None => Ok(None),
        Some(json) => Tariff::from_json(&json)
            .map(Some)
            .map_err(|e| Error::Config(format!("ARAS_TARIFF_JSON: {e}"))),
    }
}

impl<S, P> App<S, P>
where
    S: ShipmentStore + MarketplaceOrderStore,
    P: EventPublisher,
{
    pub fn new(
        store: S,
        publisher: P,
        aras: Option<ArasClient>,
        tariff: Option<Tariff>,
        pushers: TrackingPushers,
    ) -> Self {
        App {
            store,
            publisher,
            aras,
            tariff,
            pushers,
        }
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let path = req.uri().path().trim_end_matches('/').to_string();
        let result = match (req.method(), path.as_str()) {
            (&Method::POST, "/shipping/aras/shipments") => self.create(body_bytes(&req)).await,
            (&Method::POST, "/shipping/aras/rates") => self.rates(body_bytes(&req)),
            (&Method::DELETE, p) if p.starts_with("/shipping/aras/shipments/") => {
                self.cancel(&p["/shipping/aras/shipments/".len()..]).await
            }
            (&Method::GET, p) if p.starts_with("/shipping/aras/tracking/") => {
                self.track(&p["/shipping/aras/tracking/".len()..]).await
            }
            (method, _) => Err(Error::NoRoute {
                method: method.to_string(),
                path,
            }),
        };
        Ok(result.unwrap_or_else(|e| error_response(&e)))
    }

    fn aras(&self) -> Result<&ArasClient> {
        self.aras.as_ref().ok_or_else(|| {
            Error::Provider(crate::error::ProviderError {
                provider: "aras",
                failure: ProviderFailure::Unavailable,
                provider_code: None,
                decline_code: None,
                message: "Aras Kargo is not configured for this deployment (ARAS_USERNAME)".into(),
                request_id: None,
            })
        })
    }

    async fn create(&self, body: &[u8]) -> Result<Response<Body>> {
        let req: CreateRequest = parse_json(body)?;
        let mut errors = Vec::new();
        let order_id = req.order_id.trim().to_string();
        if order_id.is_empty() || order_id.len() > 128 {
            errors.push(FieldError::new("orderId", "1–128 characters"));
        }
        let reference = req.reference.as_deref().unwrap_or("1").trim().to_string();
        if reference.is_empty() || reference.len() > 64 {
            errors.push(FieldError::new("reference", "1–64 characters"));
        }
        for (field, value) in [("orderId", &order_id), ("reference", &reference)] {
            if value.chars().any(char::is_control) {
                errors.push(FieldError::new(field, "no control characters"));
            }
        }
        let collection = match req.cod.as_ref().and_then(|c| c.collection.as_deref()) {
            None | Some("cash") => CodCollection::Cash,
            Some("card") => CodCollection::CreditCard,
            Some(_) => {
                errors.push(FieldError::new("cod.collection", "`cash` or `card`"));
                CodCollection::Cash
            }
        };
        if let Some(cod) = &req.cod {
            if cod.amount.currency != Currency::TRY || cod.amount.minor <= 0 {
                errors.push(FieldError::new("cod.amount", "a positive TRY amount"));
            }
        }
        let parcels = match parcels(&req.parcels) {
            Ok(p) => p,
            Err(Error::Validation(more)) => {
                errors.extend(more);
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let id = shipment_id(&order_id, &reference);
        if let Some(m) = &req.marketplace_order {
            self.check_marketplace_package(m).await?;
        }
        let m = measure(&parcels);
        let order = ShipmentOrder {
            integration_code: id.clone(),
            trading_waybill_number: req
                .waybill_number
                .as_deref()
                .map(str::trim)
                .map(str::to_owned)
                .unwrap_or_else(|| own_waybill_number(&id)),
            invoice_number: None,
            receiver: Receiver {
                name: req.receiver.name,
                address: req.receiver.address,
                city_name: req.receiver.city,
                town_name: req.receiver.town,
                district_name: req.receiver.district,
                phone1: req.receiver.phone,
                phone2: req.receiver.phone2,
                tax_number: req.receiver.tax_number,
                tax_office: req.receiver.tax_office,
            },
            pieces: parcels
                .iter()
                .enumerate()
                .map(|(i, p)| Piece {
                    barcode_number: format!("{id}{:03}", i + 1),
                    parcel: *p,
                    product_number: None,
                    description: None,
                })
                .collect(),
            cash_on_delivery: req.cod.as_ref().map(|c| CashOnDelivery {
                amount: c.amount,
                collection,
            }),
            payor: Payor::Sender,
            description: req.description,
        };
        order.validate().map_err(|e| match e {
            Error::Validation(fields) => Error::Validation(
                fields
                    .into_iter()
                    .map(|f| match f.field.as_str() {
                        "tradingWaybillNumber" => FieldError::new("waybillNumber", f.message),
                        _ => f,
                    })
                    .collect(),
            ),
            other => other,
        })?;
        let digest = order_digest(&order);
        // A retried create: answered from the record.
        if let Some((record, version)) = self.store.get_shipment(&id).await? {
            if let Some(answer) = self.existing(record, version, &digest).await? {
                return Ok(answer);
            }
        }
        let aras = self.aras()?;
        let now = now_rfc3339();
        let claimed_at = now_ms();
        let mut record = ShipmentRecord {
            shipment_id: id.clone(),
            order_id,
            marketplace_package: req.marketplace_order,
            state: ShipmentState::Registering {
                until_ms: claimed_at + REGISTER_CLAIM_MS,
            },
            invoice_key: None,
            barcodes: order
                .pieces
                .iter()
                .map(|p| p.barcode_number.clone())
                .collect(),
            tracking_number: None,
            tracking: TrackingStatus::Created,
            pieces: m.pieces.len(),
            desi: m.total_desi.0,
            kg: m.total_kg.0,
            charge_basis: m.total_charge_basis.0,
            cash_on_delivery: order.cash_on_delivery.map(|c| c.amount),
            push: TrackingPushState::NotNeeded,
            announced: false,
            status_changes: 0,
            created_at: now.clone(),
            updated_at: now,
            order_digest: Some(digest.clone()),
        };
        if record.marketplace_package.is_some() {
            record.push = TrackingPushState::Pending {
                claimed_until_ms: 0,
            };
        }
        // Claim the IntegrationCode: only the claimant sends SetOrder.
        if !self.store.put_new_shipment(&record, claimed_at).await? {
            let (stored, version) = self
                .store
                .get_shipment(&id)
                .await?
                .ok_or_else(|| Error::Store(format!("shipment {id} vanished")))?;
            return match self.existing(stored, version, &digest).await? {
                Some(answer) => Ok(answer),
                None => Err(in_progress(&id)),
            };
        }
        let answer = aras.set_order(&order).await;
        record.state = ShipmentState::Created;
        match &answer {
            Ok(SetOrderOutcome::Created { invoice_key, .. }) => {
                record.invoice_key = invoice_key.clone();
            }
            Ok(SetOrderOutcome::AlreadyRegistered(existing)) => {
                // An earlier attempt's order (its answer was lost): Aras's
                // copy is the truth, and it was not changed.
                record.invoice_key = existing.field("InvoiceKey").map(str::to_owned);
                let barcodes: Vec<String> =
                    existing.barcodes().into_iter().map(str::to_owned).collect();
                if !barcodes.is_empty() {
                    record.barcodes = barcodes;
                }
                let differs = differences(&order, existing);
                if !differs.is_empty() {
                    // Aras holds another content under this code (an earlier
                    // create whose answer was lost): tracked as it is, and no
                    // request's content is claimed for it.
                    record.order_digest = None;
                    tracing::warn!(shipment_id = %id, ?differs, "Aras holds other content for this shipment");
                }
            }
            Err(e) => {
                record.state = ShipmentState::Failed {
                    reason: e.to_string(),
                };
            }
        }
        record.updated_at = now_rfc3339();
        if !self.store.update_shipment(&record, 1).await? {
            return Err(Error::Store(format!(
                "shipment {id}: the claim was taken over while Aras answered; retry the create"
            )));
        }
        if let Err(e) = answer {
            tracing::warn!(shipment_id = %id, error = %e, "Aras refused or failed a shipment");
            return Err(e);
        }
        if record.order_digest.as_deref() != Some(digest.as_str()) {
            self.announce(record.clone(), 2).await?;
            return Err(differs_conflict(&id));
        }
        self.announce(record.clone(), 2).await?;
        Ok(json_response(201, &view(&record)))
    }

    /// The answer to a create for a shipment we already hold: `None` when
    /// the create should go on (the last one failed, or its claim expired).
    async fn existing(
        &self,
        record: ShipmentRecord,
        version: u64,
        digest: &str,
    ) -> Result<Option<Response<Body>>> {
        match &record.state {
            ShipmentState::Created => {
                self.announce(record.clone(), version).await?;
                if record.order_digest.as_deref() != Some(digest) {
                    return Err(differs_conflict(&record.shipment_id));
                }
                Ok(Some(json_response(200, &view(&record))))
            }
            ShipmentState::Cancelled => Err(Error::Conflict {
                code: "shipment_cancelled",
                message: format!(
                    "shipment {} was cancelled; send another reference for a new shipment",
                    record.shipment_id
                ),
            }),
            ShipmentState::Registering { until_ms } if *until_ms >= now_ms() => {
                Err(in_progress(&record.shipment_id))
            }
            ShipmentState::Registering { .. } | ShipmentState::Failed { .. } => Ok(None),
        }
    }

    /// Publishes `shipment.created` once (a retried create publishes it
    /// again, with the same id, if the first publish failed).
    async fn announce(&self, mut record: ShipmentRecord, version: u64) -> Result<()> {
        if record.announced || record.state != ShipmentState::Created {
            return Ok(());
        }
        self.publisher
            .publish(&[shipment_event(DetailType::ShipmentCreated, &record, None)])
            .await?;
        record.announced = true;
        record.updated_at = now_rfc3339();
        // Lost to a concurrent update: that one publishes nothing new, and a
        // repeat of this event has the same id.
        self.store
            .update_shipment(&record, version)
            .await
            .map(|_| ())
    }

    async fn check_marketplace_package(&self, m: &MarketplacePackage) -> Result<()> {
        let known = self
            .store
            .load_marketplace_order(m.marketplace, &m.order_number)
            .await?;
        let Some((order, _)) = known else {
            return Err(Error::NotFound {
                what: "marketplace order",
                id: format!("{}:{}", m.marketplace.as_str(), m.order_number),
            });
        };
        // Trendyol packages are what we store per order; Hepsiburada's
        // packages are made by the merchant and not listed to us.
        if m.marketplace == Marketplace::Trendyol && !order.units.contains_key(&m.package_id) {
            return Err(Error::NotFound {
                what: "Trendyol shipment package",
                id: m.package_id.clone(),
            });
        }
        Ok(())
    }

    fn rates(&self, body: &[u8]) -> Result<Response<Body>> {
        let req: RatesRequest = parse_json(body)?;
        let region = Region::parse(&req.region).ok_or_else(|| {
            Error::validation(
                "region",
                format!("one of {}", Region::ALL.map(|r| r.name()).join(", ")),
            )
        })?;
        let parcels = parcels(&req.parcels)?;
        let tariff = self.tariff.as_ref().ok_or_else(|| Error::Unprocessable {
            code: "no_tariff",
            message: "no Aras contract tariff is configured (ARAS_TARIFF_JSON): Aras publishes no rate API".into(),
        })?;
        let price = quote(tariff, region, &parcels)?;
        let m = measure(&parcels);
        Ok(json_response(
            200,
            &json!({
                "carrier": CARRIER,
                "region": region.name(),
                "price": price,
                "measure": {
                    "pieces": m.pieces.len(),
                    "desi": hundredths(m.total_desi.0),
                    "kg": hundredths(m.total_kg.0),
                    "chargeBasis": hundredths(m.total_charge_basis.0),
                },
                "source": "contract tariff",
            }),
        ))
    }

    async fn cancel(&self, id: &str) -> Result<Response<Body>> {
        let (record, _) = self
            .store
            .get_shipment(id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "shipment",
                id: id.to_string(),
            })?;
        match &record.state {
            // A repeat (perhaps after the first answer's publish failed):
            // the event again, same id.
            ShipmentState::Cancelled => {
                self.publish_cancelled(&record).await?;
                return Ok(json_response(200, &view(&record)));
            }
            ShipmentState::Registering { .. } => return Err(in_progress(id)),
            ShipmentState::Failed { .. } => {
                return Err(Error::Conflict {
                    code: "shipment_not_created",
                    message: format!("shipment {id} was never created at Aras"),
                })
            }
            ShipmentState::Created => {}
        }
        let aras = self.aras()?;
        match aras.cancel_dispatch(id).await? {
            CancelOutcome::Cancelled | CancelOutcome::Deleted => {}
            CancelOutcome::AlreadyDispatched => {
                return Err(Error::Conflict {
                    code: "already_dispatched",
                    message: format!(
                        "Aras has already dispatched shipment {id}; it can no longer be cancelled"
                    ),
                })
            }
            // Ours says created, Aras has none: cancelled before (our write
            // was lost), if Aras cannot find it either way.
            CancelOutcome::NotFound => {
                if aras.get_order_with_integration_code(id).await?.is_some() {
                    return Err(Error::Conflict {
                        code: "aras_inconsistent",
                        message: format!("Aras cannot cancel shipment {id} but still lists it"),
                    });
                }
            }
        }
        // Aras is done: record it whatever else changed meanwhile.
        for _ in 0..5 {
            let (mut current, version) = self
                .store
                .get_shipment(id)
                .await?
                .ok_or_else(|| Error::Store(format!("shipment {id} vanished")))?;
            if current.state == ShipmentState::Cancelled {
                self.publish_cancelled(&current).await?;
                return Ok(json_response(200, &view(&current)));
            }
            current.state = ShipmentState::Cancelled;
            current.tracking = TrackingStatus::Cancelled;
            current.status_changes += 1;
            current.updated_at = now_rfc3339();
            if self.store.update_shipment(&current, version).await? {
                self.publish_cancelled(&current).await?;
                return Ok(json_response(200, &view(&current)));
            }
        }
        Err(Error::Store(format!(
            "shipment {id} is cancelled at Aras but kept changing here; retry the DELETE"
        )))
    }

    async fn publish_cancelled(&self, record: &ShipmentRecord) -> Result<()> {
        self.publisher
            .publish(&[shipment_event(
                DetailType::ShipmentStatusChanged,
                record,
                None,
            )])
            .await
    }

    async fn track(&self, code: &str) -> Result<Response<Body>> {
        if code.is_empty() || code.len() > 64 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::validation("code", "letters and digits, at most 64"));
        }
        let t = self.aras()?.tracking(code).await?;
        if t.tracking_number.is_none()
            && t.events.is_empty()
            && self.store.get_shipment(code).await?.is_none()
        {
            return Err(Error::NotFound {
                what: "shipment",
                id: code.to_string(),
            });
        }
        Ok(json_response(
            200,
            &json!({
                "code": code,
                "carrier": CARRIER,
                "status": t.status.name(),
                "trackingNumber": t.tracking_number,
                "statusText": t.status_text,
                "events": t.events.iter().map(|e| json!({
                    "at": e.at,
                    "location": e.location,
                    "description": e.description,
                    "status": e.status.name(),
                })).collect::<Vec<_>>(),
            }),
        ))
    }

    /// The `shipment-tracking` handler: any event (schedule or on demand)
    /// runs one tracking poll.
    pub async fn handle_schedule(
        &self,
        event: lambda_http::lambda_runtime::LambdaEvent<Value>,
    ) -> Result<TrackingReport, lambda_http::Error> {
        // Stop a minute before the deadline. One not in the future is none:
        // a local invoke gives 0, or (cargo lambda watch) the constant 600000.
        let deadline = match i64::try_from(event.context.deadline) {
            Ok(d) if d > now_ms() => d - 60_000,
            _ => i64::MAX,
        };
        let report = self.poll_tracking_until(deadline).await.map_err(|e| {
            tracing::error!(error = %e, "tracking poll failed");
            e
        })?;
        tracing::info!(
            open = report.open,
            changed = report.changed,
            pushed = report.pushed,
            "tracking poll"
        );
        Ok(report)
    }

    /// The tracking poll: every open shipment, one at a time (Aras allows
    /// few requests per second).
    pub async fn poll_tracking(&self) -> Result<TrackingReport> {
        self.poll_tracking_until(i64::MAX).await
    }

    /// The poll, starting no shipment after `deadline_ms`; the ones left
    /// wait for the next run (oldest change first, so none is starved).
    pub async fn poll_tracking_until(&self, deadline_ms: i64) -> Result<TrackingReport> {
        let mut report = TrackingReport::default();
        let aras = self.aras()?;
        let mut open = self.store.open_shipments().await?;
        open.sort_by(|a, b| a.0.updated_at.cmp(&b.0.updated_at));
        report.open = open.len() as u32;
        for (i, (record, version)) in open.into_iter().enumerate() {
            if now_ms() > deadline_ms {
                report.left = report.open - i as u32;
                break;
            }
            if let Err(e) = self.track_one(aras, record, version, &mut report).await {
                report.failed += 1;
                tracing::warn!(error = %e, "tracking a shipment failed; the next poll tries again");
            }
        }
        if report.failed > 0 && report.failed == report.open {
            return Err(Error::Provider(crate::error::ProviderError {
                provider: "aras",
                failure: ProviderFailure::Unavailable,
                provider_code: None,
                decline_code: None,
                message: format!("tracking failed for all {} open shipments", report.open),
                request_id: None,
            }));
        }
        Ok(report)
    }

    async fn track_one(
        &self,
        aras: &ArasClient,
        mut record: ShipmentRecord,
        mut version: u64,
        report: &mut TrackingReport,
    ) -> Result<()> {
        if !record.announced {
            // Its create could not publish: do it now (same event id).
            self.publisher
                .publish(&[shipment_event(DetailType::ShipmentCreated, &record, None)])
                .await?;
            record.announced = true;
            record.updated_at = now_rfc3339();
            if !self.store.update_shipment(&record, version).await? {
                return Ok(());
            }
            version += 1;
        }
        if record.tracking.is_final() {
            // Only its tracking number is still to be told.
            report.unchanged += 1;
            return self.push_tracking_number(record, version, report).await;
        }
        let t = aras.tracking(&record.shipment_id).await?;
        let change = tracking_change(&record, &t.status, t.tracking_number.as_deref());
        if change.is_empty() {
            report.unchanged += 1;
        } else {
            let previous = record.tracking.clone();
            if let Some(n) = change.tracking_number {
                record.tracking_number = Some(n);
            }
            if let Some(status) = change.status {
                record.tracking = status;
                record.status_changes += 1;
                // Published before the write: a failure after it publishes
                // again next poll, with the same event id.
                self.publisher
                    .publish(&[shipment_event(
                        DetailType::ShipmentStatusChanged,
                        &record,
                        Some(&previous),
                    )])
                    .await?;
                report.changed += 1;
            }
            record.updated_at = now_rfc3339();
            if !self.store.update_shipment(&record, version).await? {
                return Ok(());
            }
            version += 1;
        }
        self.push_tracking_number(record, version, report).await
    }

    /// Tells the marketplace the tracking number once: a lease on the record
    /// keeps two polls from pushing together; a push that fails leaves it
    /// pending for the next poll.
    async fn push_tracking_number(
        &self,
        mut record: ShipmentRecord,
        version: u64,
        report: &mut TrackingReport,
    ) -> Result<()> {
        let now = now_ms();
        let Some((package, number)) = record.push_due(now) else {
            return Ok(());
        };
        let (package, number) = (package.clone(), number.to_string());
        record.push = TrackingPushState::Pending {
            claimed_until_ms: now + 120_000,
        };
        if !self.store.update_shipment(&record, version).await? {
            return Ok(());
        }
        let version = version + 1;
        let outcome = self.pushers.push(&record, &package, &number).await;
        record.push = match outcome {
            Ok(crate::providers::marketplace::tracking::Pushed::Done) => {
                report.pushed += 1;
                TrackingPushState::Done {
                    tracking_number: number,
                }
            }
            Ok(crate::providers::marketplace::tracking::Pushed::Refused(reason)) => {
                report.push_refused += 1;
                self.publisher
                    .publish(&[crate::providers::marketplace::tracking::refusal_event(
                        &record.shipment_id,
                        &package,
                        &number,
                        &reason,
                    )])
                    .await?;
                TrackingPushState::Refused { reason }
            }
            // A package number or tracking number the marketplace can never
            // take: a person must look.
            Err(Error::Validation(problems)) => {
                report.push_refused += 1;
                let reason = problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                self.publisher
                    .publish(&[crate::providers::marketplace::tracking::refusal_event(
                        &record.shipment_id,
                        &package,
                        &number,
                        &reason,
                    )])
                    .await?;
                TrackingPushState::Refused { reason }
            }
            Err(e) => {
                tracing::warn!(shipment_id = %record.shipment_id, error = %e, "tracking number push failed; retried next poll");
                TrackingPushState::Pending {
                    claimed_until_ms: 0,
                }
            }
        };
        record.updated_at = now_rfc3339();
        self.store
            .update_shipment(&record, version)
            .await
            .map(|_| ())
    }
}
