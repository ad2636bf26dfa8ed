//! Every recorded production exchange in `shared/fixtures/healing-space/{feb5,head}`
//! decodes into the right typed value or the right typed error, and never panics.
//!
//! Fixture format: a few `#` comment lines, `=== REQUEST ===` with the request line,
//! `=== RESPONSE ===`, the status line, headers, a blank line, the body, and a final
//! `[body: N bytes]` line.

use std::path::{Path, PathBuf};

use crate::api::cookies::Jar;
use crate::api::error::ApiError;
use crate::api::response::Reply;
use crate::model::sanitize::is_clean;
use crate::model::types::*;

/// `CARGO_MANIFEST_DIR/../shared/fixtures` (the repo and in CI, where `shared/` is copied
/// beside the clone), or one level further up (a git worktree under `wt/`), or
/// `$HEALING_FIXTURES_DIR`. Missing fixtures fail the test rather than skip it.
fn fixtures_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut candidates: Vec<PathBuf> =
        std::env::var_os("HEALING_FIXTURES_DIR").map(PathBuf::from).into_iter().collect();
    candidates.push(manifest.join("../shared/fixtures"));
    candidates.push(manifest.join("../../shared/fixtures"));
    candidates
        .iter()
        .map(|c| c.join("healing-space"))
        .find(|c| c.is_dir())
        .unwrap_or_else(|| panic!("fixtures not found; looked in {candidates:?}"))
}

#[derive(Debug)]
struct Exchange {
    method: String,
    path: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Exchange {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// When the response was recorded (its `Date` header): its cookies' `Expires` are
    /// judged against this, not today, or every recording would fail a week after it was made.
    fn recorded_at(&self) -> Option<i64> {
        self.header("date").and_then(crate::model::time::parse_timestamp).map(|t| t.timestamp())
    }

    fn reply(&self) -> Reply<'_> {
        Reply {
            status: self.status,
            content_type: self.header("content-type"),
            retry_after: self.header("retry-after"),
            body: self.body.as_bytes(),
        }
    }
}

fn parse_fixture(text: &str) -> Option<Exchange> {
    let (before, response) = text.split_once("=== RESPONSE ===\n")?;
    let request = before.split_once("=== REQUEST ===\n")?.1;
    let mut req_line = request.lines().next()?.split_whitespace();
    let method = req_line.next()?.to_string();
    let target = req_line.next()?;
    let path = target.split('?').next()?.to_string();

    let (head, rest) = response.split_once("\n\n")?;
    let mut head_lines = head.lines();
    let status: u16 = head_lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = head_lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let marker = rest.rfind("[body: ")?;
    let body = rest[..marker].strip_suffix('\n').unwrap_or(&rest[..marker]).to_string();
    Some(Exchange { method, path, status, headers, body })
}

/// Decode as the client would for this endpoint; `Ok(description)` or the error.
fn decode(ex: &Exchange) -> Result<String, ApiError> {
    let r = ex.reply();
    let p = ex.path.as_str();
    let m = ex.method.as_str();
    let done = |what: &str| Ok(what.to_string());
    match (m, p) {
        ("POST", "/api/auth/login") => {
            let v: LoginResponse = r.json()?;
            assert!(!v.username.is_empty() && !v.role.is_empty());
            done("login")
        }
        ("POST", "/api/auth/logout") => r.json::<SuccessResponse>().and_then(|_| done("logout")),
        ("GET", "/api/csrf-token") => {
            let v: CsrfTokenResponse = r.json()?;
            assert_eq!(v.csrf_token.len(), 64);
            done("csrf")
        }
        ("GET", "/api/auth/status") => r.json::<AuthStatus>().and_then(|_| done("status")),
        ("POST", "/api/messages/send") => {
            let v: SendResponse = r.json()?;
            assert!(v.message_id > 0 && !v.recipient.is_empty());
            done("send")
        }
        ("GET", "/api/messages/inbox") => {
            let v: InboxResponse = r.json()?;
            for c in &v.conversations {
                assert!(!c.with_user.is_empty());
                assert!(c.last_message_time.is_some(), "inbox time must parse: {:?}", c);
            }
            done("inbox")
        }
        ("GET", "/api/messages/unread-count") => r.json::<UnreadCountResponse>().and_then(|_| done("unread")),
        ("GET", "/api/messages/sent") => {
            let v: SentResponse = r.json()?;
            assert!(v.messages.iter().all(|m| m.id > 0 && m.sent_at.is_some()));
            done("sent")
        }
        ("GET", p) if p.starts_with("/api/messages/conversation/") => {
            let v: ConversationResponse = r.json()?;
            assert!(v.messages.iter().all(|m| m.id > 0 && m.sent_at.is_some()));
            done("conversation")
        }
        ("PATCH", p) if p.ends_with("/read") => {
            let v: MarkReadResponse = r.json()?;
            assert!(v.is_read);
            done("mark-read")
        }
        ("DELETE", _) => r.empty().and_then(|_| done("delete")),
        ("GET", "/api/pet/status") => {
            let v: PetStatusResponse = r.json()?;
            match (&v.pet, v.exists) {
                (Some(pet), true) => assert!(!pet.name.is_empty() && pet.last_updated > 0.0),
                (None, false) => assert!(v.error.is_some()),
                _ => panic!("pet status inconsistent: {v:?}"),
            }
            done("pet-status")
        }
        ("POST", "/api/pet/create") => r.json::<SuccessResponse>().and_then(|_| done("pet-create")),
        ("POST", "/api/pet/feed") => r.json::<PetFeedResponse>().and_then(|_| done("pet-feed")),
        ("POST", "/api/pet/reward") => r.json::<PetRewardResponse>().and_then(|_| done("pet-reward")),
        ("GET", "/api/pet/shop") => {
            let v: ShopResponse = r.json()?;
            assert_eq!(v.items.len(), 5);
            assert!(v.items.iter().all(|i| i.cost > 0 && !i.id.is_empty()));
            done("pet-shop")
        }
        // Endpoints the client never calls (health, preflight, wrong method, unknown):
        // they still must map to a value or a typed error.
        _ if r.is_success() => r.empty().and_then(|_| done("other")),
        _ => Err(r.error()),
    }
}

