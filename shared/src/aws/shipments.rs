//! Shipments in the single table.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | shipment | `shipment` (JSON), `state`, `version`; while tracked `gsi1pk = SHIPMENT#OPEN`, `gsi1sk = <shipment id>` |

use crate::aws::catalog::{put_if, query_all};
use crate::aws::dynamo::{decode_versioned_json, n, s, store_error, DynamoStore, Item};
use crate::aws::keys::{shipment_pk, SHIPMENT_OPEN_LIST, SHIPMENT_SK};
use crate::domain::shipment::{ShipmentRecord, ShipmentState};
use crate::error::Result;
use crate::ports::ShipmentStore;

fn state_word(state: &ShipmentState) -> &'static str {
    match state {
        ShipmentState::Registering { .. } => "registering",
        ShipmentState::Created => "created",
        ShipmentState::Failed { .. } => "failed",
        ShipmentState::Cancelled => "cancelled",
    }
}

fn decode(item: &Item) -> Result<(ShipmentRecord, u64)> {
    decode_versioned_json(item, "shipment")
}

impl DynamoStore {
    /// The whole item for `record` at `version`.
    fn shipment_put(
        &self,
        record: &ShipmentRecord,
        version: u64,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(shipment_pk(&record.shipment_id)))
            .item("sk", s(SHIPMENT_SK))
            .item("entity", s("shipment"))
            .item(
                "shipment",
                s(serde_json::to_string(record).expect("shipments serialize")),
            )
            .item("state", s(state_word(&record.state)))
            .item(
                "claim_until",
                n(match record.state {
                    ShipmentState::Registering { until_ms } => until_ms,
                    _ => 0,
                }),
            )
            .item("version", n(version as i64))
            .item("updated_at", s(&record.updated_at));
        if record.is_open() {
            put.item("gsi1pk", s(SHIPMENT_OPEN_LIST))
                .item("gsi1sk", s(&record.shipment_id))
        } else {
            put
        }
    }
}

impl ShipmentStore for DynamoStore {
    async fn get_shipment(&self, shipment_id: &str) -> Result<Option<(ShipmentRecord, u64)>> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("pk", s(shipment_pk(shipment_id)))
            .key("sk", s(SHIPMENT_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("get shipment", e))?;
        out.item.as_ref().map(decode).transpose()
    }

    async fn put_new_shipment(&self, record: &ShipmentRecord, now_ms: i64) -> Result<bool> {
        let request = self
            .shipment_put(record, 1)
            .condition_expression(
                "attribute_not_exists(pk) OR #state = :failed \
                 OR (#state = :registering AND claim_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":registering", s("registering"))
            .expression_attribute_values(":now", n(now_ms));
        put_if(request, "put shipment").await
    }

    async fn update_shipment(&self, record: &ShipmentRecord, version: u64) -> Result<bool> {
        let request = self
            .shipment_put(record, version + 1)
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version as i64));
        put_if(request, "update shipment").await
    }

    async fn open_shipments(&self) -> Result<Vec<(ShipmentRecord, u64)>> {
        let request = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :open")
            .expression_attribute_values(":open", s(SHIPMENT_OPEN_LIST));
        query_all(request, "query open shipments")
            .await?
            .iter()
            .map(decode)
            .collect()
    }
}
