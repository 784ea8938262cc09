//! An acknowledged edit is in the document every later session loads, on every instance (issue 19).
//!
//! Editors type numbered markers as fast as the socket takes them (never waiting for an `ack`
//! before the next edit), across several folds of the document's log, while sessions end and start
//! again; afterwards fresh clients on every instance, a fresh instance over the same database, the
//! store and the report's written-back text all hold every acknowledged marker, and each editor's
//! own copy holds all of its own. Each run is made on SQLite and on PostgreSQL, on one instance and
//! on two sharing a Redis. The property test at the end drives the documents' fold and catch-up
//! logic through random interleavings of appends, relays (some lost), syncs, folds, session ends
//! and restarts on three instances over one store.
//!
//! `PROPTEST_CASES` raises the number of cases of the property test (the suite runs 48).

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::typist::{self, Door, Typist};
use common::{Role, TestApp};
use server::redis_probe::RedisProbe;

/// The backends each run is made on.
#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A seeded app on `backend`, with the editors the runs use.
async fn app(backend: Backend, redis: Option<&test_support::RedisServer>) -> TestApp {
    let (url, db) = match backend {
        Backend::Sqlite => {
            let db = test_support::SqliteDb::new();
            (db.url(), Some(db))
        }
        Backend::Postgres => (
            test_support::PostgresServer::shared().fresh_database(),
            None,
        ),
    };
    let redis_url = redis.map(|r| r.url());
    let probe = redis.map(|r| RedisProbe::new(&r.url()).expect("probe"));
    let flags: Vec<&str> = redis_url
        .iter()
        .flat_map(|u| ["--redis-url", u.as_str()])
        .collect();
    let app = common::seeded_on(url, db, &flags, probe).await;
    app.account("ana", Role::Editor, &["HBR"], None).await;
    app.account("dee", Role::Editor, &["HBR"], None).await;
    app
}

/// Another instance over `app`'s database (sharing `redis`), served; answers its port.
async fn second_instance(app: &TestApp, redis: Option<&test_support::RedisServer>) -> u16 {
    let url = redis.map(|r| r.url());
    let flags: Vec<&str> = url
        .iter()
        .flat_map(|u| ["--redis-url", u.as_str()])
        .collect();
    let state = app
        .another_instance(
            &flags,
            redis.map(|r| RedisProbe::new(&r.url()).expect("probe")),
        )
        .await;
    common::listen(state).await
}

async fn door(app: &TestApp, port: u16, user: &str) -> Door {
    let common::Who::Session(token) = app.session(user).await else {
        unreachable!("a session")
    };
    Door {
        port,
        cookie: format!("pmr_session={token}"),
    }
}

/// The text a client that syncs from nothing on `door` reads.
async fn fresh_text(door: &Door, report: i64) -> String {
    Typist::join(door, report, "reader")
        .await
        .leave()
        .await
        .text()
}

