//! The query service's GetQueryJSON (docs/aras-wire.md): `loginInfo`
//! and `queryInfo` are XML *strings*, so their values are escaped once inside
//! those documents and the documents escaped again as SOAP text.
//! `GetQueryJSONResult` is a JSON string whose root is `QueryResult`.

use serde_json::{Map, Value};

use crate::domain::shipping::{aras_status, fold_turkish, TrackingStatus};
use crate::providers::aras::soap::{envelope, escape_text, push_element, XmlNode};
use crate::providers::aras::wire;

/// One record of a query answer, as Aras sent it.
pub type QueryRecord = Map<String, Value>;

/// `<LoginInfo><UserName/><Password/><CustomerCode/></LoginInfo>`.
pub fn login_info(username: &str, password: &str, customer_code: &str) -> String {
    let mut x = String::from("<LoginInfo>");
    push_element(&mut x, "UserName", username);
    push_element(&mut x, "Password", password);
    push_element(&mut x, "CustomerCode", customer_code);
    x.push_str("</LoginInfo>");
    x
}

/// `<QueryInfo><QueryType>n</QueryType><Key>value</Key>…</QueryInfo>`. Keys
/// are our constants; a key that is not a plain XML name is refused.
pub fn query_info(query_type: u32, fields: &[(&str, &str)]) -> Result<String, String> {
    let mut x = format!("<QueryInfo><QueryType>{query_type}</QueryType>");
    for (key, value) in fields {
        let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && key.bytes().all(|b| b.is_ascii_alphanumeric());
        if !plain {
            return Err(format!("{key:?} is not a query field name"));
        }
        push_element(&mut x, key, value);
    }
    x.push_str("</QueryInfo>");
    Ok(x)
}

/// The GetQueryJSON envelope around the two XML strings.
pub fn get_query_json_envelope(login_info: &str, query_info: &str) -> String {
    let parameters = format!(
        "<loginInfo>{}</loginInfo><queryInfo>{}</queryInfo>",
        escape_text(login_info),
        escape_text(query_info)
    );
    envelope(wire::GET_QUERY_JSON, &parameters)
}

/// Why a GetQueryJSON answer gave no records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryFailure {
    /// The result is text, not JSON: Aras's own message (bad login, bad
    /// query type …; its exact wording is UNCONFIRMED).
    Refused(String),
    /// Not the shape we read at all.
    Unreadable(String),
}

/// Reads `GetQueryJSONResult` into records. An empty result, `null` or a
/// `null` QueryResult is no records. Under `QueryResult` the records are the
/// first array (or single object) found: `{"QueryResult":{"Cargo":[…]}}`.
pub fn read_query_json(response: &XmlNode) -> Result<Vec<QueryRecord>, QueryFailure> {
    let result = response
        .find("GetQueryJSONResult")
        .ok_or_else(|| QueryFailure::Unreadable("the answer has no GetQueryJSONResult".into()))?;
    let text = result.text.trim();
    if text.is_empty() || text == "null" {
        return Ok(Vec::new());
    }
    if !(text.starts_with('{') || text.starts_with('[')) {
        return Err(QueryFailure::Refused(text.chars().take(300).collect()));
    }
    let json: Value = serde_json::from_str(text)
        .map_err(|e| QueryFailure::Unreadable(format!("GetQueryJSONResult is not JSON: {e}")))?;
    let root = match json {
        Value::Object(mut map) => match map.remove("QueryResult") {
            Some(v) => v,
            None => Value::Object(map),
        },
        other => other,
    };
    Ok(records(root))
}

fn records(value: Value) -> Vec<QueryRecord> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .into_iter()
            .filter_map(|i| match i {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
        Value::Object(map) => {
            // A wrapper ({"Cargo": [...]}) or a single record.
            let wrapped = map.values().any(|v| v.is_array() || v.is_object());
            if wrapped {
                map.into_iter()
                    .map(|(_, v)| v)
                    .find(|v| v.is_array() || v.is_object())
                    .map(records)
                    .unwrap_or_default()
            } else {
                vec![map]
            }
        }
        _ => Vec::new(),
    }
}

