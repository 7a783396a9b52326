//! One invoice per order, however often it is asked for: the accounting
//! path (Paraşüt) every caller shares — a paid storefront order, a
//! delivered marketplace order.
//!
//! [`issue_invoice`] claims `INVOICE#<order ref>` (a conditional put with a
//! sequence number from the series counter), takes the record's lease (one
//! worker at a time) and moves it forward, saving each step before the next
//! call that depends on it (docs/exactly-once.md § Invoices):
//!
//! 1. `pending`: find or create the buyer's contact;
//! 2. `creating` is saved **before** the sales invoice is sent. From then
//!    on, an attempt first asks Paraşüt for our series + sequence number
//!    (docs/parasut-wire.md P20) and sends again only if Paraşüt does not
//!    have it: a timeout after Paraşüt created the invoice never makes a
//!    second one;
//! 3. `created`: Paraşüt's totals checked against ours (a difference:
//!    `failed` + `integration.error`, never legalized); e-Fatura if the
//!    buyer's VKN has an inbox, else e-Arşiv; an e-document already on the
//!    invoice is taken as it is;
//! 4. `legalizing` is saved before the e-document is sent; its job is
//!    followed to `done` (number, PDF URL) or `error` (back to `created`,
//!    `integration.error`; the next attempt makes the e-document again);
//! 5. `done`: `invoice.created` is published once (`eventId`
//!    `parasut:invoice:<order ref>`), then `published` is saved.
//!
//! What is still running at Paraşüt (a job, a PDF not made yet) is an error
//! for this attempt; the next attempt takes it up where it stands.

use sha2::{Digest, Sha256};

use crate::clock;
use crate::domain::event::{
    DetailType, DomainEvent, EventDetail, IntegrationErrorDetail, InvoiceDetail,
};
use crate::domain::invoice::{
    InvoiceError, InvoicePlan, InvoiceRecord, InvoiceRequest, InvoiceStage,
};
use crate::error::{Error, ProviderFailure, Result};
use crate::ports::{EventPublisher, InvoiceStore};
use crate::providers::parasut::client::{e_archive_body, e_invoice_body, sales_invoice_body};
use crate::providers::parasut::wire::{InvoiceNumber, JobStatus, SalesInvoiceView};
use crate::providers::parasut::{DocumentKind, ParasutClient, PROVIDER};

/// How long one attempt holds an invoice: beyond the function's timeout.
pub const LEASE_MS: i64 = 180_000;

/// The `eventId` of an order's `invoice.created`.
pub fn invoice_event_id(order_ref: &str) -> String {
    format!("parasut:invoice:{order_ref}")
}

/// The identity of what is invoiced: everything but the e-Arşiv's internet
/// sale and shipment blocks, which only the e-document step reads and which
/// every caller derives from the same stored facts (a setting, the payment
/// or order time, the stored invoice data). Left out, an invoice claimed
/// before a block existed is still the same request, and a redelivery for
/// it is not taken for changed content.
fn request_hash(request: &InvoiceRequest) -> String {
    let mut identity = request.clone();
    identity.internet_sale = None;
    identity.shipment = None;
    let json = serde_json::to_vec(&identity).expect("invoice requests serialize");
    hex::encode(Sha256::digest(json))
}

fn conflict(code: &'static str, message: impl Into<String>) -> Error {
    Error::Conflict {
        code,
        message: message.into(),
    }
}

fn kind_word(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::EArchive => "e_archive",
        DocumentKind::EInvoice => "e_invoice",
    }
}

fn kind_of(record: &InvoiceRecord) -> DocumentKind {
    match record.document_kind.as_deref() {
        Some("e_invoice") => DocumentKind::EInvoice,
        _ => DocumentKind::EArchive,
    }
}

/// The shared state of one attempt.
struct Attempt<'a, S, P> {
    store: &'a S,
    client: &'a ParasutClient,
    publisher: &'a P,
    request: &'a InvoiceRequest,
    plan: InvoicePlan,
    record: InvoiceRecord,
    version: u64,
}

