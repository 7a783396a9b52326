//! A local Aras Kargo speaking the wire contract of ../docs/aras-wire.md:
//! the order service (ASMX, SOAP 1.1: SetOrder, GetOrderWithIntegrationCode,
//! CancelDispatch) and the query service (WCF: GetQueryJSON with XML-string
//! `loginInfo`/`queryInfo`, a JSON-string result), on the two paths of the
//! test hosts, one loopback port.
//!
//! It checks what Aras would: POST, `Content-Type: text/xml; charset=utf-8`,
//! a `SOAPAction` naming the operation in the body, the SOAP 1.1 envelope and
//! the `http://tempuri.org/` namespace, the credentials (order account in
//! the arguments *and* inside the Order; query account + customer code in
//! LoginInfo), SetOrder's required fields (TradingWaybillNumber among them,
//! at most 16 characters), IntegrationCode 2–32 characters, PieceCount =
//! number of PieceDetails, and barcodes unique per piece and across
//! shipments. SetOrder's result codes and words are those of Aras's
//! integration document (docs/aras-wire.md O16): 1000 bad credentials, 935
//! IntegrationCode length / more than 20 sends / ReceiverPhone1, 936 missing
//! receiver fields, 70021/70022/70026/70028/70121 pieces and waybill, 60022
//! no update after the waybill was cut. A SetOrder with an IntegrationCode
//! the fake already holds *updates* that order (at most 20 sends in all), as
//! Aras does. CancelDispatch answers the documented structure (`ResultCode`,
//! `ResultMessage`, `CargoKey`) with codes 0 / -1 / -2 / 999.
//!
//! Approximations (UNCONFIRMED in the doc): which code a missing
//! TradingWaybillNumber gets, GetOrderWithIntegrationCode's refusal, the
//! query service's refusal text, and the shape and field names of
//! QueryResult records.
//!
//! Faults are queued (for any operation or one operation) and never process
//! the request, except [`Fault::AfterProcessing`], which does and then
//! answers its inner fault (a lost answer).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde_json::{json, Value};

pub const USERNAME: &str = "aras-test-user";
/// Markup characters on purpose: credentials must be escaped like any value.
pub const PASSWORD: &str = "s3cr&t<pa55>";
pub const QUERY_USERNAME: &str = "aras-query-user";
pub const QUERY_PASSWORD: &str = "q\"'&<>pw";
pub const CUSTOMER_CODE: &str = "1234567890";

/// The test hosts' paths (docs/aras-wire.md S2, S3).
pub const ORDER_PATH: &str = "/arascargoservice/arascargoservice.asmx";
pub const QUERY_PATH: &str = "/ArasCargoIntegrationService.svc";

const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const TEMPURI: &str = "http://tempuri.org/";
const QUERY_ACTION: &str = "http://tempuri.org/IArasCargoIntegrationService/GetQueryJSON";

pub const SET_ORDER: &str = "SetOrder";
pub const GET_ORDER: &str = "GetOrderWithIntegrationCode";
pub const CANCEL_DISPATCH: &str = "CancelDispatch";
pub const GET_QUERY_JSON: &str = "GetQueryJSON";

/// An injected failure.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 500, `text/xml`, a SOAP 1.1 Fault.
    SoapFault { code: String, message: String },
    /// This status with an HTML body (a gateway's answer).
    Status(u16),
    /// Sleeps, then answers 504 (the client should have given up).
    Hang(Duration),
    /// HTTP 200, `text/xml`, a truncated envelope.
    Malformed,
    /// Processes the request normally, then answers the inner fault instead
    /// of the real answer.
    AfterProcessing(Box<Fault>),
}

/// Shipment states tests can move a shipment through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeStatus {
    AtOriginBranch,
    OnTheWay,
    AtDeliveryBranch,
    OutForDelivery,
    Delivered,
    Returned,
}

impl FakeStatus {
    /// (DURUM_KODU, TIP_KODU, DURUMU, movement text).
    fn words(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            FakeStatus::AtOriginBranch => ("1", "1", "Çıkış Şubesinde", "ÇIKIŞ ŞUBESİNDE"),
            FakeStatus::OnTheWay => ("2", "1", "Yolda", "TRANSFER - YOLDA"),
            FakeStatus::AtDeliveryBranch => ("3", "1", "Teslimat Şubesinde", "VARIŞ ŞUBESİNDE"),
            FakeStatus::OutForDelivery => ("4", "1", "Teslimatta", "DAĞITIMDA"),
            FakeStatus::Delivered => ("6", "1", "Teslim Edildi", "TESLİM EDİLDİ"),
            FakeStatus::Returned => ("6", "3", "İade Edildi", "İADE - GÖNDERİCİYE TESLİM"),
        }
    }
}

