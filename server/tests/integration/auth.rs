//! Sign-in, sessions and the protections around them, through the whole router: cookie flags, expiry,
//! logout, cross-site refusal, WebSocket origins, throttling, no user enumeration, security headers,
//! and account changes that end sessions.

use crate::common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use common::{request, server_fn, server_fn_json, Reply, Role, TestApp, Who};
use serde_json::json;
use server::auth::token;

const PASSWORD: &str = "correct horse battery";

async fn app_with_user() -> TestApp {
    let app = common::seeded().await;
    app.account("vera", Role::Viewer, &["HBR"], Some(PASSWORD))
        .await;
    app
}

fn login_form(username: &str, password: &str) -> String {
    let encode = |s: &str| s.replace(' ', "+");
    format!(
        "username={}&password={}",
        encode(username),
        encode(password)
    )
}

/// A login from a given client address.
fn login_from(username: &str, password: &str, client: [u8; 4]) -> Request<Body> {
    let mut req = server_fn("login", &Who::Anonymous, &login_form(username, password));
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((client, 40000))));
    req
}

/// The session token a sign-in reply sets.
fn session_token(reply: &Reply) -> String {
    let cookie = reply
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("pmr_session="))
        .unwrap_or_else(|| panic!("no session cookie: {:?}", reply.headers));
    cookie["pmr_session=".len()..]
        .split(';')
        .next()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn signing_in_sets_a_fresh_session_cookie_with_every_flag() {
    let app = app_with_user().await;
    let first = app.send(login_from("vera", PASSWORD, [10, 0, 0, 1])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["name"], "vera");
    let cookie = first.cookies().join("\n");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP by default: {cookie}"
    );
    let token = session_token(&first);
    assert!(token.len() >= 43, "256-bit token");
    // Stored only hashed.
    assert!(app
        .store()
        .session(&token::digest(&token))
        .await
        .expect("query")
        .is_some());
    let home = app.get("/", &Who::Session(token.clone())).await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Test vera"), "user menu names the user");
    // Signing in again from the same browser: a new token, and the old session ends.
    let mut again = login_from("Vera", PASSWORD, [10, 0, 0, 1]);
    again.headers_mut().insert(
        header::COOKIE,
        format!("pmr_session={token}").parse().expect("header"),
    );
    let second = app.send(again).await;
    assert_eq!(second.status, 200);
    let renewed = session_token(&second);
    assert_ne!(renewed, token, "a new token on every sign-in");
    assert_eq!(app.get("/", &Who::Session(token)).await.status, 303);
    assert_eq!(app.get("/", &Who::Session(renewed)).await.status, 200);
}