/// Issues (or finishes issuing) the invoice of `request.order_ref` and
/// answers its record. Safe to call any number of times, concurrently too:
/// one invoice, one e-document and one `invoice.created` per order ref.
pub async fn issue_invoice<S: InvoiceStore, P: EventPublisher>(
    store: &S,
    client: &ParasutClient,
    publisher: &P,
    request: &InvoiceRequest,
) -> Result<InvoiceRecord> {
    let plan = match request.plan() {
        Ok(plan) => plan,
        Err(InvoiceError::Invalid(message)) => {
            return Err(Error::validation("invoice", message));
        }
        Err(e) => {
            // The order cannot be invoiced as it stands: a person decides.
            let hash = request_hash(request);
            alert(
                publisher,
                &format!(
                    "parasut:{}:invoice_refused:{}",
                    request.order_ref,
                    &hash[..16]
                ),
                "invoice_not_representable",
                &request.order_ref,
                None,
                e.to_string(),
            )
            .await?;
            return Err(Error::Unprocessable {
                code: "invoice_not_representable",
                message: e.to_string(),
            });
        }
    };
    let hash = request_hash(request);
    let (record, version) = claim(store, client, request, &plan, &hash).await?;
    if record.request_hash != hash {
        // docs/exactly-once.md rule 1: same key, other parameters → 422.
        return Err(Error::Unprocessable {
            code: "invoice_request_differs",
            message: "this order was invoiced with other content".into(),
        });
    }
    if record.stage == InvoiceStage::Done && record.published {
        return Ok(record);
    }
    if record.stage == InvoiceStage::Failed {
        return Err(conflict(
            "invoice_needs_review",
            record.failure.unwrap_or_default(),
        ));
    }
    let now = clock::now_ms();
    if record.lease_until_ms > now {
        return Err(conflict(
            "invoice_in_progress",
            "another attempt is issuing this invoice",
        ));
    }
    let mut attempt = Attempt {
        store,
        client,
        publisher,
        request,
        plan,
        record,
        version,
    };
    attempt.record.lease_until_ms = now + LEASE_MS;
    attempt.save().await?;
    let result = attempt.advance().await;
    attempt.record.lease_until_ms = 0;
    let released = attempt.save().await;
    result?;
    released?;
    Ok(attempt.record)
}

async fn claim<S: InvoiceStore>(
    store: &S,
    client: &ParasutClient,
    request: &InvoiceRequest,
    plan: &InvoicePlan,
    hash: &str,
) -> Result<(InvoiceRecord, u64)> {
    if let Some(found) = store.get_invoice(&request.order_ref).await? {
        return Ok(found);
    }
    // A number lost to a concurrent claim leaves a gap in our series;
    // Paraşüt's own and the legal numbering are unaffected.
    let series = client.settings().invoice_series.clone();
    let sequence = store.next_invoice_sequence(&series).await?;
    let record = InvoiceRecord {
        order_ref: request.order_ref.clone(),
        request_hash: hash.to_string(),
        series,
        sequence,
        stage: InvoiceStage::Pending,
        totals: plan.totals,
        contact_id: None,
        sales_invoice_id: None,
        document_kind: None,
        job_id: None,
        job_error: None,
        document_id: None,
        invoice_number: None,
        document_url: None,
        document_url_expires_at: None,
        failure: None,
        published: false,
        lease_until_ms: 0,
        updated_at: clock::now_rfc3339(),
    };
    if store.put_new_invoice(&record).await? {
        return Ok((record, 1));
    }
    store
        .get_invoice(&request.order_ref)
        .await?
        .ok_or_else(|| Error::Store("invoice vanished after a lost claim".into()))
}

async fn alert<P: EventPublisher>(
    publisher: &P,
    event_id: &str,
    kind: &str,
    order_ref: &str,
    provider_ref: Option<String>,
    message: String,
) -> Result<()> {
    tracing::error!(kind, order_ref, "accounting needs a person");
    publisher
        .publish(&[DomainEvent {
            detail_type: DetailType::IntegrationError,
            event_id: event_id.to_string(),
            occurred_at: clock::now_rfc3339(),
            detail: EventDetail::IntegrationError(IntegrationErrorDetail {
                kind: kind.to_string(),
                provider: PROVIDER.to_string(),
                order_id: Some(order_ref.to_string()),
                provider_ref,
                expected: None,
                received: None,
                message,
                action: Some("review".into()),
            }),
        }])
        .await
}

