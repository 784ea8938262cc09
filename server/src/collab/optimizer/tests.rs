//! The hub as a whole, with tokio's clock paused: batching through the session's task, delivery,
//! caps, idle sweeps, slow consumers and the relay hook.

use super::stats::frame_header;
use super::*;
use serde_json::{json, Value};
use tokio::sync::mpsc;

fn optimizer(config: WsConfig) -> WebSocketOptimizer {
    WebSocketOptimizer::new(config, "test".into(), None)
}

fn join(o: &WebSocketOptimizer, session: &str, user: &str) -> Connection {
    o.register_connection(session, user, json!({"name": user}))
        .expect("joins")
}

/// Frames waiting for a connection, parsed.
fn drain(c: &mut Connection) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(o) = c.try_next_frame() {
        c.written(&o);
        out.push(serde_json::from_str(o.frame.as_str()).expect("json frame"));
    }
    out
}

/// Lets the batcher task run without moving the clock.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn n(i: u64) -> Value {
    json!({"type": "presence", "n": i})
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_goes_out_at_once() {
    let o = optimizer(WsConfig::default());
    let mut c = join(&o, "report-1", "ana");
    for i in 0..10 {
        o.queue_message("report-1", &n(i), false);
    }
    settle().await;
    let frames = drain(&mut c);
    assert_eq!(frames.len(), 1, "ten messages, one frame");
    let batch = &frames[0];
    assert_eq!(batch["type"], "batch");
    assert_eq!(batch["count"], 10);
    let ns: Vec<u64> = batch["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["n"].as_u64().expect("n"))
        .collect();
    assert_eq!(ns, (0..10).collect::<Vec<_>>(), "in queue order");
    let stamp = batch["timestamp"].as_str().expect("timestamp");
    assert!(
        chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
        "{stamp}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_partial_batch_waits_for_the_timer() {
    let o = optimizer(WsConfig::default());
    let mut c = join(&o, "report-1", "ana");
    for i in 0..3 {
        o.queue_message("report-1", &n(i), false);
    }
    settle().await;
    assert!(drain(&mut c).is_empty(), "nothing before 50 ms");
    tokio::time::advance(Duration::from_millis(49)).await;
    settle().await;
    assert!(drain(&mut c).is_empty(), "nothing at 49 ms");
    tokio::time::advance(Duration::from_millis(1)).await;
    settle().await;
    let frames = drain(&mut c);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["count"], 3);
}

#[tokio::test(start_paused = true)]
async fn a_batch_of_one_is_the_message_itself() {
    let o = optimizer(WsConfig::default());
    let mut c = join(&o, "report-1", "ana");
    o.queue_message("report-1", &n(7), false);
    settle().await;
    tokio::time::advance(Duration::from_millis(50)).await;
    settle().await;
    assert_eq!(drain(&mut c), vec![n(7)]);
    assert_eq!(o.get_stats().batches_sent, 0);
}

#[tokio::test(start_paused = true)]
async fn forced_and_queued_latencies_are_recorded_apart() {
    let monitor = crate::monitor::Monitor::new(crate::monitor::MonitorConfig::default());
    let o = WebSocketOptimizer::new(WsConfig::default(), "test".into(), Some(monitor.clone()));
    let mut c = join(&o, "report-1", "ana");
    o.queue_message("report-1", &n(1), false);
    o.queue_message("report-1", &n(2), false);
    o.queue_message("report-1", &json!({"type": "urgent"}), true);
    settle().await;
    assert_eq!(drain(&mut c).len(), 2, "the batch, then the urgent message");
    let count = |delivery: &str| {
        monitor
            .all_stats()
            .into_iter()
            .find(|s| {
                s.name == "websocket_message_latency"
                    && s.labels == [("delivery".to_string(), delivery.to_string())]
            })
            .map_or(0, |s| s.since_start.count)
    };
    assert_eq!((count("queued"), count("forced")), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn eleven_messages_are_a_batch_of_ten_then_one() {
    let o = optimizer(WsConfig::default());
    let mut c = join(&o, "report-1", "ana");
    for i in 0..11 {
        o.queue_message("report-1", &n(i), false);
    }
    settle().await;
    let frames = drain(&mut c);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["count"], 10);
    settle().await;
    tokio::time::advance(Duration::from_millis(50)).await;
    settle().await;
    assert_eq!(drain(&mut c), vec![n(10)]);
}

#[tokio::test(start_paused = true)]
async fn a_forced_message_goes_at_once_after_what_was_queued_before_it() {
    let o = optimizer(WsConfig::default());
    let mut c = join(&o, "report-1", "ana");
    o.queue_message("report-1", &n(1), false);
    o.queue_message("report-1", &n(2), false);
    o.queue_message("report-1", &json!({"type": "urgent"}), true);
    o.queue_message("report-1", &n(3), false);
    settle().await;
    let frames = drain(&mut c);
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!(frames[0]["count"], 2, "the earlier messages first");
    assert_eq!(frames[1], json!({"type": "urgent"}));
    settle().await;
    tokio::time::advance(Duration::from_millis(50)).await;
    settle().await;
    assert_eq!(
        drain(&mut c),
        vec![n(3)],
        "the later one waits for its own batch"
    );
}

#[tokio::test(start_paused = true)]
async fn a_forced_message_alone_is_not_delayed() {
    let o = optimizer(WsConfig::default());
    let mut c = join(&o, "report-1", "ana");
    o.queue_message("report-1", &json!({"type": "urgent"}), true);
    settle().await;
    assert_eq!(drain(&mut c), vec![json!({"type": "urgent"})]);
}

#[tokio::test(start_paused = true)]
async fn without_batching_every_message_goes_alone_at_once() {
    let o = optimizer(WsConfig {
        batching: false,
        ..WsConfig::default()
    });
    let mut c = join(&o, "report-1", "ana");
    for i in 0..5 {
        o.queue_message("report-1", &n(i), false);
    }
    settle().await;
    assert_eq!(drain(&mut c), (0..5).map(n).collect::<Vec<_>>());
    let stats = o.get_stats();
    assert_eq!((stats.frames_out, stats.frames_saved), (5, 0));
}

#[tokio::test(start_paused = true)]
async fn typing_indicators_conflate_within_a_batch() {
    let o = optimizer(WsConfig::default());
    let mut c = join(&o, "report-1", "ana");
    o.queue_message("report-1", &n(1), false);
    for i in 0..5 {
        o.queue_conflatable(
            "report-1",
            "typing:ana",
            &json!({"type": "typing", "user": "ana", "i": i}),
        );
    }
    o.queue_conflatable(
        "report-1",
        "typing:ben",
        &json!({"type": "typing", "user": "ben"}),
    );
    settle().await;
    tokio::time::advance(Duration::from_millis(50)).await;
    settle().await;
    let frames = drain(&mut c);
    let messages = frames[0]["messages"].as_array().expect("batch").clone();
    assert_eq!(
        messages,
        vec![
            n(1),
            json!({"type": "typing", "user": "ana", "i": 4}),
            json!({"type": "typing", "user": "ben"})
        ],
        "only ana's latest, in the place of her first"
    );
    assert_eq!(o.get_stats().messages_conflated, 4);
}

#[tokio::test(start_paused = true)]
async fn every_member_gets_the_same_frame_and_the_figures_add_up() {
    let o = optimizer(WsConfig::default());
    let a = join(&o, "report-1", "ana");
    let b = join(&o, "report-1", "ben");
    let mut other = join(&o, "report-2", "cy");
    for i in 0..10 {
        o.queue_message("report-1", &n(i), false);
    }
    settle().await;
    let frame = a.try_next_frame().expect("a frame");
    a.written(&frame);
    assert_eq!(a.queued_bytes(), 0);
    let same = b.try_next_frame().expect("the same frame");
    assert_eq!(frame.frame, same.frame);
    assert!(drain(&mut other).is_empty(), "other sessions hear nothing");
    let stats = o.get_stats();
    assert_eq!(stats.total_connections, 3);
    assert_eq!(stats.total_sessions, 2);
    assert_eq!(stats.messages_out, 20);
    assert_eq!(stats.frames_out, 2);
    assert_eq!(stats.frames_saved, 18);
    assert_eq!(stats.batches_sent, 1);
    assert_eq!(stats.average_batch_size, 10.0);
    // Frame bytes (payload and header): the envelope costs more than the nine small frame
    // headers it saves, which the figures show as it is.
    let sent = frame.frame.len() as u64 + frame_header(frame.frame.len());
    let alone: u64 = (0..10).map(|i| n(i).to_string().len() as u64 + 2).sum();
    assert_eq!(stats.bytes_out, 2 * sent);
    assert_eq!(stats.bytes_saved, 2 * alone as i64 - 2 * sent as i64);
    let session = o.get_session_stats("report-1").expect("session");
    assert_eq!(session.users, vec!["ana", "ben"]);
    assert_eq!(session.connections, 2);
    assert!(o.get_session_stats("report-9").is_none());
}

#[tokio::test(start_paused = true)]
async fn the_session_cap_and_the_instance_cap_refuse_with_a_close_code() {
    let o = optimizer(WsConfig {
        max_per_session: 2,
        max_connections: 3,
        ..WsConfig::default()
    });
    let _a = join(&o, "report-1", "ana");
    let b = join(&o, "report-1", "ben");
    let refused = o.register_connection("report-1", "cy", Value::Null);
    assert_eq!(refused.err(), Some(Refused(CloseCode::SESSION_FULL)));
    let _c = join(&o, "report-2", "cy");
    let refused = o.register_connection("report-3", "dee", Value::Null);
    assert_eq!(refused.err(), Some(Refused(CloseCode::INSTANCE_FULL)));
    drop(b);
    assert!(o.register_connection("report-1", "cy", Value::Null).is_ok());
    assert_eq!(o.get_stats().connections_refused, 2);
}

#[tokio::test(start_paused = true)]
async fn the_last_connection_out_ends_the_session() {
    let o = optimizer(WsConfig::default());
    let a = join(&o, "report-1", "ana");
    let b = join(&o, "report-1", "ben");
    drop(a);
    assert_eq!(o.get_stats().total_sessions, 1);
    drop(b);
    let stats = o.get_stats();
    assert_eq!((stats.total_sessions, stats.total_connections), (0, 0));
    o.queue_message("report-1", &n(1), false);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_closed_and_active_ones_kept() {
    let o = optimizer(WsConfig::default());
    let a = join(&o, "report-1", "ana");
    let b = join(&o, "report-1", "ben");
    tokio::time::advance(Duration::from_secs(29 * 60)).await;
    o.touch("report-1", b.id, 20);
    assert_eq!(o.sweep_idle(), 0);
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(o.sweep_idle(), 1, "ana said nothing for 30 minutes");
    assert_eq!(*a.close.borrow(), Some(CloseCode::IDLE));
    assert_eq!(*b.close.borrow(), None);
    assert_eq!(o.sweep_idle(), 0, "closed once");
    assert_eq!(o.get_stats().idle_closed, 1);
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_does_not_read_is_closed_not_buffered() {
    let o = optimizer(WsConfig {
        outbound_queue_bytes: 4096,
        batching: false,
        ..WsConfig::default()
    });
    let slow = join(&o, "report-1", "ana");
    let mut fast = join(&o, "report-1", "ben");
    let big = json!({"type": "presence", "pad": "x".repeat(1000)});
    for _ in 0..10 {
        o.queue_message("report-1", &big, false);
        settle().await;
        drain(&mut fast);
    }
    assert_eq!(*slow.close.borrow(), Some(CloseCode::SLOW_CONSUMER));
    assert!(slow.queued_bytes() <= 4096, "{}", slow.queued_bytes());
    assert_eq!(
        *fast.close.borrow(),
        None,
        "the reader keeps its connection"
    );
    assert_eq!(o.get_stats().slow_consumers_closed, 1);
}

#[tokio::test(start_paused = true)]
async fn messages_are_relayed_and_remote_ones_are_not_relayed_again() {
    let o = optimizer(WsConfig::default());
    let (tx, mut rx) = mpsc::channel(16);
    o.set_relay(RelayOutbox::new(tx, Arc::default()));
    let mut c = join(&o, "report-1", "ana");
    o.queue_message("report-1", &n(1), true);
    let relayed = rx.try_recv().expect("published");
    assert_eq!(&*relayed.session, "report-1");
    assert!(relayed.force);
    assert_eq!(relayed.number, 1);
    o.deliver_remote(Relayed {
        session: "report-1".into(),
        json: n(2).to_string().into(),
        force: true,
        conflate: None,
        number: 7,
    });
    settle().await;
    assert_eq!(drain(&mut c), vec![n(1), n(2)]);
    assert!(
        rx.try_recv().is_err(),
        "a remote message is not published back"
    );
    assert!(o.get_stats().redis_enabled);
}

#[tokio::test(start_paused = true)]
async fn relayed_messages_are_numbered_and_a_full_outbox_drops_and_counts() {
    let o = optimizer(WsConfig::default());
    let (tx, mut rx) = mpsc::channel(2);
    o.set_relay(RelayOutbox::new(tx, Arc::default()));
    let _c = join(&o, "report-1", "ana");
    for i in 1..=4 {
        o.queue_message("report-1", &n(i), false);
    }
    assert_eq!(rx.try_recv().expect("first").number, 1);
    assert_eq!(rx.try_recv().expect("second").number, 2);
    assert!(rx.try_recv().is_err(), "the outbox held two");
    assert_eq!(o.get_stats().relay_dropped, 2);
    o.queue_message("report-1", &n(5), false);
    assert_eq!(
        rx.try_recv().expect("after room").number,
        5,
        "dropped messages keep their numbers: the gap shows"
    );
}

#[tokio::test(start_paused = true)]
async fn a_relay_gap_resyncs_every_local_connection() {
    let o = optimizer(WsConfig::default());
    let mut a = join(&o, "report-1", "ana");
    let mut b = join(&o, "report-2", "ben");
    o.relay_gap();
    settle().await;
    let resync = serde_json::json!({"type": "resync"});
    assert_eq!(drain(&mut a), vec![resync.clone()]);
    assert_eq!(drain(&mut b), vec![resync]);
    assert_eq!(o.get_stats().relay_gaps, 1);
}

#[tokio::test(start_paused = true)]
async fn a_session_whose_queue_overflows_drops_and_resyncs() {
    let o = optimizer(WsConfig {
        outbound_queue_bytes: 64 * 1024 * 1024,
        ..WsConfig::default()
    });
    let mut c = join(&o, "report-1", "ana");
    // The session's task cannot run in between: the queue fills, and the rest is dropped.
    let sent = SESSION_QUEUE as u64 + 10;
    for i in 0..sent {
        o.queue_message("report-1", &n(i), false);
    }
    // The task works through its backlog a budget at a time: let it run until the resync is out.
    let resync = serde_json::json!({"type": "resync"});
    let mut messages: Vec<Value> = Vec::new();
    for _ in 0..1000 {
        if messages.last() == Some(&resync) {
            break;
        }
        settle().await;
        tokio::time::advance(Duration::from_millis(50)).await;
        messages.extend(
            drain(&mut c)
                .into_iter()
                .flat_map(|f| match f["messages"].as_array() {
                    Some(batch) => batch.clone(),
                    None => vec![f],
                }),
        );
    }
    let kept: Vec<u64> = messages.iter().filter_map(|m| m["n"].as_u64()).collect();
    assert_eq!(
        (kept.len(), kept.first(), kept.last()),
        (SESSION_QUEUE, Some(&0), Some(&(SESSION_QUEUE as u64 - 1))),
        "what fitted"
    );
    assert!(kept.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(
        messages.last(),
        Some(&resync),
        "then the clients are told to catch up"
    );
    assert_eq!(o.get_stats().queue_overflows, 1);
}
