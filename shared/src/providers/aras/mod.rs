//! Aras Kargo (docs/aras-wire.md): the order service (ASMX: SetOrder,
//! GetOrderWithIntegrationCode, CancelDispatch) and the query service (WCF:
//! GetQueryJSON), both SOAP 1.1 with separate credentials. Wire facts and
//! what is UNCONFIRMED about them: `wire.rs` and docs/aras-wire.md.

pub mod client;
pub mod order;
pub mod query;
pub mod soap;
pub mod wire;

pub use client::{ArasClient, CancelOutcome, SetOrderOutcome, SoapRetryRules};
pub use order::{ArasOrder, CashOnDelivery, CodCollection, Payor, Piece, Receiver, ShipmentOrder};
pub use query::{QueryRecord, Tracking, TrackingEvent};

use crate::error::{Error, Result};

pub const PROVIDER: &str = "aras";

/// The client, or the error a deployment without Aras (`ARAS_USERNAME`
/// unset) answers every Aras request with.
pub fn configured(client: Option<&ArasClient>) -> Result<&ArasClient> {
    client.ok_or_else(|| {
        Error::Provider(crate::error::ProviderError {
            provider: PROVIDER,
            failure: crate::error::ProviderFailure::Unavailable,
            provider_code: None,
            decline_code: None,
            message: "Aras Kargo is not configured for this deployment (ARAS_USERNAME)".into(),
            request_id: None,
        })
    })
}
