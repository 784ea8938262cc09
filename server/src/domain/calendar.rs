//! Working-day arithmetic: Monday to Friday are working days. Durations in the plan and in the
//! simulation are counted in working days; dates shown to readers are calendar dates.

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};

/// The last day of a `YYYY-MM` period.
pub fn period_end(period: &str) -> Option<NaiveDate> {
    let first = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(Months::new(1))?;
    next.pred_opt().filter(|d| d.month() == first.month())
}

/// The first working day on or after `date`.
pub fn working_day_from(mut date: NaiveDate) -> NaiveDate {
    while matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        date += Duration::days(1);
    }
    date
}

/// The working day `n` working days after `date` (a working day).
pub fn add_working_days(mut date: NaiveDate, n: i64) -> NaiveDate {
    for _ in 0..n {
        date = working_day_from(date + Duration::days(1));
    }
    date
}

/// Working days in `[from, to)`.
pub fn working_days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut days = 0;
    let mut d = from;
    while d < to {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            days += 1;
        }
        d += Duration::days(1);
    }
    days
}

/// The date `days` working days (possibly fractional, rounded up) after `from`.
pub fn date_after_working_days(from: NaiveDate, days: f64) -> NaiveDate {
    if days <= 0.0 {
        return from;
    }
    add_working_days(working_day_from(from), days.ceil() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_ends_are_month_ends() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(period_end("2026-02"), d(2026, 2, 28));
        assert_eq!(period_end("2028-02"), d(2028, 2, 29));
        assert_eq!(period_end("2026-12"), d(2026, 12, 31));
        assert_eq!(period_end("2026-13"), None);
        assert_eq!(period_end("soon"), None);
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn working_days_skip_weekends() {
        let friday = date(2026, 11, 27);
        assert_eq!(add_working_days(friday, 1), date(2026, 11, 30));
        assert_eq!(working_days_between(friday, date(2026, 12, 4)), 5);
        assert_eq!(working_day_from(date(2026, 11, 28)), date(2026, 11, 30));
    }

    #[test]
    fn fractional_days_round_up_to_a_working_day() {
        let monday = date(2026, 11, 30);
        assert_eq!(date_after_working_days(monday, 0.0), monday);
        assert_eq!(date_after_working_days(monday, 0.2), date(2026, 12, 1));
        assert_eq!(date_after_working_days(monday, 5.0), date(2026, 12, 7));
    }
}
