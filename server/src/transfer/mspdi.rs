//! Microsoft Project XML (MSPDI): the `Project` document in the
//! `http://schemas.microsoft.com/project` namespace that Project saves with "Save as XML" (every
//! version since 2002) and that ProjectLibre, GanttProject and others export.
//!
//! Read with `quick-xml`'s pull parser, one record at a time: a task's element is turned into a
//! small record as soon as it closes, so a 50,000-task file is never held as a tree. Read:
//!
//! - the project: `Title` (or `Name`), `Manager` (or `Author`), `CurrencyCode`, `StartDate`,
//!   `FinishDate`, `MinutesPerDay` (durations are working time: `PT16H0M0S` at 480 minutes a day is
//!   2 days), `CalendarUID`;
//! - its calendar (`Calendars`): working weekdays (`WeekDays`), and non-working exceptions as
//!   holidays, both the 2003 form (a `WeekDay` of `DayType` 0 with a `TimePeriod`) and the 2007+ form
//!   (`Exceptions`);
//! - tasks: `UID`, `Name`, `OutlineLevel`, `Summary`, `Milestone`, `Duration`, `RemainingDuration`,
//!   `Start`, `Finish`, `ActualStart`, `ActualFinish`, `PercentComplete`, `Cost`, `ActualCost`,
//!   `Baseline` number 0 (`Start`, `Finish`, `Duration`, `Cost`), `PredecessorLink` (`Type`,
//!   `LinkLag`), `ConstraintType`/`ConstraintDate` (kept as data), and
//!   `ExtendedAttribute` values whose field's alias names an optimistic, most likely or pessimistic
//!   duration;
//! - the first resource assigned to a task (`Assignments`, `Resources`) as its owner.
//!
//! Empty rows (`IsNull`), the project summary task (`UID` 0) and inactive tasks (`Active` 0, with a
//! warning) are not imported.

use std::collections::{HashMap, HashSet};

use app::planning::{ConstraintKind, ProjectCalendar};
use chrono::{Datelike, NaiveDate};
use quick_xml::events::Event;
use quick_xml::Reader;

use super::schedule::{outline_codes, LinkKind, Schedule, SourceLink, SourceTask};
use super::Problem;

/// The namespace of the document element.
pub const NAMESPACE: &str = "http://schemas.microsoft.com/project";
/// Deepest element nesting read (MSPDI is five levels deep).
const MAX_DEPTH: usize = 16;
/// Most holidays a calendar gives (the product's bound).
const MAX_HOLIDAYS: usize = app::planning::MAX_HOLIDAYS;
/// Most elements one record (a task, a calendar) may hold.
const MAX_CHILDREN: usize = 10_000;
/// Most project-level fields kept (MSPDI has about a hundred).
const MAX_PROJECT_FIELDS: usize = 1_000;
/// Most problems listed before reading stops.
const MAX_PROBLEMS: usize = 200;