/// A shipment as stored from its SetOrder.
#[derive(Debug, Clone, Default)]
pub struct StoredShipment {
    /// The Order's simple fields as received (credentials left out).
    pub fields: BTreeMap<String, String>,
    /// Each PieceDetail's fields.
    pub pieces: Vec<BTreeMap<String, String>>,
    pub dispatched: bool,
    pub tracking_number: String,
    pub status: Option<FakeStatus>,
    /// (date, unit, movement).
    pub movements: Vec<(String, String, String)>,
    /// SetOrders accepted for this IntegrationCode (1 = created, more =
    /// updated).
    pub sends: u32,
}

#[derive(Default)]
struct FakeState {
    shipments: HashMap<String, StoredShipment>,
    created: u64,
    requests: HashMap<String, u64>,
    faults: VecDeque<(Option<String>, Fault)>,
    bodies: HashMap<String, Vec<String>>,
    next_tracking: u64,
}

#[derive(Clone)]
pub struct ArasFake {
    /// `http://127.0.0.1:port`
    pub base_url: String,
    state: Arc<Mutex<FakeState>>,
}

impl ArasFake {
    pub async fn start() -> ArasFake {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(addr: SocketAddr) -> ArasFake {
        let state = Arc::new(Mutex::new(FakeState {
            next_tracking: 3_513_773_160_000,
            ..FakeState::default()
        }));
        let app = Router::new()
            .route(ORDER_PATH, post(order_service))
            .route(QUERY_PATH, post(query_service))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind Aras fake");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("Aras fake serves");
        });
        ArasFake { base_url, state }
    }

    pub fn order_service_url(&self) -> String {
        format!("{}{ORDER_PATH}", self.base_url)
    }

    pub fn query_service_url(&self) -> String {
        format!("{}{QUERY_PATH}", self.base_url)
    }

    fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Queues a fault for the next request to either service.
    pub fn push_fault(&self, fault: Fault) {
        self.with(|s| s.faults.push_back((None, fault)));
    }

    /// Queues a fault for the next request of `operation` (e.g. [`SET_ORDER`]).
    pub fn push_fault_for(&self, operation: &str, fault: Fault) {
        self.with(|s| s.faults.push_back((Some(operation.to_string()), fault)));
    }

    /// Requests that named `operation` (faults included).
    pub fn requests(&self, operation: &str) -> u64 {
        self.with(|s| s.requests.get(operation).copied().unwrap_or_default())
    }

    /// Raw bodies received for `operation`, oldest first.
    pub fn bodies(&self, operation: &str) -> Vec<String> {
        self.with(|s| s.bodies.get(operation).cloned().unwrap_or_default())
    }

    /// Shipments created by SetOrder (updates of one already held are not
    /// counted).
    pub fn created_count(&self) -> u64 {
        self.with(|s| s.created)
    }

    pub fn shipment(&self, integration_code: &str) -> Option<StoredShipment> {
        self.with(|s| s.shipments.get(integration_code).cloned())
    }

    /// The shipment left the sender's branch: it can no longer be cancelled.
    pub fn dispatch(&self, integration_code: &str) {
        self.with(|s| {
            let shipment = s
                .shipments
                .get_mut(integration_code)
                .expect("dispatch of a known shipment");
            shipment.dispatched = true;
        });
    }

    /// Moves a shipment to `status` (dispatching it) and records a movement.
    pub fn advance(&self, integration_code: &str, status: FakeStatus) {
        self.with(|s| {
            let shipment = s
                .shipments
                .get_mut(integration_code)
                .expect("advance of a known shipment");
            shipment.dispatched = true;
            shipment.status = Some(status);
            let n = shipment.movements.len() + 1;
            shipment.movements.push((
                format!("{:02}.11.2026 {:02}:00:00", 20 + n, 8 + n),
                "KADIKÖY".into(),
                status.words().3.into(),
            ));
        });
    }
}

// ---- a small namespace-aware XML tree (independent of the client's) ----

#[derive(Debug, Default, Clone)]
struct Node {
    ns: String,
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }
    fn leaves(&self) -> BTreeMap<String, String> {
        self.children
            .iter()
            .filter(|c| c.children.is_empty())
            .map(|c| (c.name.clone(), c.text.trim().to_string()))
            .collect()
    }
}

