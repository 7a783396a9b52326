//! The `gsi2` backfill against moto: orders stored before the list index
//! existed (their list keys removed here) come back into the marketplace
//! order list, page by page, resumable from any page, and a second pass
//! changes nothing.

use aws_sdk_dynamodb::types::AttributeValue;
use ayaztrade::aws::keys::{marketplace_order_pk, MARKETPLACE_ORDER_SK};
use ayaztrade::domain::marketplace::Marketplace;
use ayaztrade::ports::MarketplaceOrderList;
use ayaztrade_tests::catalog_support::CatalogHarness;

async fn listed(h: &CatalogHarness, numbers: &[String]) -> usize {
    let (orders, _) = h
        .catalog_store()
        .marketplace_order_page(Marketplace::Trendyol, "created", 0, i64::MAX, None, 100)
        .await
        .unwrap();
    // Listed with the list's columns: a backfilled order shows its total too.
    orders
        .iter()
        .filter(|o| numbers.contains(&o.order_number) && o.total.is_some())
        .count()
}

#[tokio::test]
async fn orders_stored_before_the_list_index_are_listed_after_the_backfill_once() {
    let h = CatalogHarness::start(1, &[]).await;
    let numbers: Vec<String> = (0..3)
        .map(|_| {
            h.trendyol.add_order(&[("BF-1", 1, 10.0)])["orderNumber"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    h.order_poll(&[]).run(i64::MAX).await;
    assert_eq!(listed(&h, &numbers).await, 3);
    // As stored before the index: no list keys, no list columns.
    for number in &numbers {
        h.stack
            .dynamo
            .update_item()
            .table_name(&h.stack.table_name)
            .key(
                "pk",
                AttributeValue::S(marketplace_order_pk(Marketplace::Trendyol, number)),
            )
            .key("sk", AttributeValue::S(MARKETPLACE_ORDER_SK.into()))
            .update_expression(
                "REMOVE gsi2pk, gsi2sk, order_status, first_seen_ms, total_minor, total_currency",
            )
            .send()
            .await
            .unwrap();
    }
    assert_eq!(listed(&h, &numbers).await, 0);

    // Two pages, then the run stops; it goes on from the cursor it printed.
    let store = h.catalog_store();
    let mut updated = 0;
    let mut after: Option<String> = None;
    for _ in 0..2 {
        let page = store
            .backfill_order_list_page(after.as_deref(), 2)
            .await
            .unwrap();
        updated += page.updated;
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    while let Some(cursor) = after.take() {
        let page = store
            .backfill_order_list_page(Some(&cursor), 2)
            .await
            .unwrap();
        updated += page.updated;
        assert_eq!(page.skipped, 0);
        after = page.next;
    }
    assert_eq!(updated, 3);
    assert_eq!(listed(&h, &numbers).await, 3);

    // A second pass finds nothing to do.
    let mut after: Option<String> = None;
    loop {
        let page = store
            .backfill_order_list_page(after.as_deref(), 100)
            .await
            .unwrap();
        assert_eq!((page.updated, page.skipped), (0, 0), "{page:?}");
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(listed(&h, &numbers).await, 3);
}
