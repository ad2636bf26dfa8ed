//! The `store` room against real files in temporary directories.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Duration, TimeZone, Utc};
use healing_tui::model::time::Timestamp;
use healing_tui::model::types::{ConversationResponse, ConversationSummary, InboxResponse, Message, WsEvent};
use healing_tui::store::{OutboxState, OutgoingMessage, Store, StoreError};

const ME: &str = "alex";

/// A temp dir and a store path inside a not-yet-existing account directory.
fn fresh() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts").join("host_443").join(ME).join("store.sqlite3");
    (dir, path)
}

fn open(path: &Path) -> Store {
    let opened = Store::open(path, ME).unwrap();
    assert!(opened.recovered.is_none(), "unexpected recovery: {:?}", opened.recovered);
    opened.store
}

fn t(secs: i64) -> Timestamp {
    Timestamp(Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap())
}

fn msg(id: i64, sender: &str, recipient: &str, content: &str) -> Message {
    Message {
        id,
        sender: sender.into(),
        recipient: recipient.into(),
        content: content.into(),
        subject: None,
        is_read: false,
        read_at: None,
        sent_at: Some(t(id)),
    }
}

fn summary(with: &str, last: &str, at: i64, unread: u32) -> ConversationSummary {
    ConversationSummary {
        with_user: with.into(),
        last_message: last.into(),
        last_message_time: Some(t(at)),
        unread_count: unread,
        ..ConversationSummary::default()
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

mod opening {
    use super::*;

    #[test]
    fn migrates_from_nothing_and_from_an_empty_file() {
        let (_dir, path) = fresh();
        let s = open(&path);
        let v = s.schema_version().unwrap();
        assert_eq!(v, healing_tui::store::SCHEMA_VERSION);
        drop(s);
        // A zero-byte file (what `create_private_file` leaves after a crash) is fine too.
        fs::remove_file(&path).unwrap();
        fs::write(&path, b"").unwrap();
        #[cfg(unix)]
        chmod(&path, 0o600);
        assert_eq!(open(&path).schema_version().unwrap(), v);
    }

    #[test]
    fn store_path_is_per_server_and_user() {
        let data = Path::new("/d");
        let a = healing_tui::store::store_path(data, "https://a.example", "alex");
        assert_ne!(a, healing_tui::store::store_path(data, "https://b.example", "alex"));
        assert_ne!(a, healing_tui::store::store_path(data, "https://a.example", "sam"));
        assert_ne!(a, healing_tui::store::store_path(data, "https://a.example:8443", "alex"));
        assert!(a.starts_with(healing_tui::store::account_dir(data, "https://a.example", "alex")));
    }

    #[test]
    fn open_account_creates_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let opened = Store::open_account(dir.path(), "http://127.0.0.1:3000", "sam").unwrap();
        assert_eq!(opened.store.path(), dir.path().join("accounts/127.0.0.1_3000/sam/store.sqlite3"));
        assert_eq!(opened.store.username(), "sam");
    }

    #[test]
    fn reopen_keeps_everything() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let page = InboxResponse {
            conversations: vec![summary("sam", "hi", 5, 1)],
            total_unread: 1,
            page: 1,
            page_size: 20,
            total_conversations: 1,
        };
        s.store_inbox_page(&page, Some("\"inbox-etag\"")).unwrap();
        let conv = ConversationResponse {
            messages: vec![msg(1, "sam", ME, "hi"), msg(2, ME, "sam", "hello")],
            participant_count: 2,
            with_user: "sam".into(),
        };
        s.store_conversation("sam", &conv, Some("\"c-etag\"")).unwrap();
        let out = OutgoingMessage::new("sam", None, "still queued");
        s.enqueue(&out).unwrap();
        s.save_draft("sam", "thinking…").unwrap();
        drop(s);

        let s = open(&path);
        let inbox = s.load_inbox().unwrap();
        assert_eq!(inbox.conversations.len(), 1);
        assert_eq!(inbox.total_unread, 1);
        assert_eq!(s.load_conversation("sam", 10).unwrap(), conv.messages);
        assert_eq!(s.after_id("sam").unwrap(), Some(2));
        assert_eq!(
            s.etag(&healing_tui::store::cache::inbox_resource(1)).unwrap().as_deref(),
            Some("\"inbox-etag\"")
        );
        assert_eq!(
            s.etag(&healing_tui::store::cache::conversation_resource("sam")).unwrap().as_deref(),
            Some("\"c-etag\"")
        );
        assert_eq!(s.pending().unwrap()[0].message, out);
        assert_eq!(s.load_draft("sam").unwrap().as_deref(), Some("thinking…"));
    }

    #[test]
    fn forget_account_removes_only_that_account() {
        let dir = tempfile::tempdir().unwrap();
        let server = "https://healing.example";
        drop(Store::open_account(dir.path(), server, "alex").unwrap());
        drop(Store::open_account(dir.path(), server, "sam").unwrap());
        assert!(healing_tui::store::forget_account(dir.path(), server, "alex").unwrap());
        assert!(!healing_tui::store::account_dir(dir.path(), server, "alex").exists());
        assert!(healing_tui::store::store_path(dir.path(), server, "sam").exists());
        assert!(!healing_tui::store::forget_account(dir.path(), server, "alex").unwrap());
    }

    #[test]
    fn another_users_store_is_refused() {
        let (_dir, path) = fresh();
        drop(open(&path));
        let err = Store::open(&path, "sam").unwrap_err();
        assert!(matches!(err, StoreError::WrongAccount { .. }), "{err}");
    }
}

