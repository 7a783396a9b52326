//! Provider clients. Each provider's wire model, client and (later) webhook
//! verification live in its own module; all of them send through `http`.

pub mod http;
pub mod stripe;