impl<S: InvoiceStore, P: EventPublisher> Attempt<'_, S, P> {
    async fn save(&mut self) -> Result<()> {
        self.record.updated_at = clock::now_rfc3339();
        if self
            .store
            .update_invoice(&self.record, self.version)
            .await?
        {
            self.version += 1;
            Ok(())
        } else {
            Err(conflict(
                "invoice_in_progress",
                "the invoice record changed under this attempt",
            ))
        }
    }

    fn number(&self) -> InvoiceNumber {
        InvoiceNumber {
            series: self.record.series.clone(),
            sequence: self.record.sequence,
        }
    }

    async fn advance(&mut self) -> Result<()> {
        loop {
            match self.record.stage {
                InvoiceStage::Pending | InvoiceStage::Creating => self.create_invoice().await?,
                InvoiceStage::Created => self.start_e_document().await?,
                InvoiceStage::Legalizing => self.follow_e_document().await?,
                InvoiceStage::Done => return self.publish().await,
                InvoiceStage::Failed => {
                    return Err(conflict(
                        "invoice_needs_review",
                        self.record.failure.clone().unwrap_or_default(),
                    ))
                }
            }
        }
    }

    /// Pending → Creating → Created, never two sales invoices.
    async fn create_invoice(&mut self) -> Result<()> {
        if self.record.stage == InvoiceStage::Creating {
            // An earlier attempt sent it: ask before sending again.
            if let Some(view) = self.client.find_sales_invoice(&self.number()).await? {
                return self.accept_invoice(view).await;
            }
        } else {
            if self.record.contact_id.is_none() {
                let contact = self
                    .client
                    .find_or_create_contact(&self.request.buyer)
                    .await?;
                self.record.contact_id = Some(contact);
            }
            self.record.stage = InvoiceStage::Creating;
            self.save().await?;
        }
        let body = sales_invoice_body(
            &self.plan,
            &self.number(),
            &self.request.order_ref,
            &self.request.issue_date,
            &self.request.buyer,
            self.record.contact_id.as_deref().unwrap_or_default(),
        );
        match self.client.create_sales_invoice(&body).await {
            Ok(view) => self.accept_invoice(view).await,
            Err(failure) if failure.ambiguous => {
                tracing::warn!(
                    order_ref = %self.request.order_ref,
                    error = %failure.error,
                    "parasut sales invoice outcome unknown; asking for it"
                );
                match self.client.find_sales_invoice(&self.number()).await? {
                    Some(view) => self.accept_invoice(view).await,
                    // Stays `creating`: the next attempt asks again first.
                    None => Err(failure.error),
                }
            }
            Err(failure) => {
                // Refused before anything was made.
                let rejected = matches!(&failure.error,
                    Error::Provider(p) if p.failure == ProviderFailure::Rejected);
                if rejected {
                    self.fail("invoice_rejected", failure.error.to_string())
                        .await?;
                } else {
                    self.record.stage = InvoiceStage::Pending;
                    self.save().await?;
                }
                Err(failure.error)
            }
        }
    }

    /// The invoice Paraşüt holds: its totals must be ours.
    async fn accept_invoice(&mut self, mut view: SalesInvoiceView) -> Result<()> {
        self.record.sales_invoice_id = Some(view.id.clone());
        if view.net_total.is_none() || view.total_vat.is_none() {
            view = self.client.show_sales_invoice(&view.id).await?;
        }
        let checked = self.plan.check_totals(
            view.net_total.as_deref().unwrap_or_default(),
            view.total_vat.as_deref().unwrap_or_default(),
        );
        if let Err(mismatch) = checked {
            self.fail("invoice_total_mismatch", mismatch.to_string())
                .await?;
            return Err(Error::Unprocessable {
                code: "invoice_total_mismatch",
                message: mismatch.to_string(),
            });
        }
        self.record.stage = InvoiceStage::Created;
        self.save().await
    }

    async fn fail(&mut self, kind: &str, message: String) -> Result<()> {
        self.record.stage = InvoiceStage::Failed;
        self.record.failure = Some(format!("{kind}: {message}"));
        self.save().await?;
        alert(
            self.publisher,
            &format!("parasut:{}:{kind}", self.request.order_ref),
            kind,
            &self.request.order_ref,
            self.record.sales_invoice_id.clone(),
            message,
        )
        .await
    }

    /// Created → Legalizing: e-Fatura or e-Arşiv, sent once.
    async fn start_e_document(&mut self) -> Result<()> {
        let invoice_id = self.record.sales_invoice_id.clone().unwrap_or_default();
        // An e-document already on the invoice (an answer lost earlier) is
        // taken as it is (P27).
        let view = self.client.show_sales_invoice(&invoice_id).await?;
        if let Some((resource, document_id)) = view.e_document {
            let kind = DocumentKind::from_resource(&resource).unwrap_or(DocumentKind::EArchive);
            self.record.document_kind = Some(kind_word(kind).into());
            self.record.document_id = Some(document_id);
            self.record.stage = InvoiceStage::Legalizing;
            return self.save().await;
        }
        let tax_id = self
            .request
            .buyer
            .tax_id()
            .map_err(|e| Error::validation("buyer.taxNumber", e.to_string()))?;
        let (kind, inbox) = self.client.document_kind(tax_id.as_ref()).await?;
        let body = match (kind, inbox) {
            (DocumentKind::EInvoice, Some(to)) => e_invoice_body(&invoice_id, &to),
            _ => e_archive_body(
                &invoice_id,
                self.request.internet_sale.as_ref(),
                self.request.shipment.as_ref(),
            ),
        };
        self.record.document_kind = Some(kind_word(kind).into());
        self.record.job_id = None;
        self.record.stage = InvoiceStage::Legalizing;
        self.save().await?;
        match self.client.create_e_document(kind, &body).await {
            Ok(job) => {
                self.record.job_id = Some(job);
                self.record.job_error = None;
                self.save().await
            }
            // Stays `legalizing` without a job: the next attempt reads the
            // invoice's e-document before sending again.
            Err(failure) if failure.ambiguous => Err(failure.error),
            Err(failure) => {
                self.record.stage = InvoiceStage::Created;
                self.record.job_error = Some(failure.error.to_string());
                self.save().await?;
                Err(failure.error)
            }
        }
    }

    /// Legalizing → Done: the job to its end, the number, the PDF URL.
    async fn follow_e_document(&mut self) -> Result<()> {
        let settings = self.client.settings();
        let invoice_id = self.record.sales_invoice_id.clone().unwrap_or_default();
        if self.record.document_id.is_none() {
            // Paraşüt forgets a job 15 minutes after it began (P26).
            let mut job_forgotten = false;
            if let Some(job) = self.record.job_id.clone() {
                let mut finished = false;
                for poll in 0..settings.job_max_polls {
                    if poll > 0 {
                        tokio::time::sleep(settings.job_poll_interval).await;
                    }
                    match self.client.job(&job).await? {
                        Some(JobStatus::Running) => continue,
                        Some(JobStatus::Done) => {
                            finished = true;
                            break;
                        }
                        None => {
                            job_forgotten = true;
                            finished = true;
                            break;
                        }
                        Some(JobStatus::Error(errors)) => {
                            return self.job_failed(&job, errors).await
                        }
                    }
                }
                if !finished {
                    return Err(still_running("the e-document job is still running"));
                }
            }
            let view = self.client.show_sales_invoice(&invoice_id).await?;
            match view.e_document {
                Some((resource, document_id)) => {
                    if let Some(kind) = DocumentKind::from_resource(&resource) {
                        self.record.document_kind = Some(kind_word(kind).into());
                    }
                    self.record.document_id = Some(document_id);
                    self.record.invoice_number = view.e_document_number.or(view.invoice_no);
                    self.save().await?;
                }
                None if self.record.job_id.is_none() || job_forgotten => {
                    // The create's answer was lost, or its job is gone, and no
                    // e-document exists: make it again.
                    self.record.stage = InvoiceStage::Created;
                    self.record.job_id = None;
                    return self.save().await;
                }
                None => return Err(still_running("the e-document is not on the invoice yet")),
            }
        }
        if self.record.invoice_number.is_none() {
            let view = self.client.show_sales_invoice(&invoice_id).await?;
            self.record.invoice_number = view.e_document_number.or(view.invoice_no);
            if self.record.invoice_number.is_none() {
                return Err(still_running("Paraşüt has not numbered the e-document yet"));
            }
        }
        let document_id = self.record.document_id.clone().unwrap_or_default();
        for poll in 0..settings.job_max_polls {
            if poll > 0 {
                tokio::time::sleep(settings.job_poll_interval).await;
            }
            if let Some((url, expires_at)) = self
                .client
                .pdf_url(kind_of(&self.record), &document_id)
                .await?
            {
                self.record.document_url = Some(url);
                self.record.document_url_expires_at = expires_at;
                self.record.stage = InvoiceStage::Done;
                return self.save().await;
            }
        }
        Err(still_running("the PDF is not made yet"))
    }

    /// A job that ended in `error`: loud, and back to `created` so the next
    /// attempt makes the e-document again (once a person fixed the cause).
    async fn job_failed(&mut self, job: &str, errors: Vec<String>) -> Result<()> {
        let message = format!("e-document job {job} failed: {}", errors.join("; "));
        self.record.stage = InvoiceStage::Created;
        self.record.job_id = None;
        self.record.job_error = Some(message.clone());
        self.save().await?;
        alert(
            self.publisher,
            &format!("parasut:{}:e_document_failed:{job}", self.request.order_ref),
            "e_document_failed",
            &self.request.order_ref,
            self.record.sales_invoice_id.clone(),
            message,
        )
        .await?;
        // Paraşüt's words may quote the buyer: they go to the record and the
        // event, not into an error a caller may log.
        Err(Error::Provider(crate::error::ProviderError {
            provider: PROVIDER,
            failure: ProviderFailure::Rejected,
            provider_code: Some("e_document_failed".into()),
            decline_code: None,
            message: format!(
                "e-document job {job} failed; see the integration.error event and the invoice record"
            ),
            request_id: None,
        }))
    }

    async fn publish(&mut self) -> Result<()> {
        if self.record.published {
            return Ok(());
        }
        let totals = self.record.totals;
        let event = DomainEvent {
            detail_type: DetailType::InvoiceCreated,
            event_id: invoice_event_id(&self.record.order_ref),
            occurred_at: clock::now_rfc3339(),
            detail: EventDetail::Invoice(InvoiceDetail {
                order_ref: self.record.order_ref.clone(),
                provider: PROVIDER.into(),
                invoice_number: self.record.invoice_number.clone().unwrap_or_default(),
                document_kind: self
                    .record
                    .document_kind
                    .clone()
                    .unwrap_or_else(|| "e_archive".into()),
                document_url: self.record.document_url.clone(),
                document_url_expires_at: self.record.document_url_expires_at.clone(),
                provider_ref: self.record.sales_invoice_id.clone().unwrap_or_default(),
                net: totals.net,
                vat: totals.vat,
                total: totals.payable,
            }),
        };
        self.publisher.publish(&[event]).await?;
        self.record.published = true;
        self.save().await
    }
}

