//! The `shipment` function (HTTP API, IAM): Aras Kargo shipments, tracking
//! and contract rates. The tracking poll, which also tells the marketplaces
//! the tracking numbers, is the `shipment-tracking` function
//! (`apps::shipment_tracking`).
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

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::{body_bytes, error_response, json_response, parse_json};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::clock::now_rfc3339;
use crate::config::{self, ArasSettings, HttpSettings, ProcessEnv};
use crate::domain::event::DetailType;
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::MarketplaceOrder;
use crate::domain::marketplace_order_details::PersonalData;
use crate::domain::shipment::{
    own_waybill_number, parse_scaled, shipment_event, shipment_id, MarketplacePackage,
    ShipmentRecord, ShipmentState, TrackingPushState, CARRIER,
};
use crate::domain::shipping::{
    measure, quote, Hundredths, Parcel, ParcelInput, Region, ShipmentMeasure, Tariff,
    TrackingStatus,
};
use crate::error::{Error, FieldError, Result};
use crate::money::{Currency, Money};
use crate::ports::{
    EventPublisher, MarketplaceOrderStore, MarketplacePersonalDataReader, ShipmentStore,
};
use crate::providers::aras::order::set_order_envelope;
use crate::providers::aras::{
    self, ArasClient, ArasOrder, CancelOutcome, CashOnDelivery, CodCollection, Payor, Piece,
    Receiver, SetOrderOutcome, ShipmentOrder,
};
use crate::providers::http::HttpLayer;

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

/// Aras's receiver from the buyer's shipping address. Trendyol's
/// `district` is the ilçe (Aras's town); Hepsiburada gives `town` (ilçe)
/// and `district` (mahalle).
fn receiver_of(marketplace: Marketplace, data: PersonalData) -> ReceiverRequest {
    let address = data.shipping_address.unwrap_or_default();
    let invoice = data.invoice_address.unwrap_or_default();
    let (town, district) = match marketplace {
        Marketplace::Trendyol => (address.district, None),
        Marketplace::Hepsiburada => (address.town, address.district),
    };
    ReceiverRequest {
        name: address.name.or(data.buyer_name).unwrap_or_default(),
        address: address.address.unwrap_or_default(),
        city: address.city.unwrap_or_default(),
        town: town.unwrap_or_default(),
        district,
        phone: address.phone.unwrap_or_default(),
        phone2: None,
        tax_number: invoice.tax_number,
        tax_office: invoice.tax_office,
    }
}