/// An element read whole (a record's inside).
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    /// The trimmed text of the first child named `name`.
    fn get(&self, name: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// A task as read, before the project's minutes per day are known.
#[derive(Debug, Default)]
struct RawTask {
    uid: String,
    name: String,
    level: u32,
    summary: bool,
    milestone: bool,
    inactive: bool,
    /// A placeholder for a task of another project.
    external: bool,
    /// Durations in calendar time (an elapsed `DurationFormat`).
    elapsed: bool,
    null: bool,
    duration: Option<f64>,
    remaining: Option<f64>,
    start: Option<NaiveDate>,
    finish: Option<NaiveDate>,
    actual_start: Option<NaiveDate>,
    actual_finish: Option<NaiveDate>,
    percent: f64,
    cost: f64,
    actual_cost: f64,
    baseline: Option<Baseline>,
    constraint: Option<(u32, Option<NaiveDate>)>,
    /// Extended attribute values: field id, value.
    extended: Vec<(String, String)>,
    /// Predecessor UID, link type, lag (tenths of a minute), lag format, cross-project.
    links: Vec<(String, u32, f64, u32, bool)>,
}

#[derive(Debug, Default)]
struct Baseline {
    start: Option<NaiveDate>,
    finish: Option<NaiveDate>,
    duration: Option<f64>,
    cost: Option<f64>,
}

/// Reading state: problems with their places.
struct Read {
    problems: Vec<Problem>,
}

impl Read {
    fn fail(&mut self, location: impl Into<String>, message: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem {
                location: location.into(),
                message: message.into(),
            });
        }
    }

    fn number(&mut self, place: &str, field: &str, text: Option<&str>) -> Option<f64> {
        let text = text?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                self.fail(
                    format!("{place}, field {field}"),
                    format!("must be a number, not '{text}'"),
                );
                None
            }
        }
    }

    fn flag(&mut self, place: &str, field: &str, text: Option<&str>) -> bool {
        match text {
            None | Some("0") | Some("false") => false,
            Some("1") | Some("true") => true,
            Some(other) => {
                self.fail(
                    format!("{place}, field {field}"),
                    format!("must be 0 or 1, not '{other}'"),
                );
                false
            }
        }
    }

    fn date(&mut self, place: &str, field: &str, text: Option<&str>) -> Option<NaiveDate> {
        let text = text?;
        match text
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            Some(d) => Some(d),
            None => {
                self.fail(
                    format!("{place}, field {field}"),
                    format!("must be a date and time such as 2026-01-05T08:00:00, not '{text}'"),
                );
                None
            }
        }
    }

    /// An ISO 8601 duration (`PT16H0M0S`, `P2DT4H`) in minutes; a day written as `D` is a
    /// working day of `minutes_per_day`... which is not known yet, so days count 24 hours here and
    /// MSPDI writes working durations in hours anyway.
    fn duration(&mut self, place: &str, field: &str, text: Option<&str>) -> Option<f64> {
        let text = text?;
        match iso_duration_minutes(text) {
            Some(m) => Some(m),
            None => {
                self.fail(
                    format!("{place}, field {field}"),
                    format!("must be a duration such as PT16H0M0S, not '{text}'"),
                );
                None
            }
        }
    }
}

/// Minutes in an ISO 8601 duration; negative with a leading `-`.
pub fn iso_duration_minutes(text: &str) -> Option<f64> {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, text),
    };
    let rest = rest.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut minutes = 0.0;
    let mut any = false;
    for (part, units) in [
        (
            date,
            &[
                ('Y', 525_600.0),
                ('M', 43_200.0),
                ('W', 10_080.0),
                ('D', 1_440.0),
            ][..],
        ),
        (time, &[('H', 60.0), ('M', 1.0), ('S', 1.0 / 60.0)][..]),
    ] {
        let mut number = String::new();
        let mut next_unit = 0;
        for ch in part.chars() {
            if ch.is_ascii_digit() || ch == '.' {
                number.push(ch);
                continue;
            }
            let position = units[next_unit..].iter().position(|(u, _)| *u == ch)?;
            let value: f64 = number.parse().ok()?;
            minutes += value * units[next_unit + position].1;
            next_unit += position + 1;
            number.clear();
            any = true;
        }
        if !number.is_empty() {
            return None;
        }
    }
    (any && minutes.is_finite()).then_some(sign * minutes)
}

fn link_kind(code: u32) -> Option<LinkKind> {
    match code {
        0 => Some(LinkKind::FinishToFinish),
        1 => Some(LinkKind::FinishToStart),
        2 => Some(LinkKind::StartToFinish),
        3 => Some(LinkKind::StartToStart),
        _ => None,
    }
}

/// Microsoft Project's `ConstraintType` (0, as soon as possible, is no constraint).
fn constraint_kind(code: u32) -> Option<ConstraintKind> {
    Some(match code {
        1 => ConstraintKind::AsLateAsPossible,
        2 => ConstraintKind::MustStartOn,
        3 => ConstraintKind::MustFinishOn,
        4 => ConstraintKind::StartNoEarlierThan,
        5 => ConstraintKind::StartNoLaterThan,
        6 => ConstraintKind::FinishNoEarlierThan,
        7 => ConstraintKind::FinishNoLaterThan,
        _ => return None,
    })
}

