//! The local AWS stack for tests: a moto server (started by `make test`, or
//! by you: see README) with the resources of template.yaml created in it by
//! `tools/local_aws.py`, once per test binary under a unique stage name.
//!
//! The SDK reaches moto through `AWS_ENDPOINT_URL` (plus dummy credentials
//! and a region), exactly as the functions do; nothing here special-cases it.

use std::path::PathBuf;
use std::process::Command;

use tokio::sync::OnceCell;

#[derive(Debug, Clone)]
pub struct Stack {
    pub endpoint: String,
    pub table_name: String,
    pub event_bus_name: String,
    /// The queue the template's rule fills with `payment.*` events.
    pub payment_events_queue_url: String,
    /// The platform's queues of `marketplace.*`, `shipment.*`, `catalog.*`.
    pub marketplace_events_queue_url: String,
    pub shipment_events_queue_url: String,
    pub catalog_events_queue_url: String,
    pub catalog_queue_url: String,
    pub catalog_dlq_url: String,
    /// The stock-sync queue product-sync consumes (the template's rule
    /// fills it with `marketplace.stock.updated`; the catalog API nudges it).
    pub stock_sync_queue_url: String,
    /// The outbound queue the deliveries function consumes (the template's
    /// rule fills it with every domain event).
    pub outbound_queue_url: String,
    /// The accounting function's queue (the template's rules fill it with
    /// closing `marketplace.order.status_changed` and storefront triggers).
    pub accounting_queue_url: String,
    pub dynamo: aws_sdk_dynamodb::Client,
}

static STACK: OnceCell<Stack> = OnceCell::const_new();

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The stack, created on first use in this test binary.
pub async fn stack() -> &'static Stack {
    STACK.get_or_init(create).await
}

/// A stack of its own, for tests that work on everything in the table
/// (the catalog sync reads every pending product and plan).
pub async fn fresh_stack() -> Stack {
    create().await
}

async fn create() -> Stack {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL is not set: run the tests with `make test`, which starts moto, \
             or start `.venv/bin/python tools/moto_serial.py --port 5000` and export AWS_ENDPOINT_URL=http://127.0.0.1:5000 \
             AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=eu-central-1"
        )
    });
    let stage = format!("t{:08x}", fastrand::u32(..));
    let python = std::env::var("AYAZ_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".venv/bin/python"));
    let output = Command::new(&python)
        .arg(workspace_root().join("tools/local_aws.py"))
        .args(["up", "--endpoint", &endpoint, "--stage", &stage])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run `make venv`)", python.display()));
    assert!(
        output.status.success(),
        "local_aws.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("local_aws.py prints JSON");
    let aws = ayaztrade::aws::sdk::AwsEnv::from_env().expect("AWS settings in the environment");
    Stack {
        endpoint,
        table_name: names["TableName"].as_str().unwrap().to_string(),
        event_bus_name: names["EventBusName"].as_str().unwrap().to_string(),
        payment_events_queue_url: names["Queues"]["PaymentEventsQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        marketplace_events_queue_url: names["Queues"]["MarketplaceEventsQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        shipment_events_queue_url: names["Queues"]["ShipmentEventsQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        catalog_events_queue_url: names["Queues"]["CatalogEventsQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        catalog_queue_url: names["Queues"]["CatalogQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        catalog_dlq_url: names["Queues"]["CatalogDLQ"].as_str().unwrap().to_string(),
        stock_sync_queue_url: names["Queues"]["StockSyncQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        outbound_queue_url: names["Queues"]["OutboundQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        accounting_queue_url: names["Queues"]["AccountingQueue"]
            .as_str()
            .unwrap()
            .to_string(),
        dynamo: aws.dynamodb(),
    }
}

/// A fresh id, so tests sharing the stack never see each other's items.
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}-{:012x}", fastrand::u64(..) >> 16)
}
