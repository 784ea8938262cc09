//! The stylesheet, written into each page rather than linked: the first paint then needs nothing but
//! the HTML, and the browser code, which starts after that paint ([`super::StartScripts`]), is not
//! held back by a stylesheet's round trip. `style/main.css` is 36 KB, 8 KB as the page's compression
//! sends it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use leptos::prelude::*;

use super::start_scripts::build_hash;

/// This build's stylesheet, read once per site root (a process serves one; the tests' several); `None`
/// when the site holds none (a server built without its site, as the tests' mostly are).
fn stylesheet(options: &LeptosOptions) -> Option<Arc<str>> {
    static CSS: OnceLock<Mutex<HashMap<PathBuf, Option<Arc<str>>>>> = OnceLock::new();
    let name = match build_hash(options, "css") {
        Some(hash) => format!("{}.{hash}.css", options.output_name),
        None => format!("{}.css", options.output_name),
    };
    let path = Path::new(options.site_root.as_ref())
        .join(options.site_pkg_dir.as_ref())
        .join(name);
    let mut read = CSS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    read.entry(path.clone())
        .or_insert_with(|| std::fs::read_to_string(&path).ok().map(Arc::from))
        .clone()
}

/// The stylesheet in a `<style>` element carrying the response's nonce (the pages' content security
/// policy allows no other inline style), or linked when the site has none to read.
#[component]
pub fn PageStyle(options: LeptosOptions) -> impl IntoView {
    match stylesheet(&options) {
        Some(css) => {
            let nonce = leptos::nonce::use_nonce();
            view! { <style nonce=nonce inner_html=css.to_string()></style> }.into_any()
        }
        None => view! { <leptos_meta::HashedStylesheet options id="leptos"/> }.into_any(),
    }
}
