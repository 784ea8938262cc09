//! What the HTTP test files share: a seeded app in a temporary SQLite file, accounts and API tokens
//! made on the spot, and requests sent as someone through the whole router (authentication layer
//! included). Requests carry `Host: app.test`; state-changing ones sent with a session also carry the
//! app's own `Origin`, as a browser would.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use server::auth::{session, token};
use server::redis_probe::RedisProbe;
use server::reports::generate::GenerationParams;
use server::seed::seed_if_empty;
use server::storage::tokens::NewToken;
use server::storage::users::NewUser;
use server::storage::Store;
use server::{router, AppState, Config};
use tower::ServiceExt;

pub use app::model::Role;

pub mod typist;

/// The host every test request is addressed to, and the app's own origin.
pub const HOST: &str = "app.test";
pub const ORIGIN: &str = "http://app.test";

/// A seeded app.
pub struct TestApp {
    /// The SQLite file, kept while the app lives (`None` on PostgreSQL).
    _db: Option<test_support::SqliteDb>,
    /// The database URL.
    url: String,
    pub state: AppState,
}

/// Who sends a request.
#[derive(Debug, Clone)]
pub enum Who {
    Anonymous,
    /// A session cookie's token.
    Session(String),
    /// An API token.
    Bearer(String),
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// Every `Set-Cookie` value.
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }
}

/// Quick generation settings for seeding.
pub fn quick() -> GenerationParams {
    GenerationParams {
        iterations: 200,
        ..GenerationParams::default()
    }
}

/// A test's configuration, parsed as the server parses its command line: the database at `url`, no
/// demo seeding, then `flags` (`["--ws-max-message-kb", "1"]`). Environment variables are not read,
/// so a test runs the same whatever the shell that started it has set.
pub fn config(url: &str, flags: &[&str]) -> Config {
    use clap::{CommandFactory, FromArgMatches};
    let command = Config::command().mut_args(|a| a.env(None::<&str>));
    let mut args = vec!["server", "--database-url", url, "--seed-demo", "false"];
    args.extend_from_slice(flags);
    command
        .try_get_matches_from(args)
        .and_then(|m| Config::from_arg_matches(&m))
        .unwrap_or_else(|e| panic!("test flags {flags:?}: {e}"))
}

/// The demo portfolio, seeded on 27 November 2026, served with `flags` (see [`config`]).
pub async fn seeded_with(flags: &[&str], redis: Option<RedisProbe>) -> TestApp {
    let db = test_support::SqliteDb::new();
    seeded_on(db.url(), Some(db), flags, redis).await
}

/// The demo portfolio in the database at `url` (an empty one), as [`seeded_with`].
pub async fn seeded_on(
    url: String,
    db: Option<test_support::SqliteDb>,
    flags: &[&str],
    redis: Option<RedisProbe>,
) -> TestApp {
    let store = Store::open(&url).await.expect("open store");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date");
    seed_if_empty(&store, today, quick()).await.expect("seed");
    let config = config(&url, flags);
    let state = AppState::from_parts(&config, store, redis).expect("state");
    TestApp {
        _db: db,
        url,
        state,
    }
}

/// The demo portfolio with the default configuration.
pub async fn seeded() -> TestApp {
    seeded_with(&[], None).await
}

