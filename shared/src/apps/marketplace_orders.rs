//! The `marketplace-orders` function (HTTP API, IAM-authenticated): the
//! whole marketplace order as we hold it, for the platform that fulfils it.
//!
//! - `GET /marketplace-orders/{marketplace}/{orderNumber}`: packages with
//!   their totals and cargo, lines with their money, the buyer while the
//!   personal data is kept (`buyer` is `null` once erased), 404 unknown.
//! - `GET /marketplace-orders/{marketplace}?status=…[&from=…][&to=…][&limit=…][&cursor=…]`:
//!   the orders in one status (our normalized word, as in the events),
//!   first seen in `[from, to]` (RFC 3339), oldest first, a page at a time
//!   from index `gsi2` (never a scan).
//! - `POST /marketplace-orders/trendyol/{orderNumber}/packages/{packageId}/status`
//!   `{"status": "picking" | "invoiced", "invoiceNumber": …}`: tells Trendyol
//!   the package is being picked, or invoiced (docs/marketplace-wire.md
//!   T13). Idempotent by asking Trendyol: the package is read first (already
//!   there: nothing is sent) and again after a refusal (a repeat of a call
//!   whose answer was lost is refused, yet done); then the package as
//!   Trendyol has it is taken in like a webhook (`OrderIntake`: the status on
//!   the order, `marketplace.order.status_changed`). A refusal Trendyol
//!   keeps is 409 `marketplace_refused` with its message.
//!
//! Its own function (not `shipment` or `operations`): IAM grants buyers'
//! personal data (`MKTPII#`) to this function and to `shipment` (which
//! takes a receiver from the order) only; DESIGN § 1 names it, and the
//! seller actions on the order belong here too.

use std::collections::BTreeMap;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::api::{body_bytes, error_response, json_response, parse_json};
use crate::aws::dynamo::DynamoStore;
use crate::aws::eventbridge::EventBridgePublisher;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_ms;
use crate::config::{self, HttpSettings, ProcessEnv, Source};
use crate::domain::delivery::unix_ms_to_rfc3339;
use crate::domain::marketplace::Marketplace;
use crate::domain::marketplace_order::MarketplaceOrder;
use crate::domain::marketplace_order::{trendyol_status, OrderChange, PersonalWrite, SellerAction};
use crate::domain::marketplace_order_details::PersonalDataRetention;
use crate::domain::marketplace_order_details::{LineFacts, PackageFacts, PersonalData};
use crate::error::{Error, FieldError, Result};
use crate::intake::marketplace_orders::order_total;
use crate::intake::marketplace_orders::OrderIntake;
use crate::money::Money;
use crate::ports::{
    EventPublisher, MarketplaceOrderList, MarketplaceOrderStore, MarketplaceOrderSummary,
    MarketplacePersonalDataReader, OrderSave,
};
use crate::providers::http::HttpLayer;
use crate::providers::marketplace::orders::{order_clients, OrderClient, OrderClients};
use crate::providers::marketplace::trendyol::orders::{PackageStatus, TrendyolOrders};

/// This function's share of Trendyol's 50 requests per 10 s on the order
/// list (it reads a package before and after an action; order-poll keeps
/// 45).
const TRENDYOL_REQUESTS_PER_10S: u32 = 5;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StatusBody {
    status: String,
    #[serde(default)]
    invoice_number: Option<String>,
}

/// The status a package-status request asks for, naming each bad field.
fn package_status_of(body: StatusBody) -> Result<PackageStatus> {
    match (body.status.as_str(), body.invoice_number) {
        ("picking", None) => Ok(PackageStatus::Picking),
        ("picking", Some(_)) => Err(Error::validation(
            "invoiceNumber",
            "only with status invoiced",
        )),
        ("invoiced", Some(n)) if !n.trim().is_empty() => Ok(PackageStatus::Invoiced {
            invoice_number: n.trim().to_string(),
        }),
        ("invoiced", _) => Err(Error::validation(
            "invoiceNumber",
            "required with status invoiced",
        )),
        _ => Err(Error::validation("status", "picking or invoiced")),
    }
}

