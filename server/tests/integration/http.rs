//! The HTTP application through `router(...)`: health endpoints, the server-rendered pages and the
//! server functions, against a seeded SQLite store (and a harness-started Redis for readiness).

use crate::common;

use axum::http::{Method, StatusCode};
use common::{Role, TestApp, Who};
use serde_json::Value;
use server::redis_probe::RedisProbe;

/// A seeded app and an admin's session, so pages and server functions answer in full.
struct App {
    app: TestApp,
    admin: Who,
}

impl std::ops::Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn app_with(redis: Option<RedisProbe>) -> App {
    let app = common::seeded_with(&[], redis).await;
    app.account("root", Role::Admin, &[], None).await;
    let admin = app.session("root").await;
    App { app, admin }
}

async fn app() -> App {
    app_with(None).await
}

/// A GET as the admin: status and body.
async fn get(app: &App, uri: &str) -> (StatusCode, String) {
    let reply = app.app.get(uri, &app.admin).await;
    (reply.status, reply.body)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn healthz_reports_liveness() {
    let app = app().await;
    let (status, body) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let body = json(&body);
    assert_eq!(body["status"], "ok");
    assert!(body["uptime_seconds"].is_u64());
}

#[tokio::test]
async fn readyz_checks_the_store_and_skips_unconfigured_redis() {
    let app = app().await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = json(&body);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"]["status"], "up");
    assert_eq!(body["store"]["backend"], "sqlite");
    assert_eq!(body["redis"]["status"], "not_configured");
}

#[tokio::test]
async fn readyz_follows_redis_down_and_up() {
    let mut redis = test_support::RedisServer::start();
    let app = app_with(Some(RedisProbe::new(&redis.url()).expect("probe"))).await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(
        (status, json(&body)["redis"]["status"].clone()),
        (StatusCode::OK, "up".into())
    );
    redis.stop();
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "still serving: {body}");
    let body = json(&body);
    assert_eq!(
        (body["status"].as_str(), body["redis"]["status"].as_str()),
        (Some("degraded"), Some("down"))
    );
    // The cause is in the server's log, not in an answer to anyone.
    assert_eq!(
        body["redis"]["error"],
        "unreachable (the server's log has the cause)"
    );
    redis.resume();
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["status"], "ready");
}

#[tokio::test]
async fn readyz_fails_when_the_store_is_gone() {
    let app = app().await;
    app.state.store.close().await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(&body)["store"]["status"], "down");
    assert_eq!(
        json(&body)["store"]["error"],
        "unreachable (the server's log has the cause)"
    );
}

#[tokio::test]
async fn home_page_is_server_rendered_with_every_project_and_report() {
    let app = app().await;
    let (status, html) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    for name in [
        "Harbor Bridge Rehabilitation",
        "Customer Portal Replatform",
        "North Plant ERP Rollout",
        "Clinical Data Warehouse",
    ] {
        assert!(html.contains(name), "home page lacks {name}");
    }
    assert_eq!(
        html.matches("href=\"/reports/").count(),
        24,
        "one link per report"
    );
    assert!(html.contains("October 2026"), "latest period is labelled");
    assert!(
        html.contains("/pkg/pmr.js") || html.contains("pmr.js"),
        "hydration script linked"
    );
}