#[cfg(unix)]
mod permissions {
    use super::*;

    #[test]
    fn created_private() {
        let (dir, path) = fresh();
        let s = open(&path);
        assert_eq!(mode(&path), 0o600);
        // Every directory we created is 0700, not just the last one.
        for d in
            [dir.path().join("accounts"), dir.path().join("accounts/host_443"), path.parent().unwrap().into()]
        {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
        }
        // SQLite gives its WAL the database file's mode.
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        if wal.exists() {
            assert_eq!(mode(&wal), 0o600);
        }
        drop(s);
    }

    #[test]
    fn too_open_file_is_refused_with_the_chmod_to_run() {
        let (_dir, path) = fresh();
        drop(open(&path));
        chmod(&path, 0o644);
        let err = Store::open(&path, ME).unwrap_err();
        assert!(matches!(err, StoreError::TooOpen { mode: 0o644, .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(&format!("chmod 600 {}", path.display())), "{text}");
        // Refused, not repaired or moved: the user decides.
        assert_eq!(mode(&path), 0o644);
        chmod(&path, 0o600);
        open(&path);
    }

    #[test]
    fn too_open_directory_is_refused() {
        let (_dir, path) = fresh();
        drop(open(&path));
        let account = path.parent().unwrap();
        chmod(account, 0o755);
        let err = Store::open(&path, ME).unwrap_err();
        assert!(err.to_string().contains(&format!("chmod 700 {}", account.display())), "{err}");
    }

    #[test]
    fn read_only_file_is_refused_with_chmod() {
        let (_dir, path) = fresh();
        drop(open(&path));
        chmod(&path, 0o400);
        if fs::OpenOptions::new().write(true).open(&path).is_ok() {
            eprintln!("running as root: permission bits are not enforced, skipping");
            return;
        }
        let err = Store::open(&path, ME).unwrap_err();
        assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");
        assert!(err.to_string().contains(&format!("chmod 600 {}", path.display())));
    }

    #[test]
    fn symlink_is_refused() {
        let (dir, path) = fresh();
        drop(open(&path));
        let elsewhere = dir.path().join("elsewhere.sqlite3");
        fs::rename(&path, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        let err = Store::open(&path, ME).unwrap_err();
        assert!(matches!(err, StoreError::NotAFile { .. }), "{err}");
    }
}

mod recovery {
    use super::*;

    fn corrupt_files(path: &Path) -> Vec<PathBuf> {
        let name = format!("{}.corrupt-", path.file_name().unwrap().to_string_lossy());
        let mut v: Vec<PathBuf> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&name))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn garbage_is_moved_aside_and_a_fresh_store_started() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        s.save_draft("sam", "x").unwrap();
        drop(s);
        let garbage: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        fs::write(&path, &garbage).unwrap();
        for suffix in ["-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", path.display()));
        }

