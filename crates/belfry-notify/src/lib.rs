//! Belfry's notification channels and message rendering.
//!
//! A [`ChannelSpec`](belfry_core::channel::ChannelSpec) from the config becomes a running
//! [`Notifier`] through [`build`]; every notifier takes the same channel-independent
//! [`Message`](belfry_core::channel::Message), renders it for its receiver and reports the
//! outcome as `Ok`, a [`NotifyError::Transient`] (retry later) or a
//! [`NotifyError::Permanent`] (retrying cannot help). A notifier sends once: retries, the
//! outbox and escalation belong to the dispatcher.

pub mod channel;
pub mod dispatch;
mod error;
mod http;
mod notifier;
pub mod render;
mod send_test;

pub use error::NotifyError;
pub use http::HttpClient;
pub use notifier::{Notifier, build};
pub use render::{Rendered, render};
pub use send_test::test_message;
