//! The `ui` room: panes (inbox, conversation, pet, compose, help, status), theme and
//! layout. Drawing only reads state: `view(&State, &mut Frame)` does no I/O.

pub mod compose;
pub mod conversation;
pub mod help;
pub mod inbox;
pub mod login;
pub mod overlay;
pub mod pet;
pub mod pet_dialog;
pub mod status;
pub mod theme;

#[cfg(test)]
mod tests;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::app::layout::{self, Mode};
use crate::app::state::{Overlay, Pane, PetState, Screen, State};
use crate::model::text;
use theme::Theme;

/// Draw the whole screen for `state`.
pub fn view(state: &State, frame: &mut Frame) {
    let area = frame.area();
    draw(state, area, frame.buffer_mut());
}

/// Draw the whole screen into a buffer covering `area` (what `view` does, without a `Frame`).
pub fn draw(state: &State, area: Rect, buf: &mut Buffer) {
    let th = Theme::new(state.look);
    let size = (area.width, area.height);
    if layout::mode(size.0, size.1) == Mode::TooSmall {
        too_small(area, buf, &th);
        return;
    }
    if state.screen == Screen::Login {
        login::render(state, area, buf, &th);
        return;
    }
    let areas = layout::areas_in(state, size);
    if let Some(r) = areas.inbox {
        inbox::render(state, r, buf, &th);
    }
    if let Some(r) = areas.activity {
        status::render_activity(state, r, buf, &th);
    }
    if let Some(r) = areas.conversation {
        conversation::render(state, r, buf, &th, areas.borders);
    }
    if let Some(r) = areas.compose {
        compose::render(state, r, buf, &th, areas.borders);
    }
    if let Some(r) = areas.pet {
        draw_pet(state, r, buf, &th);
    }
    if let Some(r) = areas.notice {
        status::render_notice(state, r, buf, &th);
    }
    status::render(state, areas.status, buf, &th);
    let main = Rect { height: area.height.saturating_sub(1), ..area };
    match &state.overlay {
        Overlay::Help { top } => help::render(&state.keymap, &state.snippets, *top, main, buf, &th),
        Overlay::Confirm(what) => overlay::render_confirm(what, main, buf, &th),
        Overlay::NewConversation { recipient, subject, field } => {
            overlay::render_new(state, recipient, subject, *field, main, buf, &th)
        }
        Overlay::Search(search) => overlay::render_search(state, search, main, buf, &th),
        Overlay::Snippets(picker) => overlay::render_snippets(state, picker, main, buf, &th),
        Overlay::None | Overlay::Command(_) | Overlay::Filter => {}
    }
    pet_dialog::render(state, main, buf, &th);
}

/// How the pet pane and line should look under this theme (still picture, no animation).
pub fn pet_look(th: &Theme) -> pet::PetLook {
    pet::PetLook { ascii: th.ascii, mono: th.mono, animate_frame: 0 }
}

fn draw_pet(state: &State, area: Rect, buf: &mut Buffer, th: &Theme) {
    let title = Line::from(th.title_span("Pet".to_owned()));
    let inner = th.pane(buf, area, title, state.focus == Pane::Pet);
    let look = pet::PetLook { animate_frame: state.pet_frame, ..pet_look(th) };
    match &state.pet {
        PetState::Some(p) => pet::render_pet(Some(p), look, inner, buf),
        PetState::None => pet::render_pet(None, look, inner, buf),
        PetState::Unknown => {
            buf.set_stringn(
                inner.x,
                inner.y,
                format!("loading{}", th.sym.ellipsis),
                inner.width as usize,
                th.dim,
            );
        }
    }
}

fn too_small(area: Rect, buf: &mut Buffer, th: &Theme) {
    let (min_w, min_h) = layout::MIN_SIZE;
    let dash = th.sym.dash;
    let msg = format!("terminal too small {dash} need {min_w}x{min_h}");
    let lines = text::wrap(&msg, area.width.max(1) as usize);
    let top = area.y + area.height.saturating_sub(lines.len() as u16) / 2;
    for (i, line) in lines.iter().enumerate() {
        let y = top + i as u16;
        if y >= area.y + area.height {
            break;
        }
        let x = area.x + area.width.saturating_sub(text::width(line) as u16) / 2;
        buf.set_stringn(x, y, line, area.width as usize, th.error);
    }
}