/// Orders per page, unless the caller asks for fewer.
const PAGE: i32 = 50;
const MAX_PAGE: i32 = 100;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub marketplace: &'static str,
    pub order_number: String,
    /// The least advanced package's status.
    pub status: String,
    pub first_seen_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    pub packages: Vec<PackageView>,
    pub lines: Vec<LineView>,
    /// `null` once the personal data is erased (or never given).
    pub buyer: Option<PersonalData>,
    /// When the buyer's personal data is (or was) erased.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_data_erased_at: Option<String>,
    /// What we asked the marketplace, and what it said (refusals with its
    /// message).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seller_actions: Vec<SellerAction>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageView {
    /// Trendyol shipment package id; `""` for a Hepsiburada order.
    pub package_id: String,
    pub status: String,
    pub marketplace_status: String,
    pub changed_at: Option<String>,
    /// Totals, cargo, agreed delivery, invoice link, problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<PackageFacts>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineView {
    pub line_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: u32,
    pub status: String,
    pub marketplace_status: String,
    /// `taken`, `not_taken`, `oversold`, `untracked`.
    pub stock: crate::domain::marketplace_order::LineStock,
    /// Prices, discounts, VAT, commission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<LineFacts>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    pub marketplace: &'static str,
    pub status: String,
    pub orders: Vec<MarketplaceOrderSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub status: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub limit: i32,
    pub cursor: Option<String>,
}

use crate::clock::ms_of_rfc3339 as instant_ms;

/// Reads the list's query string, naming every bad field at once.
pub fn list_request(query: &str, now_ms: i64) -> Result<ListRequest> {
    let q: ListQuery =
        serde_urlencoded::from_str(query).map_err(|e| Error::validation("query", e.to_string()))?;
    let mut errors = Vec::new();
    let status = match q.status {
        Some(s)
            if !s.is_empty()
                && s.len() <= 32
                && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            Some(s)
        }
        Some(_) => {
            errors.push(FieldError::new(
                "status",
                "a status word as in the events (lowercase, e.g. created, shipped)",
            ));
            None
        }
        None => {
            errors.push(FieldError::new("status", "required"));
            None
        }
    };
    let mut instant = |name: &str, value: Option<String>, default: i64| match value {
        None => Some(default),
        Some(v) => match instant_ms(&v) {
            Some(ms) => Some(ms),
            None => {
                errors.push(FieldError::new(name, "an RFC 3339 instant"));
                None
            }
        },
    };
    let from_ms = instant("from", q.from, 0);
    let to_ms = instant("to", q.to, now_ms);
    let limit = match q.limit.as_deref().map(str::parse::<i32>) {
        None => Some(PAGE),
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => Some(n),
        Some(_) => {
            errors.push(FieldError::new("limit", format!("1–{MAX_PAGE}")));
            None
        }
    };
    if let (Some(from), Some(to)) = (from_ms, to_ms) {
        if from > to {
            errors.push(FieldError::new("from", "not after `to`"));
        }
    }
    match (status, from_ms, to_ms, limit) {
        (Some(status), Some(from_ms), Some(to_ms), Some(limit)) if errors.is_empty() => {
            Ok(ListRequest {
                status,
                from_ms,
                to_ms,
                limit,
                cursor: q.cursor,
            })
        }
        _ => Err(Error::Validation(errors)),
    }
}

