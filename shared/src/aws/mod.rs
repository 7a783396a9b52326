//! Adapters to AWS services.

pub mod dynamo;
pub mod eventbridge;
pub mod idempotency;
pub mod sdk;
