//! The watch driver against a live sandbox over loopback HTTP: "sending"
//! rows settle while it polls (delivered, invalid), a deadline passes with
//! an email pending, a cancel stops a watch that is waiting, and bad
//! settings fail before any request.

use std::sync::mpsc;
use std::time::Duration;

use sendcloud_status::chrono::NaiveDateTime;
use sendcloud_status::core::watch::{WatchEnd, WatchNotice};
use sendcloud_status::{Category, Client, ErrorKind, ValidationReason, WatchEvent, WatchStep, Watcher};
use sendcloud_status_sandbox::{CacheModel, DEMO_API_KEY, DEMO_API_USER, Filter, LiveConfig, Sandbox, SandboxConfig};

/// The sandbox's account, pinned: the same records every time.
fn config() -> SandboxConfig {
    let now: NaiveDateTime = "2024-05-20T12:00:00".parse().unwrap();
    SandboxConfig::default().with_records(2_000).with_seed(5).with_now(now).with_rate_limit(None)
}

/// Every "sending" row settles within a second; every page reads the live rows.
fn settling() -> LiveConfig {
    LiveConfig::off().with_settle_per_second(2_000.0).with_cache(CacheModel::PerRequest)
}

fn client(sb: &Sandbox) -> Client {
    Client::builder()
        .ignore_env()
        .credentials(DEMO_API_USER, DEMO_API_KEY)
        .base_url(sb.base_url())
        .rate_limit_per_minute(None)
        .build()
        .unwrap()
}

/// Runs `f` on a thread and fails the test if it has not returned after
/// `secs` (a hang would last as long as the watch's interval or deadline).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs)).unwrap_or_else(|_| panic!("still running after {secs} s: hung"))
}

/// Watches `id` every second on a sandbox whose rows start settling once
/// the first poll has seen the email "sending"; every event, in order.
fn watch_until_settled(id: &str) -> (Vec<WatchEvent>, Watcher) {
    let sb = Sandbox::start(config().with_live(LiveConfig::off().with_cache(CacheModel::PerRequest))).unwrap();
    let mut watcher = client(&sb)
        .watch([id])
        .interval(Duration::from_secs(1))
        .timeout(Some(Duration::from_secs(60)))
        .jitter_seed(3)
        .report_polls(true)
        .start()
        .unwrap();
    let id = id.to_owned();
    within(60, move || {
        let mut events = Vec::new();
        for event in watcher.by_ref() {
            let event = event.expect("no poll fails");
            if let WatchEvent::Transition(t) = &event {
                assert_eq!(t.email_id, id);
                if t.to == Category::Sending {
                    sb.set_live(settling());
                }
            }
            events.push(event);
        }
        (events, watcher)
    })
}

