//! A local Paraşüt speaking the wire contract of ../docs/parasut-wire.md:
//! the OAuth2 token endpoint (password and refresh_token grants, form
//! bodies, the out-of-band redirect URI, refresh tokens rotated on use) and
//! the v4 JSON:API under `/v4/<company id>/`: contacts (list with filters,
//! create), sales invoices (list by `invoice_series` + `invoice_id`, create,
//! show with `include=active_e_document`), e-Fatura inboxes by VKN,
//! e-Arşiv / e-Fatura creation answering a trackable job, trackable jobs
//! (`running` → `done` or `error`) and the e-document PDF (204 until made).
//!
//! It checks what the real API documents: the bearer token (unknown or
//! expired → 401 with a JSON:API `errors` array), the company in the path,
//! `Content-Type` `application/vnd.api+json` or `application/json` on
//! bodies, new records without an id, required attributes (contact `name`,
//! `account_type`; invoice `item_type`, `issue_date`, an existing contact;
//! each detail `quantity`, `unit_price`, `vat_rate`), `currency` in
//! TRL/USD/EUR/GBP, e-Fatura only to the buyer's registered inbox, and an
//! e-Arşiv's `internet_sale` block, when present: `payment_type` one of the
//! four documented values, `payment_date` `YYYY-MM-DD` (P24, P35); and its
//! `shipment` block, when present: `title` and a 10-digit `vkn`, or `name`
//! and an 11-digit `tckn`, and `date` `YYYY-MM-DD` (P36).
//! Totals are computed as docs/parasut-wire.md P18 assumes (per line,
//! half-up VAT), answered as decimal strings.
//!
//! Approximations (UNCONFIRMED in the doc): the 429 and 415 answers' shape;
//! a second e-document for one invoice answered 422; decimal quantities
//! refused (we only send whole ones); an `internet_sale` block missing one
//! of its four fields refused with 422 (P38), and so a `shipment` block
//! that is neither a carrier nor a courier, or lacks its date.
//!
//! Faults are queued (any operation, or one) and do not process the
//! request, except [`Fault::AfterProcessing`], which does and then answers
//! its inner fault (a lost answer). Counters say what was executed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

pub const COMPANY_ID: &str = "115";
pub const CLIENT_ID: &str = "ayaz-client";
pub const CLIENT_SECRET: &str = "client-s3cret";
pub const USERNAME: &str = "muhasebe@ayaztrade.example";
pub const PASSWORD: &str = "p@ss&word=1";
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Operation names for faults and counters.
pub const TOKEN: &str = "token";
pub const LIST_CONTACTS: &str = "list_contacts";
pub const CREATE_CONTACT: &str = "create_contact";
pub const LIST_INVOICES: &str = "list_sales_invoices";
pub const CREATE_INVOICE: &str = "create_sales_invoice";
pub const SHOW_INVOICE: &str = "show_sales_invoice";
pub const INBOXES: &str = "e_invoice_inboxes";
pub const CREATE_E_ARCHIVE: &str = "create_e_archive";
pub const CREATE_E_INVOICE: &str = "create_e_invoice";
pub const JOB: &str = "trackable_job";
pub const PDF: &str = "pdf";

#[derive(Debug, Clone)]
pub enum Fault {
    /// This status with a JSON:API error body (429 carries `Retry-After: 0`).
    Status(u16),
    /// Sleeps, then answers 504 (the client should have given up).
    Hang(Duration),
    /// Processes the request, then answers the inner fault instead.
    AfterProcessing(Box<Fault>),
}

struct Job {
    polls_left: u32,
    /// Paraşüt runs jobs in the background: past this, the job has ended
    /// whether or not anyone polled it.
    ready_at: Instant,
    fail_with: Option<Vec<String>>,
    kind: &'static str,
    invoice_id: String,
    finished: Option<&'static str>,
}