fn parse(text: &str) -> Result<Node, String> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let ns = match ns {
            ResolveResult::Bound(n) => n.as_ref().to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => return Err(format!("unknown prefix {p}")),
        };
        match event {
            Event::Start(s) => stack.push(Node {
                ns,
                name: s.local_name().as_ref().to_string(),
                ..Node::default()
            }),
            Event::Empty(s) => {
                let node = Node {
                    ns,
                    name: s.local_name().as_ref().to_string(),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced")?;
                match stack.last_mut() {
                    Some(p) => p.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(c) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let reference = format!("&{};", r.xml10_content());
                let resolved = quick_xml::escape::unescape(&reference)
                    .map_err(|e| e.to_string())?
                    .into_owned();
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    root.ok_or_else(|| "empty document".into())
}

// ---- answers ----

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "text/xml; charset=utf-8")], body).into_response()
}

fn soap_ok(operation: &str, inner: &str) -> Response {
    xml(
        StatusCode::OK,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"{SOAP11}\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\
             <soap:Body><{operation}Response xmlns=\"{TEMPURI}\">{inner}</{operation}Response></soap:Body></soap:Envelope>"
        ),
    )
}

fn soap_fault(code: &str, message: &str) -> Response {
    xml(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"{SOAP11}\"><soap:Body>\
             <soap:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring><detail /></soap:Fault>\
             </soap:Body></soap:Envelope>",
            escape(code),
            escape(message)
        ),
    )
}

fn fault_response(fault: &Fault) -> Response {
    match fault {
        Fault::SoapFault { code, message } => soap_fault(code, message),
        Fault::Status(code) => (
            StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY),
            [("content-type", "text/html")],
            format!("<html><body><h1>{code}</h1>fake gateway fault</body></html>"),
        )
            .into_response(),
        Fault::Hang(_) => (
            StatusCode::GATEWAY_TIMEOUT,
            [("content-type", "text/html")],
            "<html><body><h1>504 Gateway Time-out</h1></body></html>",
        )
            .into_response(),
        Fault::Malformed => xml(
            StatusCode::OK,
            format!("<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"{SOAP11}\"><soap:Body><SetOrderResp"),
        ),
        Fault::AfterProcessing(inner) => fault_response(inner),
    }
}

async fn answer_fault(fault: &Fault) -> Response {
    match fault {
        Fault::Hang(d) => {
            tokio::time::sleep(*d).await;
            fault_response(fault)
        }
        Fault::AfterProcessing(inner) => Box::pin(answer_fault(inner)).await,
        other => fault_response(other),
    }
}

/// Checks transport, envelope and SOAPAction; returns the operation element.
fn read_call(
    headers: &HeaderMap,
    body: &[u8],
    action_for: fn(&str) -> String,
) -> Result<Node, Box<Response>> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with("text/xml") || !content_type.contains("charset=utf-8") {
        return Err(Box::new((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Cannot process the message because the content type was not 'text/xml; charset=utf-8'.",
        )
            .into_response()));
    }
    let unreadable = || {
        Box::new(soap_fault(
            "soap:Client",
            "Server was unable to read request.",
        ))
    };
    let text = std::str::from_utf8(body).map_err(|_| unreadable())?;
    let root = parse(text).map_err(|_| unreadable())?;
    if root.name != "Envelope" || root.ns != SOAP11 {
        return Err(Box::new(soap_fault(
            "soap:VersionMismatch",
            "Possible SOAP version mismatch: Envelope namespace was unexpected.",
        )));
    }
    let call = root
        .child("Body")
        .filter(|b| b.ns == SOAP11)
        .and_then(|b| b.children.first())
        .ok_or_else(unreadable)?
        .clone();
    if call.ns != TEMPURI {
        return Err(Box::new(soap_fault(
            "soap:Client",
            "Server was unable to read request: unexpected namespace.",
        )));
    }
    let action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    if action != action_for(&call.name) {
        return Err(Box::new(soap_fault(
            "soap:Client",
            &format!("Server did not recognize the value of HTTP Header SOAPAction: {action}."),
        )));
    }
    Ok(call)
}

