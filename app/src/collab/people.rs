//! Who is here, as the bar shows it: one entry per person, however many windows they have open on
//! the report (each window is a connection of its own, and the server lists connections).

use super::protocol::MemberInfo;

/// One person in the bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub user: String,
    pub name: String,
    pub color: u8,
    /// Where they are: for the reader, this window's section; for anyone else, the section of the
    /// window they moved in last.
    pub section: Option<String>,
    /// Their connections to the report (windows, tabs, devices).
    pub windows: usize,
    /// The reader.
    pub mine: bool,
}

/// The people among `members` (in the order they were last heard from, oldest first), the reader
/// (whose connection is `me`) first, then by name.
pub fn people(members: &[MemberInfo], me: &str) -> Vec<Person> {
    let my_user = members
        .iter()
        .find(|m| m.connection == me)
        .map(|m| m.user.as_str());
    let mut out: Vec<Person> = Vec::new();
    for m in members {
        let mine = Some(m.user.as_str()) == my_user;
        // The reader is where this window is; anyone else where they moved last.
        let places = !mine || m.connection == me;
        let place = if places { m.section.clone() } else { None };
        match out.iter_mut().find(|p| p.user == m.user) {
            Some(p) => {
                p.windows += 1;
                if places {
                    p.section = place;
                }
            }
            None => out.push(Person {
                user: m.user.clone(),
                name: m.name.clone(),
                color: m.color,
                section: place,
                windows: 1,
                mine,
            }),
        }
    }
    out.sort_by(|a, b| b.mine.cmp(&a.mine).then_with(|| a.name.cmp(&b.name)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(connection: &str, user: &str, section: Option<&str>) -> MemberInfo {
        MemberInfo {
            connection: connection.into(),
            user: user.into(),
            name: user.to_uppercase(),
            color: 3,
            section: section.map(Into::into),
        }
    }

    #[test]
    fn each_person_once_with_the_section_they_moved_to_last() {
        let members = [
            member("a:1", "eddie", Some("risks")),
            member("a:2", "admin", None),
            member("b:7", "eddie", Some("milestones")),
            member("a:3", "vera", Some("risks")),
        ];
        let got = people(&members, "a:2");
        let summary: Vec<_> = got
            .iter()
            .map(|p| (p.user.as_str(), p.section.as_deref(), p.windows, p.mine))
            .collect();
        assert_eq!(
            summary,
            [
                ("admin", None, 1, true),
                ("eddie", Some("milestones"), 2, false),
                ("vera", Some("risks"), 1, false),
            ]
        );
    }

    #[test]
    fn the_reader_is_where_this_window_is_and_counted_once() {
        let members = [
            member("a:1", "eddie", Some("risks")),
            member("a:4", "eddie", None),
            member("a:5", "eddie", Some("milestones")),
        ];
        let got = people(&members, "a:4");
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].section, None,
            "this window's section, not the others'"
        );
        assert_eq!(got[0].windows, 3);
        assert!(got[0].mine);
        // Before the welcome names this window, nobody is the reader.
        assert!(people(&members, "").iter().all(|p| !p.mine));
    }
}