fn task_record(r: &mut Read, node: &Node) -> RawTask {
    let uid = node.get("UID").unwrap_or("").to_string();
    let place = format!("task UID {uid}");
    if uid.is_empty() || uid.parse::<i64>().is_err() {
        r.fail(
            "task",
            format!(
                "'{}' has no numeric UID",
                node.get("Name").unwrap_or("(unnamed)")
            ),
        );
    }
    let mut t = RawTask {
        name: node.get("Name").unwrap_or("").to_string(),
        level: r
            .number(&place, "OutlineLevel", node.get("OutlineLevel"))
            .unwrap_or(1.0)
            .clamp(0.0, 100.0) as u32,
        summary: r.flag(&place, "Summary", node.get("Summary")),
        milestone: r.flag(&place, "Milestone", node.get("Milestone")),
        inactive: node.get("Active") == Some("0"),
        external: node.get("ExternalTask") == Some("1"),
        // Elapsed formats: em, eh, ed, ew, emo, e% and their estimated forms.
        elapsed: node
            .get("DurationFormat")
            .and_then(|f| f.parse::<u32>().ok())
            .is_some_and(|f| matches!(f, 4 | 6 | 8 | 10 | 12 | 20 | 36 | 38 | 40 | 42 | 44)),
        null: r.flag(&place, "IsNull", node.get("IsNull")),
        duration: r.duration(&place, "Duration", node.get("Duration")),
        remaining: r.duration(&place, "RemainingDuration", node.get("RemainingDuration")),
        start: r.date(&place, "Start", node.get("Start")),
        finish: r.date(&place, "Finish", node.get("Finish")),
        actual_start: r.date(&place, "ActualStart", node.get("ActualStart")),
        actual_finish: r.date(&place, "ActualFinish", node.get("ActualFinish")),
        percent: r
            .number(&place, "PercentComplete", node.get("PercentComplete"))
            .unwrap_or(0.0),
        cost: r.number(&place, "Cost", node.get("Cost")).unwrap_or(0.0),
        actual_cost: r
            .number(&place, "ActualCost", node.get("ActualCost"))
            .unwrap_or(0.0),
        ..RawTask::default()
    };
    for (field, minutes) in [("Duration", t.duration), ("RemainingDuration", t.remaining)] {
        if minutes.is_some_and(|m| m < 0.0) {
            r.fail(
                format!("{place}, field {field}"),
                format!(
                    "must not be negative, not {}",
                    node.get(field).unwrap_or("")
                ),
            );
        }
    }
    if let Some(kind) = r.number(&place, "ConstraintType", node.get("ConstraintType")) {
        if kind != 0.0 {
            t.constraint = Some((
                kind as u32,
                r.date(&place, "ConstraintDate", node.get("ConstraintDate")),
            ));
        }
    }
    for b in node.all("Baseline") {
        if b.get("Number").unwrap_or("0") != "0" {
            continue;
        }
        t.baseline = Some(Baseline {
            start: r.date(&place, "Baseline.Start", b.get("Start")),
            finish: r.date(&place, "Baseline.Finish", b.get("Finish")),
            duration: r.duration(&place, "Baseline.Duration", b.get("Duration")),
            cost: r.number(&place, "Baseline.Cost", b.get("Cost")),
        });
    }
    for a in node.all("ExtendedAttribute") {
        if let (Some(id), Some(value)) = (a.get("FieldID"), a.get("Value")) {
            t.extended.push((id.to_string(), value.to_string()));
        }
    }
    for l in node.all("PredecessorLink") {
        let Some(pred) = l.get("PredecessorUID") else {
            r.fail(
                format!("{place}, field PredecessorLink"),
                "has no PredecessorUID",
            );
            continue;
        };
        let kind = r
            .number(&place, "PredecessorLink.Type", l.get("Type"))
            .unwrap_or(1.0);
        if kind < 0.0 || link_kind(kind as u32).is_none() || kind.fract() != 0.0 {
            r.fail(
                format!("{place}, field PredecessorLink.Type"),
                format!("must be 0 (FF), 1 (FS), 2 (SF) or 3 (SS), not {kind}"),
            );
            continue;
        }
        t.links.push((
            pred.to_string(),
            kind as u32,
            r.number(&place, "PredecessorLink.LinkLag", l.get("LinkLag"))
                .unwrap_or(0.0),
            r.number(&place, "PredecessorLink.LagFormat", l.get("LagFormat"))
                .unwrap_or(7.0) as u32,
            l.get("CrossProject") == Some("1"),
        ));
    }
    t.uid = uid;
    t
}