        let opened = Store::open(&path, ME).unwrap();
        let rec = opened.recovered.expect("recovery reported");
        assert_eq!(rec.original, path);
        assert_eq!(fs::read(&rec.moved_to).unwrap(), garbage, "old file kept byte for byte");
        let text = rec.message();
        assert!(
            text.contains(&path.display().to_string()) && text.contains(&rec.moved_to.display().to_string())
        );
        assert!(rec.moved_to.to_string_lossy().contains("store.sqlite3.corrupt-"));
        assert!(text.contains("No unsent messages or drafts could be read"), "{text}");
        // The fresh store works and is private.
        let mut s = opened.store;
        assert_eq!(s.load_draft("sam").unwrap(), None);
        s.save_draft("sam", "y").unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        drop(s);
        assert!(Store::open(&path, ME).unwrap().recovered.is_none());
        assert_eq!(corrupt_files(&path).len(), 1);
    }

    #[test]
    fn a_second_corruption_does_not_overwrite_the_first() {
        let (_dir, path) = fresh();
        drop(open(&path));
        fs::write(&path, b"first garbage, long enough to not be a database header at all....").unwrap();
        assert!(Store::open(&path, ME).unwrap().recovered.is_some());
        fs::write(&path, b"second garbage, long enough to not be a database header at all...").unwrap();
        assert!(Store::open(&path, ME).unwrap().recovered.is_some());
        let moved = corrupt_files(&path);
        assert_eq!(moved.len(), 2, "{moved:?}");
    }

    #[test]
    fn recover_salvages_outbox_and_drafts() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let (a, b, c) = (
            OutgoingMessage::new("sam", None, "queued"),
            OutgoingMessage::new("sam", None, "queued too"),
            OutgoingMessage::new("dr_morgan", Some("Re".into()), "in flight"),
        );
        for m in [&a, &b, &c] {
            s.enqueue(m).unwrap();
        }
        s.mark_sending(c.client_id, Utc::now()).unwrap();
        s.save_draft("sam", "unfinished").unwrap();
        s.merge_messages(&[msg(1, "sam", ME, "cached")]).unwrap();
        let before = s.pending().unwrap();
        drop(s);

        let opened = Store::recover(&path, ME).unwrap();
        let rec = opened.recovered.unwrap();
        assert_eq!((rec.salvaged_outbox, rec.salvaged_drafts), (3, 1));
        assert!(rec.message().contains("3 unsent message(s), 1 draft(s)"), "{}", rec.message());
        let s = opened.store;
        let after = s.pending().unwrap();
        let strip = |v: Vec<healing_tui::store::OutboxEntry>| {
            v.into_iter().map(|e| (e.message, e.state, e.attempts, e.first_attempt_at)).collect::<Vec<_>>()
        };
        assert_eq!(strip(after), strip(before), "same messages, same states, same order");
        assert_eq!(s.load_draft("sam").unwrap().as_deref(), Some("unfinished"));
        // The cache is not salvaged: the server is its source.
        assert_eq!(s.message_count("sam").unwrap(), 0);
        assert!(rec.moved_to.exists());
    }

    #[test]
    fn damage_found_in_use_is_reported_and_recoverable() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let m = OutgoingMessage::new("sam", None, "must survive");
        s.enqueue(&m).unwrap();
        let many: Vec<Message> =
            (1..=20_000).map(|i| msg(i, "sam", ME, &format!("filler text {i}"))).collect();
        s.merge_messages(&many).unwrap();
        drop(s); // checkpoints the WAL into the main file
        let mut bytes = fs::read(&path).unwrap();
        let (from, to) = (bytes.len() / 2, bytes.len() / 2 + 64 * 1024);
        for (i, b) in bytes[from..to].iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37) ^ 0xA5;
        }
        fs::write(&path, &bytes).unwrap();

        let s = Store::open(&path, ME).unwrap().store;
        // Reading the damaged pages fails with an error the app recognises as damage
        // (or, if no read touched them, the integrity check reports it).
        let read_err = s.load_conversation("sam", 100_000).err().or_else(|| s.search("filler").err());
        match read_err {
            Some(e) => assert!(e.is_corrupt(), "{e}"),
            None => match s.check_integrity() {
                Ok(Some(_)) => {}
                Err(e) => assert!(e.is_corrupt(), "{e}"),
                Ok(None) => panic!("the damage went unnoticed"),
            },
        }
        drop(s);
        let opened = Store::recover(&path, ME).unwrap();
        assert!(opened.recovered.unwrap().salvaged_outbox >= 1);
        assert_eq!(opened.store.pending().unwrap()[0].message, m);
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_file_is_moved_aside() {
        let (_dir, path) = fresh();
        drop(open(&path));
        chmod(&path, 0o000);
        if fs::File::open(&path).is_ok() {
            eprintln!("running as root: permission bits are not enforced, skipping");
            return;
        }
        let opened = Store::open(&path, ME).unwrap();
        assert!(opened.recovered.is_some());
    }
}

mod cache {
    use super::*;

