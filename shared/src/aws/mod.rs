//! Adapters to AWS services.

pub mod catalog;
pub mod dynamo;
pub mod eventbridge;
pub mod idempotency;
pub mod sdk;
pub mod sqs;
