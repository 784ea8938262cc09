//! Following each instance's stream of relayed messages: a number missing, a heartbeat ahead of
//! the last number heard, or a stream that stops without its heartbeat means messages were lost.

use std::time::{Duration, Instant};

/// Instances whose streams a subscriber follows at once. Past it (instances come and go with
/// restarts, each with a new id) the oldest-known are forgotten and start again as new.
pub const MAX_ORIGINS: usize = 256;

/// Where each instance's stream stands, as this subscriber has heard it.
#[derive(Debug)]
struct Stream {
    /// The last number heard.
    last: u64,
    /// Since when the last number heard waits for a heartbeat to confirm that nothing followed
    /// it (`None`: confirmed).
    unconfirmed_since: Option<Instant>,
}

/// Each instance's stream, to find the messages that never arrived: a number skipped, a heartbeat
/// past the last number heard, or a stream that stopped without its heartbeat (its instance died
/// with messages still in its outbox).
#[derive(Debug, Default)]
pub struct StreamGaps {
    streams: std::collections::HashMap<Box<str>, Stream>,
    /// Instances in the order they were first heard, to forget the oldest past [`MAX_ORIGINS`].
    order: std::collections::VecDeque<Box<str>>,
}

impl StreamGaps {
    /// Records message `number` from `origin`; false when it does not follow the last one heard
    /// from there: a message is missing (or the instance restarted its numbering). The first
    /// message heard from an instance follows only if it is its first ever: one numbered later
    /// means this subscriber may have missed the ones before. Unnumbered messages (0) are not
    /// followed.
    pub fn follows(&mut self, origin: &str, number: u64, now: Instant) -> bool {
        if number == 0 {
            return true;
        }
        let follows = match self.streams.get(origin) {
            Some(stream) => number == stream.last + 1,
            None => number == 1,
        };
        self.set(origin, number, Some(now));
        follows
    }

    /// Records a heartbeat: `origin` has sent everything up to `number`. False when this subscriber
    /// has not heard all of it (or first hears of the instance now, with messages before).
    pub fn heard_up_to(&mut self, origin: &str, number: u64) -> bool {
        let all = self
            .streams
            .get(origin)
            .map_or(number == 0, |s| s.last == number);
        self.set(origin, number, None);
        all
    }

    /// Whether `origin`'s stream has been heard before.
    pub fn knows(&self, origin: &str) -> bool {
        self.streams.contains_key(origin)
    }

    /// Whether a stream stopped more than `grace` ago without the heartbeat that confirms its
    /// last message: its instance may have gone with messages unsent. Each such stream is counted
    /// once.
    pub fn stopped_unconfirmed(&mut self, now: Instant, grace: Duration) -> bool {
        let mut any = false;
        for stream in self.streams.values_mut() {
            if stream
                .unconfirmed_since
                .is_some_and(|since| now.duration_since(since) > grace)
            {
                stream.unconfirmed_since = None;
                any = true;
            }
        }
        any
    }

