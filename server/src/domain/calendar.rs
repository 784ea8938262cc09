//! Working-day arithmetic under a project's calendar (by default Monday to Friday, no holidays).
//! Durations in the plan and in the simulation are counted in working days; dates shown to readers
//! are calendar dates.

use app::calendar::Date;
use app::planning::ProjectCalendar;
use chrono::{Datelike, Duration, Months, NaiveDate};

/// The last day of a `YYYY-MM` period.
pub fn period_end(period: &str) -> Option<NaiveDate> {
    let first = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(Months::new(1))?;
    next.pred_opt().filter(|d| d.month() == first.month())
}

/// A project's working time: the days of the week worked and the holidays. Built from the
/// project's [`ProjectCalendar`] (checked on the way in: at least one day of the week is worked and
/// the holidays are finitely many, so every search for a working day ends).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Calendar {
    /// Monday first.
    week: [bool; 7],
    /// Sorted, without repeats.
    holidays: Vec<NaiveDate>,
}

/// Monday to Friday without holidays.
pub const STANDARD: Calendar = Calendar {
    week: [true, true, true, true, true, false, false],
    holidays: Vec::new(),
};

impl Default for Calendar {
    fn default() -> Self {
        STANDARD
    }
}

impl Calendar {
    /// The calendar a project's settings describe; unreadable holidays are skipped and a week with
    /// no working day is read as the standard week (both are refused when the settings are saved).
    pub fn of(settings: &ProjectCalendar) -> Calendar {
        let week = settings.week();
        let mut holidays: Vec<NaiveDate> = settings
            .holidays
            .iter()
            .filter_map(|h| NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d").ok())
            .collect();
        holidays.sort();
        holidays.dedup();
        Calendar {
            week: if week.contains(&true) {
                week
            } else {
                STANDARD.week
            },
            holidays,
        }
    }

    /// Whether `date` is worked.
    pub fn is_working(&self, date: NaiveDate) -> bool {
        self.week[date.weekday().num_days_from_monday() as usize]
            && self.holidays.binary_search(&date).is_err()
    }

    /// The first working day on or after `date`.
    pub fn working_day_from(&self, mut date: NaiveDate) -> NaiveDate {
        while !self.is_working(date) {
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        date
    }

    /// The working day `n` working days after `date` (a working day).
    pub fn add_working_days(&self, mut date: NaiveDate, n: i64) -> NaiveDate {
        for _ in 0..n {
            date = self.working_day_from(date + Duration::days(1));
        }
        date
    }

    /// Working days in `[from, to)`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        from.iter_days()
            .take_while(|d| *d < to)
            .filter(|d| self.is_working(*d))
            .count() as i64
    }

    /// The date `days` working days (possibly fractional, rounded up) after `from`.
    pub fn date_after_working_days(&self, from: NaiveDate, days: f64) -> NaiveDate {
        if days <= 0.0 {
            return from;
        }
        self.add_working_days(self.working_day_from(from), days.ceil() as i64)
    }
}

/// The status date of the month `period` under a project's calendar (its reporting day, or the
/// month's last day).
pub fn status_date(settings: &ProjectCalendar, period: &str) -> Option<NaiveDate> {
    naive(settings.status_date(period)?)
}

/// The latest status date on or before `today` under a project's calendar.
pub fn latest_status_date(settings: &ProjectCalendar, today: NaiveDate) -> Option<NaiveDate> {
    let today = Date::new(today.year(), today.month(), today.day())?;
    naive(settings.latest_status_date(today)?)
}

/// The shared calendar's date as chrono's.
fn naive(date: Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year(), date.month(), date.day())
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
        assert_eq!(STANDARD.add_working_days(friday, 1), date(2026, 11, 30));
        assert_eq!(STANDARD.working_days_between(friday, date(2026, 12, 4)), 5);
        assert_eq!(
            STANDARD.working_day_from(date(2026, 11, 28)),
            date(2026, 11, 30)
        );
    }

    #[test]
    fn fractional_days_round_up_to_a_working_day() {
        let monday = date(2026, 11, 30);
        assert_eq!(STANDARD.date_after_working_days(monday, 0.0), monday);
        assert_eq!(
            STANDARD.date_after_working_days(monday, 0.2),
            date(2026, 12, 1)
        );
        assert_eq!(
            STANDARD.date_after_working_days(monday, 5.0),
            date(2026, 12, 7)
        );
    }

    /// The plain reading of a calendar: walk the days one by one and ask each.
    fn worked(settings: &ProjectCalendar, d: NaiveDate) -> bool {
        let name = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            [d.weekday().num_days_from_monday() as usize];
        settings.working_days.iter().any(|w| w == name)
            && !settings.holidays.contains(&d.to_string())
    }

    #[test]
    fn a_project_calendar_skips_its_own_days_off_and_holidays() {
        // A six-day week with the Christmas holidays off.
        let settings = ProjectCalendar {
            working_days: ["mon", "tue", "wed", "thu", "fri", "sat"]
                .map(String::from)
                .to_vec(),
            holidays: vec![
                "2026-12-25".into(),
                "2026-12-26".into(),
                "2027-01-01".into(),
            ],
            reporting_day: 20,
        };
        let calendar = Calendar::of(&settings);
        let thursday = date(2026, 12, 24);
        // Fri 25 and Sat 26 are holidays, Sun 27 is not worked.
        assert_eq!(calendar.add_working_days(thursday, 1), date(2026, 12, 28));
        assert_eq!(
            calendar.working_days_between(date(2026, 12, 21), date(2027, 1, 4)),
            9
        );
        // Against the day-by-day reading over a year, from every start.
        let from = date(2026, 12, 1);
        for offset in 0..60 {
            let start = from + Duration::days(offset);
            let end = start + Duration::days(90);
            let plain = start
                .iter_days()
                .take_while(|d| *d < end)
                .filter(|d| worked(&settings, *d))
                .count();
            assert_eq!(calendar.working_days_between(start, end), plain as i64);
        }
        assert_eq!(status_date(&settings, "2027-02"), Some(date(2027, 2, 20)));
        // A week with no working day is never read as one (it is refused when saved).
        let idle = ProjectCalendar {
            working_days: Vec::new(),
            ..ProjectCalendar::default()
        };
        assert_eq!(Calendar::of(&idle), STANDARD);
    }
}