struct Invoice {
    attributes: Value,
    e_document: Option<(&'static str, String)>,
}

#[derive(Default)]
struct FakeState {
    access: HashMap<String, Instant>,
    refresh: Vec<String>,
    token_lifetime_s: u64,
    grants: HashMap<String, u64>,
    contacts: Vec<(String, Value)>,
    invoices: Vec<(String, Invoice)>,
    inboxes: HashMap<String, String>,
    documents: HashMap<String, (&'static str, String, String)>,
    /// The attributes of every accepted e-Arşiv create, in order.
    e_archive_attributes: Vec<Value>,
    jobs: HashMap<String, Job>,
    job_polls: u32,
    job_background: Duration,
    next_job_errors: Option<Vec<String>>,
    pdf_waits: u32,
    pdf_polls: HashMap<String, u32>,
    requests: HashMap<String, u64>,
    faults: VecDeque<(Option<String>, Fault)>,
    next_id: u64,
    unauthorized: u64,
}

#[derive(Clone)]
pub struct ParasutFake {
    /// `http://127.0.0.1:port` (the `PARASUT_BASE_URL`).
    pub base_url: String,
    state: Arc<Mutex<FakeState>>,
}

fn errors(status: u16, title: &str) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/vnd.api+json")],
        json!({"errors": [{"title": title, "detail": title}]}).to_string(),
    )
        .into_response();
    if status == 429 {
        response
            .headers_mut()
            .insert("retry-after", "0".parse().unwrap());
    }
    response
}