/// A field of a record by its folded name (see [`wire`]'s FIELD_ constants);
/// numbers come back as their decimal text.
pub fn field(record: &QueryRecord, folded_name: &str) -> Option<String> {
    record
        .iter()
        .find(|(k, _)| fold_turkish(k).trim() == folded_name)
        .and_then(|(_, v)| match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
}

/// A shipment's state at Aras.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    pub status: TrackingStatus,
    /// Aras's own tracking number (KARGO_TAKIP_NO), once assigned.
    pub tracking_number: Option<String>,
    /// Aras's status text, as sent.
    pub status_text: Option<String>,
    pub events: Vec<TrackingEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingEvent {
    /// As Aras wrote it (format UNCONFIRMED; third-party code shows
    /// `dd.MM.yyyy HH:mm:ss`).
    pub at: Option<String>,
    pub location: Option<String>,
    pub description: String,
    pub status: TrackingStatus,
}

/// Builds the tracking view from a cargo-info answer (type 1) and a movement
/// answer (type 9). No cargo record yet means Aras has the order but no
/// branch has processed it: [`TrackingStatus::Created`].
pub fn tracking(cargo: &[QueryRecord], movements: &[QueryRecord]) -> Tracking {
    let events = movements
        .iter()
        .map(|m| {
            let description = field(m, wire::FIELD_MOVEMENT)
                .or_else(|| field(m, wire::FIELD_MOVEMENT_NOTE))
                .unwrap_or_default();
            TrackingEvent {
                at: field(m, wire::FIELD_MOVEMENT_AT),
                location: field(m, wire::FIELD_MOVEMENT_UNIT),
                status: aras_status(None, None, Some(&description)),
                description,
            }
        })
        .collect();
    let Some(record) = cargo.first() else {
        return Tracking {
            status: TrackingStatus::Created,
            tracking_number: None,
            status_text: None,
            events,
        };
    };
    let status_text = field(record, wire::FIELD_STATUS_TEXT);
    Tracking {
        status: aras_status(
            field(record, wire::FIELD_STATUS_CODE).as_deref(),
            field(record, wire::FIELD_TYPE_CODE).as_deref(),
            status_text.as_deref(),
        ),
        tracking_number: field(record, wire::FIELD_TRACKING_NUMBER),
        status_text,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::aras::soap::{read_answer, SoapAnswer};

    #[test]
    fn login_and_query_are_escaped_twice_in_the_envelope() {
        let login = login_info("user", "p&<ss", "C-1");
        assert_eq!(
            login,
            "<LoginInfo><UserName>user</UserName><Password>p&amp;&lt;ss</Password><CustomerCode>C-1</CustomerCode></LoginInfo>"
        );
        let query = query_info(1, &[("IntegrationCode", "A'1")]).unwrap();
        let xml = get_query_json_envelope(&login, &query);
        assert!(xml.contains(
            "<loginInfo>&lt;LoginInfo&gt;&lt;UserName&gt;user&lt;/UserName&gt;&lt;Password&gt;p&amp;amp;&amp;lt;ss&lt;/Password&gt;"
        ));
        assert!(
            xml.contains("&lt;QueryType&gt;1&lt;/QueryType&gt;&lt;IntegrationCode&gt;A&amp;apos;1")
        );
        // Unescaping once gives back the inner documents exactly.
        let SoapAnswer::Response(call) = read_answer(xml.as_bytes()).unwrap() else {
            panic!("expected the call element");
        };
        assert_eq!(call.child("loginInfo").unwrap().text, login);
        assert_eq!(call.child("queryInfo").unwrap().text, query);
        assert!(query_info(1, &[("<x>", "1")]).is_err());
    }

    fn result(json: &str) -> XmlNode {
        XmlNode {
            name: "GetQueryJSONResponse".into(),
            text: String::new(),
            children: vec![XmlNode {
                name: "GetQueryJSONResult".into(),
                text: json.into(),
                children: vec![],
            }],
        }
    }

    #[test]
    fn reads_query_results_in_their_shapes() {
        let two = read_query_json(&result(
            r#"{"QueryResult":{"Cargo":[{"DURUM_KODU":"6"},{"DURUM_KODU":2}]}}"#,
        ))
        .unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(
            field(&two[1], wire::FIELD_STATUS_CODE).as_deref(),
            Some("2")
        );
        let one =
            read_query_json(&result(r#"{"QueryResult":{"Cargo":{"DURUMU":"Yolda"}}}"#)).unwrap();
        assert_eq!(one.len(), 1);
        assert!(read_query_json(&result(r#"{"QueryResult":null}"#))
            .unwrap()
            .is_empty());
        assert!(read_query_json(&result("")).unwrap().is_empty());
        assert_eq!(
            read_query_json(&result("Kullanıcı adı veya şifre hatalı")),
            Err(QueryFailure::Refused(
                "Kullanıcı adı veya şifre hatalı".into()
            ))
        );
        assert!(matches!(
            read_query_json(&result(r#"{"QueryResult":{"#)),
            Err(QueryFailure::Unreadable(_))
        ));
    }

    #[test]
    fn builds_tracking_from_cargo_and_movements() {
        let cargo = read_query_json(&result(
            r#"{"QueryResult":{"Cargo":[{"KARGO TAKİP NO":"3513773163316","DURUM KODU":"4","DURUMU":"Teslimatta","TİP KODU":"1"}]}}"#,
        ))
        .unwrap();
        let moves = read_query_json(&result(
            r#"{"QueryResult":{"Cargo":[
                {"İŞLEM TARİHİ":"27.11.2026 09:10:00","BİRİM":"KADIKÖY","İŞLEM":"ÇIKIŞ ŞUBESİNDE"},
                {"ISLEM_TARIHI":"28.11.2026 08:00:00","BIRIM":"KADIKÖY","ISLEM":"DAĞITIMDA"}]}}"#,
        ))
        .unwrap();
        let t = tracking(&cargo, &moves);
        assert_eq!(t.status, TrackingStatus::OutForDelivery);
        assert_eq!(t.tracking_number.as_deref(), Some("3513773163316"));
        assert_eq!(t.events.len(), 2);
        assert_eq!(t.events[0].status, TrackingStatus::InTransit);
        assert_eq!(t.events[1].location.as_deref(), Some("KADIKÖY"));
        assert_eq!(t.events[1].status, TrackingStatus::OutForDelivery);
        assert_eq!(tracking(&[], &[]).status, TrackingStatus::Created);
    }
}
