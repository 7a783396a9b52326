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

pub const PROVIDER: &str = "aras";