/// Counts the request, records the body and takes the next matching fault.
fn arrive(state: &Mutex<FakeState>, operation: &str, body: &[u8]) -> Option<Fault> {
    let mut s = state.lock().unwrap();
    *s.requests.entry(operation.to_string()).or_default() += 1;
    s.bodies
        .entry(operation.to_string())
        .or_default()
        .push(String::from_utf8_lossy(body).into_owned());
    let index = s
        .faults
        .iter()
        .position(|(op, _)| op.as_deref().is_none_or(|op| op == operation))?;
    s.faults.remove(index).map(|(_, f)| f)
}

async fn order_service(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = match read_call(&headers, &body, |op| format!("{TEMPURI}{op}")) {
        Ok(call) => call,
        Err(answer) => return *answer,
    };
    let fault = arrive(&state, &call.name, &body);
    if let Some(f) = &fault {
        if !matches!(f, Fault::AfterProcessing(_)) {
            return answer_fault(f).await;
        }
    }
    let answer = {
        let mut s = state.lock().unwrap();
        match call.name.as_str() {
            SET_ORDER => set_order(&mut s, &call),
            GET_ORDER => get_order(&s, &call),
            CANCEL_DISPATCH => cancel(&mut s, &call),
            other => soap_fault("soap:Client", &format!("Unknown operation {other}")),
        }
    };
    match fault {
        Some(f) => answer_fault(&f).await,
        None => answer,
    }
}

fn credentials_ok(call: &Node) -> bool {
    call.text_of("userName").as_deref() == Some(USERNAME)
        && call.text_of("password").as_deref() == Some(PASSWORD)
}

fn order_result(code: &str, message: &str, invoice_key: Option<&str>) -> Response {
    let key = invoice_key
        .map(|k| format!("<InvoiceKey>{}</InvoiceKey>", escape(k)))
        .unwrap_or_default();
    soap_ok(
        SET_ORDER,
        &format!(
            "<SetOrderResult><OrderResultInfo><ResultCode>{code}</ResultCode><ResultMessage>{}</ResultMessage>{key}</OrderResultInfo></SetOrderResult>",
            escape(message)
        ),
    )
}

fn is_decimal(text: &str, max_decimals: usize) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= max_decimals
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && (!text.contains('.') || !fraction.is_empty())
}