/// Builds a request as `who`.
pub fn request(
    method: Method,
    uri: &str,
    who: &Who,
    body: Option<(&str, Vec<u8>)>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(header::HOST, HOST);
    if matches!(method, Method::GET | Method::HEAD) {
        builder = builder.header(header::ACCEPT, "text/html,*/*;q=0.8");
    } else {
        builder = builder.header(header::ORIGIN, ORIGIN);
    }
    match who {
        Who::Anonymous => {}
        Who::Session(token) => {
            builder = builder.header(header::COOKIE, format!("pmr_session={token}"))
        }
        Who::Bearer(token) => {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"))
        }
    }
    match body {
        Some((content_type, bytes)) => builder
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(bytes)),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

/// A server function call with a URL-encoded body.
pub fn server_fn(name: &str, who: &Who, form: &str) -> Request<Body> {
    request(
        Method::POST,
        &format!("/api/{name}"),
        who,
        Some((
            "application/x-www-form-urlencoded",
            form.as_bytes().to_vec(),
        )),
    )
}

/// A server function call with a JSON body.
pub fn server_fn_json(name: &str, who: &Who, json: &Value) -> Request<Body> {
    request(
        Method::POST,
        &format!("/api/{name}"),
        who,
        Some(("application/json", json.to_string().into_bytes())),
    )
}

impl TestApp {
    /// Another instance over the same database (a second server process would be the same).
    pub async fn another_instance(&self, flags: &[&str], redis: Option<RedisProbe>) -> AppState {
        let store = Store::open(&self.url).await.expect("open store");
        let config = config(&self.url, flags);
        AppState::from_parts(&config, store, redis).expect("state")
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The application's state (cache, monitor), for figures a test checks directly.
    #[allow(dead_code)]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Sends a request through the whole application.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A GET as `who`.
    pub async fn get(&self, uri: &str, who: &Who) -> Reply {
        self.send(request(Method::GET, uri, who, None)).await
    }

    /// Project ids by code.
    pub async fn project_ids(&self, codes: &[&str]) -> Vec<i64> {
        let mut ids = Vec::new();
        for code in codes {
            ids.push(
                self.store()
                    .project_id(code)
                    .await
                    .expect("lookup")
                    .unwrap_or_else(|| panic!("no project {code}")),
            );
        }
        ids
    }

    /// Creates an account (with a password that cannot be used unless `password` is given) that is
    /// a member of the projects with these codes; returns its id.
    pub async fn account(
        &self,
        username: &str,
        role: Role,
        codes: &[&str],
        password: Option<&str>,
    ) -> i64 {
        let password_hash = match password {
            Some(p) => server::auth::password::hash(p).expect("hash"),
            None => "not-a-password-hash".into(),
        };
        let projects = self.project_ids(codes).await;
        self.store()
            .create_account(
                &NewUser {
                    username: username.into(),
                    display_name: format!("Test {username}"),
                    role,
                    password_hash,
                },
                &projects,
            )
            .await
            .expect("create account")
    }

    /// A fresh session of the named account.
    pub async fn session(&self, username: &str) -> Who {
        let (user, _) = self
            .store()
            .user_with_hash(username)
            .await
            .expect("lookup")
            .unwrap_or_else(|| panic!("no account {username}"));
        let token = session::start(
            self.store(),
            &user,
            chrono::Utc::now().timestamp(),
            self.state.auth.sessions,
        )
        .await
        .expect("session");
        Who::Session(token)
    }

    /// A new API token with a role and projects.
    pub async fn api_token(&self, name: &str, role: Role, codes: &[&str]) -> Who {
        self.api_token_with(name, role, codes, app::access::Scope::Full, None)
            .await
    }

    /// A new API token with a scope, and created by an account (it ends with the account).
    pub async fn api_token_with(
        &self,
        name: &str,
        role: Role,
        codes: &[&str],
        scope: app::access::Scope,
        created_by: Option<i64>,
    ) -> Who {
        let projects = self.project_ids(codes).await;
        let secret = format!("pmr_{}", token::issue().0);
        self.store()
            .insert_api_token(&NewToken {
                name,
                token_hash: &token::digest(&secret),
                role,
                created_by,
                projects: &projects,
                now: chrono::Utc::now().timestamp(),
                expires_at: None,
                scope,
            })
            .await
            .expect("token");
        Who::Bearer(secret)
    }

    /// The id of a report of a project: its latest draft, or (with `final_`) its first final one.
    pub async fn report_id(&self, code: &str, final_: bool) -> i64 {
        let portfolio = self.store().portfolio().await.expect("portfolio");
        let project = portfolio
            .projects
            .iter()
            .find(|p| p.code == code)
            .unwrap_or_else(|| panic!("no project {code}"));
        for link in &project.reports {
            let meta = self
                .store()
                .report_meta(link.id)
                .await
                .expect("meta")
                .expect("report");
            let is_final = meta.status == app::model::ReportStatus::Final;
            if is_final == final_ {
                return link.id;
            }
        }
        panic!("project {code} has no such report");
    }
}

/// The report's shared document as a client has it after a sync from nothing (through
/// `Documents::sync`, as the WebSocket does).
pub async fn client_copy(docs: &server::collab::docs::Documents, report: i64) -> yrs::Doc {
    use base64::Engine;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::Transact;
    let b64 = base64::engine::general_purpose::STANDARD;
    let empty = b64.encode(yrs::StateVector::default().encode_v1());
    let (update, _) = docs.sync(report, &empty).await.expect("the document syncs");
    let doc = yrs::Doc::new();
    doc.transact_mut()
        .apply_update(yrs::Update::decode_v1(&b64.decode(update).expect("b64")).expect("decodes"))
        .expect("applies");
    doc
}

/// Appends `words` to the text `name` of a client's copy; answers the update the edit made.
pub fn append_to(doc: &yrs::Doc, name: &str, words: &str) -> Vec<u8> {
    use yrs::{ReadTxn, Text, Transact, WriteTxn};
    let before = doc.transact().state_vector();
    {
        let mut txn = doc.transact_mut();
        let text = txn.get_or_insert_text(name);
        let end = text.len(&txn);
        text.insert(&mut txn, end, words);
    }
    doc.transact().encode_state_as_update_v1(&before)
}

/// A property-test runner for `default` cases (`PROPTEST_CASES` when set), without a failure
/// file: the tests print a failing case shrunk to its minimum.
pub fn proptest_runner(default: u32) -> proptest::test_runner::TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })
}

/// Serves `state` on a free loopback port through the binary's own accept loop (its default
/// limits); answers the port.
pub async fn listen(state: AppState) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(server::serve::serve(
        listener,
        router(state),
        server::serve::ConnectionLimits::default(),
        std::future::pending(),
    ));
    port
}
