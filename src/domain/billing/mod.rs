//! Recurring billing: subscriptions that a checkout in subscription mode starts, and their
//! invoices (Stripe's `subscription`, `subscription_item`, `invoice` and invoice line items;
//! decisions §11, billing.md §2). Objects carry every field of Stripe's current API version
//! and the older top-level fields shops still read (`current_period_start/end` on the
//! subscription; `subscription`, `payment_intent`, `charge` and `paid` on the invoice).

pub mod checkout;
pub mod invoices;
pub mod periods;
pub mod subscriptions;

pub use invoices::{Invoice, InvoiceLine, InvoiceStatus};
pub use subscriptions::{Subscription, SubscriptionItem, SubscriptionStatus};
