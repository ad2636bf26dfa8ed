//! The pet dialogs over the panes: the shop (`f`) and the create-a-pet form (`n`).
//! Drawing only reads state; the list itself is `ui::pet::render_shop`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::layout::centered;
use crate::app::state::{PetDialog, PetState, State};
use crate::model::text;
use crate::model::types::KNOWN_SPECIES;
use crate::ui::help::clear_under;
use crate::ui::theme::Theme;

/// Rows of shop items shown at most (the list scrolls beyond that).
const SHOP_ROWS: u16 = 8;

/// Draw the pet dialog that is up, if any, over `area`.
pub fn render(state: &State, area: Rect, buf: &mut Buffer, th: &Theme) {
    match &state.pet_dialog {
        None => {}
        Some(PetDialog::Shop { selected }) => render_shop(state, *selected, area, buf, th),
        Some(PetDialog::Create { name, species }) => render_create(name, *species, area, buf, th),
    }
}

fn render_shop(state: &State, selected: usize, area: Rect, buf: &mut Buffer, th: &Theme) {
    let rows = state.shop.as_ref().map_or(1, |items| (items.len() as u16).clamp(1, SHOP_ROWS));
    let rect = centered(area, 64, rows + 4);
    clear_under(rect, buf);
    let title = match &state.pet {
        PetState::Some(p) => format!("Pet shop {} {} coins", th.sym.dash, p.coins),
        _ => "Pet shop".to_owned(),
    };
    let inner = th.pane(buf, rect, Line::from(th.title_span(title)), true);
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    let list = Rect { height: inner.height.saturating_sub(2).min(rows), ..inner };
    match &state.shop {
        Some(items) => crate::ui::pet::render_shop(items, selected, crate::ui::pet_look(th), list, buf),
        None => {
            buf.set_stringn(inner.x + 1, inner.y, format!("loading{}", th.sym.ellipsis), w, th.dim);
        }
    }
    if inner.height >= 3 {
        let help = "j/k: choose   Enter: buy   Esc: close";
        let help = text::truncate(help, w.saturating_sub(1), th.ascii);
        buf.set_stringn(inner.x + 1, inner.y + inner.height - 1, help, w, th.dim);
    }
}

fn render_create(name: &str, species: usize, area: Rect, buf: &mut Buffer, th: &Theme) {
    let rect = centered(area, 52, 6);
    clear_under(rect, buf);
    let inner = th.pane(buf, rect, Line::from(th.title_span("New pet".to_owned())), true);
    let w = inner.width as usize;
    let label_w = 9;
    let (left, right) = if th.ascii { ("<", ">") } else { ("◂", "▸") };
    let kind = KNOWN_SPECIES.get(species).copied().unwrap_or("?");
    let rows = [
        ("Name", format!("{name}{}", th.sym.cursor), th.selected),
        ("Species", format!("{left} {kind} {right}"), th.title),
    ];
    for (i, (label, value, style)) in rows.into_iter().enumerate() {
        if i as u16 >= inner.height {
            return;
        }
        let line = Line::from(vec![
            Span::styled(format!(" {}", text::pad(label, label_w)), th.dim),
            Span::styled(text::pad(&value, w.saturating_sub(label_w + 2)), style),
        ]);
        buf.set_line(inner.x, inner.y + i as u16, &line, inner.width);
    }
    if inner.height > 3 {
        let help = if th.ascii {
            "left/right: species  Enter: create  Esc: cancel"
        } else {
            "←/→: species  Enter: create  Esc: cancel"
        };
        let help = text::truncate(help, w.saturating_sub(1), th.ascii);
        buf.set_stringn(inner.x + 1, inner.y + 3, help, w, Style::new().patch(th.dim));
    }
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use crate::app::action::Action;
    use crate::app::fixture::{keys, main_screen, run, type_text};
    use crate::app::state::{Look, State};

    fn screen(state: &State) -> String {
        let (w, h) = state.size;
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| crate::ui::view(state, f)).unwrap();
        t.backend().to_string()
    }

    #[test]
    fn shop_overlay_80x24() {
        let mut s = main_screen(80, 24, Look::default());
        keys(&mut s, &["esc", "f"]);
        assert!(screen(&s).contains("loading"));
        run(&mut s, [Action::ShopLoaded(crate::app::fixture::shop())]);
        keys(&mut s, &["j"]);
        let out = screen(&s);
        assert!(out.contains("50 coins") && out.contains("Cupcake"), "{out}");
        insta::assert_snapshot!("pet_shop_80x24", out);
    }

    #[test]
    fn create_form_80x24() {
        let mut s = main_screen(80, 24, Look { ascii: true, ..Look::default() });
        run(&mut s, [Action::PetLoaded(None)]);
        keys(&mut s, &["esc", "n"]);
        type_text(&mut s, "Pip");
        keys(&mut s, &["right"]);
        let out = screen(&s);
        assert!(out.contains("Pip_") && out.contains("< Cat >"), "{out}");
        insta::assert_snapshot!("pet_create_80x24_ascii", out);
    }
}