/// What the parcel holds, from the order's lines ("2 × Kupa, 1 × Tabak"),
/// at most [`MAX_CONTENTS_CHARS`] characters: the Trendyol package's own
/// lines are not told apart from the order's others (a line keeps no
/// package), so it names every line of the order.
fn contents(order: &MarketplaceOrder, _package: &MarketplacePackage) -> Option<String> {
    let parts: Vec<String> = order
        .lines
        .iter()
        .filter(|(_, l)| l.stock != crate::domain::marketplace_order::LineStock::NotTaken)
        .map(|(id, l)| {
            let name = order
                .line_facts
                .get(id)
                .and_then(|f| f.product_name.clone())
                .or_else(|| l.sku.clone())
                .unwrap_or_else(|| id.clone());
            format!("{} × {name}", l.quantity)
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(parts.join(", ").chars().take(MAX_CONTENTS_CHARS).collect())
}

/// Aras publishes no length for `Description` (docs/aras-wire.md,
/// UNCONFIRMED); a short line is what a label has room for.
const MAX_CONTENTS_CHARS: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    /// Our order id; with `marketplaceOrder` it may be left out
    /// (`<marketplace>-<order number>`).
    #[serde(default)]
    order_id: Option<String>,
    /// Tells shipments of one order apart (default `"1"`); the same order
    /// and reference are the same shipment.
    #[serde(default)]
    reference: Option<String>,
    /// Left out with `marketplaceOrder`: taken from the stored order (the
    /// buyer's shipping address, while its personal data is kept).
    #[serde(default)]
    receiver: Option<ReceiverRequest>,
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

/// A create request that passed its checks.
struct ValidCreate {
    order_id: String,
    reference: String,
    parcels: Vec<Parcel>,
    collection: CodCollection,
}

/// Checks a create request; every problem is reported at once.
fn validate_create(req: &CreateRequest) -> Result<ValidCreate> {
    let mut errors = Vec::new();
    let order_id = match (&req.order_id, &req.marketplace_order) {
        (Some(id), _) => id.trim().to_string(),
        (None, Some(m)) => format!("{}-{}", m.marketplace.as_str(), m.order_number.trim()),
        (None, None) => String::new(),
    };
    if order_id.is_empty() || order_id.len() > 128 {
        errors.push(FieldError::new("orderId", "1–128 characters"));
    }
    if req.receiver.is_none() && req.marketplace_order.is_none() {
        errors.push(FieldError::new(
            "receiver",
            "required unless marketplaceOrder names a stored order",
        ));
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
    Ok(ValidCreate {
        order_id,
        reference,
        parcels,
        collection,
    })
}

/// The SetOrder `Order` for shipment `id`, checked against Aras's limits
/// (its waybill problems named by our field, `waybillNumber`).
fn shipment_order(id: &str, req: CreateRequest, valid: &ValidCreate) -> Result<ShipmentOrder> {
    let order = ShipmentOrder {
        integration_code: id.to_string(),
        trading_waybill_number: req
            .waybill_number
            .as_deref()
            .map(str::trim)
            .map(str::to_owned)
            .unwrap_or_else(|| own_waybill_number(id)),
        invoice_number: None,
        receiver: match req.receiver {
            Some(r) => Receiver {
                name: r.name,
                address: r.address,
                city_name: r.city,
                town_name: r.town,
                district_name: r.district,
                phone1: r.phone,
                phone2: r.phone2,
                tax_number: r.tax_number,
                tax_office: r.tax_office,
            },
            None => return Err(Error::validation("receiver", "required")),
        },
        pieces: valid
            .parcels
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
            collection: valid.collection,
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
    Ok(order)
}

/// The record a create claims the shipment with (`Registering` until
/// `claimed_at` + the claim's length), before it asks Aras.
fn registering_record(
    id: &str,
    order_id: String,
    marketplace_package: Option<MarketplacePackage>,
    order: &ShipmentOrder,
    m: &ShipmentMeasure,
    digest: &str,
    claimed_at: i64,
) -> ShipmentRecord {
    let now = now_rfc3339();
    let push = match marketplace_package {
        Some(_) => TrackingPushState::Pending {
            claimed_until_ms: 0,
        },
        None => TrackingPushState::NotNeeded,
    };
    ShipmentRecord {
        shipment_id: id.to_string(),
        order_id,
        marketplace_package,
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
        push,
        announced: false,
        status_changes: 0,
        created_at: now.clone(),
        updated_at: now,
        order_digest: Some(digest.to_string()),
    }
}

/// Writes Aras's answer to SetOrder into the claimed record: created (with
/// Aras's keys), or failed.
fn take_answer(
    record: &mut ShipmentRecord,
    order: &ShipmentOrder,
    answer: &Result<SetOrderOutcome>,
) {
    record.state = ShipmentState::Created;
    match answer {
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
            let differs = differences(order, existing);
            if !differs.is_empty() {
                // Aras holds another content under this code (an earlier
                // create whose answer was lost): tracked as it is, and no
                // request's content is claimed for it.
                record.order_digest = None;
                tracing::warn!(shipment_id = %record.shipment_id, ?differs, "Aras holds other content for this shipment");
            }
        }
        Err(e) => {
            record.state = ShipmentState::Failed {
                reason: e.to_string(),
            };
        }
    }
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

pub struct App<S, P> {
    store: S,
    publisher: P,
    aras: Option<ArasClient>,
    tariff: Option<Tariff>,
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
            config::aras_tariff(&env)?,
        ))
    }
}

impl<S, P> App<S, P>
where
    S: ShipmentStore + MarketplaceOrderStore + MarketplacePersonalDataReader,
    P: EventPublisher,
{
    pub fn new(store: S, publisher: P, aras: Option<ArasClient>, tariff: Option<Tariff>) -> Self {
        App {
            store,
            publisher,
            aras,
            tariff,
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
        aras::configured(self.aras.as_ref())
    }

    async fn create(&self, body: &[u8]) -> Result<Response<Body>> {
        let mut req: CreateRequest = parse_json(body)?;
        let valid = validate_create(&req)?;
        let id = shipment_id(&valid.order_id, &valid.reference);
        if let Some(m) = &req.marketplace_order {
            let order = self.check_marketplace_package(m).await?;
            if req.receiver.is_none() {
                req.receiver = Some(self.receiver_from_order(m).await?);
            }
            if req.description.is_none() {
                req.description = contents(&order, m);
            }
        }
        let m = measure(&valid.parcels);
        let marketplace_package = req.marketplace_order.take();
        let order = shipment_order(&id, req, &valid)?;
        let digest = order_digest(&order);
        // A retried create: answered from the record.
        if let Some((record, version)) = self.store.get_shipment(&id).await? {
            if let Some(answer) = self.existing(record, version, &digest).await? {
                return Ok(answer);
            }
        }
        let aras = self.aras()?;
        let claimed_at = now_ms();
        let mut record = registering_record(
            &id,
            valid.order_id,
            marketplace_package,
            &order,
            &m,
            &digest,
            claimed_at,
        );
        // Claim the IntegrationCode: only the claimant sends SetOrder.
        if !self.store.put_new_shipment(&record, claimed_at).await? {
            return self.claimed_by_another(&id, &digest).await;
        }
        let answer = aras.set_order(&order).await;
        take_answer(&mut record, &order, &answer);
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

    /// A create that found the shipment claimed: answered from the record
    /// as it is now, or told that another request is registering it.
    async fn claimed_by_another(&self, id: &str, digest: &str) -> Result<Response<Body>> {
        let (stored, version) = self
            .store
            .get_shipment(id)
            .await?
            .ok_or_else(|| Error::Store(format!("shipment {id} vanished")))?;
        match self.existing(stored, version, digest).await? {
            Some(answer) => Ok(answer),
            None => Err(in_progress(id)),
        }
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
            .publish(&[shipment_event(
                DetailType::ShipmentCreated,
                &record,
                None,
                now_rfc3339(),
            )])
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

    /// The buyer's shipping address of a stored marketplace order, as an
    /// Aras receiver. What the marketplace did not give stays empty, and
    /// Aras's own checks name it (400 `receiver.phone1`, …): the caller then
    /// sends `receiver`.
    async fn receiver_from_order(&self, m: &MarketplacePackage) -> Result<ReceiverRequest> {
        let Some(data) = self
            .store
            .marketplace_personal_data(m.marketplace, &m.order_number, now_ms())
            .await?
        else {
            return Err(Error::validation(
                "receiver",
                "the marketplace order holds no buyer address (never given, or erased after                  the retention): send receiver",
            ));
        };
        Ok(receiver_of(m.marketplace, data))
    }

    async fn check_marketplace_package(&self, m: &MarketplacePackage) -> Result<MarketplaceOrder> {
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
        Ok(order)
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
                now_rfc3339(),
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
}
