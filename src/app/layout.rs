//! Where each pane goes for a given terminal size. Pure geometry, shared by `view`
//! (to draw) and `update` (to scroll by pages and keep the selection in sight).

use chrono::FixedOffset;
use ratatui::layout::Rect;

use crate::app::state::{Conversation, LayoutPref, Pane, Screen, State};
use crate::model::text;
use crate::model::time_fmt;

/// Smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (30, 8);
/// Below this, one pane at a time.
pub const SINGLE_PANE_BELOW: (u16, u16) = (60, 15);
/// The pet pane shows by default from this many columns.
pub const PET_FROM_COLS: u16 = 100;
/// Width of the pet pane.
pub const PET_WIDTH: u16 = 26;
/// Columns left of message text (selection marker and indent).
pub const GUTTER: u16 = 2;

/// The overall arrangement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not enough room for anything useful.
    TooSmall,
    /// One pane at a time.
    Single,
    /// Inbox, conversation (+ compose), optional pet, side by side.
    Panes,
    /// One full-width pane with an activity line on top and no side borders.
    Compact,
}

/// The rectangles of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    /// The inbox pane.
    pub inbox: Option<Rect>,
    /// The conversation pane.
    pub conversation: Option<Rect>,
    /// The compose box.
    pub compose: Option<Rect>,
    /// The pet pane.
    pub pet: Option<Rect>,
    /// The notice line.
    pub notice: Option<Rect>,
    /// The status bar.
    pub status: Rect,
    /// The activity line (compact layout).
    pub activity: Option<Rect>,
    /// Whether panes are drawn with borders (not in the compact layout).
    pub borders: bool,
}

/// The arrangement for a terminal of `w` x `h`.
pub fn mode(w: u16, h: u16) -> Mode {
    if w < MIN_SIZE.0 || h < MIN_SIZE.1 {
        Mode::TooSmall
    } else if w < SINGLE_PANE_BELOW.0 || h < SINGLE_PANE_BELOW.1 {
        Mode::Single
    } else {
        Mode::Panes
    }
}

/// The arrangement for this state and a terminal of `w` x `h`.
pub fn mode_for(state: &State, (w, h): (u16, u16)) -> Mode {
    match mode(w, h) {
        Mode::Panes => match state.look.layout {
            LayoutPref::Compact => Mode::Compact,
            LayoutPref::Auto if w < PET_FROM_COLS => Mode::Compact,
            _ => Mode::Panes,
        },
        other => other,
    }
}

/// Whether the pet pane is on screen.
pub fn pet_visible(state: &State) -> bool {
    pet_visible_in(state, state.size)
}

fn pet_visible_in(state: &State, (w, h): (u16, u16)) -> bool {
    mode_for(state, (w, h)) == Mode::Panes && state.pet_pane.unwrap_or(w >= PET_FROM_COLS)
}

/// Whether the conversation (rather than the inbox) fills the screen in single-pane
/// and compact modes.
fn single_shows_conversation(state: &State) -> bool {
    state.conv.is_some() && matches!(state.focus, Pane::Conversation | Pane::Compose)
}

/// Rows the compose box needs (borders included) for a box `inner_w` columns wide.
fn compose_height(state: &State, inner_w: u16, max: u16) -> u16 {
    let lines = state.current_draft().map_or(1, |d| text::wrap(&d.text, inner_w as usize).len());
    (lines.clamp(1, 6) as u16 + 2).min(max)
}

/// Split the screen of `state.size` into panes.
pub fn areas(state: &State) -> Areas {
    areas_in(state, state.size)
}