fn still_running(message: &str) -> Error {
    Error::Provider(crate::error::ProviderError {
        provider: PROVIDER,
        failure: ProviderFailure::Unavailable,
        provider_code: Some("in_progress".into()),
        decline_code: None,
        message: format!("{message}; the next attempt continues from here"),
        request_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invoice::{Buyer, InternetSale, InvoiceLine, Shipment, Shipper};
    use crate::money::Currency;

    #[test]
    fn the_internet_sale_and_shipment_are_not_part_of_the_identity_but_the_content_is() {
        let mut request = InvoiceRequest {
            order_ref: "trendyol:1".into(),
            issue_date: "2026-12-02".into(),
            currency: Currency::TRY,
            buyer: Buyer {
                name: "Ayşe".into(),
                email: Some("a@example.com".into()),
                tax_number: None,
                tax_office: None,
                address: "Moda".into(),
                city: "İstanbul".into(),
                district: None,
                phone: None,
            },
            lines: vec![InvoiceLine {
                description: "Tişört".into(),
                sku: "T".into(),
                quantity: 1,
                unit_price: 10_000,
                discount: 0,
                vat_rate: 20,
            }],
            total: 10_000,
            internet_sale: None,
            shipment: None,
        };
        let before = request_hash(&request);
        request.internet_sale = Some(InternetSale {
            url: "https://www.trendyol.com".into(),
            payment_type: "ODEMEARACISI".into(),
            payment_platform: "Trendyol".into(),
            payment_date: "2026-12-01".into(),
        });
        assert_eq!(request_hash(&request), before);
        request.shipment = Some(Shipment {
            shipper: Shipper::Carrier {
                title: "Aras Kargo".into(),
                vkn: "1234567890".into(),
            },
            date: "2026-12-02".into(),
        });
        assert_eq!(request_hash(&request), before);
        request.lines[0].discount = 1;
        assert_ne!(request_hash(&request), before);
    }
}