/// The order as the route answers it.
pub fn order_view(order: &MarketplaceOrder, buyer: Option<PersonalData>) -> OrderView {
    let packages = order
        .units
        .iter()
        .map(|(id, u)| PackageView {
            package_id: id.clone(),
            status: u.status.clone(),
            marketplace_status: u.marketplace_status.clone(),
            changed_at: unix_ms_to_rfc3339(u.changed_ms),
            details: order.packages.get(id).cloned(),
        })
        .collect();
    let lines = order
        .lines
        .iter()
        .map(|(id, l)| LineView {
            line_id: id.clone(),
            sku: l.sku.clone(),
            quantity: l.quantity,
            status: l.status.clone(),
            marketplace_status: l.marketplace_status.clone(),
            stock: l.stock,
            details: order.line_facts.get(id).cloned(),
        })
        .collect();
    OrderView {
        marketplace: order.marketplace.as_str(),
        order_number: order.order_number.clone(),
        status: order.status().to_string(),
        first_seen_at: unix_ms_to_rfc3339(order.first_seen_ms),
        total: order_total(order),
        packages,
        lines,
        buyer,
        personal_data_erased_at: order
            .personal
            .as_ref()
            .and_then(|p| unix_ms_to_rfc3339(p.erase_after_ms)),
        seller_actions: order.seller_actions.clone(),
    }
}

pub struct App<S, P> {
    store: S,
    publisher: P,
    sources: OrderClients,
    retention: PersonalDataRetention,
}

impl App<DynamoStore, EventBridgePublisher> {
    pub async fn from_env() -> Result<Self> {
        let env = ProcessEnv;
        let aws = AwsEnv::from_env()?;
        Self::from_source(
            DynamoStore::new(aws.dynamodb(), config::table_name(&env)?),
            EventBridgePublisher::new(aws.eventbridge(), config::event_bus_name(&env)?),
            &env,
            &HttpLayer::new(HttpSettings::from_env(&env)?),
        )
    }
}

