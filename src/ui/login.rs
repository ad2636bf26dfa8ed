//! The login screen: server, username, password and PIN (masked), remember-me; the
//! server's complaint shown in place; Tab between fields.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::layout::centered;
use crate::app::state::{LoginField, State};
use crate::model::text;
use crate::ui::theme::Theme;

/// Draw the login screen over the whole `area`.
pub fn render(state: &State, area: Rect, buf: &mut Buffer, th: &Theme) {
    let form = &state.login;
    let rect = centered(area, 56, 13);
    let title = Line::from(th.title_span(format!("Healing Space {} log in", th.sym.dash)));
    let inner = th.pane(buf, rect, title, true);
    if inner.height == 0 {
        return;
    }
    let label_w = 10usize;
    let field_w = (inner.width as usize).saturating_sub(label_w + 3);
    let mask = |s: &str| (if th.ascii { "*" } else { "•" }).repeat(s.chars().count());
    let fields = [
        (LoginField::Server, "Server", form.server.clone()),
        (LoginField::Username, "Username", form.username.clone()),
        (LoginField::Password, "Password", mask(&form.password)),
        (LoginField::Pin, "PIN", mask(&form.pin)),
    ];
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    for (field, label, value) in fields {
        if y >= bottom {
            return;
        }
        let focused = form.focus == field;
        let shown = if focused { format!("{value}{}", th.sym.cursor) } else { value };
        // Long values show their end, where typing happens.
        let tail_w = text::width(&shown).saturating_sub(field_w);
        let shown = tail(&shown, tail_w);
        let style = if focused { th.selected } else { Style::new() };
        let line = Line::from(vec![
            Span::styled(format!(" {}", text::pad(label, label_w)), if focused { th.title } else { th.dim }),
            Span::styled(text::pad(shown, field_w), style),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
        y += 2;
    }
    if y < bottom {
        let check = if form.remember { "[x]" } else { "[ ]" };
        let focused = form.focus == LoginField::Remember;
        let line = Line::from(vec![
            Span::raw(" ".repeat(label_w + 1)),
            Span::styled(
                format!("{check} Remember me (30 days)"),
                if focused { th.selected } else { Style::new() },
            ),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
        y += 2;
    }
    if y < bottom {
        let (msg, style) = match (&form.error, form.busy) {
            (_, true) => (format!("logging in{}", th.sym.ellipsis), th.info),
            (Some(e), _) => (e.clone(), th.error),
            // A notice from start-up (a config or session problem) shows here too.
            (None, _) if state.notice.is_some() => {
                (state.notice.as_ref().map(|n| n.text.clone()).unwrap_or_default(), th.error)
            }
            (None, _) => (format!("Enter: log in {d} Tab: next field {d} Esc: quit", d = th.sym.dot), th.dim),
        };
        let msg = text::truncate(&msg, (inner.width as usize).saturating_sub(2), th.ascii);
        buf.set_stringn(inner.x + 1, y, msg, inner.width.saturating_sub(1) as usize, style);
    }
}

/// `s` without its first `skip_w` columns.
fn tail(s: &str, skip_w: usize) -> &str {
    if skip_w == 0 {
        return s;
    }
    let cut = text::clip(s, skip_w);
    &s[cut.len()..]
}