    fn set(&mut self, origin: &str, last: u64, unconfirmed_since: Option<Instant>) {
        if let Some(stream) = self.streams.get_mut(origin) {
            stream.last = last;
            stream.unconfirmed_since = unconfirmed_since;
            return;
        }
        if self.order.len() >= MAX_ORIGINS {
            if let Some(oldest) = self.order.pop_front() {
                self.streams.remove(&oldest);
            }
        }
        self.order.push_back(origin.into());
        self.streams.insert(
            origin.into(),
            Stream {
                last,
                unconfirmed_since,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_stream_is_followed_on_its_own() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        assert!(gaps.follows("a", 1, now));
        assert!(gaps.follows("b", 1, now));
        assert!(gaps.follows("a", 2, now));
        assert!(gaps.follows("b", 2, now));
        assert!(!gaps.follows("a", 4, now), "3 never came");
        assert!(gaps.follows("a", 5, now), "followed again from 4");
        assert!(!gaps.follows("b", 1, now), "b restarted its numbering");
        assert!(gaps.follows("b", 2, now));
        assert!(
            gaps.follows("c", 0, now),
            "unnumbered messages are not followed"
        );
    }

    #[test]
    fn a_heartbeat_shows_the_messages_lost_at_the_end_of_a_stream() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        assert!(gaps.follows("a", 1, now));
        assert!(gaps.follows("a", 2, now));
        assert!(gaps.heard_up_to("a", 2), "all heard");
        assert!(
            !gaps.heard_up_to("a", 4),
            "3 and 4 were lost, and nothing came after"
        );
        assert!(gaps.follows("a", 5, now), "followed again from 4");
        assert!(
            !gaps.heard_up_to("new", 9),
            "first heard of, with 9 messages before"
        );
    }

    #[test]
    fn a_stream_that_stops_without_its_heartbeat_is_noticed_once() {
        let mut gaps = StreamGaps::default();
        let start = Instant::now();
        let grace = Duration::from_secs(3);
        assert!(gaps.follows("a", 1, start));
        assert!(gaps.follows("b", 1, start));
        assert!(gaps.heard_up_to("b", 1));
        assert!(!gaps.stopped_unconfirmed(start + Duration::from_secs(2), grace));
        assert!(
            gaps.stopped_unconfirmed(start + Duration::from_secs(4), grace),
            "a went quiet and never confirmed"
        );
        assert!(
            !gaps.stopped_unconfirmed(start + Duration::from_secs(9), grace),
            "once"
        );
    }

    #[test]
    fn a_stream_first_heard_after_its_start_may_have_lost_messages() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        assert!(!gaps.follows("late", 40, now));
        assert!(gaps.follows("late", 41, now));
    }

    #[test]
    fn the_streams_followed_are_bounded() {
        let mut gaps = StreamGaps::default();
        let now = Instant::now();
        for i in 0..MAX_ORIGINS + 10 {
            assert!(gaps.follows(&format!("i{i}"), 1, now));
        }
        assert_eq!(gaps.streams.len(), MAX_ORIGINS);
        assert_eq!(gaps.order.len(), MAX_ORIGINS);
        assert!(!gaps.follows("i0", 2, now), "forgotten, so heard anew");
    }

    proptest::proptest! {
        /// Any pattern of lost messages, interleaved across instances, is found: for every
        /// instance that lost one, a later message or its closing heartbeat says so; with nothing
        /// lost, nothing is reported.
        #[test]
        fn every_lost_message_is_noticed(
            streams in proptest::collection::vec(
                proptest::collection::vec(proptest::bool::weighted(0.8), 1..40), 1..4),
            order in proptest::collection::vec(0usize..4, 0..200),
        ) {
            let mut gaps = StreamGaps::default();
        let now = Instant::now();
            let mut next = vec![0usize; streams.len()];
            let mut noticed = vec![false; streams.len()];
            let mut lost = vec![false; streams.len()];
            let mut deliver = |i: usize, gaps: &mut StreamGaps, next: &mut Vec<usize>| {
                let k = next[i];
                next[i] += 1;
                if streams[i][k] {
                    if !gaps.follows(&format!("o{i}"), k as u64 + 1, now) {
                        noticed[i] = true;
                        proptest::prop_assert!(lost[i], "a false alarm from o{}", i);
                    }
                } else {
                    lost[i] = true;
                }
                Ok(())
            };
            // Interleaved as `order` says, then whatever is left, in turn.
            for pick in order {
                let i = pick % streams.len();
                if next[i] < streams[i].len() {
                    deliver(i, &mut gaps, &mut next)?;
                }
            }
            for i in 0..streams.len() {
                while next[i] < streams[i].len() {
                    deliver(i, &mut gaps, &mut next)?;
                }
            }
            for (i, stream) in streams.iter().enumerate() {
                if !gaps.heard_up_to(&format!("o{i}"), stream.len() as u64) {
                    noticed[i] = true;
                }
                proptest::prop_assert_eq!(noticed[i], lost[i], "o{}", i);
            }
        }
    }
}
