//! Which scheduler's file a body is, and its text in the right encoding: the entry point of the
//! scheduler imports. [`read_file`] decodes a Microsoft Project XML or P6 XER file and reads it with
//! [`super::mspdi`] or [`super::xer`] into a [`Schedule`].

use super::schedule::Schedule;
use super::Problem;

/// Reads bytes as text: a byte order mark wins, then the encoding named (the XML declaration's, the
/// request's), then UTF-8. An encoding label nobody knows is a problem; bytes that are not valid in
/// the encoding are a problem with the first bad byte's offset.
pub fn decode(bytes: &[u8], named: Option<&str>) -> Result<String, Problem> {
    let (encoding, rest) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom)) => (encoding, &bytes[bom..]),
        None => {
            let encoding = match named {
                Some(label) => encoding_rs::Encoding::for_label(label.trim().as_bytes())
                    .ok_or_else(|| Problem {
                        location: "document".into(),
                        message: format!("names the code page '{label}', which is not known"),
                    })?,
                None => encoding_rs::UTF_8,
            };
            (encoding, bytes)
        }
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(rest);
    if had_errors {
        let at = if encoding == encoding_rs::UTF_8 {
            std::str::from_utf8(rest)
                .err()
                .map_or(0, |e| e.valid_up_to())
        } else {
            0
        };
        return Err(Problem {
            location: format!("byte {at}"),
            message: format!(
                "is not valid {} text (name the file's code page with ?encoding=, e.g. windows-1252)",
                encoding.name()
            ),
        });
    }
    Ok(text.into_owned())
}

/// A scheduler's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerFormat {
    Mspdi,
    Xer,
}

/// What a file's first characters say it is: `ERMHDR` a P6 XER, `<` XML (a Microsoft Project
/// document, the reader checks), `{` JSON; `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(256)];
    let text = match encoding_rs::Encoding::for_bom(head) {
        Some((encoding, bom)) => encoding.decode_without_bom_handling(&head[bom..]).0,
        None => String::from_utf8_lossy(head),
    };
    let text = text.trim_start();
    if text.starts_with("ERMHDR") {
        Some("xer")
    } else if text.starts_with('<') {
        Some("xml")
    } else if text.starts_with('{') {
        Some("json")
    } else {
        None
    }
}

/// Reads a scheduler's file: `charset` is the encoding the request names (its `Content-Type`'s
/// charset or `?encoding=`). An MSPDI file without one is read in the encoding its XML declaration
/// names; an XER file without one is UTF-8 or, failing that, windows-1252 (P6's usual export), said
/// in a warning.
pub fn read_file(
    bytes: &[u8],
    format: SchedulerFormat,
    charset: Option<&str>,
    p6_project: Option<&str>,
) -> Result<Schedule, Vec<Problem>> {
    match format {
        SchedulerFormat::Mspdi => {
            let named = charset
                .map(str::to_string)
                .or_else(|| super::mspdi::declared_encoding(bytes));
            let text = decode(bytes, named.as_deref()).map_err(|p| vec![p])?;
            super::mspdi::read(&text)
        }
        SchedulerFormat::Xer => {
            let (text, fallback) = xer_text(bytes, charset).map_err(|p| vec![p])?;
            let mut schedule = super::xer::read(&text, p6_project)?;
            if fallback {
                schedule.warnings.insert(
                    0,
                    Problem {
                        location: "document".into(),
                        message: "is not UTF-8; it was read as windows-1252 (name another code page with ?encoding=)".into(),
                    },
                );
            }
            Ok(schedule)
        }
    }
}

/// An XER file's text: in the code page named, else UTF-8, else windows-1252 (`true`: the
/// fallback was taken).
fn xer_text(bytes: &[u8], charset: Option<&str>) -> Result<(String, bool), Problem> {
    match decode(bytes, charset) {
        Ok(text) => Ok((text, false)),
        Err(_) if charset.is_none() => Ok((
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
            true,
        )),
        Err(p) => Err(p),
    }
}

/// The projects of an XER file, read as [`read_file`] reads it (none when it cannot be read).
pub fn xer_projects(bytes: &[u8], charset: Option<&str>) -> Vec<super::xer::P6Project> {
    xer_text(bytes, charset)
        .ok()
        .and_then(|(text, _)| super::xer::projects(&text).ok())
        .unwrap_or_default()
}