fn document(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/vnd.api+json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Kuruş from a decimal string with at most 2 decimals.
fn minor(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{fraction:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + padded.parse::<i64>().ok()?)
}

fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl ParasutFake {
    pub async fn start() -> ParasutFake {
        let state = Arc::new(Mutex::new(FakeState {
            token_lifetime_s: 7200,
            job_polls: 1,
            job_background: Duration::from_millis(300),
            next_id: 1000,
            ..FakeState::default()
        }));
        let app = Router::new().fallback(serve).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind Paraşüt fake");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("Paraşüt fake serves");
        });
        ParasutFake { base_url, state }
    }

    fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Queues a fault for the next request of `operation`.
    pub fn push_fault_for(&self, operation: &str, fault: Fault) {
        self.with(|s| s.faults.push_back((Some(operation.to_string()), fault)));
    }

    /// Requests that named `operation` (faults included).
    pub fn requests(&self, operation: &str) -> u64 {
        self.with(|s| s.requests.get(operation).copied().unwrap_or_default())
    }

    /// Grants issued by type (`password`, `refresh_token`).
    pub fn grants(&self, grant_type: &str) -> u64 {
        self.with(|s| s.grants.get(grant_type).copied().unwrap_or_default())
    }

    /// API calls refused for their token.
    pub fn unauthorized(&self) -> u64 {
        self.with(|s| s.unauthorized)
    }

    /// Lifetime (`expires_in`) of the tokens issued from now on.
    pub fn set_token_lifetime(&self, seconds: u64) {
        self.with(|s| s.token_lifetime_s = seconds);
    }

    /// Every access token issued so far stops working (refresh tokens stay).
    pub fn expire_access_tokens(&self) {
        self.with(|s| s.access.clear());
    }

    /// Registers an e-Fatura inbox for `vkn`.
    pub fn add_inbox(&self, vkn: &str, address: &str) {
        self.with(|s| s.inboxes.insert(vkn.into(), address.into()));
    }

    /// Jobs answer `running` this many times before their end (default 1),
    /// unless their background time passed: then they have ended.
    pub fn set_job_polls(&self, polls: u32) {
        self.with(|s| s.job_polls = polls);
    }

    /// How long jobs take in the background, polled or not (default 300 ms).
    pub fn set_job_background(&self, time: Duration) {
        self.with(|s| s.job_background = time);
    }

    /// Paraşüt forgets every job (their 15 minutes are over): 404 from now on.
    pub fn forget_jobs(&self) {
        self.with(|s| s.jobs.clear());
    }

    /// The next e-document job ends in `error` with these messages.
    pub fn fail_next_job(&self, errors: &[&str]) {
        self.with(|s| s.next_job_errors = Some(errors.iter().map(|e| e.to_string()).collect()));
    }

    /// Each PDF answers 204 this many times first.
    pub fn set_pdf_waits(&self, waits: u32) {
        self.with(|s| s.pdf_waits = waits);
    }

    pub fn contact_count(&self) -> usize {
        self.with(|s| s.contacts.len())
    }

    pub fn invoice_count(&self) -> usize {
        self.with(|s| s.invoices.len())
    }

    /// e-documents made, by type (`e_archives`, `e_invoices`).
    pub fn documents(&self, kind: &str) -> usize {
        self.with(|s| s.documents.values().filter(|d| d.0 == kind).count())
    }

    /// The attributes of every e-Arşiv Paraşüt accepted (with its
    /// `internet_sale` block, if sent).
    pub fn e_archive_attributes(&self) -> Vec<Value> {
        self.with(|s| s.e_archive_attributes.clone())
    }

    /// The stored attributes of every sales invoice and its details.
    pub fn invoice_attributes(&self) -> Vec<Value> {
        self.with(|s| {
            s.invoices
                .iter()
                .map(|(_, i)| i.attributes.clone())
                .collect()
        })
    }

    /// A poll of the job: it ends after its polls (or its time).
    fn poll_job(state: &mut FakeState, job_id: &str) -> Option<&'static str> {
        let job = state.jobs.get_mut(job_id)?;
        if let Some(done) = job.finished {
            return Some(done);
        }
        if job.polls_left > 0 && Instant::now() < job.ready_at {
            job.polls_left -= 1;
            return None;
        }
        Self::finish_job(state, job_id)
    }

    /// Ends the jobs of `invoice_id` whose time has come (nobody polled).
    fn ripen_jobs(state: &mut FakeState, invoice_id: &str) {
        let now = Instant::now();
        let ripe: Vec<String> = state
            .jobs
            .iter()
            .filter(|(_, j)| {
                j.invoice_id == invoice_id && j.finished.is_none() && now >= j.ready_at
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in ripe {
            Self::finish_job(state, &id);
        }
    }

    /// Makes `e_archives`/`e_invoices` (the job's end), as the real job does.
    fn finish_job(state: &mut FakeState, job_id: &str) -> Option<&'static str> {
        let job = state.jobs.get_mut(job_id)?;
        if let Some(done) = job.finished {
            return Some(done);
        }
        if job.fail_with.is_some() {
            job.finished = Some("error");
            return Some("error");
        }
        job.finished = Some("done");
        let (kind, invoice_id) = (job.kind, job.invoice_id.clone());
        state.next_id += 1;
        let doc_id = state.next_id.to_string();
        let number = format!("GIB2026{:09}", state.documents.len() + 1);
        state
            .documents
            .insert(doc_id.clone(), (kind, invoice_id.clone(), number.clone()));
        if let Some((_, inv)) = state.invoices.iter_mut().find(|(id, _)| *id == invoice_id) {
            inv.e_document = Some((kind, doc_id));
            inv.attributes["invoice_no"] = json!(number);
        }
        Some("done")
    }
}

fn invoice_json(state: &FakeState, id: &str, inv: &Invoice, include: bool) -> Value {
    let mut data = json!({"id": id, "type": "sales_invoices", "attributes": inv.attributes});
    let mut included = vec![];
    if let Some((kind, doc_id)) = &inv.e_document {
        data["relationships"] =
            json!({"active_e_document": {"data": {"id": doc_id, "type": kind}}});
        if include {
            let (_, _, number) = &state.documents[doc_id];
            let attributes = if *kind == "e_archives" {
                json!({"invoice_number": number, "status": "legalized"})
            } else {
                json!({"status": "sent"})
            };
            included.push(json!({"id": doc_id, "type": kind, "attributes": attributes}));
        }
    }
    if include {
        json!({"data": data, "included": included})
    } else {
        data
    }
}

