//! The terminal's own effects, handled beside the event loop: the clipboard (OSC 52), a
//! bell or desktop notification for news, and the unread count in the window title.
//! Written between frames: none of them changes a cell. (`$EDITOR`, which takes the
//! whole terminal, is the loop's own: it must pause the input.)

use crate::app::effect::Effect;
use crate::shell::notify::{self, NotifyConfig};

/// Write `effect`'s bytes with `write` when it is one of these; otherwise hand it back
/// (for the runner). `notify`: the notification settings (`None`: no bell, no title).
pub fn perform(
    notify: Option<&NotifyConfig>,
    write: &mut dyn FnMut(&[u8]),
    effect: Effect,
) -> Option<Effect> {
    let bytes = match effect {
        Effect::Copy { text } => crate::term::osc::clipboard(&text),
        Effect::Announce { me, message, on_screen } => match notify {
            Some(config) => notify::on_new_message(config, &me, &message, on_screen),
            None => Vec::new(),
        },
        Effect::UnreadChanged { total } => match notify {
            Some(config) => notify::title(config, "healing-tui", total),
            None => Vec::new(),
        },
        other => return Some(other),
    };
    if !bytes.is_empty() {
        write(&bytes);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_effects_are_written_and_others_handed_on() {
        let mut out = Vec::new();
        let mut write = |b: &[u8]| out.extend_from_slice(b);
        assert!(perform(None, &mut write, Effect::Copy { text: "hi".into() }).is_none());
        assert!(perform(None, &mut write, Effect::UnreadChanged { total: 3 }).is_none());
        assert_eq!(perform(None, &mut write, Effect::FetchPet), Some(Effect::FetchPet));
        assert_eq!(out, crate::term::osc::clipboard("hi"), "no title without notification settings");
    }
}
