//! What the platform sent to invoice a storefront order, in the single
//! table (port `StorefrontInvoiceDataStore`).
//!
//! Keys: `aws::keys` (the one key layout). Attributes:
//!
//! | item | attributes |
//! |---|---|
//! | storefront invoice data | `data` (JSON of `domain::storefront_invoice::StoredInvoiceData`: lines, shipping, content hash, received time, outcome; no personal data), `updated_at` |
//! | storefront invoice buyer | `buyer` (JSON: name, e-mail, phone, address, identity or tax number), `shipment` (JSON, when sent: a cargo company's title and VKN, or a courier's name and TCKN, and the date), `erase_after_ms`; TTL `expires_at` |
//!
//! The buyer (and a courier who shipped) is personal data (KVKK), kept as `MKTPII#` keeps a marketplace
//! buyer (`aws::marketplace_orders`): its own partition, erased by TTL at
//! `erase_after_ms` (`STOREFRONT_PERSONAL_DATA_RETENTION_DAYS` after it
//! arrived) and read back only while that time has not passed.

use crate::aws::dynamo::{n, s, store_error, DynamoStore};
use crate::aws::keys::{
    storefront_invoice_data_pk, storefront_invoice_personal_data_pk, STOREFRONT_INVOICE_DATA_SK,
    STOREFRONT_INVOICE_PII_SK,
};
use crate::clock::now_rfc3339;
use crate::domain::storefront_invoice::{
    InvoiceBuyer, Outcome, PersonalInvoiceData, StoredInvoiceData,
};
use crate::error::{Error, Result};
use crate::ports::StorefrontInvoiceDataStore;

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("invoice data serializes")
}

impl StorefrontInvoiceDataStore for DynamoStore {
    async fn put_invoice_data(
        &self,
        order_id: &str,
        data: &StoredInvoiceData,
        personal: &PersonalInvoiceData,
    ) -> Result<()> {
        let mut put = self.client().put_item();
        if let Some(shipment) = &personal.shipment {
            put = put.item("shipment", s(json(shipment)));
        }
        put.table_name(self.table())
            .item("pk", s(storefront_invoice_personal_data_pk(order_id)))
            .item("sk", s(STOREFRONT_INVOICE_PII_SK))
            .item("entity", s("storefront_invoice_personal_data"))
            .item("buyer", s(json(&personal.buyer)))
            .item("erase_after_ms", n(data.erase_after_ms))
            .item("expires_at", n(data.erase_after_ms.div_euclid(1000) + 1))
            .send()
            .await
            .map_err(|e| store_error("put storefront invoice buyer", e))?;
        self.client()
            .put_item()
            .table_name(self.table())
            .item("pk", s(storefront_invoice_data_pk(order_id)))
            .item("sk", s(STOREFRONT_INVOICE_DATA_SK))
            .item("entity", s("storefront_invoice_data"))
            .item("data", s(json(data)))
            .item("updated_at", s(now_rfc3339()))
            .send()
            .await
            .map_err(|e| store_error("put storefront invoice data", e))?;
        Ok(())
    }

    async fn invoice_data(&self, order_id: &str) -> Result<Option<StoredInvoiceData>> {
        let item = self
            .get_item(
                &storefront_invoice_data_pk(order_id),
                STOREFRONT_INVOICE_DATA_SK,
            )
            .await?;
        let Some(text) = item
            .as_ref()
            .and_then(|i| i.get("data"))
            .and_then(|v| v.as_s().ok())
        else {
            return Ok(None);
        };
        serde_json::from_str(text)
            .map(Some)
            .map_err(|_| Error::Store("unreadable storefront invoice data".into()))
    }

    async fn invoice_personal_data(
        &self,
        order_id: &str,
        now_ms: i64,
    ) -> Result<Option<PersonalInvoiceData>> {
        let Some(item) = self
            .get_item(
                &storefront_invoice_personal_data_pk(order_id),
                STOREFRONT_INVOICE_PII_SK,
            )
            .await?
        else {
            return Ok(None);
        };
        let due = item
            .get("erase_after_ms")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .is_none_or(|at| at <= now_ms);
        let Some(text) = item
            .get("buyer")
            .and_then(|v| v.as_s().ok())
            .filter(|_| !due)
        else {
            return Ok(None);
        };
        let unreadable = |_| Error::Store("unreadable storefront invoice buyer".into());
        let buyer: InvoiceBuyer = serde_json::from_str(text).map_err(unreadable)?;
        // Absent on items stored before the shipment existed, or without one.
        let shipment = match item.get("shipment").and_then(|v| v.as_s().ok()) {
            Some(text) => Some(serde_json::from_str(text).map_err(unreadable)?),
            None => None,
        };
        Ok(Some(PersonalInvoiceData { buyer, shipment }))
    }

    async fn set_invoice_outcome(&self, order_id: &str, outcome: &Outcome) -> Result<()> {
        let Some(mut data) = self.invoice_data(order_id).await? else {
            return Ok(());
        };
        if data.outcome.as_ref() == Some(outcome) {
            return Ok(());
        }
        let previous = json(&data);
        data.outcome = Some(outcome.clone());
        // Only over the content it was decided on: a PUT that replaced it
        // meanwhile wins (its own decision follows).
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", s(storefront_invoice_data_pk(order_id)))
            .key("sk", s(STOREFRONT_INVOICE_DATA_SK))
            .update_expression("SET #data = :data, updated_at = :now")
            .condition_expression("#data = :previous")
            .expression_attribute_names("#data", "data")
            .expression_attribute_values(":data", s(json(&data)))
            .expression_attribute_values(":previous", s(previous))
            .expression_attribute_values(":now", s(now_rfc3339()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if crate::aws::dynamo::conditional_failed(&e) => Ok(()),
            Err(e) => Err(store_error("set storefront invoice outcome", e)),
        }
    }
}