fn operation(method: &Method, segments: &[&str]) -> Option<&'static str> {
    Some(match (method.as_str(), segments) {
        ("GET", ["contacts"]) => LIST_CONTACTS,
        ("POST", ["contacts"]) => CREATE_CONTACT,
        ("GET", ["sales_invoices"]) => LIST_INVOICES,
        ("POST", ["sales_invoices"]) => CREATE_INVOICE,
        ("GET", ["sales_invoices", _]) => SHOW_INVOICE,
        ("GET", ["e_invoice_inboxes"]) => INBOXES,
        ("POST", ["e_archives"]) => CREATE_E_ARCHIVE,
        ("POST", ["e_invoices"]) => CREATE_E_INVOICE,
        ("GET", ["trackable_jobs", _]) => JOB,
        ("GET", [_, _, "pdf"]) => PDF,
        _ => return None,
    })
}

async fn serve(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let op = if path == "/oauth/token" && method == Method::POST {
        TOKEN
    } else {
        let prefix = format!("/v4/{COMPANY_ID}/");
        let Some(rest) = path.strip_prefix(&prefix) else {
            return errors(404, "Not Found");
        };
        let segments: Vec<&str> = rest.split('/').collect();
        match operation(&method, &segments) {
            Some(op) => op,
            None => return errors(404, "Not Found"),
        }
    };
    let fault = {
        let mut s = state.lock().unwrap();
        *s.requests.entry(op.to_string()).or_default() += 1;
        let at = s
            .faults
            .iter()
            .position(|(o, _)| o.as_deref().is_none_or(|o| o == op));
        at.and_then(|i| s.faults.remove(i)).map(|(_, f)| f)
    };
    let (fault, process) = match fault {
        Some(Fault::AfterProcessing(inner)) => (Some(*inner), true),
        Some(f) => (Some(f), false),
        None => (None, true),
    };
    let answer = if process {
        if op == TOKEN {
            token(&state, &headers, &body)
        } else {
            api(&state, op, &path, &query, &headers, &body)
        }
    } else {
        errors(500, "unreachable")
    };
    match fault {
        None => answer,
        Some(Fault::Status(code)) => errors(code, "Injected"),
        Some(Fault::Hang(d)) => {
            tokio::time::sleep(d).await;
            errors(504, "Gateway Timeout")
        }
        Some(Fault::AfterProcessing(_)) => errors(500, "nested"),
    }
}

fn token(state: &Arc<Mutex<FakeState>>, headers: &HeaderMap, body: &[u8]) -> Response {
    let form_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !form_type.starts_with("application/x-www-form-urlencoded") {
        return document(400, json!({"error": "invalid_request"}));
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let get = |k: &str| form.get(k).map(String::as_str);
    let mut s = state.lock().unwrap();
    if get("client_id") != Some(CLIENT_ID) || get("client_secret") != Some(CLIENT_SECRET) {
        return document(401, json!({"error": "invalid_client"}));
    }
    let grant = get("grant_type").unwrap_or_default().to_string();
    match grant.as_str() {
        "password" => {
            if get("username") != Some(USERNAME)
                || get("password") != Some(PASSWORD)
                || get("redirect_uri") != Some(OOB)
            {
                return document(401, json!({"error": "invalid_grant"}));
            }
        }
        "refresh_token" => {
            let Some(at) = get("refresh_token").and_then(|r| s.refresh.iter().position(|x| x == r))
            else {
                return document(401, json!({"error": "invalid_grant"}));
            };
            // Rotated on use (P5).
            s.refresh.remove(at);
        }
        _ => return document(400, json!({"error": "unsupported_grant_type"})),
    }
    *s.grants.entry(grant).or_default() += 1;
    s.next_id += 1;
    let access = format!("at-{}-{}", s.next_id, fastrand::u64(..));
    let refresh = format!("rt-{}-{}", s.next_id, fastrand::u64(..));
    let lifetime = s.token_lifetime_s;
    s.access.insert(
        access.clone(),
        Instant::now() + Duration::from_secs(lifetime),
    );
    s.refresh.push(refresh.clone());
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        json!({"access_token": access, "token_type": "bearer", "expires_in": lifetime,
               "refresh_token": refresh, "created_at": 0})
        .to_string(),
    )
        .into_response()
}

