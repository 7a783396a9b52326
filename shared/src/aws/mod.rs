//! Adapters to AWS services.

pub mod dynamo;
pub mod sdk;
