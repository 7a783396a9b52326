//! A local iyzico that checks requests the way iyzico does: the IYZWSv2
//! header recomputed over the exact received bytes (error 1000 "Geçersiz
//! imza" otherwise), the basket-sum rule (error 5062), and answers in
//! iyzico's envelope (`status`, `errorCode`, `errorMessage`, HTTP 200 even
//! for business failures). Hosted checkout (initialize, retrieve), cancel,
//! refund v2 and the reporting read of a payment's refunds
//! (`GET /v2/reporting/payment/details`, signed over the path alone).
//! Answers echo exactly the conversationId of the request they answer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const API_KEY: &str = "sandbox-fake-api-key";
pub const SECRET_KEY: &str = "sandbox-fake-secret-key";
const INITIALIZE: &str = "/payment/iyzipos/checkoutform/initialize/auth/ecom";
const RETRIEVE: &str = "/payment/iyzipos/checkoutform/auth/ecom/detail";
const CANCEL: &str = "/payment/cancel";
const REFUND: &str = "/v2/payment/refund";
const PAYMENT_DETAILS: &str = "/v2/reporting/payment/details";
const TRANSACTIONS: &str = "/v2/reporting/payment/transactions";

/// One hosted checkout: what was initialized and how the shopper finished.
#[derive(Clone)]
struct Session {
    request: Value,
    /// SUCCESS / FAILURE once the shopper paid (or failed) on the page.
    status: Option<String>,
    payment_id: String,
    /// The cancel's conversationId, once cancelled.
    cancelled: Option<String>,
    /// Kuruş refunded so far.
    refunded: i64,
    /// Each refund: kuruş and the conversationId it was sent with.
    refunds: Vec<(i64, String)>,
}