fn api(
    state: &Arc<Mutex<FakeState>>,
    op: &'static str,
    path: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut s = state.lock().unwrap();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let valid = bearer
        .and_then(|t| s.access.get(t))
        .is_some_and(|until| Instant::now() < *until);
    if !valid {
        s.unauthorized += 1;
        return errors(401, "Unauthorized");
    }
    let doc: Value = if body.is_empty() {
        Value::Null
    } else {
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !(ct.starts_with("application/vnd.api+json") || ct.starts_with("application/json")) {
            return errors(415, "Unsupported Media Type");
        }
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(_) => return errors(400, "Bad Request"),
        }
    };
    if !doc.is_null() && doc["data"]["id"].as_str().is_some_and(|id| !id.is_empty()) {
        return errors(422, "A new record must not carry an id");
    }
    let q = |k: &str| query.get(k).map(String::as_str);
    if op == SHOW_INVOICE {
        // Time passed for the invoice's jobs, polled or not.
        let id = path.rsplit('/').next().unwrap_or_default().to_string();
        ParasutFake::ripen_jobs(&mut s, &id);
    }
    let last = path.rsplit('/').next().unwrap_or_default().to_string();
    let id_in_path = |n: usize| path.split('/').nth(n).unwrap_or_default().to_string();
    match op {
        LIST_CONTACTS => {
            let found: Vec<Value> = s
                .contacts
                .iter()
                .filter(|(_, a)| {
                    ["tax_number", "email", "account_type"].iter().all(|f| {
                        q(&format!("filter[{f}]")).is_none_or(|v| a[*f].as_str() == Some(v))
                    })
                })
                .map(|(id, a)| json!({"id": id, "type": "contacts", "attributes": a}))
                .collect();
            document(
                200,
                json!({"data": found, "meta": {"total_count": found.len()}}),
            )
        }
        CREATE_CONTACT => {
            let a = doc["data"]["attributes"].clone();
            if doc["data"]["type"] != "contacts"
                || a["name"].as_str().is_none_or(str::is_empty)
                || a["account_type"].as_str().is_none()
            {
                return errors(422, "name and account_type are required");
            }
            s.next_id += 1;
            let id = s.next_id.to_string();
            s.contacts.push((id.clone(), a.clone()));
            document(
                201,
                json!({"data": {"id": id, "type": "contacts", "attributes": a}}),
            )
        }
        LIST_INVOICES => {
            let found: Vec<Value> = s
                .invoices
                .iter()
                .filter(|(_, inv)| {
                    let a = &inv.attributes;
                    q("filter[invoice_series]").is_none_or(|v| a["invoice_series"] == v)
                        && q("filter[invoice_id]")
                            .is_none_or(|v| v.parse::<i64>().ok() == a["invoice_id"].as_i64())
                })
                .map(|(id, inv)| invoice_json(&s, id, inv, false))
                .collect();
            document(200, json!({"data": found}))
        }
        CREATE_INVOICE => create_invoice(&mut s, &doc),
        SHOW_INVOICE => match s.invoices.iter().find(|(id, _)| *id == last) {
            Some((id, inv)) if q("include") == Some("active_e_document") => {
                document(200, invoice_json(&s, id, inv, true))
            }
            Some((id, inv)) => document(200, json!({"data": invoice_json(&s, id, inv, false)})),
            None => errors(404, "Not Found"),
        },
        INBOXES => {
            let vkn = q("filter[vkn]").unwrap_or_default();
            let data: Vec<Value> = s
                .inboxes
                .get(vkn)
                .map(|address| {
                    json!({"id": "1", "type": "e_invoice_inboxes",
                        "attributes": {"vkn": vkn, "e_invoice_address": address,
                            "name": "Alıcı", "inbox_type": "PK"}})
                })
                .into_iter()
                .collect();
            document(200, json!({"data": data}))
        }
        CREATE_E_ARCHIVE | CREATE_E_INVOICE => {
            let (kind, relation) = if op == CREATE_E_ARCHIVE {
                ("e_archives", "sales_invoice")
            } else {
                ("e_invoices", "invoice")
            };
            if doc["data"]["type"] != kind {
                return errors(422, "wrong type");
            }
            let invoice_id = doc["data"]["relationships"][relation]["data"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            ParasutFake::ripen_jobs(&mut s, &invoice_id);
            let Some((_, inv)) = s.invoices.iter().find(|(id, _)| *id == invoice_id) else {
                return errors(404, "Not Found");
            };
            let running = s
                .jobs
                .values()
                .any(|j| j.invoice_id == invoice_id && j.finished.is_none_or(|f| f == "done"));
            if inv.e_document.is_some() || running {
                return errors(422, "Bu fatura zaten resmileştirildi");
            }
            if kind == "e_archives" {
                let attributes = &doc["data"]["attributes"];
                if let Some(problem) =
                    internet_sale_problem(attributes).or_else(|| shipment_problem(attributes))
                {
                    return errors(422, problem);
                }
            }
            if kind == "e_invoices" {
                let tax_number = inv.attributes["tax_number"].as_str().unwrap_or_default();
                let to = doc["data"]["attributes"]["to"].as_str();
                if to.is_none() || s.inboxes.get(tax_number).map(String::as_str) != to {
                    return errors(422, "Alıcı e-Fatura kullanıcısı değil");
                }
            }
            if kind == "e_archives" {
                s.e_archive_attributes
                    .push(doc["data"]["attributes"].clone());
            }
            s.next_id += 1;
            let job_id = s.next_id.to_string();
            let fail_with = s.next_job_errors.take();
            let polls_left = s.job_polls;
            let ready_at = Instant::now() + s.job_background;
            s.jobs.insert(
                job_id.clone(),
                Job {
                    polls_left,
                    ready_at,
                    fail_with,
                    kind,
                    invoice_id,
                    finished: None,
                },
            );
            document(
                201,
                json!({"data": {"id": job_id, "type": "trackable_jobs", "attributes": {"status": "pending"}}}),
            )
        }
        JOB => {
            let job_id = last;
            if !s.jobs.contains_key(&job_id) {
                return errors(404, "Not Found");
            }
            let status = ParasutFake::poll_job(&mut s, &job_id).unwrap_or("running");
            let errs = s.jobs[&job_id].fail_with.clone().unwrap_or_default();
            let attributes = if status == "error" {
                json!({"status": "error", "errors": errs})
            } else {
                json!({"status": status, "errors": []})
            };
            document(
                200,
                json!({"data": {"id": job_id, "type": "trackable_jobs", "attributes": attributes}}),
            )
        }
        PDF => {
            let (kind, doc_id) = (id_in_path(3), id_in_path(4));
            if s.documents.get(&doc_id).is_none_or(|d| d.0 != kind) {
                return errors(404, "Not Found");
            }
            let waits = s.pdf_waits;
            let polls = s.pdf_polls.entry(doc_id.clone()).or_default();
            *polls += 1;
            if *polls <= waits {
                return StatusCode::NO_CONTENT.into_response();
            }
            document(
                200,
                json!({"data": {"id": doc_id, "type": "e_document_pdfs", "attributes": {
                    "url": format!("https://parasut-pdf.example/{kind}/{doc_id}.pdf?sig=x"),
                    "expires_at": "2026-12-02T13:00:00.000+03:00"}}}),
            )
        }
        _ => errors(404, "Not Found"),
    }
}