impl<S, P> App<S, P>
where
    S: MarketplaceOrderStore + MarketplaceOrderList + MarketplacePersonalDataReader,
    P: EventPublisher,
{
    pub fn new(
        store: S,
        publisher: P,
        sources: OrderClients,
        retention: PersonalDataRetention,
    ) -> Self {
        App {
            store,
            publisher,
            sources,
            retention,
        }
    }

    /// Built from settings (tests: a map; Lambda: `from_env`).
    pub fn from_source(store: S, publisher: P, env: &dyn Source, http: &HttpLayer) -> Result<Self> {
        Ok(App::new(
            store,
            publisher,
            order_clients(env, http, TRENDYOL_REQUESTS_PER_10S)?,
            config::personal_data_retention(env)?,
        ))
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let path = req.uri().path().trim_end_matches('/').to_string();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let result = match (req.method(), segments.as_slice()) {
            (&Method::GET, ["marketplace-orders", marketplace, order_number]) => {
                match marketplace_of(marketplace) {
                    Ok(m) => self
                        .order(m, &percent_decoded(order_number))
                        .await
                        .map(|v| json_response(200, &v)),
                    Err(e) => Err(e),
                }
            }
            (
                &Method::POST,
                ["marketplace-orders", marketplace, order_number, "packages", package_id, "status"],
            ) => match marketplace_of(marketplace) {
                Ok(m) => {
                    self.set_package_status(
                        m,
                        &percent_decoded(order_number),
                        package_id,
                        body_bytes(&req),
                    )
                    .await
                }
                Err(e) => Err(e),
            }
            .map(|v| json_response(200, &v)),
            (&Method::GET, ["marketplace-orders", marketplace]) => {
                match (
                    marketplace_of(marketplace),
                    list_request(req.uri().query().unwrap_or(""), now_ms()),
                ) {
                    (Ok(m), Ok(request)) => {
                        self.list(m, request).await.map(|p| json_response(200, &p))
                    }
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            (method, _) => Err(Error::NoRoute {
                method: method.to_string(),
                path,
            }),
        };
        Ok(result.unwrap_or_else(|e| error_response(&e)))
    }

    pub async fn order(&self, marketplace: Marketplace, order_number: &str) -> Result<OrderView> {
        let Some((order, _)) = self
            .store
            .load_marketplace_order(marketplace, order_number)
            .await?
        else {
            return Err(Error::NotFound {
                what: "marketplace order",
                id: order_number.chars().take(64).collect(),
            });
        };
        let buyer = match &order.personal {
            Some(_) => {
                self.store
                    .marketplace_personal_data(marketplace, order_number, now_ms())
                    .await?
            }
            None => None,
        };
        Ok(order_view(&order, buyer))
    }

    /// Picking / Invoiced at Trendyol (module docs); answers the order as
    /// it stands afterwards.
    pub async fn set_package_status(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        package_id: &str,
        body: &[u8],
    ) -> Result<OrderView> {
        let status = package_status_of(parse_json::<StatusBody>(body)?)?;
        let client = match (marketplace, self.sources.get(marketplace)) {
            (Marketplace::Trendyol, Some(OrderClient::Trendyol(c))) => c,
            (Marketplace::Trendyol, _) => {
                return Err(Error::Config("Trendyol is not configured here".into()))
            }
            // Hepsiburada's packaging is not built yet (issue 13).
            (m, _) => {
                return Err(Error::NotFound {
                    what: "package status action",
                    id: m.as_str().to_string(),
                })
            }
        };
        let Some((order, _)) = self
            .store
            .load_marketplace_order(marketplace, order_number)
            .await?
        else {
            return Err(Error::NotFound {
                what: "marketplace order",
                id: order_number.chars().take(64).collect(),
            });
        };
        if !order.units.contains_key(package_id) {
            return Err(Error::NotFound {
                what: "Trendyol shipment package",
                id: package_id.chars().take(20).collect(),
            });
        }
        let target = trendyol_status(status.word()).rank;
        let reached = |snap: &crate::domain::marketplace_order::OrderSnapshot| {
            trendyol_status(&snap.marketplace_status).rank >= target
        };
        let current = self.read_package(client, package_id).await?;
        let mut outcome = ("already", None);
        if !reached(&current) {
            outcome = ("done", None);
            let lines: Vec<(String, u32)> = current
                .lines
                .iter()
                .map(|l| (l.line_id.clone(), l.quantity))
                .collect();
            if let Err(refusal) = client
                .update_package_status(package_id, status.clone(), &lines)
                .await?
            {
                // Refused: done anyway (a repeat of a call whose answer
                // was lost), or Trendyol's state forbids it.
                // Reached after a refused send: ours arrived (the answer
                // was lost and the retry refused), so still `done`.
                let now = self.read_package(client, package_id).await?;
                if !reached(&now) {
                    let message = format!("{} (HTTP {})", refusal.message, refusal.status);
                    self.record_action(
                        marketplace,
                        order_number,
                        package_id,
                        &status,
                        ("refused", Some(message)),
                    )
                    .await?;
                    tracing::warn!(
                        package_id,
                        status = status.word(),
                        http_status = refusal.status,
                        "Trendyol refused a package status"
                    );
                    return Err(Error::Conflict {
                        code: "marketplace_refused",
                        message: format!(
                            "Trendyol refused {} for package {package_id} (its status: {}): {}",
                            status.word(),
                            now.marketplace_status,
                            refusal.message
                        ),
                    });
                }
            }
        }
        // What Trendyol now says, taken in like a webhook.
        let after = self.read_package(client, package_id).await?;
        OrderIntake::new(&self.store, &self.publisher)
            .with_retention(self.retention)
            .take(&after)
            .await?;
        self.record_action(marketplace, order_number, package_id, &status, outcome)
            .await?;
        self.order(marketplace, order_number).await
    }

    /// Records the action on the order, at the version read (re-read on a
    /// concurrent change). The order's outbox is left as it is.
    async fn record_action(
        &self,
        marketplace: Marketplace,
        order_number: &str,
        package_id: &str,
        status: &PackageStatus,
        (outcome, message): (&str, Option<String>),
    ) -> Result<()> {
        for _ in 0..5 {
            let Some((mut order, version)) = self
                .store
                .load_marketplace_order(marketplace, order_number)
                .await?
            else {
                return Ok(());
            };
            order.record_action(SellerAction {
                at_ms: now_ms(),
                action: format!("package_status:{}", status.word()),
                package_id: Some(package_id.to_string()),
                outcome: outcome.to_string(),
                message: message.clone(),
            });
            let change = OrderChange {
                order,
                moves: Vec::new(),
                changed: true,
                personal: PersonalWrite::Unchanged,
            };
            match self
                .store
                .save_marketplace_order(&change, Some(version), &crate::clock::now_rfc3339())
                .await?
            {
                OrderSave::Saved { .. } => return Ok(()),
                OrderSave::Conflict | OrderSave::Refused { .. } => continue,
            }
        }
        Err(Error::Store(format!(
            "marketplace order {order_number} kept changing; the action was not recorded"
        )))
    }

    async fn read_package(
        &self,
        client: &TrendyolOrders,
        package_id: &str,
    ) -> Result<crate::domain::marketplace_order::OrderSnapshot> {
        client
            .package(package_id)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: "Trendyol shipment package (at Trendyol)",
                id: package_id.chars().take(20).collect(),
            })
    }

    pub async fn list(&self, marketplace: Marketplace, r: ListRequest) -> Result<OrderPage> {
        let (orders, next_cursor) = self
            .store
            .marketplace_order_page(
                marketplace,
                &r.status,
                r.from_ms,
                r.to_ms,
                r.cursor.as_deref(),
                r.limit,
            )
            .await?;
        Ok(OrderPage {
            marketplace: marketplace.as_str(),
            status: r.status,
            orders,
            next_cursor,
        })
    }
}

