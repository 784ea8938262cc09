//! Calendar dates for the pages: reading `YYYY-MM-DD` and `YYYY-MM`, naming months, counting days
//! between two dates and the date of a Unix time. This is all the date arithmetic the browser needs,
//! so the WASM carries these few functions instead of a date library (the server uses `chrono`).
//!
//! Dates are proleptic Gregorian; the day counts use Howard Hinnant's `days_from_civil` and
//! `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>).

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A valid calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date, if `day` exists in that month (years 1 to 9999).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// Today (UTC): the browser's clock in the browser, the server's when rendering on the server.
    pub fn today() -> Option<Self> {
        #[cfg(feature = "hydrate")]
        let seconds = (js_sys::Date::now() / 1000.0) as i64;
        #[cfg(not(feature = "hydrate"))]
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Date::from_unix_seconds(seconds)
    }

    /// An ISO date, exactly `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        Date::new(
            digits(&text[..4])?,
            digits(&text[5..7])?,
            digits(&text[8..])?,
        )
    }

    /// The first day of a monthly period, exactly `YYYY-MM`.
    pub fn parse_period(period: &str) -> Option<Self> {
        let bytes = period.as_bytes();
        if bytes.len() != 7 || bytes[4] != b'-' {
            return None;
        }
        Date::new(digits(&period[..4])?, digits(&period[5..])?, 1)
    }

    /// The date (UTC) of a Unix time in seconds, if it falls in years 1 to 9999.
    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
        Date::new(i32::try_from(year).ok()?, month, day)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn day(self) -> u32 {
        self.day
    }

    /// The first day of the month before this one's.
    pub fn previous_month(self) -> Date {
        let (year, month) = if self.month == 1 {
            (self.year - 1, 12)
        } else {
            (self.year, self.month - 1)
        };
        // Day 1 exists in every month; only year 0 is out of range.
        Date::new(year, month, 1).unwrap_or(self)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.days_since_epoch() - self.days_since_epoch()
    }

    /// `23 Apr 2027`.
    pub fn readable(self) -> String {
        format!("{} {} {}", self.day, short_month(self.month), self.year)
    }

    /// `April 2027`.
    pub fn month_and_year(self) -> String {
        format!("{} {}", MONTHS[self.month as usize - 1], self.year)
    }

    /// `Apr 27`, for chart axes.
    pub fn short_month_and_year(self) -> String {
        format!("{} {:02}", short_month(self.month), self.year % 100)
    }

    /// `2027-04-23`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    fn days_since_epoch(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }
}

/// `(year, month, day)` of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both fit: the month is 1..=12 and the day 1..=31 by construction.
    (year, month as u32, day as u32)
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in a month of a year (month 1–12).
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn short_month(month: u32) -> &'static str {
    &MONTHS[month as usize - 1][..3]
}

/// A field of ASCII digits only (no sign, no spaces).
fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};

    #[test]
    fn iso_dates_are_read_strictly() {
        assert_eq!(Date::parse_iso("2027-04-23"), Date::new(2027, 4, 23));
        assert!(Date::parse_iso("2024-02-29").is_some(), "leap day");
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2027-04-31",
            "2027-13-01",
            "2027-00-10",
            "2027-04-00",
            "2027-4-23",
            "27-04-23",
            "2027/04/23",
            "+207-04-23",
            "2027-04-23T00:00",
            "2027-04-2x",
            "",
            "2027-04-23 ",
            "0000-01-01",
        ] {
            assert_eq!(Date::parse_iso(bad), None, "{bad:?}");
        }
        assert_eq!(
            Date::parse_iso("2000-02-29").map(Date::iso).as_deref(),
            Some("2000-02-29")
        );
    }

    #[test]
    fn periods_and_words() {
        let april = Date::parse_period("2027-04").expect("period");
        assert_eq!(april.month_and_year(), "April 2027");
        assert_eq!(april.short_month_and_year(), "Apr 27");
        assert_eq!(
            Date::parse_period("2009-12")
                .map(Date::short_month_and_year)
                .as_deref(),
            Some("Dec 09")
        );
        assert_eq!(
            Date::new(2027, 4, 3).map(Date::readable).as_deref(),
            Some("3 Apr 2027")
        );
        for bad in ["2027-13", "2027-4", "2027-04-01", "April"] {
            assert_eq!(Date::parse_period(bad), None, "{bad:?}");
        }
    }

    /// Every day from 1600 to 2400 agrees with chrono on the day count, the weekday-independent
    /// round trip through Unix seconds, and the words.
    #[test]
    fn day_counts_agree_with_chrono_over_eight_centuries() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        let first = NaiveDate::from_ymd_opt(1600, 1, 1).expect("first");
        let last = NaiveDate::from_ymd_opt(2400, 12, 31).expect("last");
        let mut day = first;
        let origin = Date::new(1970, 1, 1).expect("origin");
        while day <= last {
            let ours = Date::new(day.year(), day.month(), day.day()).expect("valid");
            let expected = (day - epoch).num_days();
            assert_eq!(origin.days_until(ours), expected, "{day}");
            assert_eq!(
                Date::from_unix_seconds(expected * 86_400 + 86_399),
                Some(ours),
                "{day}"
            );
            assert_eq!(ours.iso(), day.format("%Y-%m-%d").to_string());
            if day.day() <= 2 {
                assert_eq!(ours.readable(), day.format("%-d %b %Y").to_string());
                assert_eq!(ours.month_and_year(), day.format("%B %Y").to_string());
                assert_eq!(ours.short_month_and_year(), day.format("%b %y").to_string());
            }
            day = day.succ_opt().expect("next day");
        }
    }

    #[test]
    fn unix_times_before_1970_and_out_of_range() {
        assert_eq!(Date::from_unix_seconds(-1), Date::new(1969, 12, 31));
        assert_eq!(Date::from_unix_seconds(0), Date::new(1970, 1, 1));
        assert_eq!(Date::from_unix_seconds(i64::MAX), None);
        assert_eq!(Date::from_unix_seconds(i64::MIN), None);
    }
}
