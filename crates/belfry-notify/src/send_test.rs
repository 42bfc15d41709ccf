//! The message behind every channel's "send test" action.

use belfry_core::channel::{ChannelId, Message};
use jiff::Timestamp;

/// A test message for `channel_id`, naming the status page when `page_url` is given.
/// `now` makes the idempotency and dedup keys unique per test, so receivers that drop repeats
/// still show a second test. Times are shown in UTC; set `page_time_zone` to the page's zone.
pub fn test_message(channel_id: &ChannelId, page_url: Option<&str>, now: Timestamp) -> Message {
    Message::test(channel_id, page_url, now)
}