fn check_error(name: &str, ex: &Exchange, err: &ApiError) {
    let r = ex.reply();
    match (ex.status, err) {
        (401, ApiError::SessionExpired) => {}
        (403, ApiError::Forbidden(t)) | (404, ApiError::NotFound(t)) => assert!(!t.is_empty(), "{name}"),
        (400 | 405 | 413 | 415, ApiError::Invalid(t)) => assert!(!t.is_empty(), "{name}"),
        (429, ApiError::RateLimited { retry_after }) => {
            assert!(retry_after.as_secs() >= 1, "{name}");
            assert!(r.server_text().is_some(), "{name}: a 429 should keep the server's text");
        }
        (500..=599, ApiError::Server { status, text, error_id }) => {
            assert_eq!(*status, ex.status);
            assert!(!text.is_empty(), "{name}");
            assert_eq!(error_id.is_some(), ex.body.contains("error_id"), "{name}");
        }
        _ => panic!("{name}: status {} became {err:?}", ex.status),
    }
    assert!(is_clean(&err.to_string()), "{name}: unsanitized error text");
    if ex.status == 403 && ex.body.contains("CSRF_FAILED") {
        assert!(r.is_csrf_failure(), "{name}");
    }
}

fn walk(dir: &Path) -> usize {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("fixtures missing at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    entries.sort();
    let mut decoded = 0;
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let Some(ex) = parse_fixture(&text) else {
            // Only the two notes files carry no exchange.
            assert!(name.contains("NOTE") || name.starts_with("D0-"), "{name}: unparseable fixture");
            continue;
        };
        // Every production Set-Cookie is understood, and the Secure cookie goes back
        // to the loopback server over plain http.
        let url = url::Url::parse("http://127.0.0.1:5055/api/x").unwrap();
        for (_, sc) in ex.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")) {
            let now = ex.recorded_at().unwrap_or_else(|| panic!("{name}: a Set-Cookie without a Date"));
            let jar = Jar::new();
            jar.store_at(sc, &url, now);
            let cookie_name = sc.split('=').next().unwrap();
            if sc.contains("Max-Age=0") {
                assert!(jar.header_at(&url, now).is_none(), "{name}: deletion cookie kept");
            } else {
                let sent = jar.header_at(&url, now).unwrap_or_default();
                assert!(sent.starts_with(&format!("{cookie_name}=")), "{name}: cookie not sent back");
            }
        }
        match decode(&ex) {
            Ok(_) => {
                assert!((200..300).contains(&ex.status), "{name}: status {} decoded as success", ex.status)
            }
            Err(err) => check_error(&name, &ex, &err),
        }
        decoded += 1;
    }
    decoded
}

#[test]
fn every_fixture_decodes_to_a_value_or_a_typed_error() {
    let root = fixtures_root();
    let feb5 = walk(&root.join("feb5"));
    let head = walk(&root.join("head"));
    assert!(feb5 >= 90 && head >= 90, "too few fixtures: feb5 {feb5}, head {head}");
}

#[test]
fn specific_production_outcomes() {
    let load =
        |rel: &str| parse_fixture(&std::fs::read_to_string(fixtures_root().join(rel)).unwrap()).unwrap();
    let role = load("feb5/14-send-patient-to-clinician.txt");
    assert_eq!(
        decode(&role),
        Err(ApiError::Forbidden("Users may only reply to clinicians, not initiate contact".into()))
    );
    let html429 = load("head/D1-flask-limiter-429.txt");
    assert_eq!(
        decode(&html429),
        Err(ApiError::RateLimited { retry_after: std::time::Duration::from_secs(60) })
    );
    assert_eq!(html429.reply().server_text().as_deref(), Some("50 per 1 hour"));
    let login429 = load("head/C5-ratelimit-bad-login-6.txt");
    assert_eq!(
        login429.reply().error(),
        ApiError::RateLimited { retry_after: std::time::Duration::from_secs(59) }
    );
    let e500 = load("feb5/12-send-patient-to-patient.txt");
    assert!(
        matches!(decode(&e500), Err(ApiError::Server { status: 500, error_id: Some(ref id), .. }) if id == "d05da737")
    );
    let del = load("feb5/71-delete-as-sender.txt");
    assert_eq!(decode(&del).as_deref(), Ok("delete"));
    let html400 = load("feb5/C4-login-malformed-json.txt");
    assert!(
        matches!(decode(&html400), Err(ApiError::Invalid(ref t)) if t.contains("could not understand")),
        "{:?}",
        decode(&html400)
    );
    let no_pet = load("head/81-pet-status-no-pet.txt");
    let v: PetStatusResponse = no_pet.reply().json().unwrap();
    assert_eq!((v.exists, v.error.as_deref()), (false, Some("No pet found for user")));
    let idle = load("head/A3b-idle-5h-session.txt");
    assert_eq!(decode(&idle), Err(ApiError::SessionExpired));
}
