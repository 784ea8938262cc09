//! The script that starts the browser code, in place of Leptos' `HydrationScripts`: the page paints
//! first, then fetches its code.
//!
//! `HydrationScripts` preloads the main WASM and its JS from `<head>`, and the WASM chunks of the lazy
//! parts the page rendered. Those downloads then compete with the stylesheet for a phone's bandwidth,
//! and everything that has arrived before the first paint counts towards it: Lighthouse's simulation
//! of a slow phone put the report page's largest contentful paint at 3.2 s (its heading, sent as HTML)
//! and the dashboard's at 5.3 s, behind 400 KB of WASM the paint does not need. Here nothing is
//! preloaded: once the browser reports the page's first contentful paint (paint timing, through a
//! `PerformanceObserver`), the JS and WASM are fetched together, and the lazy parts' chunks when
//! hydration asks for them. Starting in the frame after `requestAnimationFrame` instead was too early:
//! the frame reaches the screen later, so on a fast link the WASM could have arrived before the paint
//! was shown, and Lighthouse's simulation then counted the whole download in the paint (the report
//! page's simulated largest contentful paint was 0.8 s or 3.2 s from run to run). The stylesheet is
//! in the page ([`super::PageStyle`]), so the first paint waits for nothing but the HTML.

use std::sync::OnceLock;

use leptos::prelude::*;

/// The content hash of one of this build's files (`kind` is `js`, `wasm` or `css`), when the build
/// names its files by content: `hash.txt` beside the server binary, which cargo-leptos writes.
pub(crate) fn build_hash(options: &LeptosOptions, kind: &str) -> Option<String> {
    static HASHES: OnceLock<Option<String>> = OnceLock::new();
    let hashes = HASHES.get_or_init(|| {
        if !options.hash_files {
            return None;
        }
        let exe = std::env::current_exe().ok()?;
        std::fs::read_to_string(exe.parent()?.join(options.hash_file.as_ref())).ok()
    });
    hashes.as_deref()?.lines().find_map(|line| {
        let (k, hash) = line.split_once(':')?;
        (k.trim() == kind).then(|| hash.trim().to_string())
    })
}

/// The main JS and WASM files of this build, as `pkg/` names them: with their content hashes when
/// the build has them, else the plain names.
fn file_names(options: &LeptosOptions) -> &'static (String, String) {
    static NAMES: OnceLock<(String, String)> = OnceLock::new();
    NAMES.get_or_init(|| {
        let name = options.output_name.to_string();
        match (build_hash(options, "js"), build_hash(options, "wasm")) {
            (Some(js), Some(wasm)) => (format!("{name}.{js}.js"), format!("{name}.{wasm}.wasm")),
            // cargo-leptos names the WASM after the project; a plain wasm-bindgen build adds `_bg`.
            _ if option_env!("LEPTOS_OUTPUT_NAME").is_some() => {
                (format!("{name}.js"), format!("{name}.wasm"))
            }
            _ => (format!("{name}.js"), format!("{name}_bg.wasm")),
        }
    })
}

/// How long the start script waits for the first contentful paint before it starts anyway (a page
/// that paints no text or image, a browser that reports no paint).
const FALLBACK_MS: u32 = 3_000;

/// Starts the browser code once the page's first contentful paint is on the screen (the browser's
/// paint timing says when), fetching the JS and the WASM at the same time; the WASM is instantiated
/// in one task and the page hydrated in the next (two shorter tasks instead of one long one). A hidden
/// page (a tab opened in the background) paints nothing, so it starts at once, as it does when it is
/// hidden before its paint; a browser without paint timing starts after the frame that paints.
#[component]
pub fn StartScripts(options: LeptosOptions) -> impl IntoView {
    let (js, wasm) = file_names(&options);
    let pkg = format!("/{}", options.site_pkg_dir);
    let script = format!(
        "let started = false;\
         const start = () => {{ if (started) return; started = true; const wasm = fetch({wasm:?}); \
         import({js:?}).then((m) => m.default({{ module_or_path: wasm }})\
         .then(() => setTimeout(() => m.hydrate(), 0))); }};\
         if (document.visibilityState === 'hidden') start();\
         else if (window.PerformanceObserver?.supportedEntryTypes?.includes('paint')) {{\
         new PerformanceObserver((list, observer) => {{\
         if (list.getEntriesByName('first-contentful-paint').length) {{ observer.disconnect(); setTimeout(start, 0); }}\
         }}).observe({{ type: 'paint', buffered: true }});\
         document.addEventListener('visibilitychange', () => {{ if (document.visibilityState === 'hidden') start(); }});\
         setTimeout(start, {FALLBACK_MS}); }}\
         else requestAnimationFrame(() => setTimeout(start, 0));",
        js = format!("{pkg}/{js}"),
        wasm = format!("{pkg}/{wasm}"),
    );
    let nonce = leptos::nonce::use_nonce();
    view! { <script type="module" nonce=nonce>{script}</script> }
}
