//! Setting the HTTP status of the page being rendered. On the server this writes Leptos' response
//! options; in the browser there is no response to set, so it does nothing. Kept here so components
//! never need `cfg` attributes.

/// Sets the status code of the server-rendered response, if there is one.
#[cfg(feature = "ssr")]
pub fn set_status(code: u16) {
    if let (Some(options), Ok(status)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        options.set_status(status);
    }
}

/// Adds a header (e.g. `set-cookie`) to the response, if there is one and the value is valid.
#[cfg(feature = "ssr")]
pub fn append_header(name: &'static str, value: &str) {
    if let (Some(options), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        options.append_header(http::HeaderName::from_static(name), value);
    }
}

/// Sets the status code of the server-rendered response, if there is one.
#[cfg(not(feature = "ssr"))]
pub fn set_status(_code: u16) {}