/// Split a screen of `w` x `h` into panes.
pub fn areas_in(state: &State, (w, h): (u16, u16)) -> Areas {
    let full = Rect::new(0, 0, w, h);
    let status = Rect::new(0, h.saturating_sub(1), w, 1.min(h));
    let mut main_h = h.saturating_sub(1);
    let notice = if state.notice.is_some() && state.screen == Screen::Main && main_h > 3 {
        main_h -= 1;
        Some(Rect::new(0, main_h, w, 1))
    } else {
        None
    };
    let md = mode_for(state, (w, h));
    let mut out = Areas { status, notice, borders: md != Mode::Compact, ..Areas::default() };
    let mut main = Rect { height: main_h, ..full };
    if md == Mode::TooSmall {
        return out;
    }
    if md == Mode::Compact {
        out.activity = Some(Rect { height: 1, ..main });
        main = Rect { y: 1, height: main_h.saturating_sub(1), ..main };
    }
    let (conv_col, inbox, pet) = if matches!(md, Mode::Single | Mode::Compact) {
        if single_shows_conversation(state) {
            (Some(main), None, None)
        } else {
            (None, Some(main), None)
        }
    } else {
        let inbox_w = (w / 4).clamp(18, 30);
        let pet_w = if pet_visible_in(state, (w, h)) { PET_WIDTH } else { 0 };
        let conv_w = w.saturating_sub(inbox_w + pet_w);
        let inbox = Rect { width: inbox_w, ..main };
        let conv = Rect { x: inbox_w, width: conv_w, ..main };
        let pet = (pet_w > 0).then_some(Rect { x: inbox_w + conv_w, width: pet_w, ..main });
        (Some(conv), Some(inbox), pet)
    };
    out.inbox = inbox;
    out.pet = pet;
    if let Some(col) = conv_col {
        if state.conv.is_some() {
            // Without side borders the box is a rule line above the text.
            let (inner_w, chrome) =
                if out.borders { (col.width.saturating_sub(2), 0) } else { (col.width, 1) };
            let ch = compose_height(state, inner_w, col.height / 2).saturating_sub(chrome);
            out.conversation = Some(Rect { height: col.height - ch, ..col });
            out.compose = Some(Rect { y: col.y + col.height - ch, height: ch, ..col });
        } else {
            out.conversation = Some(col);
        }
    }
    out
}

/// A centred rectangle of at most `w` x `h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

/// The inside of a pane: the whole rectangle without borders, else within them.
pub fn inner(r: Rect, borders: bool) -> Rect {
    if borders {
        Rect { x: r.x + 1, y: r.y + 1, width: r.width.saturating_sub(2), height: r.height.saturating_sub(2) }
    } else {
        r
    }
}

/// The text area of the conversation pane: (columns for message text, rows).
pub fn conversation_viewport(state: &State) -> (usize, usize) {
    let a = areas(state);
    a.conversation.map_or((1, 1), |r| {
        let i = inner(r, a.borders);
        (i.width.saturating_sub(GUTTER).max(1) as usize, i.height.max(1) as usize)
    })
}

/// Rows each inbox entry takes (name line and preview line).
pub const INBOX_ENTRY_ROWS: usize = 2;

/// Inbox entries that fit in the pane.
pub fn inbox_rows(state: &State) -> usize {
    areas(state).inbox.map_or(1, |r| (r.height.saturating_sub(2) as usize / INBOX_ENTRY_ROWS).max(1))
}

/// Whether message `i` starts a new local day (and so gets a separator row).
pub fn starts_day(c: &Conversation, i: usize, tz: FixedOffset) -> bool {
    let day = |j: usize| c.messages.get(j).and_then(|m| m.sent_at).map(|t| time_fmt::local_date(t.utc(), tz));
    match (i, day(i)) {
        (_, None) => false,
        (0, Some(_)) => true,
        (_, d) => day(i - 1) != d,
    }
}

/// Consecutive messages from one sender closer than this share one header.
const RUN_MINUTES: i64 = 5;

/// Whether message `i` continues the run of the one before it, and so goes under its
/// header: same sender, same day, within [`RUN_MINUTES`], no subject of its own and, for
/// our own messages, the same read mark (the header's ✓ / ✓✓ stands for the whole run).
pub fn continues_run(c: &Conversation, i: usize, tz: FixedOffset) -> bool {
    let (Some(prev), Some(m)) = (i.checked_sub(1).and_then(|p| c.messages.get(p)), c.messages.get(i)) else {
        return false;
    };
    let (Some(a), Some(b)) = (prev.sent_at, m.sent_at) else { return false };
    let mine = m.sender != c.with_user;
    prev.sender == m.sender
        && m.subject.is_none()
        && (!mine || prev.is_read == m.is_read)
        && (b.utc() - a.utc()).num_minutes().abs() < RUN_MINUTES
        && !starts_day(c, i, tz)
}

/// Rows message `i` takes at a text width of `w` columns: its day separator, header
/// (unless it continues a run) and wrapped text. `update` uses this to scroll; the
/// conversation pane draws exactly these rows.
pub fn message_rows(c: &Conversation, i: usize, w: usize, tz: FixedOffset) -> usize {
    let Some(m) = c.messages.get(i) else { return 0 };
    usize::from(starts_day(c, i, tz))
        + usize::from(!continues_run(c, i, tz))
        + text::wrapped_height(&m.content, w)
}
