//! Aras Kargo wire facts, with where each comes from. Everything marked
//! UNCONFIRMED is here and nowhere else in the client (docs/aras-wire.md
//! lists the same items); the tracking vocabulary is the one exception, in
//! `domain::shipping::aras_status`.

// ---- order service (ASMX, SOAP 1.1) — docs/aras-wire.md -------------------

pub const SET_ORDER: &str = "SetOrder";
pub const GET_ORDER_WITH_INTEGRATION_CODE: &str = "GetOrderWithIntegrationCode";
pub const CANCEL_DISPATCH: &str = "CancelDispatch";

/// `SOAPAction: "http://tempuri.org/<Op>"` (quoted, as ASMX clients send it).
pub fn order_soap_action(operation: &str) -> String {
    format!("\"http://tempuri.org/{operation}\"")
}

/// Parameter names of the order operations, per Aras's document
/// (docs/aras-wire.md O1, G1, C1); their order is UNCONFIRMED (ASMX's
/// XmlSerializer is understood to accept any order).
pub const PARAM_ORDER_INFO: &str = "orderInfo";
pub const PARAM_USER_NAME: &str = "userName";
pub const PARAM_PASSWORD: &str = "password";
pub const PARAM_INTEGRATION_CODE: &str = "integrationCode";

/// SetOrder answered success: "0 | Başarılı" (Aras's document,
/// docs/aras-wire.md O13). Some third-party clients also accept "1"; the
/// document lists no "1" for SetOrder, so a "1" is a refusal.
pub fn set_order_succeeded(result_code: &str) -> bool {
    result_code.trim() == "0"
}

/// Credentials refused. SetOrder answers `1000`/`1002` ("Kullanıcı Adı ve
/// Şifre yanlış / Entegrasyon bilgi hatası", Aras's document; SetOrder has
/// no negative codes); CancelDispatch answers `-2` ("Kullanıcı adı ve
/// Şifreniz hatalıdır"). What GetOrderWithIntegrationCode answers is not
/// documented (UNCONFIRMED): any of the three is read as refused
/// credentials. docs/aras-wire.md O17.
pub fn credentials_refused(result_code: &str) -> bool {
    matches!(result_code.trim(), "1000" | "1002" | "-2")
}

/// CancelDispatch result codes (Aras's document, docs/aras-wire.md C2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelCode {
    Cancelled,
    Deleted,
    NotFound,
    BadCredentials,
    AlreadyDispatched,
    /// 936 "error" and anything unlisted.
    Other,
}

pub fn cancel_code(code: &str) -> CancelCode {
    match code.trim() {
        "0" => CancelCode::Cancelled,
        "1" => CancelCode::Deleted,
        "-1" => CancelCode::NotFound,
        "-2" => CancelCode::BadCredentials,
        "999" => CancelCode::AlreadyDispatched,
        _ => CancelCode::Other,
    }
}

/// `CodCollectionType`: 0 cash, 1 credit card; `CodBillingType` fixed "0"
/// (Aras's document, docs/aras-wire.md O10).
pub const COD_COLLECTION_CASH: &str = "0";
pub const COD_COLLECTION_CARD: &str = "1";
pub const COD_BILLING_TYPE: &str = "0";

/// `PayorTypeCode`: 1 sender pays, 2 receiver pays (docs/aras-wire.md).
pub const PAYOR_SENDER: &str = "1";
pub const PAYOR_RECEIVER: &str = "2";

// ---- query service (WCF) — docs/aras-wire.md ------------------------

pub const GET_QUERY_JSON: &str = "GetQueryJSON";

/// WCF's default action for the service contract. Not in Aras's document; the
/// same value appears in several independent third-party clients —
/// UNCONFIRMED against Aras's WSDL.
pub const QUERY_SOAP_ACTION: &str =
    "\"http://tempuri.org/IArasCargoIntegrationService/GetQueryJSON\"";

/// QueryType 1, keyed by `IntegrationCode` (docs/aras-wire.md Q5: type 1 is
/// documented with `TrackingNumber`; "many integrations pass
/// IntegrationCode with type 1" — UNCONFIRMED).
pub const QUERY_CARGO_INFO: u32 = 1;
/// QueryType 9, movement history, also keyed by `IntegrationCode` here
/// (documented with a tracking number — UNCONFIRMED).
pub const QUERY_MOVEMENTS: u32 = 9;
pub const QUERY_KEY_INTEGRATION_CODE: &str = "IntegrationCode";

/// Field names inside `QueryResult` records, compared after
/// [`crate::domain::shipping::fold_turkish`] (so `DURUM_KODU`, `DURUM KODU` and `Durum Kodu` match).
/// All UNCONFIRMED (docs/aras-wire.md); taken from a third-party client.
pub const FIELD_STATUS_CODE: &str = "DURUM KODU";
pub const FIELD_TYPE_CODE: &str = "TIP KODU";
pub const FIELD_STATUS_TEXT: &str = "DURUMU";
pub const FIELD_TRACKING_NUMBER: &str = "KARGO TAKIP NO";
pub const FIELD_MOVEMENT_AT: &str = "ISLEM TARIHI";
pub const FIELD_MOVEMENT_UNIT: &str = "BIRIM";
pub const FIELD_MOVEMENT: &str = "ISLEM";
pub const FIELD_MOVEMENT_NOTE: &str = "ACIKLAMA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_codes_are_aras_documented_ones() {
        // "1000/1002 | Kullanıcı Adı ve Şifre yanlış / Entegrasyon bilgi
        // hatası." (SetOrder); "-2 | Kullanıcı adı ve Şifreniz hatalıdır."
        // (CancelDispatch) — Aras's integration document.
        assert!(credentials_refused("1000"));
        assert!(credentials_refused(" 1002 "));
        assert!(credentials_refused("-2"));
        assert!(!credentials_refused("935"));
        assert!(!credentials_refused("0"));
    }

    #[test]
    fn cancel_codes() {
        assert_eq!(cancel_code(" 999 "), CancelCode::AlreadyDispatched);
        assert_eq!(cancel_code("-1"), CancelCode::NotFound);
        assert_eq!(cancel_code("936"), CancelCode::Other);
        assert_eq!(
            order_soap_action("SetOrder"),
            "\"http://tempuri.org/SetOrder\""
        );
    }
}
