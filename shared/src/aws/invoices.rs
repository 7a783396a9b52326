//! Accounting invoices in the single table.
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | invoice | `invoice` (JSON of `domain::invoice::InvoiceRecord`: stage, series number, Paraşüt ids, number, URL; no personal data), `stage`, `version`, `updated_at` |
//! | invoice sequence counter | `last` (number) |

use aws_sdk_dynamodb::types::ReturnValue;

use crate::aws::catalog::put_if;
use crate::aws::dynamo::{decode_versioned_json, n, s, store_error, DynamoStore, Item};
use crate::aws::keys::{invoice_counter_pk, invoice_pk, COUNTER_SK, INVOICE_SK};
use crate::domain::invoice::InvoiceRecord;
use crate::error::{Error, Result};
use crate::ports::InvoiceStore;

fn decode(item: &Item) -> Result<(InvoiceRecord, u64)> {
    decode_versioned_json(item, "invoice")
}

impl DynamoStore {
    fn invoice_put(
        &self,
        record: &InvoiceRecord,
        version: u64,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        self.client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(invoice_pk(&record.order_ref)))
            .item("sk", s(INVOICE_SK))
            .item("entity", s("invoice"))
            .item(
                "invoice",
                s(serde_json::to_string(record).expect("invoices serialize")),
            )
            .item("stage", s(record.stage.as_str()))
            .item("version", n(version as i64))
            .item("updated_at", s(&record.updated_at))
    }
}

impl InvoiceStore for DynamoStore {
    async fn get_invoice(&self, order_ref: &str) -> Result<Option<(InvoiceRecord, u64)>> {
        self.get_item(&invoice_pk(order_ref), INVOICE_SK)
            .await?
            .as_ref()
            .map(decode)
            .transpose()
    }

    async fn put_new_invoice(&self, record: &InvoiceRecord) -> Result<bool> {
        let request = self
            .invoice_put(record, 1)
            .condition_expression("attribute_not_exists(pk)");
        put_if(request, "put invoice").await
    }

    async fn update_invoice(&self, record: &InvoiceRecord, version: u64) -> Result<bool> {
        let request = self
            .invoice_put(record, version + 1)
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version as i64));
        put_if(request, "update invoice").await
    }

    async fn next_invoice_sequence(&self, series: &str) -> Result<i64> {
        let out = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(invoice_counter_pk(series)))
            .key("sk", s(COUNTER_SK))
            .update_expression("ADD #last :one")
            .expression_attribute_names("#last", "last")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| store_error("next invoice sequence", e))?;
        out.attributes
            .as_ref()
            .and_then(|a| a.get("last"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::Store("invoice counter without a number".into()))
    }
}