fn marketplace_of(name: &str) -> Result<Marketplace> {
    Marketplace::parse(name).ok_or_else(|| Error::NotFound {
        what: "marketplace",
        id: name.chars().take(40).collect(),
    })
}

/// Order numbers are digits and letters in practice; a `%xx` in the path
/// is decoded so a number with a reserved character still finds its order.
fn percent_decoded(segment: &str) -> String {
    let pairs: BTreeMap<String, String> =
        serde_urlencoded::from_str(&format!("v={segment}")).unwrap_or_default();
    pairs
        .get("v")
        .cloned()
        .unwrap_or_else(|| segment.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_request_names_every_bad_field() {
        let now = 1_800_000_000_000;
        let r = list_request("status=created&from=2026-12-01T00:00:00Z&limit=10", now).unwrap();
        assert_eq!((r.status.as_str(), r.limit, r.to_ms), ("created", 10, now));
        assert_eq!(r.from_ms, 1_796_083_200_000);
        match list_request("status=Created&from=yesterday&limit=500", now) {
            Err(Error::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["status", "from", "limit"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            list_request("", now),
            Err(Error::Validation(e)) if e[0].field == "status"
        ));
        assert!(list_request("status=created&bogus=1", now).is_err());
        assert!(list_request(
            "status=created&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
            now
        )
        .is_err());
    }

    #[test]
    fn a_package_status_request_names_what_is_wrong() {
        let body = |j: &str| serde_json::from_str::<StatusBody>(j).unwrap();
        assert_eq!(
            package_status_of(body(r#"{"status":"picking"}"#)).unwrap(),
            PackageStatus::Picking
        );
        assert_eq!(
            package_status_of(body(r#"{"status":"invoiced","invoiceNumber":" A1 "}"#)).unwrap(),
            PackageStatus::Invoiced {
                invoice_number: "A1".into()
            }
        );
        for (json, field) in [
            (r#"{"status":"invoiced"}"#, "invoiceNumber"),
            (
                r#"{"status":"picking","invoiceNumber":"A1"}"#,
                "invoiceNumber",
            ),
            (r#"{"status":"shipped"}"#, "status"),
        ] {
            assert!(
                matches!(package_status_of(body(json)), Err(Error::Validation(e)) if e[0].field == field),
                "{json}"
            );
        }
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(percent_decoded("A%2FB"), "A/B");
        assert_eq!(percent_decoded("10654411111"), "10654411111");
    }
}
