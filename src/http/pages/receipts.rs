//! `/receipts/{ch_id}` and `/invoices/{in_id}`: a payment's receipt (a charge's `receipt_url`)
//! and an invoice's page (its `hosted_invoice_url`), as Stripe hosts them. Plain HTML that
//! prints cleanly (the stylesheet's print rules drop the page's chrome); no form, no script
//! needed. Receipt emails carry the same summary ([`summary`]).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{TEST_NOTE, escape, long_date, message_page, page};
use crate::domain::DomainError;
use crate::domain::billing::{Invoice, InvoiceStatus};
use crate::domain::money::Currency;
use crate::domain::receipts::{self, Receipt};
use crate::http::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_receipt))
        .routes(routes!(show_invoice))
}

/// The receipt of a succeeded charge: the merchant, what was bought, the amount, date and card
/// (brand and last four only), and any refunds.
#[utoipa::path(get, path = "/receipts/{id}", tag = "Pages",
    params(("id" = String, Path, description = "`ch_...`: a succeeded charge")),
    responses((status = 200, description = "The receipt (HTML)."),
              (status = 404, description = "No such succeeded charge (HTML).")))]
pub async fn show_receipt(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match receipts::of_charge(&state.db, &id).await {
        Ok(receipt) => {
            let title = format!("Receipt from {}", receipt.merchant);
            let main = document(&receipt, Shown::Payment, &title, &state.config.public_url);
            page(StatusCode::OK, &title, &main, &[])
        }
        Err(error) => failure(error, "Receipt not found"),
    }
}

/// The page of a finalized invoice: its number, status, lines and totals, and, once paid, the
/// payment and a link to its receipt.
#[utoipa::path(get, path = "/invoices/{id}", tag = "Pages",
    params(("id" = String, Path, description = "`in_...`: a finalized invoice")),
    responses((status = 200, description = "The invoice (HTML)."),
              (status = 404, description = "No such finalized invoice (HTML).")))]
pub async fn show_invoice(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match receipts::of_invoice(&state.db, &id).await {
        Ok(receipt) => {
            let number = receipt.invoice.as_ref().and_then(|i| i.number.clone());
            let title = format!(
                "Invoice {} from {}",
                number.unwrap_or_default(),
                receipt.merchant
            );
            let main = document(&receipt, Shown::Invoice, &title, &state.config.public_url);
            page(StatusCode::OK, &title, &main, &[])
        }
        Err(error) => failure(error, "Invoice not found"),
    }
}

fn failure(error: DomainError, title: &str) -> Response {
    match error {
        DomainError::NotFound { .. } => message_page(
            StatusCode::NOT_FOUND,
            title,
            "This link is not valid. Please check it, or ask the shop for a new one.",
        ),
        error => {
            tracing::error!(%error, "receipt page failed");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Please try again in a moment.",
            )
        }
    }
}

/// Which page a receipt is shown as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A payment's receipt (and its email).
    Payment,
    /// An invoice's page.
    Invoice,
}

/// The whole page: the heading and the [`summary`].
fn document(receipt: &Receipt, shown: Shown, title: &str, public_url: &str) -> String {
    let badge = if receipt.livemode {
        ""
    } else {
        " <span class=\"badge\">Test mode</span>"
    };
    let test_note = if receipt.livemode { "" } else { TEST_NOTE };
    format!(
        "<main class=\"card receipt\">\n<p class=\"merchant\">{merchant}{badge}</p>\n\
         <h1>{title}</h1>\n{summary}{test_note}</main>\n\
         <footer class=\"footer\">Receipt by kassa · print this page or save it as a PDF from your browser</footer>",
        merchant = escape(&receipt.merchant),
        title = escape(title),
        summary = summary(receipt, shown, public_url),
    )
}

