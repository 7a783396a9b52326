//! AyazTrade Integrations: the library every function binary uses.
//!
//! Dependency direction (DESIGN.md §2): function binaries → an `App` module
//! (`payments`, `orders`, `webhooks`) → `domain` + `ports`; adapters (`aws`, `providers`)
//! implement ports; `domain` and `money` depend on nothing.

pub mod api;
pub mod apps;
pub mod aws;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod intake;
pub mod money;
pub mod ports;
pub mod providers;
pub mod telemetry;

pub use error::{Error, Result};
