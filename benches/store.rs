//! Store benchmarks (plain `main`, prints figures; no timing assertions anywhere).
//!
//! - start-up path from a warm store: open + load inbox + newest 200 messages of a
//!   100,000-message conversation (the target is a first frame from cache < 50 ms);
//! - bulk insert of 10,000 messages (one merge, one transaction);
//! - a search over the 100,000 messages.
//!
//! Run: `cargo bench --bench store` (or `--profile dev` to reuse the debug build;
//! SQLite itself is optimised in the dev profile too).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use healing_tui::model::time::Timestamp;
use healing_tui::model::types::{ConversationSummary, InboxResponse, Message};
use healing_tui::store::Store;

const ME: &str = "alex";

fn message(id: i64, peer: &str) -> Message {
    let (sender, recipient) = if id % 3 == 0 { (ME, peer) } else { (peer, ME) };
    Message {
        id,
        sender: sender.into(),
        recipient: recipient.into(),
        content: format!("message {id}: how are you feeling today? a little better than yesterday, thanks"),
        subject: None,
        is_read: true,
        read_at: None,
        sent_at: Some(Timestamp(Utc.timestamp_opt(1_800_000_000 + id, 0).single().unwrap_or_default())),
    }
}

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = samples[samples.len() / 2];
    println!(
        "{name:<58} n={:<3} min {:>8.2} ms  median {:>8.2} ms  max {:>8.2} ms",
        samples.len(),
        ms(samples[0]),
        ms(median),
        ms(samples[samples.len() - 1])
    );
}

fn build_big_store(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::open(path, ME)?.store;
    let inbox = InboxResponse {
        conversations: (0..50)
            .map(|i| ConversationSummary {
                with_user: format!("user{i}"),
                last_message: "see you thursday".into(),
                last_message_time: Some(Timestamp(
                    Utc.timestamp_opt(1_900_000_000 - i, 0).single().unwrap_or_default(),
                )),
                unread_count: (i % 3) as u32,
                ..ConversationSummary::default()
            })
            .collect(),
        total_unread: 49,
        page: 1,
        page_size: 50,
        total_conversations: 50,
    };
    store.store_inbox_page(&inbox, Some("\"etag\""))?;
    let all: Vec<Message> = (1..=100_000).map(|id| message(id, "user0")).collect();
    let started = Instant::now();
    store.merge_messages(&all)?;
    println!(
        "{:<58} {:>8.2} ms (once)",
        "setup: insert 100,000 messages in one merge",
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let big = dir.path().join("big").join("store.sqlite3");
    build_big_store(&big)?;

    // Start-up path, warm (the OS cache holds the file, as on a second start).
    let mut samples = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let store = Store::open(&big, ME)?.store;
        let inbox = store.load_inbox()?;
        let newest = store.load_conversation("user0", 200)?;
        samples.push(t.elapsed());
        assert_eq!((inbox.conversations.len(), newest.len()), (50, 200));
    }
    stats("start-up: open + load_inbox + newest 200 of 100k", samples);

    let store = Store::open(&big, ME)?.store;
    let mut samples = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let page = store.load_messages_before("user0", 50_000, 200)?;
        samples.push(t.elapsed());
        assert_eq!(page.len(), 200);
    }
    stats("scroll back: load_messages_before (200)", samples);

    let mut samples = Vec::new();
    for i in 0..10 {
        let t = Instant::now();
        let found = store.search(&format!("message {}", 54_321 + i))?;
        samples.push(t.elapsed());
        assert_eq!(found.len(), 1);
    }
    stats("search: phrase over 100k cached messages", samples);
    let t = Instant::now();
    let found = store.search("feeling")?;
    stats(&format!("search: common word ({} results, capped)", found.len()), vec![t.elapsed()]);
    drop(store);

    // Bulk insert of 10,000 messages into a fresh store, one merge.
    let mut samples = Vec::new();
    for round in 0..5 {
        let path = dir.path().join(format!("bulk{round}")).join("store.sqlite3");
        let mut store = Store::open(&path, ME)?.store;
        let batch: Vec<Message> = (1..=10_000).map(|id| message(id, "user1")).collect();
        let t = Instant::now();
        store.merge_messages(&batch)?;
        samples.push(t.elapsed());
    }
    stats("bulk insert: 10,000 messages (fresh store)", samples);

    // The same 10,000 again: the idempotent no-op path (e.g. a repeated fetch).
    let path = dir.path().join("bulk0").join("store.sqlite3");
    let mut store = Store::open(&path, ME)?.store;
    let batch: Vec<Message> = (1..=10_000).map(|id| message(id, "user1")).collect();
    let t = Instant::now();
    store.merge_messages(&batch)?;
    stats("re-merge: the same 10,000 messages (no change)", vec![t.elapsed()]);
    Ok(())
}