/// The receipt's facts (amount, date, card, invoice), its lines and totals, and its refunds,
/// as HTML: the body of the page and of the receipt email.
pub fn summary(receipt: &Receipt, shown: Shown, public_url: &str) -> String {
    let currency = Currency::from_stored(receipt.currency.clone());
    let facts = match (shown, &receipt.invoice) {
        (Shown::Invoice, Some(invoice)) => invoice_facts(receipt, invoice, &currency, public_url),
        _ => payment_facts(receipt, &currency, public_url),
    };
    let items: String = facts
        .iter()
        .map(|(term, value)| format!("<div><dt>{term}</dt><dd>{value}</dd></div>\n"))
        .collect();
    let mut out = format!("<dl class=\"receipt-facts\">\n{items}</dl>\n");
    out.push_str("<h2>Summary</h2>\n<div class=\"table-wrap\"><table class=\"lines\">\n");
    out.push_str(
        "<thead><tr><th scope=\"col\">Item</th><th scope=\"col\" class=\"num\">Qty</th>\
         <th scope=\"col\" class=\"num\">Amount</th></tr></thead>\n<tbody>\n",
    );
    for line in &receipt.lines {
        let period = line
            .period
            .map(|(start, end)| {
                format!(
                    "<br><span class=\"period\">{} – {}</span>",
                    long_date(start),
                    long_date(end)
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "<tr><td>{}{period}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
            escape(&line.description),
            line.quantity,
            escape(&currency.display(line.amount)),
        ));
    }
    out.push_str("</tbody>\n<tfoot>\n");
    out.push_str(&totals(receipt, &currency));
    out.push_str("</tfoot>\n</table></div>\n");
    out.push_str(&format!(
        "<p class=\"contact\">Questions about this payment? Contact {}.</p>\n",
        escape(&receipt.merchant)
    ));
    out
}

/// A payment's facts (HTML): what was paid, when, how, and for which invoice.
fn payment_facts(
    receipt: &Receipt,
    currency: &Currency,
    public_url: &str,
) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    let Some(charge) = &receipt.charge else {
        return facts;
    };
    facts.push(("Amount paid", escape(&currency.display(charge.amount))));
    facts.push(("Date paid", long_date(charge.created)));
    if let Some(card) = &charge.card {
        facts.push(("Payment method", escape(&card.describe())));
    }
    if let Some(invoice) = &receipt.invoice
        && let (Some(number), Some(url)) = (&invoice.number, invoice.hosted_invoice_url(public_url))
    {
        let link = format!("<a href=\"{}\">{}</a>", escape(&url), escape(number));
        facts.push(("Invoice", link));
    }
    facts
}

/// An invoice's facts (HTML): its number and status, what is owed or when it was paid, and the
/// payment's card and receipt.
fn invoice_facts(
    receipt: &Receipt,
    invoice: &Invoice,
    currency: &Currency,
    public_url: &str,
) -> Vec<(&'static str, String)> {
    let mut facts = vec![(
        "Invoice number",
        escape(invoice.number.as_deref().unwrap_or("")),
    )];
    let status = match invoice.status {
        InvoiceStatus::Paid => "Paid",
        InvoiceStatus::Open => "Due",
        InvoiceStatus::Void => "Void: nothing is owed",
        InvoiceStatus::Uncollectible => "Uncollectible",
        InvoiceStatus::Draft => "Draft",
    };
    facts.push(("Status", status.to_string()));
    if let Some(paid_at) = invoice.paid_at {
        facts.push(("Date paid", long_date(paid_at)));
    }
    if invoice.status == InvoiceStatus::Open {
        let due = currency.display(invoice.amount_remaining());
        facts.push(("Amount due", escape(&due)));
        if let Some(next) = invoice.next_payment_attempt {
            facts.push(("Next payment attempt", long_date(next)));
        }
    }
    if let Some(charge) = &receipt.charge {
        if let Some(card) = &charge.card {
            facts.push(("Payment method", escape(&card.describe())));
        }
        if let Some(url) = charge.receipt_url(public_url) {
            let link = format!("<a href=\"{}\">View the receipt</a>", escape(&url));
            facts.push(("Receipt", link));
        }
    }
    facts
}

/// The table's foot: the total, what was paid, each refund and what the customer paid net.
fn totals(receipt: &Receipt, currency: &Currency) -> String {
    let row = |label: &str, amount: String, class: &str| {
        format!(
            "<tr class=\"{class}\"><th scope=\"row\" colspan=\"2\">{label}</th><td class=\"num\">{}</td></tr>\n",
            escape(&amount)
        )
    };
    let total = receipt
        .invoice
        .as_ref()
        .map(|i| i.total)
        .unwrap_or_else(|| receipt.lines.iter().map(|l| l.amount).sum());
    let mut out = row("Total", currency.display(total), "total-row");
    out.push_str(&row(
        "Amount paid",
        currency.display(receipt.amount_paid()),
        "",
    ));
    for refund in &receipt.refunds {
        out.push_str(&row(
            &format!("Refunded on {}", long_date(refund.created)),
            format!("−{}", currency.display(refund.amount)),
            "refund",
        ));
    }
    if !receipt.refunds.is_empty() {
        out.push_str(&row(
            "Net paid",
            currency.display(receipt.amount_paid() - receipt.amount_refunded()),
            "total-row",
        ));
    }
    out
}

