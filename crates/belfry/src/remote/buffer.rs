//! Results waiting to be pushed: bounded, oldest dropped first (and counted) when full.

use std::collections::VecDeque;

use belfry_core::CheckResult;

#[derive(Debug)]
pub(super) struct Buffer {
    results: VecDeque<CheckResult>,
    cap: usize,
    /// Results dropped because the buffer was full, since the start.
    pub dropped: u64,
}

impl Buffer {
    pub fn new(cap: usize) -> Self {
        Self { results: VecDeque::new(), cap: cap.max(1), dropped: 0 }
    }

    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn push(&mut self, result: CheckResult) {
        if self.results.len() >= self.cap {
            self.results.pop_front();
            self.dropped += 1;
        }
        self.results.push_back(result);
    }

    /// Takes the oldest `n` at most.
    pub fn take(&mut self, n: usize) -> Vec<CheckResult> {
        let n = n.min(self.results.len());
        self.results.drain(..n).collect()
    }

    /// Puts a batch that could not be delivered back in front, dropping the oldest of it if
    /// newer results filled the room meanwhile.
    pub fn restore(&mut self, batch: Vec<CheckResult>) {
        let room = self.cap.saturating_sub(self.results.len());
        let skip = batch.len().saturating_sub(room);
        self.dropped += skip as u64;
        for result in batch.into_iter().skip(skip).rev() {
            self.results.push_front(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(n: i64) -> CheckResult {
        serde_json::from_value(serde_json::json!({
            "monitor": "m", "region": "eu", "at": jiff::Timestamp::from_second(n).unwrap(), "ok": true, "duration_ms": 1,
        }))
        .unwrap()
    }

    fn seconds(b: &mut Buffer) -> Vec<i64> {
        b.take(usize::MAX).iter().map(|r| r.at.as_second()).collect()
    }

    #[test]
    fn a_full_buffer_drops_the_oldest_and_counts_them() {
        let mut b = Buffer::new(3);
        for n in 1..=5 {
            b.push(result(n));
        }
        assert_eq!((b.len(), b.dropped), (3, 2));
        assert_eq!(seconds(&mut b), [3, 4, 5]);
    }

    #[test]
    fn an_undelivered_batch_goes_back_in_front_in_order() {
        let mut b = Buffer::new(4);
        for n in 1..=3 {
            b.push(result(n));
        }
        let batch = b.take(2);
        b.push(result(4));
        b.push(result(5));
        b.restore(batch);
        assert_eq!(b.dropped, 1, "room for one of the two");
        assert_eq!(seconds(&mut b), [2, 3, 4, 5]);
    }
}
