//! Adds the `gsi2` list keys to marketplace orders stored before the list
//! index existed (`ayaztrade::aws::marketplace_order_backfill`), page by
//! page, printing where it stands so an interrupted run goes on with
//! `--after <cursor>`. `make backfill-order-list ENV=<stage>` runs it with
//! the table `ayaztrade-<stage>` and the operator's AWS credentials; it
//! repeats whole passes until one updates and skips nothing.
//!
//!     backfill-order-list [--after CURSOR] [--page-size N]
//!
//! Environment: `TABLE_NAME`, the AWS region and credentials (and
//! `AWS_ENDPOINT_URL` for moto).

use ayaztrade::aws::dynamo::DynamoStore;
use ayaztrade::aws::sdk::AwsEnv;
use ayaztrade::config::{self, ProcessEnv};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let aws = AwsEnv::from_env()?;
    let store = DynamoStore::new(aws.dynamodb(), config::table_name(&ProcessEnv)?);
    let page_size: i32 = arg("--page-size").map_or(Ok(500), |v| v.parse())?;
    let mut after = arg("--after");
    loop {
        let (mut updated, mut skipped) = (0u32, 0u32);
        loop {
            let page = store
                .backfill_order_list_page(after.as_deref(), page_size)
                .await?;
            updated += page.updated;
            skipped += page.skipped;
            println!(
                "scanned {} updated {} skipped {} next {}",
                page.scanned,
                page.updated,
                page.skipped,
                page.next.as_deref().unwrap_or("-")
            );
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        println!("pass done: {updated} updated, {skipped} skipped");
        if updated == 0 && skipped == 0 {
            return Ok(());
        }
    }
}
