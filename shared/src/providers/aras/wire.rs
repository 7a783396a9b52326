//! Aras Kargo wire facts, with where each comes from. Everything marked
//! UNCONFIRMED is here and nowhere else in the client (docs/aras-wire.md
//! lists the same items); the tracking vocabulary is the one exception, in
//! `domain::shipping::aras_status`.

use crate::domain::shipping::fold_turkish;

// ---- order service (ASMX, SOAP 1.1) — providers.md §5.1 -------------------

pub const SET_ORDER: &str = "SetOrder";
pub const GET_ORDER_WITH_INTEGRATION_CODE: &str = "GetOrderWithIntegrationCode";
pub const CANCEL_DISPATCH: &str = "CancelDispatch";

/// `SOAPAction: "http://tempuri.org/<Op>"` (quoted, as ASMX clients send it).
pub fn order_soap_action(operation: &str) -> String {
    format!("\"http://tempuri.org/{operation}\"")
}

/// Parameter names of the order operations. `orderInfo`/`userName`/`password`
/// for SetOrder are per providers.md §5.1; `integrationCode` for the other
/// two is per third-party clients (UNCONFIRMED), and so is the parameter
/// order (ASMX's XmlSerializer is understood to accept any order).
pub const PARAM_ORDER_INFO: &str = "orderInfo";
pub const PARAM_USER_NAME: &str = "userName";
pub const PARAM_PASSWORD: &str = "password";
pub const PARAM_INTEGRATION_CODE: &str = "integrationCode";

/// SetOrder answered success. providers.md §5.2: "0" is success; some
/// third-party clients also accept "1" — UNCONFIRMED, so we do not: a "1"
/// is reported as a refusal carrying Aras's own message.
pub fn set_order_succeeded(result_code: &str) -> bool {
    result_code.trim() == "0"
}

/// Credentials refused. "-2" is CancelDispatch's code per a third-party
/// client (providers.md §5.2); that SetOrder and GetOrderWithIntegrationCode
/// use it too is UNCONFIRMED.
pub fn credentials_refused(result_code: &str) -> bool {
    result_code.trim() == "-2"
}

/// SetOrder refused an IntegrationCode it already has. **UNCONFIRMED**: the
/// code and text of this answer are not documented anywhere we found. We
/// read any non-zero answer whose message says the record already exists
/// ("daha önce", "zaten", "mevcut", "kayıtlı", "already", "duplicate") as a
/// duplicate. The client looks the order up by IntegrationCode after *any*
/// refusal (except bad credentials), so this only decides how a refusal is
/// reported when Aras turns out not to have the order: a duplicate is a
/// conflict (409), anything else a rejection (422).
pub fn is_duplicate_integration_code(result_code: &str, message: &str) -> bool {
    if set_order_succeeded(result_code) {
        return false;
    }
    let folded = fold_turkish(message);
    [
        "DAHA ONCE",
        "ZATEN",
        "MEVCUT",
        "KAYITLI",
        "ALREADY",
        "DUPLICATE",
    ]
    .iter()
    .any(|w| folded.contains(w))
}

/// CancelDispatch result codes (third-party client, providers.md §5.2).
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

/// `CodCollectionType`: 0 cash, 1 credit card; `CodBillingType` fixed "0".
/// Third-party clients only — UNCONFIRMED.
pub const COD_COLLECTION_CASH: &str = "0";
pub const COD_COLLECTION_CARD: &str = "1";
pub const COD_BILLING_TYPE: &str = "0";

/// `PayorTypeCode`: 1 sender pays, 2 receiver pays (providers.md §5.2).
pub const PAYOR_SENDER: &str = "1";
pub const PAYOR_RECEIVER: &str = "2";

// ---- query service (WCF) — providers.md §5.1, §5.3 ------------------------

pub const GET_QUERY_JSON: &str = "GetQueryJSON";

/// WCF's default action for the service contract. Not in providers.md; the
/// same value appears in several independent third-party clients —
/// UNCONFIRMED against Aras's WSDL.
pub const QUERY_SOAP_ACTION: &str =
    "\"http://tempuri.org/IArasCargoIntegrationService/GetQueryJSON\"";

/// QueryType 1, keyed by `IntegrationCode` (providers.md §5.3: type 1 is
/// documented with `TrackingNumber`; "many integrations pass
/// IntegrationCode with type 1" — UNCONFIRMED).
pub const QUERY_CARGO_INFO: u32 = 1;
/// QueryType 9, movement history, also keyed by `IntegrationCode` here
/// (documented with a tracking number — UNCONFIRMED).
pub const QUERY_MOVEMENTS: u32 = 9;
pub const QUERY_KEY_INTEGRATION_CODE: &str = "IntegrationCode";

/// Field names inside `QueryResult` records, compared after
/// [`fold_turkish`] (so `DURUM_KODU`, `DURUM KODU` and `Durum Kodu` match).
/// All UNCONFIRMED (providers.md §5.3); taken from a third-party client.
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
    fn duplicate_answers_are_recognised_only_on_failure() {
        assert!(is_duplicate_integration_code(
            "-3",
            "Bu entegrasyon kodu ile DAHA ÖNCE kayıt oluşturulmuş"
        ));
        assert!(is_duplicate_integration_code(
            "70",
            "IntegrationCode already exists"
        ));
        assert!(!is_duplicate_integration_code("0", "zaten"));
        assert!(!is_duplicate_integration_code("-1", "Alıcı adı boş olamaz"));
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