#[tokio::test]
async fn report_page_lists_its_sections_in_template_order() {
    let app = app().await;
    let (status, html) = get(&app, "/reports/1").await;
    assert_eq!(status, StatusCode::OK);
    let titles = [
        "Executive summary",
        "Key metrics",
        "AI insights",
        "Monte Carlo risk analysis",
        "Performance charts",
        "Milestones",
        "Risks",
        "Appendix: task table",
    ];
    let positions: Vec<usize> = titles
        .iter()
        .map(|t| {
            // The heading's text, then its end or the hydration marker that follows a dynamic
            // text node when components are type-erased (`<!---->`).
            html.find(&format!("-title\">{t}<"))
                .unwrap_or_else(|| panic!("section {t} missing"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sections out of order"
    );
    assert!(
        html.contains("Next month"),
        "first report links to the next month"
    );
    assert!(
        html.contains("class=\"kpi__value\""),
        "high-priority sections are rendered by the server"
    );
    assert!(
        !html.contains("class=\"heatmap\""),
        "low-priority sections wait for the browser"
    );
}

#[tokio::test]
async fn unknown_reports_are_a_404_with_a_message() {
    let app = app().await;
    let (status, html) = get(&app, "/reports/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("There is no report with id 999999."));
    let (status, html) = get(&app, "/reports/not-a-number").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Report id must be a positive number"));
}

#[tokio::test]
async fn unknown_paths_are_a_404_page() {
    let app = app().await;
    let (status, html) = get(&app, "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
    // An API path that does not exist, or a write to a page, is answered in JSON.
    let reply = app
        .send(common::request(
            Method::GET,
            "/api/no/such/endpoint",
            &app.admin,
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.json()["error"]
        .as_str()
        .is_some_and(|e| e.contains("/api/no/such/endpoint")));
    let reply = app
        .send(common::request(
            Method::PUT,
            "/no/such/page",
            &app.admin,
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.json()["error"].is_string(), "{}", reply.body);
}

#[tokio::test]
async fn server_functions_answer_json_and_errors_with_status() {
    let app = app().await;
    let call = |body: &str| common::server_fn("get_report_outline", &app.admin, body);
    let reply = app.send(call("report_id=2")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outline = reply.json();
    assert_eq!(outline["id"], 2);
    assert_eq!(outline["sections"].as_array().map(Vec::len), Some(8));
    let reply = app.send(call("report_id=-4")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("positive number"), "{}", reply.body);
    let reply = app.send(call("report_id=abc")).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "garbage is the caller's mistake: {}",
        reply.body
    );
}

#[tokio::test]
async fn site_files_are_served_with_their_own_status_and_validators() {
    let site = tempfile::tempdir().expect("site");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
    std::fs::write(site.path().join("pkg/chunk_1.wasm"), b"\0asm\x01\0\0\0").expect("chunk");
    let root = site.path().to_string_lossy().to_string();
    let app = common::seeded_with(&["--site-root", &root], None).await;
    let who = Who::Anonymous;
    let reply = app.get("/pkg/chunk_1.wasm", &who).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/wasm");
    let modified = reply.header("last-modified");
    assert!(!modified.is_empty(), "a validator for the browser's cache");
    let mut again = common::request(axum::http::Method::GET, "/pkg/chunk_1.wasm", &who, None);
    again.headers_mut().insert(
        axum::http::header::IF_MODIFIED_SINCE,
        modified.parse().expect("header"),
    );
    assert_eq!(app.send(again).await.status, StatusCode::NOT_MODIFIED);
    let missing = app.get("/pkg/chunk_404.wasm", &who).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// The build's files go out precompressed (the `.br` or `.gz` file beside them, by the request's
/// `Accept-Encoding`) and, named by their content, cacheable for a year; other files are kept but
/// revalidated; pages and JSON are compressed as they go out, pages revalidated, JSON never stored.
#[tokio::test]
async fn responses_are_compressed_and_cached_by_what_they_are() {
    use std::io::Read;
    let site = tempfile::tempdir().expect("site");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    let hashed = "pmr.AbCdEfGhIjKlMnOpQrSt-_.wasm";
    let raw = b"\0asm\x01\0\0\0 the module's bytes, long enough to be worth compressing";
    std::fs::write(pkg.join(hashed), raw).expect("wasm");
    std::fs::write(pkg.join(format!("{hashed}.br")), b"brotli bytes").expect("br");
    std::fs::write(pkg.join("plain.js"), b"export const plain = 1;").expect("js");
    let root = site.path().to_string_lossy().to_string();
    let app = common::seeded_with(&["--site-root", &root], None).await;
    let with_encoding = |uri: &str, who: &Who, encoding: &str| {
        let mut request = common::request(Method::GET, uri, who, None);
        request.headers_mut().insert(
            axum::http::header::ACCEPT_ENCODING,
            encoding.parse().expect("header"),
        );
        request
    };

    let anyone = Who::Anonymous;
    let file = format!("/pkg/{hashed}");
    let brotli = app.send(with_encoding(&file, &anyone, "gzip, br")).await;
    assert_eq!(brotli.status, StatusCode::OK);
    assert_eq!(brotli.header("content-encoding"), "br");
    assert_eq!(
        brotli.body, "brotli bytes",
        "the precompressed file, as it is"
    );
    assert_eq!(brotli.header("content-type"), "application/wasm");
    assert_eq!(
        brotli.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(brotli.header("vary"), "accept-encoding");
    let plain = app.get(&file, &anyone).await;
    assert_eq!(
        plain.header("content-encoding"),
        "",
        "raw without Accept-Encoding"
    );
    assert_eq!(plain.body.as_bytes(), raw);
    assert_eq!(
        app.get("/pkg/plain.js", &anyone)
            .await
            .header("cache-control"),
        "no-cache",
        "a name without a hash is revalidated"
    );

    // A page, compressed on the way out (gzip here), personal and revalidated.
    app.account("root", Role::Admin, &[], None).await;
    let admin = app.session("root").await;
    let request = with_encoding("/", &admin, "gzip");
    let response = tower::ServiceExt::oneshot(app.router(), request)
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["cache-control"], "private, no-cache");
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let mut html = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut html)
        .expect("gzip");
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..80.min(html.len())]
    );
    assert!(html.contains("Harbor Bridge Rehabilitation"));
    assert!(
        bytes.len() * 3 < html.len(),
        "{} compressed of {}",
        bytes.len(),
        html.len()
    );

    // JSON: compressed (brotli preferred), never stored.
    let json = app
        .send(with_encoding(
            "/api/projects/ERP/export",
            &admin,
            "br;q=1.0, gzip;q=0.5",
        ))
        .await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.header("content-encoding"), "br");
    assert_eq!(json.header("cache-control"), "private, no-store");
    // Gzip for a client without brotli; as it is for one that takes neither.
    let health = app.send(with_encoding("/healthz", &anyone, "gzip")).await;
    assert_eq!(health.header("content-encoding"), "gzip");
    let plain = app
        .send(with_encoding("/healthz", &anyone, "identity"))
        .await;
    assert_eq!(plain.header("content-encoding"), "");
    assert!(plain.body.contains("\"status\":\"ok\""), "{}", plain.body);
}

/// A page paints with nothing but its HTML: the stylesheet is in it, under the response's CSP nonce
/// (which the policy allows for styles, and nothing inline besides), and the code is not preloaded
/// but fetched, JS and WASM together, once the page has painted.
#[tokio::test]
async fn pages_carry_their_stylesheet_and_fetch_their_code_after_painting() {
    let site = tempfile::tempdir().expect("site");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
    let css = ".page > h1 { color: #123456; }";
    std::fs::write(site.path().join("pkg/pmr.css"), css).expect("css");
    let root = site.path().to_string_lossy().to_string();
    let app = common::seeded_with(&["--site-root", &root], None).await;
    let page = app.get("/login", &Who::Anonymous).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    let style_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("style-src"))
        .expect("a style-src directive");
    assert!(style_src.contains(&format!("'nonce-{nonce}'")), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The stylesheet as written, child combinator included (not escaped), with the nonce.
    assert!(
        page.body
            .contains(&format!("<style nonce=\"{nonce}\">{css}</style>")),
        "{}",
        page.body
    );
    assert!(!page.body.contains("rel=\"stylesheet\""), "{}", page.body);
    assert!(
        !page.body.contains("preload"),
        "nothing preloaded: {}",
        page.body
    );
    // One script starts the code: after the paint, the WASM fetch and the JS import together.
    let script = page
        .body
        .split(&format!("<script type=\"module\" nonce=\"{nonce}\">"))
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("the start script, with the nonce");
    assert!(script.contains("first-contentful-paint"), "{script}");
    assert!(script.contains("requestAnimationFrame"), "{script}");
    assert!(script.contains("fetch(\"/pkg/pmr"), "{script}");
    assert!(script.contains("import(\"/pkg/pmr.js\")"), "{script}");
    assert!(script.contains("m.hydrate()"), "{script}");
}