/// What is wrong with an e-Arşiv's `internet_sale` block, if anything
/// (`EArchiveFormAttributes`: `payment_type` enum, `payment_date` a date).
fn internet_sale_problem(attributes: &Value) -> Option<&'static str> {
    let sale = attributes.get("internet_sale")?;
    let field = |k: &str| sale[k].as_str().filter(|v| !v.trim().is_empty());
    let (Some(_url), Some(payment_type), Some(_platform), Some(date)) = (
        field("url"),
        field("payment_type"),
        field("payment_platform"),
        field("payment_date"),
    ) else {
        return Some("internet_sale: url, payment_type, payment_platform and payment_date");
    };
    const TYPES: [&str; 4] = [
        "KREDIKARTI/BANKAKARTI",
        "EFT/HAVALE",
        "KAPIDAODEME",
        "ODEMEARACISI",
    ];
    if !TYPES.contains(&payment_type) {
        return Some("internet_sale.payment_type is not valid");
    }
    if !is_date(date) {
        return Some("internet_sale.payment_date must be YYYY-MM-DD");
    }
    None
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// What is wrong with an e-Arşiv's `shipment` block, if anything
/// (`EArchiveFormAttributes`, P36): a cargo company (`title`, `vkn`) or a
/// courier (`name`, `tckn`), not both, and `date`.
fn shipment_problem(attributes: &Value) -> Option<&'static str> {
    let shipment = attributes.get("shipment")?;
    let field = |k: &str| shipment[k].as_str().filter(|v| !v.trim().is_empty());
    let digits = |v: &str, n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_digit());
    let ok = match (field("title"), field("vkn"), field("name"), field("tckn")) {
        (Some(_), Some(vkn), None, None) => digits(vkn, 10),
        (None, None, Some(_), Some(tckn)) => digits(tckn, 11),
        _ => false,
    };
    if !ok {
        return Some("shipment: title and a 10-digit vkn, or name and an 11-digit tckn");
    }
    if !field("date").is_some_and(is_date) {
        return Some("shipment.date must be YYYY-MM-DD");
    }
    None
}

