//! The one seam: a fake [`Service`] drives the real live link (its polling path) and
//! the real outbox sender, through the runner, as the real client does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use super::*;
use futures_util::{SinkExt, StreamExt};

use crate::api::Fetched;
use crate::app::fixture;
use crate::model::types::{ConversationSummary, InboxResponse, Message, SendRequest, SendResponse};
use crate::sync::budget::Limits;
use crate::sync::plan::Cadence;
use crate::sync::service::{Frame, Socket, WsFailure};

#[derive(Default)]
struct Served {
    /// What the fake server holds.
    messages: Vec<Message>,
    /// Every send, with its idempotency key.
    sent: Vec<(SendRequest, String)>,
    /// Requests answered, by route.
    inbox_calls: usize,
    /// Frames for a websocket, when the fake offers one (once).
    push: Option<tokio::sync::mpsc::UnboundedReceiver<Frame>>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<Served>>);

impl Fake {
    fn served(&self) -> std::sync::MutexGuard<'_, Served> {
        self.0.lock().unwrap()
    }
}

impl Service for Fake {
    async fn login(&self, req: LoginRequest) -> Result<String, ApiError> {
        Ok(req.username.clone())
    }
    async fn logout(&self) -> Result<(), ApiError> {
        Ok(())
    }
    async fn inbox(
        &self,
        _page: u32,
        _unread: bool,
        _etag: Option<String>,
    ) -> Result<Fetched<InboxResponse>, ApiError> {
        let mut served = self.served();
        served.inbox_calls += 1;
        // One conversation (sam's): its newest message, everything unread.
        let unread_count = served.messages.len() as u32;
        let conversations = served
            .messages
            .last()
            .map(|m| ConversationSummary {
                with_user: m.sender.clone(),
                last_message: m.content.clone(),
                last_message_time: m.sent_at,
                unread_count,
                ..Default::default()
            })
            .into_iter()
            .collect();
        Ok(Fetched::Fresh { value: InboxResponse { conversations, ..Default::default() }, etag: None })
    }
    async fn conversation(
        &self,
        user: String,
        _after: Option<i64>,
        _etag: Option<String>,
    ) -> Result<Fetched<ConversationResponse>, ApiError> {
        let messages = self.served().messages.iter().filter(|m| m.sender == user).cloned().collect();
        Ok(Fetched::Fresh {
            value: ConversationResponse { messages, with_user: user, ..Default::default() },
            etag: None,
        })
    }
    async fn send(&self, req: SendRequest, key: String) -> Result<SendResponse, ApiError> {
        let recipient = req.recipient.clone();
        self.served().sent.push((req, key));
        Ok(SendResponse { message_id: 900, status: "sent".into(), recipient, conversation_id: None })
    }
    async fn delete(&self, _id: i64) -> Result<(), ApiError> {
        Ok(())
    }
    async fn mark_read(&self, _id: i64) -> Result<(), ApiError> {
        Ok(())
    }
    async fn pet(&self) -> Result<Option<crate::model::types::Pet>, ApiError> {
        Ok(None)
    }
    fn server(&self) -> String {
        "http://fake:1".into()
    }
    async fn websocket(&self, _timeout: Duration) -> Result<Socket, WsFailure> {
        let Some(frames) = self.served().push.take() else { return Err(WsFailure::NotOffered) };
        let frames =
            futures_util::stream::unfold(frames, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
        let pings = futures_util::sink::drain().sink_map_err(|never| match never {});
        Ok(Socket::new(frames.boxed(), pings))
    }
}

/// Connecting gives the same fake: these tests start logged in.
impl Connect for Fake {
    type Service = Fake;
    fn connect(&self, _server: &str) -> Result<Fake, ApiError> {
        Ok(self.clone())
    }
    fn persist(&self, _s: &Fake) {}
    fn forget(&self) {}
}

/// The next action `pick` accepts, within 10 s; the others are skipped.
async fn next<T>(rx: &mut UnboundedReceiver<Action>, mut pick: impl FnMut(&Action) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut skipped = Vec::new();
    loop {
        let Ok(action) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            panic!("no such action within 10 s; skipped {skipped:#?}");
        };
        let action = action.expect("runner alive");
        if let Some(found) = pick(&action) {
            return found;
        }
        skipped.push(action);
    }
}

/// Polling every 100 ms without a budget (the fake has no limits), so a test waits
/// for a poll in well under a second.
fn brisk() -> LinkConfig {
    let every = Duration::from_millis(100);
    LinkConfig {
        cadence: Cadence { active: every, idle: every, ..Cadence::default() },
        budget: Some(Limits::NONE),
        conversation_every: every,
        ..LinkConfig::default()
    }
}

fn sam_says(id: i64, content: &str) -> Message {
    Message {
        id,
        sender: "sam".into(),
        recipient: "alex".into(),
        content: content.into(),
        sent_at: fixture::ago(0),
        ..Default::default()
    }
}