#[tokio::test]
async fn secure_cookies_take_the_host_prefix() {
    let app = common::seeded_with(&["--secure-cookies", "true"], None).await;
    app.account("vera", Role::Viewer, &[], Some(PASSWORD)).await;
    // Served over HTTPS, the app's own origin is the https one.
    let mut login = login_from("vera", PASSWORD, [10, 0, 0, 1]);
    login.headers_mut().insert(
        header::ORIGIN,
        format!("https://{}", common::HOST).parse().expect("origin"),
    );
    let reply = app.send(login).await;
    let cookie = reply.cookies().join("\n");
    assert!(cookie.starts_with("__Host-pmr_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert_eq!(
        reply.header("strict-transport-security"),
        "max-age=31536000",
        "HSTS comes with secure cookies"
    );
    let plain = common::seeded().await;
    assert_eq!(
        plain
            .get("/healthz", &Who::Anonymous)
            .await
            .header("strict-transport-security"),
        "",
        "not over plain HTTP on loopback"
    );
}

/// Cookies are `Secure` by default, unless the server listens on a loopback address (so `make run`
/// works over plain HTTP); the setting overrides either way.
#[test]
fn secure_cookies_are_the_default_off_loopback() {
    let https = |flags: &[&str]| common::config("sqlite::memory:", flags).https();
    assert!(!https(&["--addr", "127.0.0.1:3000"]));
    assert!(https(&["--addr", "0.0.0.0:3000"]));
    assert!(!https(&["--addr", "[::1]:3000"]));
    assert!(https(&["--addr", "[::1]:3000", "--secure-cookies", "true"]));
    assert!(!https(&[
        "--addr",
        "10.0.0.5:80",
        "--secure-cookies",
        "false"
    ]));
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout_and_the_absolute_lifetime() {
    let app = app_with_user().await;
    let now = chrono::Utc::now().timestamp();
    let (user, _) = app
        .store()
        .user_with_hash("vera")
        .await
        .expect("q")
        .expect("vera");
    let policy = app.state.auth.sessions;

    // Idle: last seen longer ago than the idle timeout.
    let (idle, idle_hash) = token::issue();
    app.store()
        .insert_session(&idle_hash, user.id, now - 3600, now + 3600)
        .await
        .expect("insert");
    app.store()
        .touch_session(&idle_hash, now - policy.idle_secs - 1)
        .await
        .expect("touch");
    let reply = app.get("/", &Who::Session(idle)).await;
    assert_eq!(reply.status, 303, "idle session refused");
    assert_eq!(reply.header("location"), "/login?next=/");
    assert!(
        reply.cookies().iter().any(|c| c.contains("Max-Age=0")),
        "the dead cookie is cleared"
    );
    assert!(app.store().session(&idle_hash).await.expect("q").is_none());

    // Absolute: active a moment ago, but past its lifetime.
    let (old, old_hash) = token::issue();
    app.store()
        .insert_session(&old_hash, user.id, now - 20 * 3600, now - 1)
        .await
        .expect("insert");
    app.store()
        .touch_session(&old_hash, now)
        .await
        .expect("touch");
    let reply = app
        .send(server_fn("list_portfolio", &Who::Session(old), ""))
        .await;
    assert_eq!(reply.status, 401);
    assert!(reply.json()["Unauthorized"].is_string(), "{}", reply.body);

    // A live one still works, and the policy comes from the configuration.
    let short = common::seeded_with(
        &["--session-idle-minutes", "5", "--session-max-hours", "1"],
        None,
    )
    .await;
    assert_eq!(short.state.auth.sessions.idle_secs, 300);
    assert_eq!(short.state.auth.sessions.absolute_secs, 3600);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = app_with_user().await;
    let reply = app.send(login_from("vera", PASSWORD, [10, 0, 0, 2])).await;
    let who = Who::Session(session_token(&reply));
    assert_eq!(
        app.send(server_fn("list_portfolio", &who, "")).await.status,
        200
    );
    let out = app.send(server_fn("logout", &who, "")).await;
    assert_eq!(out.status, 200);
    assert!(out
        .cookies()
        .iter()
        .any(|c| c.starts_with("pmr_session=;") && c.contains("Max-Age=0")));
    // The old cookie, replayed, is worthless.
    assert_eq!(
        app.send(server_fn("list_portfolio", &who, "")).await.status,
        401
    );
    assert_eq!(app.get("/", &who).await.status, 303);
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = app_with_user().await;
    let who = app.session("vera").await;
    let with_origin = |origin: Option<&str>| {
        let mut req = server_fn("list_portfolio", &who, "");
        req.headers_mut().remove(header::ORIGIN);
        if let Some(o) = origin {
            req.headers_mut()
                .insert(header::ORIGIN, o.parse().expect("header"));
        }
        req
    };
    let reply = app.send(with_origin(Some("https://evil.example"))).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.body.contains("cross-site"), "{}", reply.body);
    assert_eq!(
        app.send(with_origin(None)).await.status,
        403,
        "no origin at all"
    );
    assert_eq!(app.send(with_origin(Some("null"))).await.status, 403);
    assert_eq!(
        app.send(with_origin(Some(common::ORIGIN))).await.status,
        200
    );
    // A login posted from another site is refused too (login CSRF).
    let mut login = login_from("vera", PASSWORD, [10, 0, 0, 3]);
    login.headers_mut().insert(
        header::ORIGIN,
        "https://evil.example".parse().expect("header"),
    );
    assert_eq!(app.send(login).await.status, 403);
    // An origin on the allow-list passes.
    let proxied =
        common::seeded_with(&["--allowed-origins", "https://pmr.example.com"], None).await;
    proxied.account("vera", Role::Viewer, &[], None).await;
    let who = proxied.session("vera").await;
    let mut req = server_fn("list_portfolio", &who, "");
    req.headers_mut().insert(
        header::ORIGIN,
        "https://pmr.example.com".parse().expect("header"),
    );
    assert_eq!(proxied.send(req).await.status, 200);
}

#[tokio::test]
async fn websocket_upgrades_from_a_foreign_origin_are_refused() {
    let app = app_with_user().await;
    let who = app.session("vera").await;
    let upgrade = |origin: &str| {
        let mut req = request(Method::GET, "/ws/reports/1", &who, None);
        for (name, value) in [
            ("connection", "upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("origin", origin),
        ] {
            req.headers_mut()
                .insert(name, value.parse().expect("header"));
        }
        req
    };
    let reply = app.send(upgrade("https://evil.example")).await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.body.contains("WebSocket upgrade refused"),
        "{}",
        reply.body
    );
    let own = app.send(upgrade(common::ORIGIN)).await;
    assert_ne!(
        own.status, 403,
        "the app's own origin passes the origin check"
    );
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_and_per_address() {
    let app = app_with_user().await;
    for i in 0..5 {
        let reply = app
            .send(login_from("vera", "wrong password!", [10, 0, 1, i]))
            .await;
        assert_eq!(reply.status, 401, "attempt {i}");
    }
    // Past five, the account is slowed, not locked: the right password from a new address still
    // signs in, a second later.
    let started = std::time::Instant::now();
    let right = app.send(login_from("vera", PASSWORD, [10, 0, 2, 1])).await;
    assert_eq!(right.status, 200, "{}", right.body);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "slowed by the account's delay"
    );

    // One address spraying many accounts is stopped after 20 failures.
    app.account("eddie", Role::Editor, &[], Some(PASSWORD))
        .await;
    for i in 0..20 {
        let reply = app
            .send(login_from(
                &format!("user{i}"),
                "wrong password!",
                [192, 0, 2, 9],
            ))
            .await;
        assert_eq!(reply.status, 401, "spray {i}");
    }
    let from_sprayer = app
        .send(login_from("eddie", PASSWORD, [192, 0, 2, 9]))
        .await;
    assert_eq!(from_sprayer.status, 429);
    assert!(
        from_sprayer.body.contains("Try again in 15 minutes"),
        "{}",
        from_sprayer.body
    );
    let elsewhere = app
        .send(login_from("eddie", PASSWORD, [192, 0, 2, 10]))
        .await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
}

/// Thirty wrong guesses at once, from thirty addresses, for one account: five are checked at full
/// speed, one more is slowed, and the rest are refused without a check, so a parallel burst gets no
/// more tries than a sequence would.
#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_no_more_tries_than_a_sequence() {
    let app = app_with_user().await;
    let guesses = (0..30u8).map(|i| app.send(login_from("vera", "wrong password!", [10, 9, 0, i])));
    let replies = futures_util::future::join_all(guesses).await;
    let checked = replies.iter().filter(|r| r.status == 401).count();
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!(
        (checked, refused),
        (6, 24),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(replies
        .iter()
        .filter(|r| r.status == 429)
        .all(|r| r.body.contains("Another sign-in for this account")));
}

#[tokio::test]
async fn failed_sign_ins_do_not_reveal_which_accounts_exist() {
    let app = app_with_user().await;
    app.account("gone", Role::Viewer, &[], Some(PASSWORD)).await;
    let gone = app
        .store()
        .user_with_hash("gone")
        .await
        .expect("q")
        .expect("gone")
        .0;
    app.store()
        .update_account(&server::storage::users::AccountUpdate {
            may_create_projects: false,
            id: gone.id,
            display_name: gone.display_name.clone(),
            role: gone.role,
            active: false,
            projects: vec![],
        })
        .await
        .expect("deactivate");
    let wrong_password = app
        .send(login_from("vera", "not the password", [10, 1, 0, 1]))
        .await;
    let no_such_user = app
        .send(login_from("nobody", "not the password", [10, 1, 0, 2]))
        .await;
    let deactivated = app.send(login_from("gone", PASSWORD, [10, 1, 0, 3])).await;
    for reply in [&wrong_password, &no_such_user, &deactivated] {
        assert_eq!(reply.status, 401);
        assert!(reply.cookies().is_empty());
    }
    assert_eq!(wrong_password.body, no_such_user.body);
    assert_eq!(wrong_password.body, deactivated.body);
    // Throttling treats unknown names like known ones: past five failures, slowed.
    for i in 0..4 {
        app.send(login_from("nobody", "x-not-the-password", [10, 1, 1, i]))
            .await;
    }
    let started = std::time::Instant::now();
    let slowed_unknown = app.send(login_from("nobody", "x", [10, 1, 2, 1])).await;
    assert_eq!(slowed_unknown.status, 401);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(slowed_unknown.body, no_such_user.body);
}

#[tokio::test]
async fn pages_and_apis_carry_security_headers() {
    let app = app_with_user().await;
    let who = app.session("vera").await;
    let page = app.get("/", &who).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy");
    for part in [
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "'wasm-unsafe-eval'",
    ] {
        assert!(csp.contains(part), "{part} missing: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(nonce.len() >= 16);
    // Every inline script of the page carries that nonce.
    let scripts = page.body.matches("<script").count();
    let nonced = page.body.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(
        scripts > 0 && nonced >= scripts,
        "{scripts} scripts, {nonced} with the nonce"
    );
    let other = app.get("/", &who).await.header("content-security-policy");
    assert_ne!(other, csp, "a fresh nonce per response");
    for reply in [&page, &app.get("/healthz", &Who::Anonymous).await] {
        assert_eq!(reply.header("x-content-type-options"), "nosniff");
        assert_eq!(reply.header("referrer-policy"), "same-origin");
        assert!(reply
            .header("content-security-policy")
            .contains("frame-ancestors 'none'"));
    }
    let login = app.get("/login", &Who::Anonymous).await;
    assert_eq!(login.status, 200);
    assert!(login.header("content-security-policy").contains("'nonce-"));
}

#[tokio::test]
async fn admins_manage_accounts_and_changes_end_sessions() {
    let app = app_with_user().await;
    app.account("root", Role::Admin, &[], None).await;
    let admin = app.session("root").await;
    let vera = app.session("vera").await;
    let vera_id = app
        .store()
        .user_with_hash("vera")
        .await
        .expect("q")
        .expect("vera")
        .0
        .id;

    // Create an account with a generated password, which then signs in.
    let created = app
        .send(server_fn_json(
            "create_account",
            &admin,
            &json!({"account": {"username": "nina", "display_name": "Nina North",
                "role": "editor", "password": "", "projects": []}}),
        ))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let secret = created.json()["secret"]
        .as_str()
        .expect("generated")
        .to_string();
    assert_eq!(
        app.send(login_from("nina", &secret, [10, 2, 0, 1]))
            .await
            .status,
        200
    );
    // Bad input is refused with a reason, and a taken name is a conflict.
    for (account, status, words) in [
        (
            json!({"username": "Bad Name", "display_name": "X", "role": "viewer", "password": "", "projects": []}),
            400,
            "User names",
        ),
        (
            json!({"username": "short_pw", "display_name": "X", "role": "viewer", "password": "abc", "projects": []}),
            400,
            "12 to 256",
        ),
        (
            json!({"username": "ghost", "display_name": "X", "role": "viewer", "password": "", "projects": [987654]}),
            400,
            "no project with id",
        ),
        (
            json!({"username": "nina", "display_name": "X", "role": "viewer", "password": "", "projects": []}),
            409,
            "taken",
        ),
    ] {
        let reply = app
            .send(server_fn_json(
                "create_account",
                &admin,
                &json!({ "account": account }),
            ))
            .await;
        assert_eq!(reply.status, status, "{}", reply.body);
        assert!(reply.body.contains(words), "{}", reply.body);
    }

    // Deactivating ends the account's sessions at once.
    assert_eq!(
        app.send(server_fn("list_portfolio", &vera, ""))
            .await
            .status,
        200
    );
    let change = |active: bool, role: &str| json!({"change": {"id": vera_id, "display_name": "Vera", "role": role, "active": active, "projects": []}});
    let reply = app
        .send(server_fn_json(
            "update_account",
            &admin,
            &change(false, "viewer"),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        app.send(server_fn("list_portfolio", &vera, ""))
            .await
            .status,
        401
    );
    assert_eq!(
        app.send(login_from("vera", PASSWORD, [10, 2, 0, 2]))
            .await
            .status,
        401
    );

    // A password reset ends sessions too, and the new password works.
    app.send(server_fn_json(
        "update_account",
        &admin,
        &change(true, "viewer"),
    ))
    .await;
    let vera = app.session("vera").await;
    let reset = app
        .send(server_fn_json(
            "reset_password",
            &admin,
            &json!({"user_id": vera_id, "password": "a brand new passphrase"}),
        ))
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(
        app.send(server_fn("list_portfolio", &vera, ""))
            .await
            .status,
        401
    );
    assert_eq!(
        app.send(login_from("vera", "a brand new passphrase", [10, 2, 0, 3]))
            .await
            .status,
        200
    );

    // The last admin cannot be removed, nor can admins demote or deactivate themselves.
    let root_id = app
        .store()
        .user_with_hash("root")
        .await
        .expect("q")
        .expect("root")
        .0
        .id;
    let own = app
        .send(server_fn_json(
            "update_account",
            &admin,
            &json!({"change": {"id": root_id, "display_name": "Root", "role": "viewer", "active": true, "projects": []}}),
        ))
        .await;
    assert_eq!(own.status, 409, "{}", own.body);
    let overview = app.send(server_fn("admin_overview", &admin, "")).await;
    assert_eq!(overview.status, 200);
    let admins = overview.json()["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter(|a| a["role"] == "admin" && a["active"] == true)
        .count();
    assert!(admins >= 1);
    let last = app
        .store()
        .update_account(&server::storage::users::AccountUpdate {
            may_create_projects: false,
            id: root_id,
            display_name: "Root".into(),
            role: Role::Viewer,
            active: true,
            projects: vec![],
        })
        .await;
    assert!(
        matches!(last, Err(server::storage::StoreError::Conflict(_))),
        "{last:?}"
    );
}

#[tokio::test]
async fn anonymous_readers_are_sent_to_sign_in_and_brought_back() {
    let app = app_with_user().await;
    let report = app.report_id("HBR", true).await;
    let reply = app
        .get(&format!("/reports/{report}?tab=risks"), &Who::Anonymous)
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        reply.header("location"),
        format!("/login?next=/reports/{report}%3Ftab%3Drisks")
    );
    // Assets need no session.
    let css = app.get("/pkg/pmr.css", &Who::Anonymous).await;
    assert_ne!(css.status, 303);
}

/// After signing in, `next` sends a reader only to a path of this site: a tab or newline that
/// browsers drop (`/%09/evil.example` reads as `//evil.example`), `//`, a backslash or a scheme all
/// go home instead.
#[tokio::test]
async fn next_after_sign_in_stays_on_this_site() {
    let app = app_with_user().await;
    let reply = app.send(login_from("vera", PASSWORD, [10, 0, 0, 7])).await;
    let who = Who::Session(session_token(&reply));
    for bad in [
        "/%09/evil.example",
        "/%0A/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
        "https://evil.example/",
    ] {
        let reply = app.get(&format!("/login?next={bad}"), &who).await;
        assert_eq!(reply.status, 302, "{bad}");
        assert_eq!(reply.header("location"), "/", "{bad}");
    }
    let good = app.get("/login?next=/admin%3Fx%3D1", &who).await;
    assert_eq!(good.header("location"), "/admin?x=1");
}

/// Signing out with a cookie that names no session ends nothing: no revocation goes to the other
/// instances (a made-up cookie cannot make every instance forget who is signed in).
#[tokio::test]
async fn logout_with_an_unknown_cookie_revokes_nothing() {
    let app = app_with_user().await;
    let mut heard = app.state.revocations.subscribe();
    let made_up = Who::Session("not-a-session-token".into());
    let out = app.send(server_fn("logout", &made_up, "")).await;
    assert_eq!(out.status, 200);
    assert!(heard.try_recv().is_err(), "nothing was published");
    let reply = app.send(login_from("vera", PASSWORD, [10, 0, 0, 8])).await;
    let who = Who::Session(session_token(&reply));
    app.send(server_fn("logout", &who, "")).await;
    assert!(matches!(
        heard.try_recv(),
        Ok(server::auth::revoke::Revocation::Session { .. })
    ));
}

/// Sessions that ended are deleted from the store by the sweep, live ones are kept.
#[tokio::test]
async fn ended_sessions_are_swept() {
    let app = app_with_user().await;
    let store = app.store();
    let id = app.account("sweep_me", Role::Viewer, &[], None).await;
    let now = chrono::Utc::now().timestamp();
    store
        .insert_session("ended", id, now - 100, now - 1)
        .await
        .expect("ended");
    store
        .insert_session("idle", id, now - 7200, now + 3600)
        .await
        .expect("idle");
    store
        .insert_session("live", id, now, now + 3600)
        .await
        .expect("live");
    let swept = store
        .delete_expired_sessions(now, now - 1800)
        .await
        .expect("sweep");
    assert_eq!(swept, 2);
    assert!(store.session("live").await.expect("read").is_some());
    assert!(store.session("idle").await.expect("read").is_none());
}