/// Waits until the store's log of `report` is folded whole (the last session on every instance
/// has ended and folded it).
async fn folded(app: &TestApp, report: i64) {
    for _ in 0..200 {
        if app.store().doc_update_count(report).await.expect("count") == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the log of report {report} was not folded when its sessions ended");
}

/// The report's executive summary narrative, as written back.
async fn written_back(app: &TestApp, report: i64) -> String {
    app.store()
        .report_document(report)
        .await
        .expect("read")
        .expect("report")
        .sections
        .into_iter()
        .find(|s| s.key == "executive-summary")
        .expect("summary")
        .narrative
}

/// Asserts `text` holds every marker each typist had acknowledged.
fn holds_all(text: &str, acked: &[(String, BTreeSet<usize>)], what: &str) {
    for (tag, numbers) in acked {
        let lost = typist::missing(text, tag, numbers);
        assert!(
            lost.is_empty(),
            "{what}: {} of {}'s {} acknowledged markers are missing: {lost:?}",
            lost.len(),
            tag,
            numbers.len()
        );
    }
}

async fn one_instance_keeps_every_acked_edit(backend: Backend) {
    const EDITS: usize = 450;
    let app = app(backend, None).await;
    let report = app.report_id("HBR", false).await;
    let port = common::listen(app.state.clone()).await;
    let door = door(&app, port, "ana").await;
    let mut ana = Typist::join(&door, report, "a").await;
    ana.type_markers(0..EDITS).await.expect("typed");
    assert_eq!(ana.acked.len(), EDITS, "every edit acknowledged");
    let acked = vec![("a".to_string(), ana.acked.clone())];
    holds_all(
        &fresh_text(&door, report).await,
        &acked,
        "during the session",
    );

    let ana = ana.leave().await;
    folded(&app, report).await;
    holds_all(&ana.text(), &acked, "the editor's own copy");
    holds_all(
        &fresh_text(&door, report).await,
        &acked,
        "after the session",
    );
    let fresh = second_instance(&app, None).await;
    let elsewhere = Door {
        port: fresh,
        ..door
    };
    holds_all(
        &fresh_text(&elsewhere, report).await,
        &acked,
        "a fresh instance",
    );
    holds_all(
        &written_back(&app, report).await,
        &acked,
        "the report's text",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_keeps_every_acked_edit_across_folds_on_sqlite() {
    one_instance_keeps_every_acked_edit(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_keeps_every_acked_edit_across_folds_on_postgres() {
    one_instance_keeps_every_acked_edit(Backend::Postgres).await;
}

/// Four editors, two on each of two instances sharing a Redis, 250 edits each without waiting:
/// 1,000 updates, five folds. Halfway every session ends, and two of the editors come back on the
/// other instance with the copies they had.
async fn two_instances_keep_every_acked_edit(backend: Backend) {
    const HALF: usize = 125;
    let redis = test_support::RedisServer::start();
    let app = app(backend, Some(&redis)).await;
    let report = app.report_id("HBR", false).await;
    let a = common::listen(app.state.clone()).await;
    let b = second_instance(&app, Some(&redis)).await;
    let doors = [
        door(&app, a, "ana").await,
        door(&app, b, "dee").await,
        door(&app, a, "dee").await,
        door(&app, b, "ana").await,
    ];
    let tags = ["a", "b", "c", "d"];
    let mut typists = Vec::new();
    for (door, tag) in doors.iter().zip(tags) {
        typists.push(Typist::join(door, report, tag).await);
    }
    type_all(&mut typists, 0..HALF).await;

    let mut left = Vec::new();
    for t in typists {
        left.push(t.leave().await);
    }
    folded(&app, report).await;
    // Back again: a and b on the other instance, c and d where they were.
    let back = [&doors[1], &doors[0], &doors[2], &doors[3]];
    for (t, door) in left.iter_mut().zip(back) {
        t.rejoin(door, report).await;
    }
    let mut typists = left;
    type_all(&mut typists, HALF..2 * HALF).await;

    let acked: Vec<(String, BTreeSet<usize>)> = tags
        .iter()
        .zip(&typists)
        .map(|(tag, t)| (tag.to_string(), t.acked.clone()))
        .collect();
    for (tag, numbers) in &acked {
        assert_eq!(numbers.len(), 2 * HALF, "every edit of {tag} acknowledged");
    }
    // Every live copy converges on everything, through the relay (and resyncs where it lost some).
    for t in &mut typists {
        let all = acked.clone();
        t.read_until(move |text| {
            all.iter()
                .all(|(tag, n)| typist::missing(text, tag, n).is_empty())
        })
        .await
        .expect("converges");
    }
    for (door, instance) in [(&doors[0], "instance A"), (&doors[1], "instance B")] {
        holds_all(&fresh_text(door, report).await, &acked, instance);
    }
    for t in typists {
        t.leave().await;
    }
    folded(&app, report).await;
    for (door, instance) in [(&doors[0], "A after"), (&doors[1], "B after")] {
        holds_all(&fresh_text(door, report).await, &acked, instance);
    }
    let fresh = second_instance(&app, None).await;
    let elsewhere = Door {
        port: fresh,
        ..doors[0].clone()
    };
    holds_all(
        &fresh_text(&elsewhere, report).await,
        &acked,
        "a fresh instance",
    );
    holds_all(
        &written_back(&app, report).await,
        &acked,
        "the report's text",
    );
}

/// Every typist types `numbers` at the same time.
async fn type_all(typists: &mut [Typist], numbers: std::ops::Range<usize>) {
    let runs = typists.iter_mut().map(|t| t.type_markers(numbers.clone()));
    for outcome in futures_util::future::join_all(runs).await {
        outcome.expect("typed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_every_acked_edit_on_sqlite() {
    two_instances_keep_every_acked_edit(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_keep_every_acked_edit_on_postgres() {
    two_instances_keep_every_acked_edit(Backend::Postgres).await;
}

// ---- The fold and catch-up logic against a model ------------------------------------------------

mod model {
    use std::collections::BTreeSet;

    use base64::Engine;
    use proptest::prelude::*;
    use server::collab::docs::Documents;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{Doc, GetString, ReadTxn, StateVector, Transact, Update};

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
    const TEXT: &str = super::typist::TEXT;
    const INSTANCES: usize = 3;
    const CLIENTS: usize = 3;
    /// Folds come every few updates, so a case crosses many.
    const FOLD_EVERY: i64 = 4;

    /// One step of a case.
    #[derive(Debug, Clone)]
    pub enum Step {
        /// A client types a marker and sends it to an instance.
        Type { client: usize, instance: usize },
        /// What `from` sent since the last relay reaches `to` (the relay), or is lost.
        Relay { from: usize, to: usize, lost: bool },
        /// A client syncs with an instance, both ways.
        Sync { client: usize, instance: usize },
        /// The last session on an instance ends: write-back and fold.
        End { instance: usize },
        /// An instance restarts: its copies in memory are gone.
        Restart { instance: usize },
        /// Two clients type at the same moment while an instance's session ends.
        Together {
            first: (usize, usize),
            second: (usize, usize),
            ending: usize,
        },
    }

    pub fn steps() -> impl Strategy<Value = Vec<Step>> {
        let client = 0..CLIENTS;
        let instance = 0..INSTANCES;
        let step = prop_oneof![
            6 => (client.clone(), instance.clone())
                .prop_map(|(client, instance)| Step::Type { client, instance }),
            2 => (client.clone(), client.clone(), any::<bool>())
                .prop_map(|(from, to, lost)| Step::Relay { from, to, lost }),
            2 => (client.clone(), instance.clone())
                .prop_map(|(client, instance)| Step::Sync { client, instance }),
            1 => instance.clone().prop_map(|instance| Step::End { instance }),
            1 => instance.clone().prop_map(|instance| Step::Restart { instance }),
            2 => ((client.clone(), instance.clone()), (client, instance.clone()), instance)
                .prop_map(|(first, second, ending)| Step::Together { first, second, ending }),
        ];
        proptest::collection::vec(step, 1..60)
    }

    /// A client: its copy, what it typed, and what it sent that others have not had relayed.
    #[derive(Default)]
    struct Client {
        doc: Doc,
        typed: usize,
        acked: BTreeSet<usize>,
        unrelayed: Vec<Vec<u8>>,
    }

    fn tag(client: usize) -> String {
        format!("c{client}-")
    }

    fn text(doc: &Doc) -> String {
        let txn = doc.transact();
        txn.get_text(TEXT)
            .map(|t| t.get_string(&txn))
            .unwrap_or_default()
    }

    fn apply(doc: &Doc, update: &[u8]) {
        doc.transact_mut()
            .apply_update(Update::decode_v1(update).expect("decodes"))
            .expect("applies");
    }

    /// Types the client's next marker; answers it and its update.
    fn keystroke(c: &mut Client, client: usize) -> (usize, Vec<u8>) {
        let i = c.typed;
        c.typed += 1;
        let update =
            crate::common::append_to(&c.doc, TEXT, &super::typist::marker(&tag(client), i));
        c.unrelayed.push(update.clone());
        (i, update)
    }

    async fn send(docs: &Documents, report: i64, c: &mut Client, i: usize, update: &[u8]) {
        docs.apply(report, &B64.encode(update), "model")
            .await
            .expect("an edit is stored");
        c.acked.insert(i);
    }

    async fn sync(docs: &Documents, report: i64, c: &mut Client) {
        let sv = B64.encode(c.doc.transact().state_vector().encode_v1());
        let (update, theirs) = docs.sync(report, &sv).await.expect("syncs");
        apply(&c.doc, &B64.decode(update).expect("b64"));
        let theirs = StateVector::decode_v1(&B64.decode(theirs).expect("b64")).expect("sv");
        let missing = c.doc.transact().encode_state_as_update_v1(&theirs);
        if Update::decode_v1(&missing).is_ok_and(|u| !u.is_empty()) {
            docs.apply(report, &B64.encode(missing), "model")
                .await
                .expect("the catch-up is stored");
        }
    }

    /// Runs a case; answers what went wrong, if anything.
    pub async fn run(app: &super::TestApp, report: i64, steps: Vec<Step>) -> Result<(), String> {
        let store = app.store().clone();
        let new_docs =
            || Documents::compacting_every(store.clone(), app.state.cache.clone(), FOLD_EVERY);
        let mut docs: Vec<Documents> = (0..INSTANCES).map(|_| new_docs()).collect();
        let mut clients: Vec<Client> = (0..CLIENTS).map(|_| Client::default()).collect();
        for c in &mut clients {
            sync(&docs[0], report, c).await;
        }
        for step in steps {
            match step {
                Step::Type { client, instance } => {
                    let (i, update) = keystroke(&mut clients[client], client);
                    send(&docs[instance], report, &mut clients[client], i, &update).await;
                }
                Step::Relay { from, to, lost } => {
                    let sent = std::mem::take(&mut clients[from].unrelayed);
                    if !lost && from != to {
                        for update in sent {
                            apply(&clients[to].doc, &update);
                        }
                    }
                }
                Step::Sync { client, instance } => {
                    sync(&docs[instance], report, &mut clients[client]).await;
                }
                Step::End { instance } => {
                    docs[instance].session_ended(report).await.expect("ends");
                }
                Step::Restart { instance } => docs[instance] = new_docs(),
                Step::Together {
                    first,
                    second,
                    ending,
                } => {
                    if first.0 == second.0 {
                        continue;
                    }
                    let (i, one) = keystroke(&mut clients[first.0], first.0);
                    let (j, two) = keystroke(&mut clients[second.0], second.0);
                    let (lo, hi) = clients.split_at_mut(first.0.max(second.0));
                    let (a, b) = if first.0 < second.0 {
                        (&mut lo[first.0], &mut hi[0])
                    } else {
                        (&mut hi[0], &mut lo[second.0])
                    };
                    let end = docs[ending].session_ended(report);
                    let (_, _, ended) = tokio::join!(
                        send(&docs[first.1], report, a, i, &one),
                        send(&docs[second.1], report, b, j, &two),
                        end
                    );
                    ended.expect("ends");
                }
            }
        }
        // Every instance, and one that starts now, gives a fresh client every acknowledged marker.
        docs.push(new_docs());
        for (n, d) in docs.iter().enumerate() {
            let mut fresh = Client::default();
            sync(d, report, &mut fresh).await;
            let seen = text(&fresh.doc);
            for (k, c) in clients.iter().enumerate() {
                let lost = super::typist::missing(&seen, &tag(k), &c.acked);
                if !lost.is_empty() {
                    return Err(format!("instance {n} lost client {k}'s markers {lost:?}"));
                }
            }
        }
        // Each client's copy still holds everything it typed, before and after a last sync.
        for (k, c) in clients.iter_mut().enumerate() {
            sync(&docs[0], report, c).await;
            let own = text(&c.doc);
            let lost = super::typist::missing(&own, &tag(k), &(0..c.typed).collect::<Vec<_>>());
            if !lost.is_empty() {
                return Err(format!("client {k}'s own copy lost {lost:?}"));
            }
        }
        Ok(())
    }
}

/// Removes the report's document from the store, so that each case starts from the report.
async fn forget_document(app: &TestApp, report: i64) {
    let mut tx = app.store().begin().await.expect("begin");
    for table in ["report_doc_updates", "report_doc_snapshots"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE report_id = $1"))
            .bind(report)
            .execute(&mut *tx)
            .await
            .expect("delete");
    }
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_interleaving_of_appends_relays_folds_and_loads_loses_an_acked_update() {
    let app = app(Backend::Sqlite, None).await;
    let report = app.report_id("HBR", false).await;
    let handle = tokio::runtime::Handle::current();
    let mut runner = common::proptest_runner(48);
    let outcome = runner.run(&model::steps(), |steps| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                forget_document(&app, report).await;
                model::run(&app, report, steps).await
            })
        })
        .map_err(proptest::test_runner::TestCaseError::fail)
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