/// Log in with `store` (the account's, or none), start the link, open sam's conversation.
fn logged_in(fake: &Fake, store: Option<Shared>) -> (Runner<Fake>, UnboundedReceiver<Action>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(fake.clone(), Some(fake.clone()), tx).with_link_config(brisk());
    runner.set_store(store);
    runner.start_polling();
    runner.note_open(Some(("sam", 0)));
    (runner, rx)
}

/// A message the fake server holds reaches the app through the link's polling (the
/// fake offers no websocket), and a message written goes out through the outbox
/// sender, with the outbox entry's id as its idempotency key, and is confirmed there.
async fn fake_served_news_and_send(store: Option<Shared>) -> (Option<Shared>, uuid::Uuid) {
    let fake = Fake::default();
    fake.served().messages.push(sam_says(7, "are you there?"));
    let (runner, mut rx) = logged_in(&fake, store);

    let arrived = next(&mut rx, |a| match a {
        Action::ConversationLoaded(r) if r.with_user == "sam" && !r.messages.is_empty() => {
            Some(r.messages[0].content.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(arrived, "are you there?");
    // Brought by the link's catch-up before it settles into polling (no websocket here).
    let polling = next(&mut rx, |a| match a {
        Action::ConnectionChanged(Connection::Polling { .. }) => Some(()),
        Action::ConnectionChanged(Connection::Live) => panic!("the fake offers no websocket"),
        _ => None,
    });
    polling.await;
    assert!(fake.served().inbox_calls >= 1, "the link's catch-up asked for the inbox");
    // Later news comes with the polling rotation (the fake has no cheap probes: the
    // inbox shows the change, then the open conversation is fetched).
    fake.served().messages.push(sam_says(8, "still there?"));
    let polled = next(&mut rx, |a| match a {
        Action::ConversationLoaded(r) if r.messages.iter().any(|m| m.id == 8) => Some(()),
        _ => None,
    });
    polled.await;

    let id = uuid::Uuid::new_v4();
    let client_id = id.to_string();
    let send = Effect::Send {
        client_id: client_id.clone(),
        recipient: "sam".into(),
        content: "yes, here".into(),
        subject: None,
    };
    runner.run(send);
    let confirmed = next(&mut rx, |a| match a {
        Action::SendSucceeded { client_id, response, .. } => Some((client_id.clone(), response.message_id)),
        Action::SendRefused { reason, .. } => panic!("refused: {reason}"),
        _ => None,
    })
    .await;
    assert_eq!(confirmed, (client_id.clone(), 900));
    let sent = fake.served().sent.clone();
    assert_eq!(sent.len(), 1, "exactly one attempt: {sent:?}");
    assert_eq!((sent[0].0.content.as_str(), sent[0].1.as_str()), ("yes, here", client_id.as_str()));
    (runner.store(), id)
}

/// The outbox entry `id` in `store`, which must be there, confirmed with the fake's id.
async fn assert_confirmed(store: &Shared, id: uuid::Uuid) {
    let entry = store.call(move |s| s.outbox_entry(id)).await.unwrap();
    let state = entry.map(|e| e.state);
    assert_eq!(state, Some(OutboxState::Sent { server_id: 900 }), "the outbox records the confirmation");
}

#[tokio::test]
async fn a_fake_server_goes_through_the_real_link_and_the_outbox_sender() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open(&dir.path().join("data").join("s.sqlite3"), "alex").unwrap().store;
    let store: Shared = crate::store::StoreHandle::new(store);
    let (used, id) = fake_served_news_and_send(Some(store.clone())).await;
    assert!(used.is_some_and(|s| s.is_same(&store)), "the account's store is the outbox");
    assert_confirmed(&store, id).await;
}

/// No account store (it could not be opened, or there is no data directory): the
/// message still goes through an outbox (a stand-in for this run), not around it.
#[tokio::test]
async fn without_the_account_store_a_stand_in_outbox_still_sends() {
    let (used, id) = fake_served_news_and_send(None).await;
    assert_confirmed(&used.expect("a stand-in store"), id).await;
}

/// A fake that offers a websocket gets the link's websocket path: it goes live, and a
/// pushed message reaches the app.
#[tokio::test]
async fn a_fake_websocket_goes_through_the_real_link() {
    let fake = Fake::default();
    let (push, frames) = tokio::sync::mpsc::unbounded_channel();
    fake.served().push = Some(frames);
    let (_runner, mut rx) = logged_in(&fake, None);
    let live = next(&mut rx, |a| match a {
        Action::ConnectionChanged(Connection::Live) => Some(()),
        Action::ConnectionChanged(Connection::Polling { .. }) => panic!("the fake offers a websocket"),
        _ => None,
    });
    live.await;
    let event = WsEvent::MessageNew { message: sam_says(9, "pushed") };
    push.send(Frame::Text(serde_json::to_string(&event).unwrap())).unwrap();
    let pushed = next(&mut rx, |a| match a {
        Action::MessagesArrived(m) => Some(m[0].content.clone()),
        _ => None,
    })
    .await;
    assert_eq!(pushed, "pushed");
}
