//! One file per channel kind: the request its receiver expects, and nothing else.
//! Shared wording comes from [`crate::render`].

pub mod discord;
pub mod email;
pub mod ntfy;
pub mod opsgenie;
pub mod pagerduty;
pub mod slack;
pub mod teams;
pub mod telegram;
pub mod webhook;