/// Which three-point estimate an extended attribute's alias names, if any.
fn estimate_kind(alias: &str) -> Option<usize> {
    let a = alias.to_ascii_lowercase();
    if !a.contains("dur") {
        // "Optimistic start" and the like are dates, not estimates.
        return None;
    }
    if a.contains("optimistic") {
        Some(0)
    } else if a.contains("most likely") || a.contains("most_likely") || a.contains("mostlikely") {
        Some(1)
    } else if a.contains("pessimistic") {
        Some(2)
    } else {
        None
    }
}

/// The project calendar's working weekdays and holidays.
fn calendar(
    r: &mut Read,
    schedule: &mut Schedule,
    calendars: &[Node],
    uid: Option<&str>,
) -> Option<ProjectCalendar> {
    let by_uid: HashMap<&str, &Node> = calendars
        .iter()
        .filter_map(|c| c.get("UID").map(|u| (u, c)))
        .collect();
    let named = uid.and_then(|u| by_uid.get(u).copied());
    if uid.is_some() && named.is_none() {
        schedule.warn(
            "project, field CalendarUID",
            format!(
                "names calendar {}, which the file does not have; its base calendar is used",
                uid.unwrap_or_default()
            ),
        );
    }
    let first = named.or_else(|| {
        calendars
            .iter()
            .find(|c| c.get("IsBaseCalendar") == Some("1"))
    })?;
    // A derived calendar and the base calendars under it (at most 8): the week is the first one's
    // that has one, the exceptions are all of theirs.
    let mut chain = vec![first];
    while chain.len() < 8 {
        let last = chain[chain.len() - 1];
        match last.get("BaseCalendarUID").and_then(|u| by_uid.get(u)) {
            Some(base) if !chain.iter().any(|c| std::ptr::eq(*c, *base)) => chain.push(base),
            _ => break,
        }
    }
    let cal = chain
        .iter()
        .copied()
        .find(|c| c.all("WeekDays").next().is_some())
        .unwrap_or(first);
    let place = format!("calendar UID {}", first.get("UID").unwrap_or("?"));
    // MSPDI's DayType: 1 Sunday … 7 Saturday; PMR's week starts on Monday.
    let mut week = [true, true, true, true, true, false, false];
    let mut holidays: Vec<NaiveDate> = Vec::new();
    let mut add_range = |r: &mut Read, s: &mut Schedule, from: Option<&str>, to: Option<&str>| {
        let from = r.date(&place, "TimePeriod.FromDate", from);
        let to = r.date(&place, "TimePeriod.ToDate", to).or(from);
        if let (Some(from), Some(to)) = (from, to) {
            if to < from || (to - from).num_days() > 3_660 {
                s.warn(
                    place.clone(),
                    format!("a non-working period from {from} to {to} is not read"),
                );
                return;
            }
            // Bounded: at most ten times the holidays kept are gathered before the cut below.
            for i in 0..=(to - from).num_days() {
                if holidays.len() > 10 * MAX_HOLIDAYS {
                    break;
                }
                holidays.push(from + chrono::Duration::days(i));
            }
        }
    };
    for days in cal.all("WeekDays") {
        for day in days.all("WeekDay") {
            let kind = day.get("DayType").unwrap_or("");
            let working = day.get("DayWorking") == Some("1");
            match kind.parse::<usize>() {
                Ok(n @ 1..=7) => week[(n + 5) % 7] = working,
                Ok(0) if !working => {
                    for p in day.all("TimePeriod") {
                        add_range(r, schedule, p.get("FromDate"), p.get("ToDate"));
                    }
                }
                Ok(0) => schedule.warn(
                    place.clone(),
                    "a working exception (a day worked that is usually not) is not represented",
                ),
                _ => r.fail(
                    format!("{place}, field DayType"),
                    format!("must be 0 to 7, not '{kind}'"),
                ),
            }
        }
    }
    for list in chain.iter().flat_map(|c| c.all("Exceptions")) {
        for e in list.all("Exception") {
            let name = e.get("Name").unwrap_or("an exception").to_string();
            if e.get("DayWorking") == Some("1") {
                schedule.warn(
                    place.clone(),
                    format!("'{name}' makes days working; PMR's calendar holds non-working days only, so it is not read"),
                );
                continue;
            }
            let recurring = e
                .get("Occurrences")
                .and_then(|o| o.parse::<u32>().ok())
                .is_some_and(|o| o > 1)
                && e.get("Type").is_some_and(|t| t != "1");
            for p in e.all("TimePeriod") {
                if recurring {
                    // Its period spans every occurrence: only the first day is a holiday.
                    add_range(r, schedule, p.get("FromDate"), p.get("FromDate"));
                } else {
                    add_range(r, schedule, p.get("FromDate"), p.get("ToDate"));
                }
            }
            if recurring {
                schedule.warn(
                    place.clone(),
                    format!(
                        "'{name}' recurs weekly, monthly or yearly; only its first day is read"
                    ),
                );
            }
        }
    }
    if !week.iter().any(|w| *w) {
        schedule.warn(
            place.clone(),
            "works on no day of the week; Monday to Friday is used",
        );
        week = [true, true, true, true, true, false, false];
    }
    holidays.sort();
    holidays.dedup();
    holidays.retain(|d| (1900..=2200).contains(&d.year()));
    if holidays.len() > MAX_HOLIDAYS {
        schedule.warn(
            place.clone(),
            format!(
                "has {} non-working days; the first {MAX_HOLIDAYS} are kept",
                holidays.len()
            ),
        );
        holidays.truncate(MAX_HOLIDAYS);
    }
    Some(ProjectCalendar {
        working_days: app::planning::WEEKDAYS
            .iter()
            .zip(week)
            .filter(|(_, w)| *w)
            .map(|(d, _)| d.to_string())
            .collect(),
        holidays: holidays
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect(),
        reporting_day: app::planning::LAST_DAY,
    })
}

