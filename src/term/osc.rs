//! Terminal control strings the client writes on purpose, outside ratatui's cells:
//! OSC 52 (put text on the clipboard of the terminal the user sits at, through SSH and
//! tmux) and OSC 8 (hyperlinks). Each is built here from validated input only.

use base64::Engine as _;

/// String terminator (ESC \): the standard end of an OSC, understood by tmux too.
const ST: &str = "\x1b\\";

/// The OSC 52 sequence that sets the clipboard (`c`) to `text`. The text goes in as
/// base64, so nothing in it can end the sequence early; callers pass sanitized text.
pub fn clipboard(text: &str) -> Vec<u8> {
    let payload = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{payload}{ST}").into_bytes()
}

/// Longest link target made clickable; longer ones stay plain text.
pub const MAX_LINK_LEN: usize = 2048;

/// Whether `target` may become an OSC 8 link: `http://`, `https://` (with a host) or
/// `mailto:` (with an address), printable ASCII only (no control character, space or
/// anything that could end the sequence), at most [`MAX_LINK_LEN`] bytes.
pub fn link_target_ok(target: &str) -> bool {
    if target.len() > MAX_LINK_LEN || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    let lower = target.to_ascii_lowercase();
    let rest = ["https://", "http://"].iter().find_map(|s| lower.strip_prefix(s));
    match rest {
        Some(rest) => rest.split(['/', '?', '#']).next().is_some_and(|host| !host.is_empty()),
        None => lower.strip_prefix("mailto:").is_some_and(|addr| addr.contains('@') && addr.len() > 2),
    }
}

/// Opens an OSC 8 link to `target` (which must pass [`link_target_ok`]).
pub fn link_open(out: &mut Vec<u8>, target: &str) {
    out.extend_from_slice(b"\x1b]8;;");
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(ST.as_bytes());
}

/// Closes the open OSC 8 link.
pub fn link_close(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\x1b]8;;");
    out.extend_from_slice(ST.as_bytes());
}

/// Bytes a link adds besides its text: the open sequence with the target, and the close.
pub fn link_overhead(target: &str) -> usize {
    let (mut open, mut close) = (Vec::new(), Vec::new());
    link_open(&mut open, target);
    link_close(&mut close);
    open.len() + close.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipboard_is_base64_in_osc52() {
        assert_eq!(clipboard("hi ✓"), b"\x1b]52;c;aGkg4pyT\x1b\\".to_vec());
        assert_eq!(clipboard(""), b"\x1b]52;c;\x1b\\".to_vec());
    }

    #[test]
    fn only_plain_web_and_mail_targets() {
        for ok in ["https://example.org", "http://a.b/c?d=e#f", "HTTPS://EXAMPLE.ORG/x", "mailto:a@b.org"] {
            assert!(link_target_ok(ok), "{ok}");
        }
        let long = format!("https://example.org/{}", "a".repeat(10 * 1024));
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "ftp://example.org",
            "https://",
            "https:///path",
            "mailto:",
            "https://exa mple.org",
            "https://example.org/\x07x",
            "https://example.org/\x1b]8;;x",
            "https://example.org/\u{9c}",
            "https://exämple.org",
            long.as_str(),
        ] {
            assert!(!link_target_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn overhead_is_fourteen_bytes_plus_the_target() {
        assert_eq!(link_overhead("https://example.org"), 14 + 19);
    }
}
