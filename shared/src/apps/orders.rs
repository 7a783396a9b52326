//! The `orders` function: the AyazTrade platform's backend puts orders into
//! our table when checkout starts (`PUT /orders/{orderId}`, IAM-authenticated
//! at API Gateway) and can read them back (`GET /orders/{orderId}`).

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::api::{body_bytes, error_response, json_response, parse_json};
use crate::aws::dynamo::DynamoStore;
use crate::aws::sdk::AwsEnv;
use crate::clock::now_rfc3339;
use crate::config::{self, ProcessEnv};
use crate::domain::order::{validate_order_id, validate_submission, OrderDiscount, OrderLine};
use crate::domain::{Order, OrderSubmission};
use crate::error::{Error, Result};
use crate::ports::{OrderReader, OrderWrite, OrderWriter};

/// An order as we show it to the platform.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order_id: String,
    pub currency: String,
    pub customer_ref: String,
    pub lines: Vec<OrderLine>,
    pub discounts: Vec<OrderDiscount>,
    pub shipping: i64,
    pub subtotal: i64,
    pub discount_total: i64,
    pub total: i64,
    /// The total in major units, e.g. "374.80" (for display only).
    pub total_formatted: String,
    pub payment_status: &'static str,
    pub version: u64,
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        let c = &o.content;
        OrderView {
            order_id: o.id.clone(),
            currency: c.currency.code().to_string(),
            customer_ref: c.customer_ref.clone(),
            lines: c.lines.clone(),
            discounts: c.discounts.clone(),
            shipping: c.shipping,
            subtotal: c.subtotal,
            discount_total: c.discount_total,
            total: c.total,
            total_formatted: c.total_money().to_major_string(),
            payment_status: o.payment_status.as_str(),
            version: o.version,
        }
    }
}

/// What a PUT did, for the status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Updated,
    Unchanged,
}

pub struct App<S> {
    store: S,
}

impl App<DynamoStore> {
    pub async fn from_env() -> Result<Self> {
        let table = config::table_name(&ProcessEnv)?;
        Ok(App::new(DynamoStore::new(
            AwsEnv::from_env()?.dynamodb(),
            table,
        )))
    }
}

impl<S: OrderWriter + OrderReader> App<S> {
    pub fn new(store: S) -> Self {
        App { store }
    }

    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        let path = req.uri().path().to_string();
        let result = match (req.method(), path.strip_prefix("/orders/")) {
            (&Method::PUT, Some(id)) => match parse_json::<OrderSubmission>(body_bytes(&req)) {
                Ok(sub) => self.put_order(id, &sub).await.map(|(outcome, order)| {
                    let status = if outcome == PutOutcome::Created {
                        201
                    } else {
                        200
                    };
                    json_response(status, &OrderView::from(&order))
                }),
                Err(e) => Err(e),
            },
            (&Method::GET, Some(id)) => self
                .get_order(id)
                .await
                .map(|order| json_response(200, &OrderView::from(&order))),
            (method, _) => Err(Error::NoRoute {
                method: method.to_string(),
                path,
            }),
        };
        Ok(result.unwrap_or_else(|e| error_response(&e)))
    }

    /// Stores an order. Repeating the same PUT changes nothing; changing an
    /// order whose payment is collected is refused with 409.
    pub async fn put_order(
        &self,
        order_id: &str,
        sub: &OrderSubmission,
    ) -> Result<(PutOutcome, Order)> {
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        let content = validate_submission(sub).map_err(Error::Validation)?;
        match self
            .store
            .put_unless_collected(order_id, &content, &now_rfc3339())
            .await?
        {
            OrderWrite::Written(order) if order.version == 1 => Ok((PutOutcome::Created, order)),
            OrderWrite::Written(order) => Ok((PutOutcome::Updated, order)),
            OrderWrite::Kept(order) if order.content == content => {
                Ok((PutOutcome::Unchanged, order))
            }
            OrderWrite::Kept(order) if order.payment_status.is_collected() => {
                Err(Error::Conflict {
                    code: "order_already_paid",
                    message: format!(
                        "order {order_id} is {} and can no longer be changed",
                        order.payment_status.as_str()
                    ),
                })
            }
            OrderWrite::Kept(_) => Err(Error::Conflict {
                code: "concurrent_update",
                message: format!("order {order_id} changed concurrently; retry"),
            }),
        }
    }

    pub async fn get_order(&self, order_id: &str) -> Result<Order> {
        validate_order_id(order_id).map_err(|e| Error::Validation(vec![e]))?;
        self.store
            .order_with_attempts(order_id)
            .await?
            .map(|(order, _)| order)
            .ok_or_else(|| Error::NotFound {
                what: "order",
                id: order_id.to_string(),
            })
    }
}
