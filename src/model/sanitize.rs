//! The one sanitizer for text that came from outside (messages, subjects, usernames,
//! pet names, server error texts) before it can reach the terminal, a notification,
//! the window title or a log.
//!
//! Terminals obey escape sequences, so a message could otherwise retitle the window,
//! clear the screen, fake a line, or reverse text with a bidi override. Removed:
//! C0 controls except newline and tab (tab becomes spaces), DEL, C1 controls, whole
//! or partial ESC sequences (CSI, OSC, DCS, APC, PM, SOS and two-byte forms), bidi
//! embeddings/overrides/isolates and marks, and other invisible format characters
//! (a zero-width joiner is kept right after an emoji, where it builds one). Everything
//! else is kept: emoji, CJK, right-to-left letters.
//!
//! Output never contains a control character other than `\n`, and
//! `sanitize(sanitize(x)) == sanitize(x)`.

/// Spaces a tab becomes: enough to read as a gap, few enough for a narrow pane.
const TAB: &str = "    ";

/// Clean multi-line text: newlines are kept, `\r\n` becomes `\n`.
pub fn sanitize(text: &str) -> String {
    clean(text, false)
}

/// Clean text for a single line (names, previews, titles, notices): newlines become spaces.
pub fn sanitize_line(text: &str) -> String {
    clean(text, true)
}

/// True when `s` would come out of [`sanitize`] unchanged (cheap check for hot paths).
pub fn is_clean(s: &str) -> bool {
    s.chars().all(|c| c == '\n' || !(c.is_control() || is_invisible_format(c)))
}

fn clean(text: &str, single_line: bool) -> String {
    if is_clean(text) && !(single_line && text.contains('\n')) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => out.push(if single_line { ' ' } else { '\n' }),
            '\t' => out.push_str(if single_line { " " } else { TAB }),
            '\u{1b}' => skip_escape(&mut chars),
            // C1 forms of the string-carrying introducers swallow their payload too.
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{200d}' if out.chars().next_back().is_some_and(is_emoji_part) => out.push(c),
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After an ESC: skip the rest of the sequence it starts, complete or not.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        // Another ESC starts its own sequence: leave it for the main loop.
        Some('\u{1b}') | None => {}
        Some(_) => {
            // nF forms: intermediates 0x20–0x2F, then one final byte.
            while let Some(&c) = chars.peek() {
                if ('\u{20}'..='\u{2f}').contains(&c) {
                    chars.next();
                } else {
                    break;
                }
            }
            if let Some(&c) = chars.peek() {
                if ('\u{30}'..='\u{7e}').contains(&c) {
                    chars.next();
                }
            }
        }
    }
}

/// CSI: parameter and intermediate bytes, then one final byte 0x40–0x7E. Anything
/// else ends the sequence early (and is handled by the main loop).
fn skip_csi(chars: &mut Chars<'_>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\u{20}'..='\u{3f}' => {
                chars.next();
            }
            '\u{40}'..='\u{7e}' => {
                chars.next();
                return;
            }
            _ => return,
        }
    }
}

/// OSC/DCS/SOS/PM/APC payload: up to BEL, ST (`ESC \` or U+009C), or the end.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// Invisible format characters (Unicode Cf and friends) that can hide or reorder text.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{ad}'                    // soft hyphen
        | '\u{34f}'                 // combining grapheme joiner
        | '\u{61c}'                 // arabic letter mark
        | '\u{115f}' | '\u{1160}'   // hangul fillers
        | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}'   // mongolian selectors and vowel separator
        | '\u{200b}'..='\u{200f}'   // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}'   // line/paragraph separators
        | '\u{202a}'..='\u{202e}'   // bidi embeddings and overrides
        | '\u{2060}'..='\u{206f}'   // word joiner, invisible operators, bidi isolates
        | '\u{3164}' | '\u{ffa0}'   // hangul fillers
        | '\u{feff}'                // BOM / zero-width no-break space
        | '\u{fff9}'..='\u{fffb}'   // interlinear annotations
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e007f}' // tags
    )
}

/// Characters after which a zero-width joiner is part of an emoji sequence.
fn is_emoji_part(c: char) -> bool {
    matches!(c,
        '\u{2600}'..='\u{27bf}'
        | '\u{2b00}'..='\u{2bff}'
        | '\u{fe0f}'
        | '\u{1f000}'..='\u{1faff}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strips_title_clear_and_bidi() {
        let evil = "hi\u{1b}]0;PWNED\u{7} there\u{1b}[2J \u{202e}olleh";
        assert_eq!(sanitize(evil), "hi there olleh");
    }

    #[test]
    fn strips_partial_sequences() {
        assert_eq!(sanitize("a\u{1b}[31"), "a");
        assert_eq!(sanitize("a\u{1b}]0;title never ends"), "a");
        assert_eq!(sanitize("a\u{1b}"), "a");
        assert_eq!(sanitize("a\u{9b}31mb"), "ab");
        assert_eq!(sanitize("a\u{1b}Pq#0;2;0;0;0\u{1b}\\b"), "ab");
        assert_eq!(sanitize("a\u{1b}_apc\u{9c}b"), "ab");
        assert_eq!(sanitize("a\u{1b}(Bb"), "ab");
        assert_eq!(sanitize("a\u{1b}cb"), "ab");
    }

    #[test]
    fn fake_lines_and_controls() {
        assert_eq!(sanitize("ok\rFAKE"), "okFAKE");
        assert_eq!(sanitize("a\r\nb"), "a\nb");
        assert_eq!(sanitize("a\u{8}\u{8}b\u{7f}\u{0}"), "ab");
        assert_eq!(sanitize("a\tb"), "a    b");
        assert_eq!(sanitize_line("a\nb\tc"), "a b c");
    }

    #[test]
    fn keeps_emoji_cjk_rtl() {
        let s = "👩‍👩‍👧 家族 مرحبا שלום 🎩 é";
        assert_eq!(sanitize(s), s);
        // A joiner that joins nothing is dropped.
        assert_eq!(sanitize("a\u{200d}b"), "ab");
        assert_eq!(sanitize("x\u{200b}y\u{feff}z\u{2066}w\u{2069}"), "xyzw");
    }

    proptest! {
        #[test]
        fn never_a_control_and_idempotent(s in "\\PC*|[\\x00-\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{206f}a😀]{0,64}") {
            let once = sanitize(&s);
            prop_assert!(once.chars().all(|c| c == '\n' || !c.is_control()));
            let has_esc = once.contains('\u{1b}');
            prop_assert!(!has_esc);
            let has_bidi = once.chars().any(|c| ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c));
            prop_assert!(!has_bidi);
            prop_assert_eq!(sanitize(&once), once.clone());
            let line = sanitize_line(&s);
            prop_assert!(!line.chars().any(|c| c.is_control()));
            prop_assert_eq!(sanitize_line(&line), line);
        }
    }
}