fn moves(events: &[WatchEvent]) -> Vec<(Option<Category>, Category)> {
    events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Transition(t) => Some((t.from, t.to)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_sending_email_that_gets_delivered_ends_all_delivered() {
    let ends = Sandbox::settle_outcomes(config().with_live(settling()), DEMO_API_USER).unwrap();
    let id = ends.iter().find(|(_, s)| **s == 1).map(|(id, _)| id.clone()).unwrap();
    let (events, watcher) = watch_until_settled(&id);
    assert_eq!(moves(&events), [(None, Category::Sending), (Some(Category::Sending), Category::Delivered)]);
    let Some(WatchEvent::Done(outcome)) = events.last() else { panic!("the last event is the outcome: {events:?}") };
    assert_eq!((outcome.end, outcome.delivered, outcome.pending), (WatchEnd::AllDelivered, 1, 0));
    // No cache notice on loopback; every poll's records come before its transitions.
    assert!(!events.iter().any(|e| matches!(e, WatchEvent::Notice(_))));
    let polled: Vec<usize> =
        events.iter().enumerate().filter(|(_, e)| matches!(e, WatchEvent::Polled { .. })).map(|(i, _)| i).collect();
    assert_eq!(polled.len() as u32, outcome.polls);
    assert!(
        matches!(&events[polled[0]], WatchEvent::Polled { records, .. } if records[0].email_id.as_deref() == Some(id.as_str()))
    );
    assert!(matches!(events[polled[0] + 1], WatchEvent::Transition(_)));
    let report = watcher.report().expect("a report once done");
    assert_eq!(report.delivered, [id]);
    assert!(report.all_delivered() && report.invalid.is_empty() && report.pending.is_empty());
}

#[test]
fn an_email_that_turns_invalid_ends_failed() {
    let ends = Sandbox::settle_outcomes(config().with_live(settling()), DEMO_API_USER).unwrap();
    let id = ends.iter().find(|(_, s)| **s == 4).map(|(id, _)| id.clone()).unwrap();
    let (events, watcher) = watch_until_settled(&id);
    assert_eq!(moves(&events), [(None, Category::Sending), (Some(Category::Sending), Category::Invalid)]);
    let last_transition = events
        .iter()
        .rev()
        .find_map(|e| match e {
            WatchEvent::Transition(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap();
    assert!(last_transition.sub_status.is_some_and(|s| (401..=409).contains(&s.code())), "{last_transition:?}");
    let Some(WatchEvent::Done(outcome)) = events.last() else { panic!("{events:?}") };
    assert_eq!((outcome.end, outcome.invalid), (WatchEnd::Failed, 1));
    assert_eq!(watcher.report().unwrap().invalid, [id]);
}

#[test]
fn the_deadline_ends_a_watch_with_the_email_pending() {
    let sb = Sandbox::start(config()).unwrap();
    let sending = sb.dataset().query(&Filter::days(sb.dataset().today(), 3).with_status(18));
    let id = sending[0].email_id.clone();
    let mut watcher = client(&sb)
        .watch([id.as_str()])
        .interval(Duration::from_secs(1))
        .timeout(Some(Duration::from_secs(3)))
        .start()
        .unwrap();
    let (events, watcher) = within(30, move || {
        let events: Vec<WatchEvent> = watcher.by_ref().map(Result::unwrap).collect();
        (events, watcher)
    });
    assert_eq!(moves(&events), [(None, Category::Sending)]);
    let Some(WatchEvent::Done(outcome)) = events.last() else { panic!("{events:?}") };
    assert_eq!((outcome.end, outcome.pending), (WatchEnd::DeadlinePassed, 1));
    assert_eq!(watcher.report().unwrap().pending, [id]);
    assert_eq!(sb.request_log().len() as u32, outcome.polls, "one request per poll");
}

#[test]
fn a_cancel_stops_a_waiting_watch_without_an_outcome() {
    let sb = Sandbox::start(config()).unwrap();
    let sending = sb.dataset().query(&Filter::days(sb.dataset().today(), 3).with_status(18));
    // An hour between polls: only the cancel can end the wait.
    let mut watcher =
        client(&sb).watch([sending[0].email_id.as_str()]).interval(Duration::from_secs(3600)).start().unwrap();
    let handle = watcher.cancel_handle();
    let first = within(30, move || {
        let first = watcher.next();
        (first, watcher)
    });
    let (first, mut watcher) = first;
    assert!(matches!(first, Some(Ok(WatchEvent::Transition(_)))), "{first:?}");
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        tx.send(()).unwrap();
        let rest = watcher.next();
        (rest, watcher)
    });
    rx.recv().unwrap();
    // The watcher is (about to be) asleep until the next poll.
    handle.cancel();
    let (rest, watcher) = within(30, move || waiter.join().unwrap());
    assert!(rest.is_none(), "a cancelled watch ends quietly: {rest:?}");
    assert!(handle.is_cancelled() && watcher.report().is_none());
    assert_eq!(sb.request_log().len(), 1, "no poll after the cancel");
}

#[test]
fn step_without_a_wait_returns_the_time_left() {
    let sb = Sandbox::start(config()).unwrap();
    let sending = sb.dataset().query(&Filter::days(sb.dataset().today(), 3).with_status(18));
    let mut watcher =
        client(&sb).watch([sending[0].email_id.as_str()]).interval(Duration::from_secs(600)).start().unwrap();
    assert!(matches!(watcher.step(Duration::ZERO).unwrap(), WatchStep::Event(WatchEvent::Transition(_))));
    match watcher.step(Duration::ZERO).unwrap() {
        WatchStep::Wait(left) => {
            // The next poll is due an interval (plus up to a tenth of it) after the first one started.
            assert!(!left.is_zero() && left <= Duration::from_secs(660), "{left:?}")
        }
        other => panic!("expected a wait, got {other:?}"),
    }
    watcher.close();
    assert!(matches!(watcher.step(Duration::ZERO).unwrap(), WatchStep::Ended));
    assert_eq!(sb.request_log().len(), 1);
}

#[test]
fn a_short_interval_on_a_remote_host_is_noticed_before_any_request() {
    // The default region, through a proxy on a closed loopback port: nothing leaves the machine.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let client = Client::builder()
        .ignore_env()
        .credentials("user", "key")
        .proxy(format!("http://{closed}"))
        .max_retries(0)
        .build()
        .unwrap();
    let mut watcher = client
        .watch(["1716170000000_1_2.sc-1-inbound0$a@example.com"])
        .interval(Duration::from_secs(60))
        .start()
        .unwrap();
    match watcher.step(Duration::ZERO).unwrap() {
        WatchStep::Event(WatchEvent::Notice(WatchNotice::CachedAnswers { interval })) => {
            assert_eq!(interval, Duration::from_secs(60))
        }
        other => panic!("expected the cache notice, got {other:?}"),
    }
    // The poll fails at the proxy; the watch goes on.
    match watcher.step(Duration::ZERO).unwrap() {
        WatchStep::Event(WatchEvent::PollFailed(e)) => assert_eq!(e.kind(), ErrorKind::Transport),
        other => panic!("expected a failed poll, got {other:?}"),
    }
    assert!(matches!(watcher.step(Duration::ZERO).unwrap(), WatchStep::Wait(_)));
}

#[test]
fn bad_settings_fail_before_any_request() {
    let sb = Sandbox::start(config()).unwrap();
    let client = client(&sb);
    let none: [&str; 0] = [];
    let field = |r: sendcloud_status::Result<Watcher>| {
        let e = r.expect_err("refused");
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
        e.field()
    };
    assert_eq!(field(client.watch(none).start()), Some("email_ids"));
    assert_eq!(field(client.watch(["a;b"]).start()), Some("email_ids"));
    assert_eq!(field(client.watch(none).email("nope").start()), Some("email"));
    assert_eq!(field(client.watch(["x"]).interval(Duration::from_millis(500)).start()), Some("interval"));
    assert_eq!(field(client.watch(["x"]).timeout(Some(Duration::ZERO)).start()), Some("timeout"));
    // The bounds every language shares (settings): at most a day, in words.
    let two_days = Duration::from_secs(2 * 86_400);
    assert_eq!(field(client.watch(["x"]).timeout(Some(two_days)).start()), Some("timeout"));
    assert_eq!(field(client.watch(["x"]).interval(two_days).start()), Some("interval"));
    let e = client.watch(["x"]).soft_bounce_grace(two_days).start().expect_err("refused");
    assert_eq!((e.field(), e.validation_reason()), (Some("soft_bounce_grace"), Some(ValidationReason::OutOfRange)));
    assert!(!e.to_string().contains("18446744073709551615"), "{e}");
    assert!(sb.request_log().is_empty());
}
