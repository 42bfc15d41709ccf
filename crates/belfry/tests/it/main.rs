//! End-to-end tests: the real engine, store and binary against real local servers.

mod alerts;
mod auto_incident;
mod binary;
mod certificates;
mod channels_api;
mod chromium;
mod console;
mod console_browser;
mod deps;
mod dns;
mod engine;
mod icmp;
mod incident_api;
mod incidents;
mod knot;
mod nodes;
mod outcomes;
mod page;
mod postgres;
mod postmortem;
mod probes;
mod subscribers;
mod support;
mod widget;
