//! Markup in what people write is text, everywhere it is shown: a narrative holding a script tag and
//! an event handler, typed into the live document and written back into the report, comes out of the
//! server-rendered page escaped (no element of it exists in the HTML), and out of the API as the
//! same characters. (Hostile names in SQL: `storage_conformance.rs`; CSV formulas:
//! `transfer::csv`.)

use crate::common;

use base64::Engine;
use common::Role;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const HOSTILE: &str = "<script>alert('pwned')</script><img src=x onerror=\"alert(1)\"> & done";

#[tokio::test]
async fn markup_in_a_narrative_is_shown_as_text() {
    let app = common::seeded().await;
    app.account("reader", Role::Viewer, &["HBR"], None).await;
    let who = app.session("reader").await;
    let draft = app.report_id("HBR", false).await;

    // An editor types the hostile text into the summary's narrative.
    let docs = &app.state.documents;
    let doc = common::client_copy(docs, draft).await;
    let update = common::append_to(&doc, "narrative:executive-summary", HOSTILE);
    docs.apply(draft, &B64.encode(update), "eddie")
        .await
        .expect("stored");
    docs.write_back(draft).await.expect("written back");

    // The API gives the characters back as they were typed.
    let api = app.get(&format!("/api/reports/{draft}"), &who).await;
    assert_eq!(api.status, 200, "{}", api.body);
    let summary = api.json()["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["key"] == "executive-summary")
        .expect("summary")["narrative"]
        .as_str()
        .expect("narrative")
        .to_string();
    assert!(summary.ends_with(HOSTILE), "{summary}");

    // The page shows them as text: escaped, with no element or attribute of theirs in the HTML.
    let page = app.get(&format!("/reports/{draft}"), &who).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("&lt;script&gt;alert("),
        "the text is not on the page, escaped"
    );
    assert!(
        !page.body.contains("<script>alert("),
        "a script got through"
    );
    assert!(!page.body.contains("<img src=x"), "an element got through");
    assert!(
        !page.body.contains("onerror=\"alert(1)\">"),
        "an attribute got through"
    );
}