#[derive(Default)]
struct FakeState {
    /// Reporting reads that arrived (authorized or not).
    report_reads: usize,
    requests: Vec<Value>,
    sessions: std::collections::HashMap<String, Session>,
    corrupt_signatures: bool,
    /// Refunds and cancels still to be executed with their answer lost.
    lose_answers: usize,
    /// Refunds and cancels still to fail at the edge before iyzico acts.
    fail_before: usize,
    /// Every retrieve request as received.
    retrieves: Vec<Value>,
    /// The daily report's rows, in the order they happened: (unix s, row).
    transactions: Vec<(i64, Value)>,
    /// Rows per report page (iyzico's own size is not published).
    report_page_size: usize,
    /// Transaction report reads that arrived.
    transaction_reads: usize,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS` in Istanbul (UTC+3) of unix `secs`.
fn istanbul(secs: i64) -> (String, String) {
    let local = secs + 3 * 3600;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let day = format!("{y:04}-{m:02}-{d:02}");
    let time = format!(
        "{day} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    (day, time)
}

impl FakeState {
    /// Adds a row to the daily transaction report, as iyzico lists it
    /// (iyzipay-dotnet `TransactionReportItem`).
    fn report(&mut self, kind: &str, session: &Session, kurus: i64, conversation: &str) {
        let at = now_secs();
        let price = Value::Number(serde_json::Number::from_f64(kurus as f64 / 100.0).unwrap());
        let row = json!({
            "transactionType": kind, "transactionDate": istanbul(at).1,
            "transactionId": 30_000_000 + self.transactions.len() as i64,
            "afterSettlement": 0, "paymentTxId": 1,
            "paymentId": session.payment_id.parse::<i64>().unwrap_or_default(),
            "conversationId": conversation, "paymentPhase": "AUTH",
            "price": price, "paidPrice": price, "transactionCurrency": session.request["currency"],
            "installment": 1, "threeDS": 1, "basketId": session.request["basketId"],
            "transactionStatus": 1
        });
        self.transactions.push((at, row));
    }
}

#[derive(Clone)]
pub struct IyzicoFake {
    pub base_url: String,
    state: Arc<Mutex<FakeState>>,
}

impl IyzicoFake {
    pub async fn start() -> IyzicoFake {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(addr: SocketAddr) -> IyzicoFake {
        let state = Arc::new(Mutex::new(FakeState {
            report_page_size: 100,
            ..FakeState::default()
        }));
        let app = Router::new()
            .route(INITIALIZE, post(initialize))
            .route(RETRIEVE, post(retrieve))
            .route(CANCEL, post(cancel))
            .route(REFUND, post(refund))
            .route(PAYMENT_DETAILS, axum::routing::get(payment_details))
            .route(TRANSACTIONS, axum::routing::get(transactions))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("bind iyzico fake");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("iyzico fake serves");
        });
        IyzicoFake { base_url, state }
    }

    /// `GET /v2/reporting/payment/details` requests that arrived, refused or not.
    pub fn report_reads(&self) -> usize {
        self.state.lock().unwrap().report_reads
    }

    /// The accepted request bodies.
    pub fn requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The shopper finishes the hosted checkout of `token` with `status`
    /// (SUCCESS or FAILURE); returns the payment id iyzico assigned.
    pub fn finish_checkout(&self, token: &str, status: &str) -> String {
        let mut state = self.state.lock().unwrap();
        let session = state.sessions.get_mut(token).expect("known token");
        session.status = Some(status.to_string());
        let session = session.clone();
        if status == "SUCCESS" {
            let price = session.request["price"]
                .as_str()
                .and_then(kurus)
                .unwrap_or_default();
            let conversation = session.request["conversationId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            state.report("PAYMENT", &session, price, &conversation);
        }
        session.payment_id.clone()
    }

    /// A payment made on iyzico's hosted page for our order (conversationId
    /// and basketId `order_id`), without the initialize request (tests and
    /// benchmarks that start from paid payments). Returns the payment id.
    pub fn seed_paid(&self, order_id: &str, kurus_paid: i64) -> String {
        let mut state = self.state.lock().unwrap();
        let price = format!("{}.{:02}", kurus_paid / 100, kurus_paid % 100);
        let session = Session {
            request: json!({"conversationId": order_id, "basketId": order_id, "price": price,
                            "paidPrice": price, "currency": "TRY"}),
            status: Some("SUCCESS".into()),
            payment_id: format!("{}", 20_000_000 + fastrand::u32(..9_999_999)),
            cancelled: None,
            refunded: 0,
            refunds: Vec::new(),
        };
        let token = format!("seed-{}", session.payment_id);
        state.report("PAYMENT", &session, kurus_paid, order_id);
        let id = session.payment_id.clone();
        state.sessions.insert(token, session);
        id
    }

    /// Rows per page of the daily transaction report.
    pub fn set_report_page_size(&self, size: usize) {
        self.state.lock().unwrap().report_page_size = size;
    }

    /// `GET /v2/reporting/payment/transactions` requests that arrived.
    pub fn transaction_reads(&self) -> usize {
        self.state.lock().unwrap().transaction_reads
    }

    /// Refunds made so far, in kuruş, across all payments.
    pub fn refunded_total(&self) -> i64 {
        self.state
            .lock()
            .unwrap()
            .sessions
            .values()
            .map(|s| s.refunded)
            .sum()
    }

    /// The next `n` refunds or cancels are executed, but their answer is lost
    /// on the way back (a 502 from the edge instead of iyzico's JSON).
    pub fn lose_next_answers(&self, n: usize) {
        self.state.lock().unwrap().lose_answers = n;
    }

    /// The next `n` refunds or cancels fail at the edge (a 502) before
    /// iyzico does anything.
    pub fn fail_next_before_acting(&self, n: usize) {
        self.state.lock().unwrap().fail_before = n;
    }

    /// The checkout-form retrieve requests, as received.
    pub fn retrieve_requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().retrieves.clone()
    }

    /// A refund made in iyzico's merchant panel, not through us.
    pub fn refund_in_panel(&self, payment_id: &str, kurus: i64) {
        let mut state = self.state.lock().unwrap();
        let session = paid_session(&mut state, payment_id).expect("paid payment");
        session.refunded += kurus;
        session.refunds.push((kurus, "panel".into()));
        let session = session.clone();
        state.report("REFUND", &session, kurus, "panel");
    }

    /// Makes every result signature wrong (a tampered or foreign answer).
    pub fn corrupt_signatures(&self) {
        self.state.lock().unwrap().corrupt_signatures = true;
    }
}

fn failure(code: &str, message: &str) -> Response {
    Json(json!({
        "status": "failure", "errorCode": code, "errorMessage": message,
        "locale": "tr", "systemTime": 1795700000000i64
    }))
    .into_response()
}

/// Recomputes IYZWSv2 for the path and the raw body.
fn authorized(headers: &HeaderMap, path: &str, body: &[u8]) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(b64) = value.strip_prefix("IYZWSv2 ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let mut api_key = None;
    let mut random = None;
    let mut signature = None;
    for part in decoded.split('&') {
        match part.split_once(':') {
            Some(("apiKey", v)) => api_key = Some(v.to_string()),
            Some(("randomKey", v)) => random = Some(v.to_string()),
            Some(("signature", v)) => signature = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(api_key), Some(random), Some(signature)) = (api_key, random, signature) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET_KEY.as_bytes()).unwrap();
    mac.update(random.as_bytes());
    mac.update(path.as_bytes());
    mac.update(body);
    api_key == API_KEY && hex::encode(mac.finalize().into_bytes()) == signature
}

/// "869.2" → 86920 (two-decimal currencies only, as the fake needs).
fn kurus(price: &str) -> Option<i64> {
    let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
    if fraction.len() > 2 {
        return None;
    }
    let fraction = format!("{fraction:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + fraction.parse::<i64>().ok()?)
}

async fn initialize(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&headers, INITIALIZE, &body) {
        return failure("1000", "Geçersiz imza");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return failure("11", "Geçersiz istek");
    };
    let price = request["price"].as_str().and_then(kurus);
    let items: Option<Vec<i64>> = request["basketItems"].as_array().map(|items| {
        items
            .iter()
            .filter_map(|i| i["price"].as_str().and_then(kurus))
            .collect()
    });
    match (price, items) {
        (Some(price), Some(items)) if !items.is_empty() => {
            if items.iter().any(|p| *p <= 0) {
                return failure("5063", "Sepet tutarı 0'dan büyük olmalıdır");
            }
            if items.iter().sum::<i64>() != price {
                return failure(
                    "5062",
                    "Gönderilen tutar tüm kırılımların toplam tutarına eşit olmalıdır",
                );
            }
        }
        _ => return failure("11", "Geçersiz istek"),
    }
    let token = format!(
        "{:08x}-{:04x}-4{:03x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0xfff)
    );
    {
        let mut guard = state.lock().unwrap();
        guard.requests.push(request.clone());
        let session = Session {
            request: request.clone(),
            status: None,
            payment_id: format!("{}", 20_000_000 + fastrand::u32(..9_999_999)),
            cancelled: None,
            refunded: 0,
            refunds: Vec::new(),
        };
        guard.sessions.insert(token.clone(), session);
    }
    Json(json!({
        "status": "success", "locale": "tr", "systemTime": 1795700000000i64,
        "conversationId": request["conversationId"],
        "token": token, "tokenExpireTime": 1800,
        "checkoutFormContent": "<script type=\"text/javascript\">/* iyzico checkout form */</script>",
        "paymentPageUrl": format!("https://sandbox-cpp.iyzipay.com?token={token}&lang=tr")
    }))
    .into_response()
}

/// A JSON number from iyzico's price text ("58.9" → 58.9), as iyzico answers.
fn number(price: &Value) -> Value {
    price
        .as_str()
        .and_then(|p| serde_json::from_str::<serde_json::Number>(p).ok())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

async fn retrieve(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&headers, RETRIEVE, &body) {
        return failure("1000", "Geçersiz imza");
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let token = request["token"].as_str().unwrap_or_default().to_string();
    let (session, corrupt) = {
        let mut guard = state.lock().unwrap();
        guard.retrieves.push(request.clone());
        (
            guard.sessions.get(&token).cloned(),
            guard.corrupt_signatures,
        )
    };
    let Some(session) = session else {
        return failure("5118", "Token bulunamadı");
    };
    let status = session
        .status
        .clone()
        .unwrap_or_else(|| "INIT_THREEDS".into());
    let paid = status == "SUCCESS";
    let payment_id = if paid || status == "FAILURE" {
        session.payment_id.clone()
    } else {
        String::new()
    };
    let r = &session.request;
    let strip = |v: &Value| {
        let text = v.to_string();
        text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
    };
    let fields = [
        status.clone(),
        payment_id.clone(),
        r["currency"].as_str().unwrap_or_default().to_string(),
        r["basketId"].as_str().unwrap_or_default().to_string(),
        // Echoed from this request, as iyzico does: not the initialize's.
        request["conversationId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        strip(&number(&r["paidPrice"])),
        strip(&number(&r["price"])),
        token.clone(),
    ];
    let key: &str = if corrupt { "someone-else" } else { SECRET_KEY };
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(fields.join(":").as_bytes());
    Json(json!({
        "status": "success", "locale": "tr", "systemTime": 1795700000000i64,
        "conversationId": request.get("conversationId"), "token": token,
        "paymentStatus": status, "paymentId": payment_id, "fraudStatus": if paid { 1 } else { 0 },
        "price": number(&r["price"]), "paidPrice": number(&r["paidPrice"]),
        "currency": r["currency"], "basketId": r["basketId"], "installment": 1,
        "signature": hex::encode(mac.finalize().into_bytes())
    }))
    .into_response()
}

/// Checks IYZWSv2 for `path` and parses the body; the error is iyzico's answer.
fn signed_request(
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(Value, String), Box<Response>> {
    if !authorized(headers, path, body) {
        return Err(Box::new(failure("1000", "Geçersiz imza")));
    }
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let payment_id = request["paymentId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok((request, payment_id))
}

/// The successfully paid session of a payment id.
fn paid_session<'a>(state: &'a mut FakeState, payment_id: &str) -> Option<&'a mut Session> {
    state
        .sessions
        .values_mut()
        .find(|s| s.payment_id == payment_id && s.status.as_deref() == Some("SUCCESS"))
}

/// `POST /payment/cancel`: a paid, not yet cancelled payment, as a whole.
async fn cancel(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request, payment_id) = match signed_request(&headers, CANCEL, &body) {
        Ok(r) => r,
        Err(answer) => return *answer,
    };
    let mut guard = state.lock().unwrap();
    guard.requests.push(request.clone());
    let lost = take_lost(&mut guard);
    let Some(session) = paid_session(&mut guard, &payment_id) else {
        return failure("5092", "Ödeme bulunamadı");
    };
    if session.cancelled.is_some() {
        return failure("5093", "Ödeme daha önce iptal edilmiş");
    }
    session.cancelled = Some(
        request["conversationId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    );
    let session = session.clone();
    let paid = session.request["price"]
        .as_str()
        .and_then(kurus)
        .unwrap_or_default();
    let conversation = request["conversationId"].as_str().unwrap_or_default();
    guard.report("CANCEL", &session, paid, conversation);
    if lost {
        return lost_answer();
    }
    Json(json!({
        "status": "success", "locale": "tr", "systemTime": 1795700000000i64,
        "conversationId": request["conversationId"], "paymentId": payment_id,
        "price": number(&session.request["price"]), "currency": session.request["currency"]
    }))
    .into_response()
}

/// `POST /v2/payment/refund`: never more than remains of the payment.
async fn refund(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request, payment_id) = match signed_request(&headers, REFUND, &body) {
        Ok(r) => r,
        Err(answer) => return *answer,
    };
    let Some(amount) = request["price"].as_str().and_then(kurus) else {
        return failure("11", "Geçersiz istek");
    };
    let mut guard = state.lock().unwrap();
    guard.requests.push(request.clone());
    if guard.fail_before > 0 {
        guard.fail_before -= 1;
        return lost_answer();
    }
    let lost = take_lost(&mut guard);
    let Some(session) = paid_session(&mut guard, &payment_id).filter(|s| s.cancelled.is_none())
    else {
        return failure("5092", "Ödeme bulunamadı");
    };
    let paid = session.request["price"]
        .as_str()
        .and_then(kurus)
        .unwrap_or_default();
    if amount <= 0 || session.refunded + amount > paid {
        return failure("5098", "İade tutarı ödeme tutarını aşamaz");
    }
    session.refunded += amount;
    session.refunds.push((
        amount,
        request["conversationId"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    ));
    let session = session.clone();
    let conversation = request["conversationId"].as_str().unwrap_or_default();
    guard.report("REFUND", &session, amount, conversation);
    if lost {
        return lost_answer();
    }
    Json(json!({
        "status": "success", "locale": "tr", "systemTime": 1795700000000i64,
        "conversationId": request["conversationId"], "paymentId": payment_id,
        "price": number(&request["price"]), "currency": request["currency"]
    }))
    .into_response()
}

fn take_lost(state: &mut FakeState) -> bool {
    let lost = state.lose_answers > 0;
    state.lose_answers = state.lose_answers.saturating_sub(1);
    lost
}

/// What reaches the client when the answer is lost after iyzico acted.
fn lost_answer() -> Response {
    (
        axum::http::StatusCode::BAD_GATEWAY,
        "<html><body>502 Bad Gateway</body></html>",
    )
        .into_response()
}

/// `GET /v2/reporting/payment/details?paymentId=…`: the payment with its
/// cancels and, on its (one, here) item, its refunds. Signed over the path
/// alone (no query, no body), as iyzipay-java signs a GET.
async fn payment_details(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    state.lock().unwrap().report_reads += 1;
    if !authorized(&headers, PAYMENT_DETAILS, b"") {
        return failure("1000", "Geçersiz imza");
    }
    let Some(payment_id) = query.get("paymentId") else {
        return failure("11", "Geçersiz istek");
    };
    let mut guard = state.lock().unwrap();
    let Some(session) = paid_session(&mut guard, payment_id) else {
        return Json(json!({"status": "success", "locale": "tr", "systemTime": 1795700000000i64, "payments": []}))
            .into_response();
    };
    let price = |k: i64| Value::Number(serde_json::Number::from_f64(k as f64 / 100.0).unwrap());
    let paid = session.request["price"]
        .as_str()
        .and_then(kurus)
        .unwrap_or_default();
    let refunds: Vec<Value> = session
        .refunds
        .iter()
        .map(|(k, conversation)| json!({"refundPrice": price(*k), "refundConversationId": conversation, "refundStatus": 2, "currencyCode": "TRY"}))
        .collect();
    let cancels: Vec<Value> = session
        .cancelled
        .iter()
        .map(|conversation| json!({"refundPrice": price(paid), "cancelConversationId": conversation, "refundStatus": 2}))
        .collect();
    let refund_status = match (session.refunded, &session.cancelled) {
        (_, Some(_)) => "TOTALLY_REFUNDED",
        (0, None) => "NOT_REFUNDED",
        (r, None) if r >= paid => "TOTALLY_REFUNDED",
        _ => "PARTIALLY_REFUNDED",
    };
    Json(json!({
        "status": "success", "locale": "tr", "systemTime": 1795700000000i64,
        "payments": [{
            "paymentId": session.payment_id.parse::<i64>().unwrap_or_default(),
            "paymentStatus": 1, "paymentRefundStatus": refund_status,
            "price": price(paid), "currency": session.request["currency"],
            "paymentConversationId": session.request["conversationId"],
            "basketId": session.request["basketId"],
            "cancels": cancels,
            "itemTransactions": [{"paymentTransactionId": 1, "refunds": refunds}]
        }]
    }))
    .into_response()
}

/// `GET /v2/reporting/payment/transactions?transactionDate=YYYY-MM-DD&page=N`:
/// the day's rows (Istanbul time), a page at a time from 1, with
/// `currentPage` and `totalPageCount` (iyzipay-dotnet
/// `TransactionReportResource`). Signed over the path alone, like every GET.
async fn transactions(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    state.lock().unwrap().transaction_reads += 1;
    if !authorized(&headers, TRANSACTIONS, b"") {
        return failure("1000", "Geçersiz imza");
    }
    let (Some(day), Some(page)) = (
        query.get("transactionDate"),
        query.get("page").and_then(|p| p.parse::<usize>().ok()),
    ) else {
        return failure("11", "Geçersiz istek");
    };
    let guard = state.lock().unwrap();
    let rows: Vec<&Value> = guard
        .transactions
        .iter()
        .filter(|(at, _)| &istanbul(*at).0 == day)
        .map(|(_, row)| row)
        .collect();
    let size = guard.report_page_size.max(1);
    let total_pages = rows.len().div_ceil(size);
    let page_rows: Vec<&Value> = rows
        .into_iter()
        .skip(page.saturating_sub(1) * size)
        .take(size)
        .collect();
    Json(json!({
        "status": "success", "locale": "tr", "systemTime": 1795700000000i64,
        "currentPage": page, "totalPageCount": total_pages, "transactions": page_rows
    }))
    .into_response()
}