fn create_invoice(s: &mut FakeState, doc: &Value) -> Response {
    let data = &doc["data"];
    let mut a = data["attributes"].clone();
    if data["type"] != "sales_invoices"
        || a["item_type"].as_str().is_none()
        || a["issue_date"].as_str().is_none()
    {
        return errors(422, "item_type and issue_date are required");
    }
    if !["TRL", "USD", "EUR", "GBP"].contains(&a["currency"].as_str().unwrap_or("TRL")) {
        return errors(422, "currency");
    }
    let contact = data["relationships"]["contact"]["data"]["id"]
        .as_str()
        .unwrap_or_default();
    if !s.contacts.iter().any(|(id, _)| id == contact) {
        return errors(422, "contact not found");
    }
    let Some(details) = data["relationships"]["details"]["data"].as_array() else {
        return errors(422, "details are required");
    };
    let (mut net_sum, mut vat_sum, mut discount_sum) = (0i64, 0i64, 0i64);
    for d in details {
        let da = &d["attributes"];
        if d["type"] != "sales_invoice_details" {
            return errors(422, "details must be sales_invoice_details");
        }
        let (Some(q), Some(unit), Some(rate)) = (
            text(&da["quantity"]).and_then(|t| t.parse::<i64>().ok()),
            text(&da["unit_price"]).as_deref().and_then(minor),
            text(&da["vat_rate"]).and_then(|t| t.parse::<i64>().ok()),
        ) else {
            return errors(422, "quantity, unit_price and vat_rate are required");
        };
        let discount = match da["discount_type"].as_str() {
            None => 0,
            Some("amount") => match text(&da["discount_value"]).as_deref().and_then(minor) {
                Some(v) => v,
                None => return errors(422, "discount_value"),
            },
            Some(_) => return errors(422, "only amount discounts are modelled"),
        };
        let net = q * unit - discount;
        net_sum += net;
        vat_sum += (net * rate + 50).div_euclid(100);
        discount_sum += discount;
    }
    a["net_total"] = json!(decimal(net_sum + vat_sum));
    a["total_vat"] = json!(decimal(vat_sum));
    a["before_taxes_total"] = json!(decimal(net_sum));
    a["total_discount"] = json!(decimal(discount_sum));
    a["invoice_no"] = Value::Null;
    a["details"] = json!(details);
    s.next_id += 1;
    let id = s.next_id.to_string();
    let inv = Invoice {
        attributes: a,
        e_document: None,
    };
    let body = json!({"data": invoice_json(s, &id, &inv, false)});
    s.invoices.push((id, inv));
    document(201, body)
}