/// Aras's document, "SetOrder Geri Dönüş Kodları" (docs/aras-wire.md O16).
fn set_order(s: &mut FakeState, call: &Node) -> Response {
    let Some(order) = call.child("orderInfo").and_then(|i| i.child("Order")) else {
        return soap_fault(
            "soap:Client",
            "Server was unable to read request: no orderInfo/Order.",
        );
    };
    if !credentials_ok(call)
        || order.text_of("UserName").as_deref() != Some(USERNAME)
        || order.text_of("Password").as_deref() != Some(PASSWORD)
    {
        return order_result("1000", "Kullanıcı Adı ve Şifre yanlış.", None);
    }
    let code = order.text_of("IntegrationCode").unwrap_or_default();
    if !(2..=32).contains(&code.chars().count()) {
        return order_result(
            "935",
            "IntegrationCode alanı boş olamaz veya uzunluk hatası (2-32 karakter).",
            None,
        );
    }
    for required in [
        "ReceiverName",
        "ReceiverAddress",
        "ReceiverCityName",
        "ReceiverTownName",
    ] {
        if order.text_of(required).is_none() {
            return order_result("936", &format!("{required} girilmelidir."), None);
        }
    }
    if !order
        .text_of("ReceiverPhone1")
        .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return order_result(
            "935",
            "ReceiverPhone1 alanı zorunludur veya sadece sayılardan oluşmalıdır.",
            None,
        );
    }
    // "TradingWaybillNumber | String(16) | Sevk İrsaliye No. | Evet": the
    // code for a missing one is not in the document (UNCONFIRMED).
    match order.text_of("TradingWaybillNumber") {
        None => return order_result("936", "TradingWaybillNumber girilmelidir.", None),
        Some(w) if w.chars().count() > 16 => {
            return order_result(
                "70121",
                "TradingWaybillNumber 16 karakterden fazla olamaz.",
                None,
            )
        }
        Some(_) => {}
    }
    if !matches!(order.text_of("PayorTypeCode").as_deref(), Some("1" | "2")) {
        return order_result("936", "PayorTypeCode sadece 1 veya 2 olabilir.", None);
    }
    if let Some(held) = s.shipments.get(&code) {
        if held.dispatched {
            return order_result(
                "60022",
                "İrsaliyesi kesildiği için bilgiler güncellenemez.",
                None,
            );
        }
        if held.sends >= 20 {
            return order_result(
                "935",
                "Bir siparişe ait bilgiler en fazla 20 kez gönderilebilir.",
                None,
            );
        }
    }
    let pieces: Vec<BTreeMap<String, String>> = order
        .child("PieceDetails")
        .map(|d| {
            d.children
                .iter()
                .filter(|c| c.name == "PieceDetail")
                .map(Node::leaves)
                .collect()
        })
        .unwrap_or_default();
    let piece_count = order.text_of("PieceCount").unwrap_or_default();
    if piece_count != pieces.len().to_string() || pieces.is_empty() {
        return order_result(
            "70021",
            &format!(
                "Koli sayısı 0'dan büyük olmalı / Toplam parça sayısı gönderilmeli ({piece_count} / {}).",
                pieces.len()
            ),
            None,
        );
    }
    let mut barcodes = HashSet::new();
    for piece in &pieces {
        let barcode = piece.get("BarcodeNumber").cloned().unwrap_or_default();
        if barcode.is_empty() {
            return order_result("70022", "Parça bilgilerinde barcode bilgisi eksik.", None);
        }
        if !barcodes.insert(barcode.clone()) {
            return order_result("70028", "Parçaların barkod numaraları aynı olamaz.", None);
        }
        let used_elsewhere = s.shipments.iter().any(|(other, sh)| {
            *other != code
                && sh
                    .pieces
                    .iter()
                    .any(|p| p.get("BarcodeNumber") == Some(&barcode))
        });
        if used_elsewhere {
            return order_result(
                "70026",
                &format!("Barkod daha önce gönderilmiş: {barcode}"),
                None,
            );
        }
        for weight in ["VolumetricWeight", "Weight"] {
            if !piece.get(weight).is_some_and(|w| is_decimal(w, 3)) {
                return order_result("70026", "Volume değeri decimal olmalı.", None);
            }
        }
    }
    match order.text_of("IsCod").as_deref() {
        None | Some("0") => {}
        Some("1") => {
            if order.text_of("PayorTypeCode").as_deref() == Some("2") {
                return order_result(
                    "936",
                    "Alıcı Ödemeli Tahsilatlı Kargo Gönderisi Yapılamamaktadır.",
                    None,
                );
            }
            let amount = order.text_of("CodAmount").unwrap_or_default();
            let kurus = kurus(&amount);
            if !kurus.is_some_and(|k| (500..=500_000).contains(&k)) {
                return order_result(
                    "70026",
                    "CodAmount değeri 5 ile 5000 TL arasında olmalıdır.",
                    None,
                );
            }
        }
        _ => return order_result("936", "IsCod sadece 0 veya 1 olabilir.", None),
    }
    let mut fields = order.leaves();
    fields.remove("UserName");
    fields.remove("Password");
    match s.shipments.get_mut(&code) {
        // Aras updates the order it holds under this IntegrationCode.
        Some(held) => {
            held.fields = fields;
            held.pieces = pieces;
            held.sends += 1;
        }
        None => {
            s.next_tracking += 1;
            let shipment = StoredShipment {
                fields,
                pieces,
                tracking_number: s.next_tracking.to_string(),
                sends: 1,
                ..StoredShipment::default()
            };
            s.shipments.insert(code.clone(), shipment);
            s.created += 1;
        }
    }
    order_result("0", "Başarılı", Some(&code))
}