    #[test]
    fn merge_is_idempotent_by_server_id() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let m = msg(42, "sam", ME, "once");
        assert_eq!(s.merge_messages(std::slice::from_ref(&m)).unwrap(), 1);
        assert_eq!(s.merge_messages(&[m.clone(), m.clone()]).unwrap(), 0);
        assert_eq!(s.message_count("sam").unwrap(), 1);
        // A later copy updates in place; read state never goes back.
        let read = Message { is_read: true, read_at: Some(t(100)), ..m.clone() };
        s.merge_messages(&[read]).unwrap();
        s.merge_messages(std::slice::from_ref(&m)).unwrap();
        let got = s.message(42).unwrap().unwrap();
        assert!(got.is_read);
        assert_eq!(got.read_at, Some(t(100)));
        assert_eq!(s.message_count("sam").unwrap(), 1);
        // Messages without id or peer are not stored.
        assert_eq!(s.merge_messages(&[msg(0, "sam", ME, "no id"), msg(5, "", ME, "no peer")]).unwrap(), 0);
    }

    #[test]
    fn a_partial_copy_does_not_erase_fields() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let full = Message { subject: Some("Plan".into()), ..msg(7, "sam", ME, "full text") };
        s.merge_messages(std::slice::from_ref(&full)).unwrap();
        let partial = Message { content: String::new(), subject: None, sent_at: None, ..full.clone() };
        s.merge_messages(&[partial]).unwrap();
        assert_eq!(s.message(7).unwrap().unwrap(), full);
    }

    #[test]
    fn inbox_without_totals_is_not_pruned() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        s.merge_messages(&[msg(1, "sam", ME, "a"), msg(2, "dr_morgan", ME, "b")]).unwrap();
        // No totals (fields missing, read as 0): only "sam" is listed, nothing is dropped.
        let page =
            InboxResponse { conversations: vec![summary("sam", "a", 1, 0)], ..InboxResponse::default() };
        s.store_inbox_page(&page, None).unwrap();
        assert_eq!(s.load_inbox().unwrap().conversations.len(), 2);
        // A later page never prunes either.
        let page2 = InboxResponse { page: 2, page_size: 20, total_conversations: 1, ..page };
        s.store_inbox_page(&page2, None).unwrap();
        assert_eq!(s.load_inbox().unwrap().conversations.len(), 2);
    }

    #[test]
    fn conversation_pages() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let all: Vec<Message> = (1..=50)
            .map(|i| {
                if i % 2 == 0 {
                    msg(i, ME, "sam", &format!("m{i}"))
                } else {
                    msg(i, "sam", ME, &format!("m{i}"))
                }
            })
            .collect();
        s.merge_messages(&all).unwrap();
        s.merge_messages(&[msg(1000, "dr_morgan", ME, "other conversation")]).unwrap();
        let newest = s.load_conversation("sam", 10).unwrap();
        assert_eq!(newest.iter().map(|m| m.id).collect::<Vec<_>>(), (41..=50).collect::<Vec<_>>());
        let before = s.load_messages_before("sam", 41, 15).unwrap();
        assert_eq!(before.iter().map(|m| m.id).collect::<Vec<_>>(), (26..=40).collect::<Vec<_>>());
        assert_eq!(s.load_messages_before("sam", 3, 15).unwrap().len(), 2);
        assert!(s.load_messages_before("sam", 1, 15).unwrap().is_empty());
        assert_eq!(s.max_message_id("sam").unwrap(), Some(50));
        assert_eq!(s.load_conversation("nobody", 10).unwrap(), Vec::new());
    }

    #[test]
    fn after_id_advances_only_with_gapless_fetches() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        assert_eq!(s.after_id("sam").unwrap(), None);
        let conv = |msgs: Vec<Message>| ConversationResponse {
            messages: msgs,
            participant_count: 2,
            with_user: "sam".into(),
        };
        s.store_conversation("sam", &conv(vec![msg(1, "sam", ME, "a"), msg(2, ME, "sam", "b")]), None)
            .unwrap();
        assert_eq!(s.after_id("sam").unwrap(), Some(2));
        // A websocket message does not advance it (3..9 may have been missed).
        s.apply_event(&WsEvent::MessageNew { message: msg(10, "sam", ME, "live") }).unwrap();
        assert_eq!(s.after_id("sam").unwrap(), Some(2));
        assert_eq!(s.max_message_id("sam").unwrap(), Some(10));
        // An empty (or 304) fetch leaves it alone; an older response never moves it back.
        s.store_conversation("sam", &conv(vec![]), None).unwrap();
        s.store_conversation("sam", &conv(vec![msg(1, "sam", ME, "a")]), None).unwrap();
        assert_eq!(s.after_id("sam").unwrap(), Some(2));
        s.store_conversation("sam", &conv((3..=10).map(|i| msg(i, "sam", ME, "x")).collect()), None).unwrap();
        assert_eq!(s.after_id("sam").unwrap(), Some(10));
    }

    #[test]
    fn inbox_order_previews_and_unread_counts() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let page = InboxResponse {
            conversations: vec![summary("sam", "newer", 20, 2), summary("dr_morgan", "older", 10, 0)],
            total_unread: 2,
            page: 1,
            page_size: 20,
            total_conversations: 2,
        };
        s.store_inbox_page(&page, None).unwrap();
        let inbox = s.load_inbox().unwrap();
        assert_eq!(inbox.conversations, page.conversations);
        assert_eq!(inbox.total_unread, 2);

        // A live message moves its conversation to the top and counts as unread.
        s.apply_event(&WsEvent::MessageNew { message: msg(30, "dr_morgan", ME, "new from the doctor") })
            .unwrap();
        // Delivered twice (websocket + fetch): counted once.
        s.apply_event(&WsEvent::MessageNew { message: msg(30, "dr_morgan", ME, "new from the doctor") })
            .unwrap();
        let inbox = s.load_inbox().unwrap();
        assert_eq!(inbox.conversations[0].with_user, "dr_morgan");
        assert_eq!(inbox.conversations[0].last_message, "new from the doctor");
        assert_eq!(inbox.conversations[0].unread_count, 1);
        assert_eq!(inbox.total_unread, 3);

        // Read event: counts go down once.
        assert_eq!(s.apply_read(30, Some(t(40))).unwrap().as_deref(), Some("dr_morgan"));
        s.apply_event(&WsEvent::MessageRead { message_id: 30, read_at: Some(t(40)) }).unwrap();
        let inbox = s.load_inbox().unwrap();
        assert_eq!(inbox.conversations[0].unread_count, 0);
        assert_eq!(inbox.total_unread, 2);
        assert!(s.message(30).unwrap().unwrap().is_read);

        // Opening sam's conversation clears its unread.
        s.merge_messages(&[msg(11, "sam", ME, "a"), msg(12, "sam", ME, "b")]).unwrap();
        s.mark_conversation_read("sam").unwrap();
        let inbox = s.load_inbox().unwrap();
        assert_eq!(inbox.total_unread, 0);
        assert!(s.load_conversation("sam", 5).unwrap().iter().all(|m| m.is_read));

        // An older history page does not replace the preview.
        s.merge_messages(&[msg(5, ME, "dr_morgan", "ancient")]).unwrap();
        assert_eq!(s.load_inbox().unwrap().conversations[0].last_message, "new from the doctor");

        // A complete first page drops conversations the server no longer lists.
        let page = InboxResponse {
            conversations: vec![summary("sam", "b", 12, 0)],
            total_unread: 0,
            page: 1,
            page_size: 20,
            total_conversations: 1,
        };
        s.store_inbox_page(&page, None).unwrap();
        let names: Vec<String> =
            s.load_inbox().unwrap().conversations.into_iter().map(|c| c.with_user).collect();
        assert_eq!(names, ["sam"]);
    }

    #[test]
    fn deleted_messages_stay_deleted() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        s.merge_messages(&[msg(1, "sam", ME, "keep"), msg(2, "sam", ME, "secret")]).unwrap();
        assert_eq!(s.load_inbox().unwrap().conversations[0].last_message, "secret");
        assert_eq!(
            s.apply_event(&WsEvent::MessageDeleted { message_id: 2 }).unwrap().as_deref(),
            Some("sam")
        );
        assert!(s.message(2).unwrap().is_none());
        // The preview falls back to the newest remaining message.
        assert_eq!(s.load_inbox().unwrap().conversations[0].last_message, "keep");
        // A server that still lists it does not bring it back.
        assert_eq!(s.merge_messages(&[msg(2, "sam", ME, "secret")]).unwrap(), 0);
        // And a conversation the server returns with it has it dropped.
        let mut listed =
            vec![msg(1, "sam", ME, "keep"), msg(2, "sam", ME, "secret"), msg(3, ME, "sam", "new")];
        s.drop_deleted(&mut listed).unwrap();
        assert_eq!(listed.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 3]);
        assert!(s.search("secret").unwrap().is_empty());
        // Unknown ids are harmless.
        assert_eq!(s.apply_deleted(999).unwrap(), None);
        assert_eq!(s.apply_read(999, None).unwrap(), None);
    }

    #[test]
    fn wait_hints_say_who_wrote_last_and_since_when() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        s.merge_messages(&[
            msg(1, "sam", ME, "hello"),
            msg(2, ME, "sam", "hi sam"),
            msg(3, "sam", ME, "can we talk"),
            msg(4, "sam", ME, "today?"),
            msg(5, "mei", ME, "thanks"),
            msg(6, ME, "mei", "any time"),
            msg(7, "jo", ME, "first contact"),
        ])
        .unwrap();
        let hints = s.wait_hints().unwrap();
        let sam = &hints["sam"];
        assert_eq!((sam.last_sender.as_str(), sam.last_time), ("sam", Some(t(4).utc())));
        assert_eq!(sam.run_start, Some(t(3).utc()), "from the first message after my reply");
        assert_eq!(hints["mei"].run_start, None, "I wrote last");
        assert_eq!(hints["mei"].last_sender, ME);
        assert_eq!(hints["jo"].run_start, Some(t(7).utc()), "never answered: from the first");
        assert_eq!(hints.len(), 3);
    }
}

