//! A clinician's caseload: 300 conversations and 100,000 cached messages. Times the
//! inbox's re-sort (the `s` key: who is waiting, longest first) plus the frame it draws,
//! the first frame after the six inbox pages arrive, a filter keystroke plus its frame,
//! and reading the waiting hints of 100,000 cached messages from the store (done once
//! after login, off the render loop). Target for sort + first frame: ≤ 2 ms.
//! Run: `cargo bench --bench caseload` (prints a table; not a test, nothing asserted).

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use healing_tui::app::keymap::{Key, Keymap};
use healing_tui::app::state::{LayoutPref, Look};
use healing_tui::app::{update, Action, State};
use healing_tui::model::time::Timestamp;
use healing_tui::model::types::{ConversationSummary, InboxResponse, Message};
use healing_tui::store::Store;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const CONVERSATIONS: usize = 300;
const MESSAGES: i64 = 100_000;
const ME: &str = "dr_morgan";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 5, 16, 30, 0).unwrap()
}

/// Six pages of 50, newest first; every third patient was answered last.
fn pages() -> Vec<InboxResponse> {
    let rows: Vec<ConversationSummary> = (0..CONVERSATIONS)
        .map(|i| ConversationSummary {
            with_user: format!("patient{i:03}"),
            last_message: format!("message from patient {i}: how are you, and how was the week?"),
            last_message_time: Some(Timestamp(now() - Duration::minutes(7 * i as i64))),
            unread_count: (i % 4) as u32,
            last_sender: Some(if i % 3 == 0 { ME.to_owned() } else { format!("patient{i:03}") }),
            ..Default::default()
        })
        .collect();
    rows.chunks(50)
        .enumerate()
        .map(|(p, chunk)| InboxResponse {
            conversations: chunk.to_vec(),
            total_unread: 0,
            page: p as u32 + 1,
            page_size: 50,
            total_conversations: CONVERSATIONS as u32,
        })
        .collect()
}

fn loaded(w: u16, h: u16, layout: LayoutPref) -> State {
    let tz = FixedOffset::east_opt(0).unwrap();
    let mut s = State::new(now(), tz, Look { layout, ..Look::default() }, Keymap::default());
    s.size = (w, h);
    update(&mut s, Action::LoginSucceeded { username: ME.into(), server: "http://bench".into() });
    update(&mut s, Action::RoleKnown("clinician".into()));
    for page in pages() {
        update(&mut s, Action::InboxLoaded(page));
    }
    s
}

/// Median of `rounds` timings of `f`, in milliseconds.
fn median_ms(rounds: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn row(label: &str, ms: f64) {
    println!("{label:<56} {ms:>9.3} ms");
}

fn frames() {
    for (w, h, layout) in [(80, 24, LayoutPref::Compact), (120, 40, LayoutPref::Panes)] {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        let ms = median_ms(51, || {
            let s = loaded(w, h, layout);
            buf.reset();
            healing_tui::ui::draw(black_box(&s), buf.area, &mut buf);
        });
        row(&format!("6 inbox pages (300) + first frame, {w}x{h}"), ms);
        let mut s = loaded(w, h, layout);
        let ms = median_ms(501, || {
            update(&mut s, Action::Key(Key::ch('s')));
            buf.reset();
            healing_tui::ui::draw(black_box(&s), buf.area, &mut buf);
        });
        row(&format!("re-sort (s) + frame, 300 conversations, {w}x{h}"), ms);
        update(&mut s, Action::Key(Key::ch('/')));
        let mut i = 0;
        let ms = median_ms(501, || {
            let key = if i % 2 == 0 { Key::ch('7') } else { Key::parse("backspace").unwrap() };
            i += 1;
            update(&mut s, Action::Key(key));
            buf.reset();
            healing_tui::ui::draw(black_box(&s), buf.area, &mut buf);
        });
        row(&format!("filter keystroke + frame, {w}x{h}"), ms);
        update(&mut s, Action::Key(Key::parse("esc").unwrap()));
        let ms = median_ms(501, || {
            update(&mut s, Action::Key(Key::ch('j')));
            buf.reset();
            healing_tui::ui::draw(black_box(&s), buf.area, &mut buf);
        });
        row(&format!("scroll key (j) + frame, {w}x{h}"), ms);
    }
}

/// 100,000 messages over 300 conversations in a store, then the waiting hints.
fn hints() {
    let dir = tempfile::tempdir().unwrap();
    // A directory the store creates itself (private), as it does for an account.
    let mut store = Store::open(&dir.path().join("acct").join("store.sqlite3"), ME).unwrap().store;
    let batch: Vec<Message> = (1..=MESSAGES)
        .map(|id| {
            let patient = format!("patient{:03}", id as usize % CONVERSATIONS);
            let mine = id % 5 == 0;
            Message {
                id,
                sender: if mine { ME.to_owned() } else { patient.clone() },
                recipient: if mine { patient } else { ME.to_owned() },
                content: format!("message {id}, a sentence of ordinary length about the week"),
                sent_at: Some(Timestamp(now() - Duration::seconds(MESSAGES - id))),
                ..Default::default()
            }
        })
        .collect();
    for chunk in batch.chunks(5_000) {
        store.merge_messages(chunk).unwrap();
    }
    let ms = median_ms(9, || {
        black_box(store.wait_hints().unwrap());
    });
    row("store: waiting hints of 100,000 messages (once, off-loop)", ms);
}

fn main() {
    println!("{:<56} {:>12}", "operation (median)", "time");
    frames();
    hints();
}