/// "149.90" → 14990 (at most two decimals).
fn kurus(text: &str) -> Option<i64> {
    if !is_decimal(text, 2) {
        return None;
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = format!("{fraction:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + fraction.parse::<i64>().ok()?)
}

fn element(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

fn get_order(s: &FakeState, call: &Node) -> Response {
    if !credentials_ok(call) {
        return soap_ok(
            GET_ORDER,
            "<GetOrderWithIntegrationCodeResult><ResultCode>1000</ResultCode><ResultMessage>Kullanıcı Adı ve Şifre yanlış.</ResultMessage></GetOrderWithIntegrationCodeResult>",
        );
    }
    let code = call.text_of("integrationCode").unwrap_or_default();
    let Some(shipment) = s.shipments.get(&code) else {
        return soap_ok(GET_ORDER, "<GetOrderWithIntegrationCodeResult />");
    };
    let mut inner = String::from("<GetOrderWithIntegrationCodeResult><Order>");
    for (name, value) in &shipment.fields {
        inner.push_str(&element(name, value));
    }
    inner.push_str("<PieceDetails>");
    for piece in &shipment.pieces {
        inner.push_str("<PieceDetail>");
        for (name, value) in piece {
            inner.push_str(&element(name, value));
        }
        inner.push_str("</PieceDetail>");
    }
    inner.push_str("</PieceDetails></Order></GetOrderWithIntegrationCodeResult>");
    soap_ok(GET_ORDER, &inner)
}

/// Aras's document: `CancelDispatchResult` is a structure (`ResultCode`,
/// `ResultMessage`, `CargoKey`); codes 0, 1, 999, 936, -1, -2.
fn cancel(s: &mut FakeState, call: &Node) -> Response {
    let result = |code: &str, message: &str, cargo_key: &str| {
        soap_ok(
            CANCEL_DISPATCH,
            &format!(
                "<CancelDispatchResult><ResultCode>{code}</ResultCode><ResultMessage>{}</ResultMessage><CargoKey>{}</CargoKey></CancelDispatchResult>",
                escape(message),
                escape(cargo_key)
            ),
        )
    };
    if !credentials_ok(call) {
        return result("-2", "Kullanıcı adı ve Şifreniz hatalıdır.", "");
    }
    let code = call.text_of("integrationCode").unwrap_or_default();
    match s.shipments.get(&code) {
        None => result("-1", "Kayıt bulunamadı", ""),
        Some(shipment) if shipment.dispatched => result(
            "999",
            "İrsaliyesi Kesilmiş Sipariş İptal Edilemez.",
            &shipment.tracking_number,
        ),
        Some(_) => {
            s.shipments.remove(&code);
            result("0", "Başarılı", "")
        }
    }
}

async fn query_service(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = match read_call(&headers, &body, |_| QUERY_ACTION.to_string()) {
        Ok(call) => call,
        Err(answer) => return *answer,
    };
    if call.name != GET_QUERY_JSON {
        return soap_fault("s:Client", &format!("Unknown operation {}", call.name));
    }
    let fault = arrive(&state, &call.name, &body);
    if let Some(f) = &fault {
        return answer_fault(f).await;
    }
    // The two parameters are XML documents carried as text.
    let login = call.child("loginInfo").and_then(|l| parse(&l.text).ok());
    let query = call.child("queryInfo").and_then(|q| parse(&q.text).ok());
    let (Some(login), Some(query)) = (login, query) else {
        return query_result("Giriş veya sorgu bilgisi okunamadı.");
    };
    if login.name != "LoginInfo"
        || login.text_of("UserName").as_deref() != Some(QUERY_USERNAME)
        || login.text_of("Password").as_deref() != Some(QUERY_PASSWORD)
        || login.text_of("CustomerCode").as_deref() != Some(CUSTOMER_CODE)
    {
        return query_result("Kullanıcı adı, şifre veya müşteri kodu hatalı.");
    }
    let code = query.text_of("IntegrationCode").unwrap_or_default();
    let s = state.lock().unwrap();
    let shipment = s.shipments.get(&code);
    let records: Value = match (query.text_of("QueryType").as_deref(), shipment) {
        (Some("1"), Some(sh)) => match sh.status {
            None => json!([]),
            Some(status) => {
                let (durum, tip, durumu, _) = status.words();
                json!([{
                    "MÜŞTERİ ÖZEL KODU": code,
                    "KARGO TAKİP NO": sh.tracking_number,
                    "DURUM KODU": durum,
                    "TİP KODU": tip,
                    "DURUMU": durumu,
                    "ADET": sh.pieces.len(),
                }])
            }
        },
        (Some("9"), Some(sh)) => Value::Array(
            sh.movements
                .iter()
                .map(|(at, unit, what)| {
                    json!({"İŞLEM TARİHİ": at, "BİRİM": unit, "İŞLEM": what, "AÇIKLAMA": ""})
                })
                .collect(),
        ),
        (Some(_), _) => Value::Null,
        (None, _) => return query_result("QueryType zorunludur."),
    };
    let json = match records {
        Value::Null => json!({"QueryResult": null}),
        records => json!({"QueryResult": {"Cargo": records}}),
    };
    query_result(&json.to_string())
}

fn query_result(text: &str) -> Response {
    xml(
        StatusCode::OK,
        format!(
            "<s:Envelope xmlns:s=\"{SOAP11}\"><s:Body><GetQueryJSONResponse xmlns=\"{TEMPURI}\">\
             <GetQueryJSONResult>{}</GetQueryJSONResult></GetQueryJSONResponse></s:Body></s:Envelope>",
            escape(text)
        ),
    )
}
