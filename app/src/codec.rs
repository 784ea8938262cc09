//! How server functions' answers cross the wire: JSON, read as text.
//!
//! Leptos sends the answers of resources resolved during server rendering inside the page and reads
//! them back in the browser with `serde_json::from_str`; server_fn's own `Json` encoding reads a fetched
//! answer with `serde_json::from_slice`. Both readers are generic over the reader type, so every
//! answer type had its whole decoder compiled into the WASM twice. [`JsonReply`] is the same JSON on
//! the wire, read with `from_str`, so each decoder is in the browser's download once.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON encoding whose decoder reads the bytes as UTF-8 text (see the module documentation).
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// The answer encoding of every server function: a `POST` whose answer is [`JsonText`].
pub type JsonReply = Post<JsonText>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Answer {
        name: String,
        values: Vec<f64>,
    }

    #[test]
    fn an_answer_decodes_to_what_was_encoded() {
        let answer = Answer {
            name: "Żółw «ünïcode»".into(),
            values: vec![1.5, -0.25],
        };
        let bytes = <JsonText as Encodes<Answer>>::encode(&answer).expect("encode");
        let back: Answer = <JsonText as Decodes<Answer>>::decode(bytes).expect("decode");
        assert_eq!(back, answer);
    }

    #[test]
    fn damaged_answers_are_errors_not_panics() {
        let not_utf8 = Bytes::from_static(&[b'"', 0xff, 0xfe, b'"']);
        let error = <JsonText as Decodes<String>>::decode(not_utf8).expect_err("invalid UTF-8");
        assert!(error.to_string().contains("utf-8"), "{error}");
        let truncated = Bytes::from_static(br#"{"name": "x", "values": [1"#);
        assert!(<JsonText as Decodes<Answer>>::decode(truncated).is_err());
    }
}