/// The accounting function's settings against the Paraşüt fake (a
/// fresh invoice series), with `extra` over them.
pub fn accounting_env(
    fake: &ParasutFake,
    extra: Vec<(String, String)>,
) -> impl Fn(&str) -> Option<String> {
    let base = fake.base_url.clone();
    let series = format!("T{:08X}", fastrand::u32(..));
    move |name: &str| -> Option<String> {
        if let Some((_, v)) = extra.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        Some(match name {
            "PARASUT_BASE_URL" => base.clone(),
            "PARASUT_COMPANY_ID" => COMPANY_ID.into(),
            "PARASUT_CLIENT_ID" => CLIENT_ID.into(),
            "PARASUT_CLIENT_SECRET" => CLIENT_SECRET.into(),
            "PARASUT_USERNAME" => USERNAME.into(),
            "PARASUT_PASSWORD" => PASSWORD.into(),
            "PARASUT_INVOICE_SERIES" => series.clone(),
            "PARASUT_REQUESTS_PER_10S" => "0".into(),
            "PARASUT_JOB_POLL_MS" => "20".into(),
            "PARASUT_JOB_MAX_POLLS" => "5".into(),
            "STOREFRONT_URL" => STORE_URL.into(),
            _ => return None,
        })
    }
}

/// The storefront the accounting settings name (an e-Arşiv's internet sale).
pub const STORE_URL: &str = "https://shop.ayaztrade.example";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internet_sale_block_is_checked_only_when_present() {
        let ok = json!({"internet_sale": {"url": "https://shop.example",
            "payment_type": "KREDIKARTI/BANKAKARTI", "payment_platform": "iyzico",
            "payment_date": "2026-12-03"}});
        assert_eq!(internet_sale_problem(&ok), None);
        assert_eq!(internet_sale_problem(&json!({})), None);
        for (field, value) in [
            ("payment_type", "KREDI KARTI"),
            ("payment_date", "03.12.2026"),
            ("payment_date", "2026-12-03T10:00:00Z"),
            ("url", ""),
        ] {
            let mut bad = ok.clone();
            bad["internet_sale"][field] = json!(value);
            assert!(internet_sale_problem(&bad).is_some(), "{field} {value}");
        }
    }

    #[test]
    fn a_shipment_block_is_a_carrier_or_a_courier_with_a_date_checked_only_when_present() {
        assert_eq!(shipment_problem(&json!({})), None);
        let carrier = json!({"shipment": {"title": "Aras Kargo", "vkn": "1234567890",
            "date": "2026-12-03"}});
        let courier = json!({"shipment": {"name": "Mehmet", "tckn": "12345678901",
            "date": "2026-12-03"}});
        assert_eq!(shipment_problem(&carrier), None);
        assert_eq!(shipment_problem(&courier), None);
        for (ok, field, value) in [
            (&carrier, "vkn", json!("123456789")),
            (&carrier, "vkn", json!("12345678901")),
            (&carrier, "title", json!(" ")),
            (&carrier, "name", json!("Mehmet")),
            (&carrier, "date", json!("03.12.2026")),
            (&courier, "tckn", json!("1234567890")),
            (&courier, "date", Value::Null),
        ] {
            let mut bad = ok.clone();
            bad["shipment"][field] = value.clone();
            assert!(shipment_problem(&bad).is_some(), "{field} {value}");
        }
    }
}