/// A receipt email: its subject, and its body in plain text and in HTML.
#[derive(Debug, Clone)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The styles of the email's HTML, in its head: mail readers load no stylesheet.
const LETTER_CSS: &str = "body{margin:0;padding:24px;background:#f5f6f9;color:#1a1f36;\
    font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}\
    .card{max-width:560px;margin:0 auto;background:#fff;border:1px solid #d9dde6;border-radius:10px;padding:24px}\
    h1{font-size:20px;margin:0 0 16px}h2{font-size:16px;margin:20px 0 8px}\
    dl{margin:0 0 16px}dl div{margin:0 0 8px}dt{color:#5b6477;font-size:12px;font-weight:600;text-transform:uppercase}\
    dd{margin:0;font-weight:600}table{width:100%;border-collapse:collapse}\
    th,td{text-align:left;padding:6px 4px;border-bottom:1px solid #d9dde6}.num{text-align:right}\
    tfoot th{text-align:right;font-weight:400;color:#5b6477}.total-row th,.total-row td{font-weight:700;color:#1a1f36}\
    .period,.contact,.test-hint{color:#5b6477;font-size:13px}a.button{display:inline-block;background:#2f5bea;\
    color:#fff;padding:10px 16px;border-radius:8px;text-decoration:none;font-weight:600}";

/// The email of a payment's receipt, or of `refund` given back from it: the same [`summary`]
/// as the page, and a link to the page.
pub fn letter(
    receipt: &Receipt,
    refund: Option<&crate::domain::refunds::Refund>,
    public_url: &str,
) -> Letter {
    let currency = Currency::from_stored(receipt.currency.clone());
    let link = receipt
        .charge
        .as_ref()
        .and_then(|c| c.receipt_url(public_url))
        .unwrap_or_default();
    let (subject, lead) = match refund {
        Some(refund) => (
            format!("Your refund from {}", receipt.merchant),
            format!(
                "{} refunded {} of your payment. Refunds take 5 to 10 days to reach your account.",
                receipt.merchant,
                currency.display(refund.amount)
            ),
        ),
        None => (
            format!("Your receipt from {}", receipt.merchant),
            format!(
                "Thank you: {} received your payment of {}.",
                receipt.merchant,
                currency.display(receipt.amount_paid())
            ),
        ),
    };
    let test_note = if receipt.livemode { "" } else { TEST_NOTE };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{LETTER_CSS}</style>\n</head>\n<body>\n\
         <div class=\"card\">\n<h1>{title}</h1>\n<p>{lead}</p>\n{summary}\
         <p><a class=\"button\" href=\"{link}\">View receipt</a></p>\n{test_note}</div>\n</body>\n</html>\n",
        title = escape(&subject),
        lead = escape(&lead),
        summary = summary(receipt, Shown::Payment, public_url),
        link = escape(&link),
    );
    let text = format!(
        "{subject}\n\n{lead}\n\n{}\nView your receipt: {link}\n{}",
        text_summary(receipt, &currency),
        if receipt.livemode {
            ""
        } else {
            "\nTest mode: no real money moved.\n"
        }
    );
    Letter {
        subject,
        text,
        html,
    }
}

/// The receipt in plain text: the facts, a line per item, the totals and refunds.
fn text_summary(receipt: &Receipt, currency: &Currency) -> String {
    let mut out = String::new();
    if let Some(charge) = &receipt.charge {
        out.push_str(&format!(
            "Amount paid: {}\nDate paid: {}\n",
            currency.display(charge.amount),
            long_date(charge.created)
        ));
        if let Some(card) = &charge.card {
            out.push_str(&format!("Payment method: {}\n", card.describe()));
        }
    }
    if let Some(number) = receipt.invoice.as_ref().and_then(|i| i.number.as_ref()) {
        out.push_str(&format!("Invoice: {number}\n"));
    }
    out.push('\n');
    for line in &receipt.lines {
        out.push_str(&format!(
            "{} × {}  {}\n",
            line.description,
            line.quantity,
            currency.display(line.amount)
        ));
    }
    for refund in &receipt.refunds {
        out.push_str(&format!(
            "Refunded on {}  −{}\n",
            long_date(refund.created),
            currency.display(refund.amount)
        ));
    }
    if !receipt.refunds.is_empty() {
        out.push_str(&format!(
            "Net paid  {}\n",
            currency.display(receipt.amount_paid() - receipt.amount_refunded())
        ));
    }
    out.push_str(&format!(
        "\nQuestions about this payment? Contact {}.\n",
        receipt.merchant
    ));
    out
}