mod search {
    use super::*;

    #[test]
    fn fts5_is_compiled_in() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let used: bool =
            conn.query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| r.get(0)).unwrap();
        assert!(used);
    }

    fn store_with_messages() -> (tempfile::TempDir, Store) {
        let (dir, path) = fresh();
        let mut s = open(&path);
        s.merge_messages(&[
            msg(1, "sam", ME, "Feeling anxious about tomorrow's appointment"),
            msg(2, ME, "sam", "The appointment is at 10"),
            msg(3, "dr_morgan", ME, "Café au lait, naïve résumé"),
            msg(4, "dr_morgan", ME, "'; DROP TABLE messages; --"),
            msg(5, "sam", ME, "she said \"hello there\" and NEAR(x y) * OR"),
            msg(6, "sam", ME, "100% sure_thing"),
        ])
        .unwrap();
        (dir, s)
    }

    fn ids(v: Vec<Message>) -> Vec<i64> {
        v.into_iter().map(|m| m.id).collect()
    }

    #[test]
    fn finds_words_phrases_and_prefixes_newest_first() {
        let (_d, s) = store_with_messages();
        assert_eq!(ids(s.search("appointment").unwrap()), [2, 1]);
        assert_eq!(ids(s.search("APPOINT").unwrap()), [2, 1]);
        assert_eq!(ids(s.search("about tomorrow").unwrap()), [1]);
        assert!(s.search("tomorrow about").unwrap().is_empty(), "a phrase, not a bag of words");
        assert_eq!(ids(s.search("cafe au lait").unwrap()), [3], "diacritics folded");
        assert_eq!(ids(s.search("resume").unwrap()), [3], "diacritics folded");
        assert_eq!(ids(s.search_conversation("sam", "appointment").unwrap()), [2, 1]);
        assert!(s.search_conversation("dr_morgan", "appointment").unwrap().is_empty());
        assert!(s.search("").unwrap().is_empty());
        assert!(s.search("   ").unwrap().is_empty());
    }

    #[test]
    fn hostile_queries_are_literal_text() {
        let (_d, s) = store_with_messages();
        for q in [
            "\"",
            "\"\"",
            "*",
            "NEAR(",
            "NEAR(x y)",
            "'; DROP TABLE messages; --",
            "a OR b",
            "NOT",
            "-",
            "^",
            "content:hello",
            "(",
            ")",
            "{",
            "\\",
            "%",
            "_",
            "\0",
            "hello\" OR \"x",
            "'",
            "💥",
            "a\"b*c",
        ] {
            if let Err(e) = s.search(q) {
                panic!("query {q:?} failed: {e}");
            }
            s.search_conversation("sam", q).unwrap();
        }
        assert_eq!(ids(s.search("'; DROP TABLE").unwrap()), [4]);
        assert_eq!(ids(s.search("\"hello there\"").unwrap()), [5]);
        assert_eq!(ids(s.search("NEAR(x").unwrap()), [5]);
        assert_eq!(ids(s.search("* OR").unwrap()), [5]);
        assert!(s.search("hello OR appointment").unwrap().is_empty(), "OR is a word, not an operator");
        // No letters: substring match, wildcards literal.
        assert_eq!(ids(s.search("%").unwrap()), [6]);
        assert!(s.search("%%").unwrap().is_empty());
        // The table survived.
        assert_eq!(s.message_count("sam").unwrap(), 4);
    }

    #[test]
    fn index_follows_updates_and_deletes() {
        let (_d, mut s) = store_with_messages();
        let mut edited = msg(2, ME, "sam", "rescheduled to Friday");
        edited.is_read = true;
        s.merge_messages(&[edited]).unwrap();
        assert_eq!(ids(s.search("appointment").unwrap()), [1]);
        assert_eq!(ids(s.search("friday").unwrap()), [2]);
        s.apply_deleted(1).unwrap();
        assert!(s.search("appointment").unwrap().is_empty());
    }
}

