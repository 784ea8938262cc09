//! Text rules of the editor that need no browser: how a textarea's new value differs from the
//! document's text (as one splice, in UTF-16 code units like the browser's caret), and the member
//! list's bookkeeping.

/// The one splice that turns `old` into `new`: where it starts, how many UTF-16 units go, and what
/// comes in their place. The common prefix and suffix stay untouched, so the splice is as small as
/// typing makes it (one character typed is one character inserted).
pub fn splice(old: &str, new: &str) -> (u32, u32, String) {
    let a: Vec<u16> = old.encode_utf16().collect();
    let b: Vec<u16> = new.encode_utf16().collect();
    let mut start = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    // Never split a surrogate pair.
    if start > 0 && start < b.len() && (0xDC00..0xE000).contains(&b[start]) {
        start -= 1;
    }
    let max_suffix = a.len().min(b.len()) - start;
    let mut suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    if suffix > 0 && a.len() - suffix > start && (0xDC00..0xE000).contains(&a[a.len() - suffix]) {
        suffix -= 1;
    }
    let removed = a.len() - start - suffix;
    let inserted = String::from_utf16_lossy(&b[start..b.len() - suffix]);
    (start as u32, removed as u32, inserted)
}

/// Applies a splice to a string (for tests and checks).
pub fn apply_splice(text: &str, (start, removed, inserted): &(u32, u32, String)) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    let (start, end) = (*start as usize, (*start + *removed) as usize);
    let mut out: Vec<u16> = units[..start].to_vec();
    out.extend(inserted.encode_utf16());
    out.extend_from_slice(&units[end..]);
    String::from_utf16_lossy(&out)
}

/// "Ana is typing", "Ana and Ben are typing", "Ana, Ben and 2 others are typing".
pub fn typing_line(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        [a, b, rest @ ..] => Some(format!(
            "{a}, {b} and {} other{} are typing…",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        )),
    }
}

/// The reconnect delay after `attempt` failures, in milliseconds, for a jitter draw in `[0, 1)`:
/// 0.5 s doubling up to 30 s, then spread between half and one and a half of that.
pub fn backoff_ms(attempt: u32, jitter: f64) -> u32 {
    let base = 500.0 * 2f64.powi(attempt.min(6) as i32);
    (base.min(30_000.0) * (0.5 + jitter.clamp(0.0, 1.0))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(old: &str, new: &str) -> (u32, u32, String) {
        let s = splice(old, new);
        assert_eq!(apply_splice(old, &s), new, "{old:?} → {new:?} by {s:?}");
        s
    }

    #[test]
    fn typing_is_one_small_splice() {
        assert_eq!(round_trip("hello", "hello!"), (5, 0, "!".into()));
        assert_eq!(round_trip("hello", "hllo"), (1, 1, String::new()));
        assert_eq!(round_trip("hello", "help"), (3, 2, "p".into()));
        assert_eq!(round_trip("", "abc"), (0, 0, "abc".into()));
        assert_eq!(round_trip("abc", ""), (0, 3, String::new()));
        assert_eq!(round_trip("aaa", "aaaa"), (3, 0, "a".into()));
        assert_eq!(round_trip("same", "same"), (4, 0, String::new()));
    }

    #[test]
    fn positions_count_utf16_like_the_caret() {
        assert_eq!(round_trip("é😀x", "é😀yx"), (3, 0, "y".into()));
        round_trip("😀", "😁");
        round_trip("a😀b", "a😀😀b");
        round_trip("日本語", "日本");
    }

    #[test]
    fn typing_lines_read_well() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(typing_line(&[]), None);
        assert_eq!(typing_line(&n(&["Ana"])).as_deref(), Some("Ana is typing…"));
        assert_eq!(
            typing_line(&n(&["Ana", "Ben"])).as_deref(),
            Some("Ana and Ben are typing…")
        );
        assert_eq!(
            typing_line(&n(&["Ana", "Ben", "Cy"])).as_deref(),
            Some("Ana, Ben and 1 other are typing…")
        );
    }

    #[test]
    fn backoff_grows_jitters_and_caps() {
        assert_eq!(backoff_ms(0, 0.5), 500);
        assert_eq!(backoff_ms(1, 0.5), 1000);
        assert_eq!(backoff_ms(0, 0.0), 250);
        assert_eq!(backoff_ms(20, 0.5), 30_000);
        assert_eq!(backoff_ms(20, 0.999), 44_970);
    }
}
