//! Width-aware text: display width (CJK and emoji count two columns, combining marks
//! zero), truncation with an ellipsis, and word wrapping, all by terminal columns.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Columns `s` takes on a terminal.
pub fn width(s: &str) -> usize {
    s.width()
}

/// Cut `s` to at most `max` columns, ending with `…` (or `~` in ASCII) when cut.
/// Never splits a grapheme (an emoji with its modifiers, a letter with its marks).
pub fn truncate(s: &str, max: usize, ascii: bool) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let ellipsis = if ascii { "~" } else { "…" };
    if max == 0 {
        return String::new();
    }
    let budget = max - 1;
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = width(g);
        if used + w > budget {
            break;
        }
        used += w;
        out.push_str(g);
    }
    out.push_str(ellipsis);
    out
}

/// Cut `s` to at most `max` columns without any marker.
pub fn clip(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, g) in s.grapheme_indices(true) {
        let w = width(g);
        if used + w > max {
            return &s[..i];
        }
        used += w;
    }
    s
}

/// Wrap `text` into lines of at most `max` columns: at spaces where possible, inside
/// a word only when it is longer than a line. Newlines in `text` start new lines;
/// an empty text is one empty line.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        wrap_para(para, max, &mut lines);
    }
    lines
}

/// How many lines [`wrap`] would make, without building them.
pub fn wrapped_height(text: &str, max: usize) -> usize {
    // Cheap path: a short single line is one row (the common case in chat).
    if text.len() <= max && !text.contains('\n') {
        return 1;
    }
    wrap(text, max).len()
}

/// The words of `para` for wrapping: Unicode word bounds, except that a URL (from its
/// scheme to the next space) is one word. A URL that fits a line is then never broken
/// across two, where its first part would look like a whole address (and the output
/// layer would make it a link to the wrong place).
fn words(para: &str) -> impl Iterator<Item = &str> {
    let mut url_end = 0;
    para.split_word_bound_indices().filter_map(move |(i, word)| {
        if i < url_end {
            return None;
        }
        let rest = &para[i..];
        let is_url = ["http://", "https://", "mailto:"]
            .iter()
            .any(|s| rest.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s)));
        if !is_url {
            return Some(word);
        }
        url_end = rest.find(char::is_whitespace).map_or(para.len(), |n| i + n);
        Some(&para[i..url_end])
    })
}

fn wrap_para(para: &str, max: usize, lines: &mut Vec<String>) {
    let mut line = String::new();
    let mut line_w = 0;
    for word in words(para) {
        let w = width(word);
        if line_w + w <= max {
            line.push_str(word);
            line_w += w;
            continue;
        }
        if word.chars().all(char::is_whitespace) {
            // A break at a space: the space itself is dropped.
            lines.push(std::mem::take(&mut line).trim_end().to_owned());
            line_w = 0;
            continue;
        }
        if line_w > 0 && w <= max {
            lines.push(std::mem::take(&mut line).trim_end().to_owned());
            line.push_str(word);
            line_w = w;
            continue;
        }
        // A word longer than the room left: break it between graphemes.
        for g in word.graphemes(true) {
            let gw = width(g);
            if line_w + gw > max && line_w > 0 {
                lines.push(std::mem::take(&mut line));
                line_w = 0;
            }
            line.push_str(g);
            line_w += gw;
        }
    }
    lines.push(line.trim_end().to_owned());
}

/// Pad `s` with spaces on the right to exactly `w` columns (cutting if longer).
pub fn pad(s: &str, w: usize) -> String {
    let cut = clip(s, w);
    let mut out = cut.to_owned();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cut))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本"), 4);
        assert_eq!(width("e\u{301}"), 1);
    }

    #[test]
    fn truncation_respects_columns_and_graphemes() {
        assert_eq!(truncate("hello world", 8, false), "hello w…");
        assert_eq!(truncate("hello", 5, false), "hello");
        assert_eq!(truncate("日本語テキスト", 6, true), "日本~");
        assert!(width(&truncate("日本語テキスト", 6, false)) <= 6);
        let family = "👨\u{200d}👩\u{200d}👧 family";
        let t = truncate(family, 4, false);
        assert!(t.starts_with("👨\u{200d}👩\u{200d}👧") || t == "…");
        assert_eq!(truncate("abc", 0, false), "");
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("the quick brown fox", 10), vec!["the quick", "brown fox"]);
        assert_eq!(wrap("a\n\nb", 10), vec!["a", "", "b"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        for line in wrap("日本語のテキストを折り返す", 5) {
            assert!(width(&line) <= 5, "{line}");
        }
        assert_eq!(wrapped_height("the quick brown fox", 10), 2);
        // A URL that fits a line moves to the next one whole; a longer one fills lines.
        assert_eq!(wrap("see https://a.org/x?y=1 ok", 20), vec!["see", "https://a.org/x?y=1", "ok"]);
        assert_eq!(wrap("go HTTPS://a.org/b", 16), vec!["go", "HTTPS://a.org/b"]);
        assert_eq!(wrap("go https://a.org/bcdefgh", 12), vec!["go https://a", ".org/bcdefgh"]);
        assert_eq!(wrapped_height("short", 10), 1);
    }

    #[test]
    fn padding() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcdef", 4), "abcd");
        assert_eq!(width(&pad("日本語", 5)), 5);
    }
}