mod outbox {
    use super::*;

    fn out(to: &str, text: &str) -> OutgoingMessage {
        OutgoingMessage::new(to, None, text)
    }

    fn heads(s: &Store) -> Vec<String> {
        s.next_to_send().unwrap().into_iter().map(|e| e.message.content).collect()
    }

    #[test]
    fn order_is_kept_per_conversation() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let (a1, b1, a2, a3) = (out("sam", "a1"), out("dr_morgan", "b1"), out("sam", "a2"), out("sam", "a3"));
        for m in [&a1, &b1, &a2, &a3] {
            assert_eq!(s.enqueue(m).unwrap().state, OutboxState::Queued);
        }
        // Enqueue is idempotent by client id.
        s.enqueue(&a1).unwrap();
        assert_eq!(s.pending().unwrap().len(), 4);
        assert_eq!(heads(&s), ["a1", "b1"]);
        // A later message cannot jump the queue.
        let err = s.mark_sending(a2.client_id, Utc::now()).unwrap_err();
        assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");

        s.mark_sending(a1.client_id, Utc::now()).unwrap();
        assert_eq!(heads(&s), ["a1", "b1"], "in flight stays the head");
        s.mark_sent(a1.client_id, 101).unwrap();
        assert_eq!(heads(&s), ["b1", "a2"]);
        // A permanent failure holds its conversation until edited or discarded.
        s.mark_sending(a2.client_id, Utc::now()).unwrap();
        s.mark_failed(a2.client_id, "Message cannot exceed 5000 characters").unwrap();
        assert_eq!(heads(&s), ["b1"]);
        assert!(s.mark_sending(a3.client_id, Utc::now()).is_err());
        let failed = s.outbox_entry(a2.client_id).unwrap().unwrap();
        assert_eq!(
            failed.state,
            OutboxState::Failed { reason: "Message cannot exceed 5000 characters".into() }
        );
        s.edit_failed(a2.client_id, "shorter").unwrap();
        assert_eq!(heads(&s), ["b1", "shorter"]);
        let edited = s.outbox_entry(a2.client_id).unwrap().unwrap();
        assert_eq!((edited.state, edited.attempts), (OutboxState::Queued, 0));
        s.mark_sending(a2.client_id, Utc::now()).unwrap();
        s.mark_failed(a2.client_id, "no").unwrap();
        s.discard(a2.client_id).unwrap();
        assert_eq!(heads(&s), ["b1", "a3"]);
        let order: Vec<String> =
            s.pending_for("sam").unwrap().into_iter().map(|e| e.message.content).collect();
        assert_eq!(order, ["a1", "a3"]);
    }

    /// Issue 13, item 4: a message whose last attempt is in doubt can be discarded when
    /// nobody is sending it, and a retry wait is kept, shown and forgotten on `R`.
    #[test]
    fn in_doubt_messages_can_be_discarded_and_retries_reset() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let (a, b) = (out("sam", "a"), out("sam", "b"));
        s.enqueue(&a).unwrap();
        s.enqueue(&b).unwrap();
        s.mark_sending(a.client_id, Utc::now()).unwrap();
        let at = Utc::now() + chrono::Duration::minutes(2);
        s.set_retry(a.client_id, "server error 500 (id 1a2b)", at).unwrap();
        let e = s.outbox_entry(a.client_id).unwrap().unwrap();
        assert!(matches!(e.state, OutboxState::Sending { .. }), "still in doubt: {e:?}");
        assert_eq!(e.last_error.as_deref(), Some("server error 500 (id 1a2b)"));
        assert_eq!(e.retry_at.map(|t| t.timestamp_micros()), Some(at.timestamp_micros()));
        assert_eq!(s.retry_now().unwrap(), 1);
        assert_eq!(s.outbox_entry(a.client_id).unwrap().unwrap().retry_at, None);
        s.discard(a.client_id).unwrap();
        assert_eq!(s.head_for("sam").unwrap().map(|e| e.message.client_id), Some(b.client_id));
        s.mark_sending(b.client_id, Utc::now()).unwrap();
        s.set_retry(b.client_id, "x", at).unwrap();
        s.mark_sent(b.client_id, 5).unwrap();
        let e = s.outbox_entry(b.client_id).unwrap().unwrap();
        assert_eq!((e.retry_at, e.last_error), (None, None), "cleared once sent");
    }

    #[test]
    fn transitions_refuse_what_makes_no_sense() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let m = out("sam", "x");
        s.enqueue(&m).unwrap();
        assert!(s.edit_failed(m.client_id, "y").is_err(), "only failed messages are edited");
        s.mark_sending(m.client_id, Utc::now()).unwrap();
        // Being sent this very moment (its conversation claimed by a sender): kept.
        let claim = s.try_claim("sam").unwrap().unwrap();
        let err = s.discard(m.client_id).unwrap_err();
        assert!(matches!(err, StoreError::BeingSent { .. }), "{err}");
        assert!(err.to_string().contains("being sent right now"), "{err}");
        drop(claim);
        s.mark_retry(m.client_id).unwrap();
        assert_eq!(s.outbox_entry(m.client_id).unwrap().unwrap().state, OutboxState::Queued);
        s.mark_sending(m.client_id, Utc::now()).unwrap();
        s.mark_sent(m.client_id, 7).unwrap();
        s.mark_sent(m.client_id, 7).unwrap(); // repeated confirmation is fine
        assert!(s.mark_sent(m.client_id, 8).is_err());
        assert!(s.mark_sending(m.client_id, Utc::now()).is_err(), "never sent twice");
        assert!(s.mark_failed(m.client_id, "late").is_err());
        let unknown = uuid::Uuid::new_v4();
        assert!(matches!(s.mark_sent(unknown, 1).unwrap_err(), StoreError::NotInOutbox { .. }));
    }

    #[test]
    fn confirmed_message_leaves_when_the_real_one_arrives() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let (a, b) = (out("sam", "first"), out("sam", "second"));
        s.enqueue(&a).unwrap();
        s.enqueue(&b).unwrap();
        s.mark_sending(a.client_id, Utc::now()).unwrap();
        s.mark_sent(a.client_id, 55).unwrap();
        assert!(matches!(
            s.outbox_entry(a.client_id).unwrap().unwrap().state,
            OutboxState::Sent { server_id: 55 }
        ));
        s.merge_messages(&[msg(55, ME, "sam", "first")]).unwrap();
        assert!(s.outbox_entry(a.client_id).unwrap().is_none());
        // Echo already cached (websocket beat the 201): removed at once.
        s.merge_messages(&[msg(56, ME, "sam", "second")]).unwrap();
        s.mark_sending(b.client_id, Utc::now()).unwrap();
        s.mark_sent(b.client_id, 56).unwrap();
        assert!(s.pending().unwrap().is_empty());
    }

    #[test]
    fn survives_a_crash_mid_send_and_resolves_the_ambiguity() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let m = out("sam", "did this arrive?");
        let later = out("sam", "after it");
        s.enqueue(&m).unwrap();
        s.enqueue(&later).unwrap();
        let started = Utc::now();
        s.mark_sending(m.client_id, started).unwrap();
        // Crash: the connection is never closed cleanly (no checkpoint, WAL left behind).
        std::mem::forget(s);

        let mut s = open(&path);
        let next = s.next_to_send().unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].message, m);
        assert!(matches!(next[0].state, OutboxState::Sending { .. }));
        assert_eq!(next[0].attempts, 1);
        assert_eq!(next[0].first_attempt_at.map(|t| t.timestamp_micros()), Some(started.timestamp_micros()));

        // The fetched conversation has our copy (server clock 2 s behind, whole seconds).
        let server_time = Timestamp(Utc.timestamp_opt(started.timestamp() - 2, 0).unwrap());
        let echo = Message { sent_at: Some(server_time), ..msg(900, ME, "sam", "did this arrive?") };
        let older_same_text = Message {
            sent_at: Some(Timestamp(started - Duration::hours(1))),
            ..msg(800, ME, "sam", "did this arrive?")
        };
        let fetched = vec![older_same_text, echo];
        assert_eq!(s.resolve_echo(m.client_id, &fetched).unwrap(), Some(900));
        s.mark_sent(m.client_id, 900).unwrap();
        // The next message must not claim the same echo.
        s.mark_sending(later.client_id, Utc::now()).unwrap();
        assert_eq!(s.resolve_echo(later.client_id, &fetched).unwrap(), None);
    }

    #[test]
    fn every_transition_is_durable() {
        let (_dir, path) = fresh();
        let m = out("sam", "x");
        let mut s = open(&path);
        s.enqueue(&m).unwrap();
        std::mem::forget(s);
        let mut s = open(&path);
        s.mark_sending(m.client_id, Utc::now()).unwrap();
        s.mark_failed(m.client_id, "Recipient not found").unwrap();
        std::mem::forget(s);
        let s = open(&path);
        let e = s.outbox_entry(m.client_id).unwrap().unwrap();
        assert_eq!(e.state, OutboxState::Failed { reason: "Recipient not found".into() });
        assert_eq!(e.attempts, 1);
    }
}

mod scale {
    use super::*;

    #[test]
    fn hundred_thousand_messages_then_newest_200() {
        let (_dir, path) = fresh();
        let mut s = open(&path);
        let all: Vec<Message> = (1..=100_000)
            .map(|i| {
                if i % 3 == 0 {
                    msg(i, ME, "sam", &format!("reply number {i}"))
                } else {
                    msg(i, "sam", ME, &format!("message number {i}"))
                }
            })
            .collect();
        assert_eq!(s.merge_messages(&all).unwrap(), 100_000);
        drop(s);
        let s = open(&path);
        assert_eq!(s.message_count("sam").unwrap(), 100_000);
        let newest = s.load_conversation("sam", 200).unwrap();
        assert_eq!(newest.len(), 200);
        assert_eq!(newest, all[all.len() - 200..]);
        let page = s.load_messages_before("sam", newest[0].id, 200).unwrap();
        assert_eq!(page, all[all.len() - 400..all.len() - 200]);
        assert_eq!(s.load_inbox().unwrap().conversations[0].last_message, "message number 100000");
        assert_eq!(s.search("number 54321").unwrap().len(), 1);
    }
}