/// Whether text looks like an MSPDI document (for sniffing a request's body).
pub fn looks_like(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    head.contains("<Project") && head.contains(NAMESPACE)
}

/// The encoding an XML declaration names, if any.
pub fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head = std::str::from_utf8(head).ok().or_else(|| {
        // A declaration is ASCII; cut at the first byte that is not.
        let end = head
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(head.len());
        std::str::from_utf8(&head[..end]).ok()
    })?;
    let decl = head.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Reads an MSPDI document.
pub fn read(text: &str) -> Result<Schedule, Vec<Problem>> {
    let mut r = Read {
        problems: Vec::new(),
    };
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root_seen = false;
    let mut project: HashMap<String, String> = HashMap::new();
    let mut calendars: Vec<Node> = Vec::new();
    let mut tasks: Vec<RawTask> = Vec::new();
    let mut resources: HashMap<String, String> = HashMap::new();
    let mut assignments: Vec<(String, String)> = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut links_total = 0usize;
    let xml_error = |reader: &Reader<&[u8]>, e: &dyn std::fmt::Display| {
        vec![Problem {
            location: format!("byte {}", reader.error_position()),
            message: format!("is not well-formed XML: {e}"),
        }]
    };
    loop {
        let event = reader.read_event().map_err(|e| xml_error(&reader, &e))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = e.local_name().as_ref().to_string();
            if stack.is_empty() {
                if root_seen {
                    return Err(vec![Problem {
                        location: format!("byte {}", reader.buffer_position()),
                        message: "a second document element follows the first".into(),
                    }]);
                }
                root_seen = true;
                let prefix = e.name().prefix().map(|p| p.as_ref().to_string());
                let ns_attr = match &prefix {
                    Some(p) => format!("xmlns:{p}"),
                    None => "xmlns".to_string(),
                };
                let namespace = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.as_ref() == ns_attr)
                    .map(|a| a.value.to_string());
                if name != "Project" {
                    return Err(vec![Problem {
                        location: "document".into(),
                        message: format!(
                            "is an XML document of <{name}>, not a Microsoft Project <Project> (MSPDI)"
                        ),
                    }]);
                }
                if namespace.as_deref() != Some(NAMESPACE) {
                    return Err(vec![Problem {
                        location: "document".into(),
                        message: format!(
                            "is in the namespace '{}', not Microsoft Project's '{NAMESPACE}'",
                            namespace.unwrap_or_default()
                        ),
                    }]);
                }
            }
            if stack.len() >= MAX_DEPTH {
                return Err(vec![Problem {
                    location: format!("byte {}", reader.buffer_position()),
                    message: format!("elements are nested deeper than {MAX_DEPTH} levels"),
                }]);
            }
            stack.push(Node {
                name,
                ..Node::default()
            });
            if !empty {
                continue;
            }
        }
        match event {
            Event::Start(_) | Event::Empty(_) | Event::End(_) => {
                // An element closes (an empty one opened just above).
                let Some(node) = stack.pop() else { continue };
                match stack.len() {
                    0 => {}
                    1 => {
                        if node.children.is_empty() && project.len() < MAX_PROJECT_FIELDS {
                            project.insert(node.name, node.text.trim().to_string());
                        }
                    }
                    2 => {
                        let collection = stack[1].name.as_str();
                        match (collection, node.name.as_str()) {
                            ("Tasks", "Task") => {
                                if tasks.len() >= super::schedule::MAX_SCHEDULE_TASKS {
                                    return Err(vec![Problem {
                                        location: "Tasks".into(),
                                        message: format!(
                                            "has more than {} tasks",
                                            super::schedule::MAX_SCHEDULE_TASKS
                                        ),
                                    }]);
                                }
                                let task = task_record(&mut r, &node);
                                links_total += task.links.len();
                                if links_total > super::schedule::MAX_SCHEDULE_LINKS {
                                    return Err(vec![Problem {
                                        location: "Tasks".into(),
                                        message: format!(
                                            "has more than {} dependencies",
                                            super::schedule::MAX_SCHEDULE_LINKS
                                        ),
                                    }]);
                                }
                                tasks.push(task);
                            }
                            ("Calendars", "Calendar") if calendars.len() < 1_000 => {
                                calendars.push(node)
                            }
                            ("Resources", "Resource") => {
                                if let (Some(uid), Some(name)) = (node.get("UID"), node.get("Name"))
                                {
                                    if resources.len() < 100_000 {
                                        resources.insert(uid.to_string(), name.to_string());
                                    }
                                }
                            }
                            ("Assignments", "Assignment") => {
                                if let (Some(task), Some(res)) =
                                    (node.get("TaskUID"), node.get("ResourceUID"))
                                {
                                    if assignments.len() < 500_000 {
                                        assignments.push((task.to_string(), res.to_string()));
                                    }
                                }
                            }
                            ("ExtendedAttributes", "ExtendedAttribute") => {
                                if let Some(id) = node.get("FieldID") {
                                    let alias = node
                                        .get("Alias")
                                        .or(node.get("FieldName"))
                                        .unwrap_or("")
                                        .to_string();
                                    if fields.len() < 1_000 {
                                        fields.push((id.to_string(), alias));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {
                        if let Some(parent) = stack.last_mut() {
                            if parent.children.len() >= MAX_CHILDREN {
                                return Err(vec![Problem {
                                    location: format!("byte {}", reader.buffer_position()),
                                    message: format!(
                                        "<{}> holds more than {MAX_CHILDREN} elements",
                                        parent.name
                                    ),
                                }]);
                            }
                            parent.children.push(node);
                        }
                    }
                }
            }
            Event::Text(t) => {
                let depth = stack.len();
                if let Some(top) = stack.last_mut() {
                    if depth > 1 {
                        top.text.push_str(&t.xml10_content());
                    }
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(vec![Problem {
                        location: "document".into(),
                        message: "is not XML: text comes before any element".into(),
                    }]);
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&c.into_inner());
                }
            }
            Event::GeneralRef(g) => {
                let resolved = match g.resolve_char_ref() {
                    Ok(Some(ch)) => Some(ch.to_string()),
                    Ok(None) => {
                        quick_xml::escape::resolve_xml_entity(&g.xml10_content()).map(String::from)
                    }
                    Err(_) => None,
                };
                match (resolved, stack.last_mut()) {
                    (Some(text), Some(top)) => top.text.push_str(&text),
                    (None, _) => {
                        return Err(vec![Problem {
                            location: format!("byte {}", reader.buffer_position()),
                            message: format!(
                                "the reference &{}; is not one XML defines",
                                g.xml10_content()
                            ),
                        }])
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(vec![Problem {
            location: "document".into(),
            message: "is not XML: it has no element".into(),
        }]);
    }
    if !stack.is_empty() {
        return Err(vec![Problem {
            location: "document".into(),
            message: format!("ends inside <{}>", stack.last().map_or("", |n| &n.name)),
        }]);
    }

    let mut schedule = Schedule {
        format: "Microsoft Project XML",
        ..Schedule::default()
    };
    let minutes_per_day = match r.number(
        "project",
        "MinutesPerDay",
        project_field(&project, "MinutesPerDay"),
    ) {
        Some(m) if (1.0..=1440.0).contains(&m) => m,
        Some(m) => {
            r.fail(
                "project, field MinutesPerDay",
                format!("must be 1 to 1440, not {m}"),
            );
            480.0
        }
        None => 480.0,
    };
    let days = |minutes: f64| minutes / minutes_per_day;
    schedule.name = project_field(&project, "Title")
        .or(project_field(&project, "Name"))
        .map(|n| {
            n.trim_end_matches(".xml")
                .trim_end_matches(".mpp")
                .to_string()
        })
        .unwrap_or_else(|| "Imported schedule".into());
    schedule.manager = project_field(&project, "Manager")
        .or(project_field(&project, "Author"))
        .unwrap_or("")
        .to_string();
    schedule.currency = project_field(&project, "CurrencyCode")
        .filter(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()))
        .map(str::to_string);
    schedule.start = r.date("project", "StartDate", project_field(&project, "StartDate"));
    schedule.finish = r.date(
        "project",
        "FinishDate",
        project_field(&project, "FinishDate"),
    );
    schedule.calendar = calendar(
        &mut r,
        &mut schedule,
        &calendars,
        project_field(&project, "CalendarUID"),
    );

    // Extended attributes that hold three-point estimates.
    let estimate_fields: HashMap<&str, usize> = fields
        .iter()
        .filter_map(|(id, alias)| estimate_kind(alias).map(|k| (id.as_str(), k)))
        .collect();
    let owners: HashMap<&str, &str> = {
        let mut owners = HashMap::new();
        for (task, res) in &assignments {
            if let Some(name) = resources.get(res) {
                owners.entry(task.as_str()).or_insert(name.as_str());
            }
        }
        owners
    };

    // Which tasks are imported: not the project summary, not empty rows, not inactive ones.
    let mut left_out: HashSet<String> = HashSet::new();
    let mut kept: Vec<&RawTask> = Vec::new();
    let mut seen_uids: HashSet<&str> = HashSet::new();
    for t in &tasks {
        if !seen_uids.insert(t.uid.as_str()) {
            r.fail(
                format!("task UID {}", t.uid),
                "the UID is used by another task",
            );
        }
        if t.null || t.uid == "0" {
            left_out.insert(t.uid.clone());
        } else if t.level == 0 {
            schedule.warn(
                format!("task UID {}", t.uid),
                format!(
                    "'{}' is at outline level 0, the project's own; it is not imported",
                    t.name
                ),
            );
            left_out.insert(t.uid.clone());
        } else if t.external {
            schedule.warn(
                format!("task UID {}", t.uid),
                format!(
                    "'{}' stands for a task of another project; it is not imported",
                    t.name
                ),
            );
            left_out.insert(t.uid.clone());
        } else if t.inactive {
            schedule.warn(
                format!("task UID {}", t.uid),
                format!("'{}' is inactive; it is not imported", t.name),
            );
            left_out.insert(t.uid.clone());
        } else {
            kept.push(t);
        }
    }
    let levels: Vec<(u32, String)> = kept
        .iter()
        .map(|t| (t.level, format!("task UID {}", t.uid)))
        .collect();
    let codes = outline_codes(&levels, &mut schedule.warnings);
    for (i, (t, wbs)) in kept.iter().zip(codes).enumerate() {
        let place = format!("task UID {}", t.uid);
        // A task with tasks under it is a summary, whatever its flag says.
        let summary = t.summary || kept.get(i + 1).is_some_and(|next| next.level > t.level);
        if summary && !t.summary {
            schedule.warn(
                place.clone(),
                format!("'{}' has tasks under it but is not marked as a summary; it becomes a WBS level", t.name),
            );
        }
        let to_days = |minutes: f64| {
            if t.elapsed {
                minutes / 1_440.0
            } else {
                days(minutes)
            }
        };
        if t.elapsed {
            schedule.warn(
                format!("{place}, field DurationFormat"),
                "is elapsed (calendar) time; its days are read as working days",
            );
        }
        let constraint = t.constraint.and_then(|(code, date)| {
            schedule.constraint(
                &format!("{place}, field ConstraintType"),
                constraint_kind(code),
                &format!("type {code}"),
                date,
            )
        });
        let mut three = [None, None, None];
        for (id, value) in &t.extended {
            if let Some(&k) = estimate_fields.get(id.as_str()) {
                let v = match iso_duration_minutes(value) {
                    Some(m) => Some(days(m)),
                    None => value.parse::<f64>().ok(),
                };
                if v.is_none() {
                    r.fail(
                        format!("{place}, field ExtendedAttribute {id}"),
                        format!("must be a duration, not '{value}'"),
                    );
                }
                three[k] = v;
            }
        }
        let baseline = t.baseline.as_ref();
        let duration = baseline
            .and_then(|b| b.duration)
            .or(t.duration)
            .unwrap_or(0.0);
        schedule.tasks.push(SourceTask {
            place,
            key: t.uid.clone(),
            name: if t.name.trim().is_empty() {
                format!("Task {}", t.uid)
            } else {
                t.name.clone()
            },
            wbs,
            summary,
            milestone: t.milestone,
            level_of_effort: false,
            duration_days: to_days(duration),
            remaining_days: t.remaining.map(to_days),
            planned_start: baseline.and_then(|b| b.start),
            planned_finish: baseline.and_then(|b| b.finish),
            start: t.start,
            finish: t.finish,
            actual_start: t.actual_start,
            actual_finish: t.actual_finish,
            percent_complete: t.percent,
            budgeted_cost: baseline.and_then(|b| b.cost).unwrap_or(t.cost),
            actual_cost: t.actual_cost,
            optimistic_days: three[0],
            most_likely_days: three[1],
            pessimistic_days: three[2],
            owner: owners
                .get(t.uid.as_str())
                .copied()
                .unwrap_or("")
                .to_string(),
            constraint,
        });
        for (pred, kind, lag, format, cross) in &t.links {
            let link_place = format!("task UID {}, predecessor UID {pred}", t.uid);
            if *cross {
                schedule.warn(
                    link_place,
                    "links to another project; PMR's plan holds one project, so it is left out",
                );
                continue;
            }
            if left_out.contains(pred) {
                schedule.warn(
                    link_place,
                    "names a task that is not imported (inactive or empty); left out",
                );
                continue;
            }
            // LinkLag is in tenths of a minute.
            let minutes = lag / 10.0;
            // LagFormat: 19, 20, 51, 52 are percent of the predecessor's duration; even codes
            // from 4 to 12 (36 to 44 estimated) are elapsed time.
            let lag_days = match *format {
                19 | 20 | 51 | 52 => lag / 100.0,
                4 | 6 | 8 | 10 | 12 | 36 | 38 | 40 | 42 | 44 => minutes / 1440.0,
                _ => days(minutes),
            };
            schedule.links.push(SourceLink {
                place: link_place,
                predecessor: pred.clone(),
                successor: t.uid.clone(),
                kind: link_kind(*kind).unwrap_or(LinkKind::FinishToStart),
                lag_days,
            });
        }
    }
    if kept.iter().all(|t| t.baseline.is_none()) && !kept.is_empty() {
        schedule.warn(
            "document",
            "the file has no baseline (Baseline 0): the current schedule is taken as the plan",
        );
    }
    if r.problems.is_empty() {
        Ok(schedule)
    } else {
        Err(r.problems)
    }
}

fn project_field<'a>(project: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    project
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}
