//! belfry-notify against real receivers: local HTTP servers that record every request, and a
//! real SMTP server (aiosmtpd) that keeps every mail.

mod email;
mod failures;
mod fixtures;
mod http_channels;
mod receiver;
mod smtp;
