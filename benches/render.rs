//! How much a frame costs in a 100,000-message conversation: scrolling and drawing
//! touch only the rows on screen, so the time per key should not depend on the length.
//! Also the cost of `update` for 10,000 incoming messages, one action each, into the
//! open conversation (target ≤ 20 ms in all).
//! Run: `cargo bench --bench render` (prints a table; not a test, nothing asserted).

use std::hint::black_box;
use std::time::Instant;

use chrono::{FixedOffset, TimeZone, Utc};
use healing_tui::app::keymap::{Key, Keymap};
use healing_tui::app::state::{LayoutPref, Look};
use healing_tui::app::{update, Action, State};
use healing_tui::model::time::Timestamp;
use healing_tui::model::types::{ConversationResponse, InboxResponse, Message};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn state_with(n: i64, w: u16, h: u16, layout: LayoutPref) -> State {
    let now = Utc.with_ymd_and_hms(2026, 2, 5, 16, 30, 0).unwrap();
    let tz = FixedOffset::east_opt(0).unwrap();
    let mut s = State::new(now, tz, Look { layout, ..Look::default() }, Keymap::default());
    s.size = (w, h);
    update(&mut s, Action::LoginSucceeded { username: "alex".into(), server: "http://bench".into() });
    update(&mut s, Action::InboxLoaded(InboxResponse::default()));
    let _ = update(&mut s, Action::Key(Key::ch(':')));
    for c in "open dr_morgan".chars() {
        update(&mut s, Action::Key(Key::ch(c)));
    }
    update(&mut s, Action::Key(Key::parse("enter").unwrap()));
    let messages = (1..=n)
        .map(|i| Message {
            id: i,
            sender: if i % 3 == 0 { "alex" } else { "dr_morgan" }.into(),
            recipient: if i % 3 == 0 { "dr_morgan" } else { "alex" }.into(),
            content: format!("message {i}: a sentence or two of text, long enough to wrap on a narrow pane"),
            sent_at: Some(Timestamp(now - chrono::Duration::minutes(n - i))),
            ..Default::default()
        })
        .collect();
    update(
        &mut s,
        Action::ConversationLoaded(ConversationResponse {
            messages,
            participant_count: 2,
            with_user: "dr_morgan".into(),
        }),
    );
    s
}

fn per_op(label: &str, iters: u32, mut f: impl FnMut()) {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(iters);
    println!("{label:<48} {us:>10.1} µs");
}

/// 10,000 incoming-message actions (as the live link delivers them: one message each)
/// into a conversation that already holds `base` messages; median of `rounds` runs.
fn incoming(base: i64, rounds: usize) {
    let mut totals = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let mut s = state_with(base, 120, 40, LayoutPref::Panes);
        let now = Utc.with_ymd_and_hms(2026, 2, 5, 16, 31, 0).unwrap();
        let batch: Vec<Action> = (1..=10_000)
            .map(|i| {
                Action::MessagesArrived(vec![Message {
                    id: base + i,
                    sender: "dr_morgan".into(),
                    recipient: "alex".into(),
                    content: "a new message of about sixty characters, as the bench sends".into(),
                    sent_at: Some(Timestamp(now)),
                    ..Default::default()
                }])
            })
            .collect();
        let start = Instant::now();
        for a in batch {
            black_box(update(&mut s, a));
        }
        totals.push(start.elapsed().as_secs_f64() * 1e3);
    }
    totals.sort_by(f64::total_cmp);
    let median = totals[totals.len() / 2];
    println!("{:<48} {median:>10.2} ms", format!("update: 10,000 incoming, onto {base}"));
}

fn main() {
    println!("{:<48} {:>13}", "operation", "per op");
    incoming(1_000, 5);
    incoming(100_000, 3);
    for (n, w, h, layout) in [
        (1_000, 120, 40, LayoutPref::Panes),
        (100_000, 120, 40, LayoutPref::Panes),
        (100_000, 80, 24, LayoutPref::Compact),
    ] {
        let mut s = state_with(n, w, h, layout);
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        per_op(&format!("draw {w}x{h} {layout:?}, {n} messages"), 200, || {
            buf.reset();
            healing_tui::ui::draw(black_box(&s), buf.area, &mut buf);
        });
        let keys = ["k", "pgup", "j", "pgdn"];
        let mut i = 0;
        per_op(&format!("scroll key + draw, {n} messages"), 400, || {
            let key = Key::parse(keys[i % keys.len()]).unwrap();
            i += 1;
            update(&mut s, Action::Key(key));
            buf.reset();
            healing_tui::ui::draw(&s, buf.area, &mut buf);
        });
        per_op(&format!("g then G + draw, {n} messages"), 100, || {
            update(&mut s, Action::Key(Key::ch('g')));
            update(&mut s, Action::Key(Key::ch('G')));
            buf.reset();
            healing_tui::ui::draw(&s, buf.area, &mut buf);
        });
    }
}
