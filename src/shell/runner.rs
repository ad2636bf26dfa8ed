//! The effect runner: turns each [`Effect`] into a tokio task that talks to the server
//! through a [`Service`] and reports back as an [`Action`] on a channel. The UI never
//! waits for a reply. A fetch replaces an identical one still in flight (latest wins).
//! News comes from the live link (`crate::sync::link`: websocket or budget-aware
//! polling, reconnect, catch-up), started at login and mapped to actions here; a
//! service without a client (test fakes) gets a light poller that sends `PollDue`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::AbortHandle;

use crate::api::ApiError;
use crate::app::action::{Action, Connection};
use crate::app::effect::Effect;
use crate::app::state::{Pending, SendMark};
use crate::model::types::{ConversationResponse, LoginRequest, SendRequest, WsEvent};
use crate::shell::account::{self, Accounts};
use crate::shell::local::{self, Shared};
use crate::shell::service::{Connect, Service};
use crate::store::{OutboxEntry, OutboxState, OutgoingMessage};
use crate::sync::link::{self, LinkConfig, LinkState, LiveCommand, LiveEvent};
use crate::sync::sender::{self, OutboxEvent, SenderHandle};

/// Poll interval when the server answers unchanged fetches with 304.
pub const POLL_WITH_ETAG: Duration = Duration::from_secs(15);
/// Poll interval otherwise: 45 an hour, inside production's 50 per route per hour.
pub const POLL_WITHOUT_ETAG: Duration = Duration::from_secs(80);
/// Quiet time after a pushed message before the conversation is marked read: a burst
/// of messages costs one request.
pub const READ_SETTLE: Duration = Duration::from_millis(1500);
/// How often the pet is refreshed while its pane shows (the server applies decay).
pub const PET_REFRESH: Duration = Duration::from_secs(60);
/// The pet's animation tick with `pet.animate = true`: at most one frame per 2 s.
pub const PET_FRAME: Duration = Duration::from_secs(2);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data is always left consistent, so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs effects as tasks; results come back on `tx`.
pub struct Runner<C: Connect> {
    connect: Arc<C>,
    service: Arc<Mutex<Option<C::Service>>>,
    tx: UnboundedSender<Action>,
    inflight: Mutex<HashMap<String, AbortHandle>>,
    poller: Mutex<Option<AbortHandle>>,
    /// Keep the session on disk at exit (it came from disk, or remember-me was asked).
    keep: Arc<std::sync::atomic::AtomicBool>,
    /// Commands to the running live link, if any.
    link: Mutex<Option<mpsc::Sender<LiveCommand>>>,
    /// A link just started: its first catch-up fetches inbox page 1, so the app's own
    /// start-up fetch of it would be a second request on a limited route.
    link_brings_inbox: std::sync::atomic::AtomicBool,
    link_config: LinkConfig,
    /// The conversation last reported to the link as on screen.
    open: Mutex<Option<String>>,
    /// The account's local store (cache, outbox), once the account is known.
    store: Arc<Mutex<Option<Shared>>>,
    /// The outbox sender (`crate::sync::sender`), when there is a store and a client.
    sender: Arc<Mutex<Option<SenderHandle>>>,
    /// The pet's refresh (and animation) timer, while logged in.
    pet_timer: Mutex<Option<AbortHandle>>,
    /// Tick the pet's idle animation (`pet.animate` in `config.toml`).
    pet_animate: bool,
    /// Where the accounts' stores are opened at login.
    accounts: Accounts,
}

impl<C: Connect> Runner<C> {
    /// A runner, already logged in when `service` is given.
    pub fn new(connect: C, service: Option<C::Service>, tx: UnboundedSender<Action>) -> Runner<C> {
        Runner {
            keep: Arc::new(std::sync::atomic::AtomicBool::new(service.is_some())),
            connect: Arc::new(connect),
            service: Arc::new(Mutex::new(service)),
            tx,
            inflight: Mutex::new(HashMap::new()),
            poller: Mutex::new(None),
            link: Mutex::new(None),
            link_brings_inbox: std::sync::atomic::AtomicBool::new(false),
            link_config: LinkConfig::default(),
            open: Mutex::new(None),
            store: Arc::default(),
            sender: Arc::default(),
            pet_timer: Mutex::new(None),
            pet_animate: false,
            accounts: Accounts::default(),
        }
    }

    /// Open accounts' stores there at login (`OpenAccount`).
    pub fn with_accounts(mut self, accounts: Accounts) -> Runner<C> {
        self.accounts = accounts;
        self
    }

    /// On the way out: the session kept (see [`Runner::persist`]) and every store write
    /// queued so far done.
    pub async fn close(&self) {
        self.persist();
        account::close(self.store()).await;
    }

    /// Animate the pet (`pet.animate = true`): a tick every [`PET_FRAME`].
    pub fn with_pet_animate(mut self, animate: bool) -> Runner<C> {
        self.pet_animate = animate;
        self
    }

    /// Start the pet's timer: `PetRefreshDue` every [`PET_REFRESH`], and `PetBlink`
    /// every [`PET_FRAME`] when animating. `update` decides whether either does anything
    /// (the pane must be on screen); nothing here draws.
    fn start_pet_timer(&self) {
        let task = tokio::spawn(pet_ticks(self.tx.clone(), self.pet_animate));
        if let Some(old) = lock(&self.pet_timer).replace(task.abort_handle()) {
            old.abort();
        }
    }

    /// Use this account's local store (opened after login): what the server says is
    /// written there, and start-up and opening a conversation read from it first.
    /// With a real client, the outbox sender starts on it too: it flushes at once, so
    /// messages left by the last run (quit, crash, `kill -9`) go out now.
    pub fn set_store(&self, store: Option<Shared>) {
        // Dropping the old handle stops its task (an attempt cut short is settled later).
        *lock(&self.sender) = None;
        let client = self.service().and_then(|s| s.live_client());
        if let (Some(store), Some(client)) = (&store, client) {
            // The same per-route limits the poller keeps (production's, unless configured).
            let limits = self.link_config.budget.unwrap_or(self.link_config.auto_budget);
            let (handle, mut events) =
                sender::spawn(client, store.clone(), limits, self.link_config.budget_windows);
            let tx = self.tx.clone();
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    if let Some(action) = outbox_action(event) {
                        if tx.send(action).is_err() {
                            return;
                        }
                    }
                }
            });
            *lock(&self.sender) = Some(handle);
        }
        *lock(&self.store) = store;
    }

    /// Whether messages go through the outbox (store and sender running).
    fn outbox(&self) -> Option<Shared> {
        let running = lock(&self.sender).is_some();
        self.store().filter(|_| running)
    }

    fn store(&self) -> Option<Shared> {
        // One that could not be opened is no store (sends go direct).
        lock(&self.store).clone().filter(|s| !s.is_gone())
    }

    /// Use these live link settings (from `config.toml`).
    pub fn with_link_config(mut self, config: LinkConfig) -> Runner<C> {
        self.link_config = config;
        self
    }

    fn command(&self, cmd: LiveCommand) -> bool {
        // Never blocks the UI: a full queue drops a redundant hint.
        lock(&self.link).as_ref().is_some_and(|l| l.try_send(cmd).is_ok())
    }

    /// A key was pressed (the link's polling returns to its brisk cadence).
    pub fn user_input(&self) {
        self.command(LiveCommand::UserInput);
    }

    /// The conversation on screen and the newest message id held; told to the link
    /// when the conversation changes.
    pub fn note_open(&self, open: Option<(&str, i64)>) {
        let user = open.map(|(u, _)| u.to_owned());
        let mut last = lock(&self.open);
        if *last == user {
            return;
        }
        if self.command(LiveCommand::Open(open.map(|(u, id)| (u.to_owned(), id)))) {
            *last = user;
        }
    }

    /// Start the live link for `client`; its events come back as actions.
    fn start_link(&self, client: crate::api::Client) {
        let (etx, mut events) = mpsc::channel(64);
        let (ctx, crx) = mpsc::channel(32);
        // Detached: it ends on `Shutdown`, on a 401, or when the forwarder below stops.
        let _link = link::spawn(client, self.link_config.clone(), etx, crx);
        let tx = self.tx.clone();
        let store = self.store.clone();
        let outbox = self.sender.clone();
        let forward = tokio::spawn(async move {
            while let Some(mut event) = events.recv().await {
                if let LiveEvent::State(LinkState::Live | LinkState::Polling { .. }) = &event {
                    // The link is back: what waits in the outbox goes now.
                    wake(&outbox);
                }
                let store_now = lock(&store).clone();
                if let Some(store) = store_now {
                    match &mut event {
                        LiveEvent::Inbox(r) => local::save_inbox(&store, r, false).await,
                        LiveEvent::Conversation { messages, .. } => {
                            local::save_messages(&store, messages).await;
                            local::hide_deleted(&store, messages).await;
                        }
                        LiveEvent::Pushed(e) => local::save_event(&store, e).await,
                        _ => {}
                    }
                }
                if tx.send(action_for(event)).is_err() {
                    return;
                }
            }
        });
        *lock(&self.open) = None;
        *lock(&self.link) = Some(ctx);
        self.link_brings_inbox.store(true, std::sync::atomic::Ordering::SeqCst);
        // Aborting the forwarder drops the event channel, which ends the link too.
        let abort = forward.abort_handle();
        if let Some(old) = lock(&self.poller).replace(abort) {
            old.abort();
        }
    }

    /// The current service, if logged in.
    pub fn service(&self) -> Option<C::Service> {
        lock(&self.service).clone()
    }

    /// Keep the current session on disk (at exit: the server may have renewed the
    /// cookie), when it was on disk already or the user asked to be remembered.
    pub fn persist(&self) {
        if !self.keep.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        if let Some(s) = self.service() {
            self.connect.persist(&s);
        }
    }

    /// Start the live link at login (a service without a client gets the light poller
    /// sending `PollDue` at the pace the server allows); replaces a running one.
    pub fn start_polling(&self) {
        let Some(svc) = self.service() else { return };
        self.stop_polling();
        self.start_pet_timer();
        if let Some(client) = svc.live_client() {
            self.start_link(client);
            return;
        }
        let tx = self.tx.clone();
        let task = tokio::spawn(async move {
            // Ticks at the brisk pace; polls when the server's pace is due. Whether the
            // server sends ETags is learnt from the first answers, after this started.
            let mut waited = Duration::ZERO;
            loop {
                tokio::time::sleep(POLL_WITH_ETAG).await;
                waited += POLL_WITH_ETAG;
                if waited < poll_interval(&svc) {
                    continue;
                }
                waited = Duration::ZERO;
                if tx.send(Action::PollDue).is_err() {
                    break;
                }
            }
        });
        if let Some(old) = lock(&self.poller).replace(task.abort_handle()) {
            old.abort();
        }
    }

    fn stop_polling(&self) {
        if let Some(link) = lock(&self.link).take() {
            let _ = link.try_send(LiveCommand::Shutdown);
        }
        if let Some(old) = lock(&self.poller).take() {
            old.abort();
        }
        if let Some(old) = lock(&self.pet_timer).take() {
            old.abort();
        }
    }

    /// Spawn `fut` under `key`, aborting an earlier task with the same key.
    fn spawn_keyed<F>(&self, key: String, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(fut).abort_handle();
        if let Some(old) = lock(&self.inflight).insert(key, handle) {
            old.abort();
        }
    }

    /// Read the cache for `LoadCache` / `LoadConversation` (true when it was one).
    fn load_cached(&self, effect: &Effect) -> bool {
        let tx = self.tx.clone();
        let store = self.store();
        match effect {
            Effect::LoadCache => {
                let Some(store) = store else { return true };
                tokio::spawn(async move {
                    if let Some(inbox) = local::cached_inbox(&store).await {
                        let _ = tx.send(Action::CacheLoaded(inbox));
                    }
                    if let Some(hints) = local::with(&store, "wait hints", |s| s.wait_hints()).await {
                        let _ = tx.send(Action::WaitHintsLoaded(hints.into_iter().collect()));
                    }
                    if let Some(entries) = local::with(&store, "load outbox", |s| s.pending()).await {
                        if !entries.is_empty() {
                            let _ = tx.send(Action::OutboxLoaded(entries.into_iter().map(pending).collect()));
                        }
                    }
                });
            }
            Effect::LoadConversation { user } => {
                let Some(store) = store else { return true };
                let user = user.clone();
                tokio::spawn(async move {
                    let messages = local::cached_conversation(&store, &user).await;
                    if !messages.is_empty() {
                        let _ = tx.send(Action::ConversationCached { user, messages });
                    }
                });
            }
            _ => return false,
        }
        true
    }

    /// Run one effect. The terminal's own (`Quit`, `OpenEditor`, `Copy`, `Announce`,
    /// `UnreadChanged`) belong to the event loop and are ignored here.
    pub fn run(&self, effect: Effect) {
        let tx = self.tx.clone();
        // What needs no server: the account's store, timers, hints to the link.
        let effect = match effect {
            Effect::OpenAccount { server, username } => {
                return account::open(self, &self.accounts, &self.tx, &server, &username)
            }
            Effect::SaveDraft { user, text } => return account::save_draft(self.store(), user, text),
            Effect::NoticeTimer { seq } => {
                return self.spawn_keyed("notice".into(), crate::shell::timers::notice(tx, seq))
            }
            Effect::UserActive => return self.user_input(),
            Effect::ShowingConversation(open) => {
                return self.note_open(open.as_ref().map(|(u, id)| (u.as_str(), *id)))
            }
            Effect::Quit
            | Effect::OpenEditor { .. }
            | Effect::Copy { .. }
            | Effect::Announce { .. }
            | Effect::UnreadChanged { .. } => return,
            other => other,
        };
        if let Effect::Login { server, username, password, pin, remember } = effect {
            let svc = match self.connect.connect(&server) {
                Ok(svc) => svc,
                Err(e) => {
                    let _ = tx.send(Action::LoginFailed(e.to_string()));
                    return;
                }
            };
            let req = LoginRequest {
                username,
                password: password.0.clone(),
                pin: pin.0.clone(),
                remember_me: Some(remember),
            };
            let slot = self.service.clone();
            let connect = self.connect.clone();
            self.keep.store(remember, std::sync::atomic::Ordering::Relaxed);
            let poll_tx = tx.clone();
            self.spawn_keyed("login".into(), async move {
                match svc.login(req).await {
                    Ok(name) => {
                        *lock(&slot) = Some(svc.clone());
                        if remember {
                            connect.persist(&svc);
                        }
                        let _ = poll_tx.send(Action::LoginSucceeded { username: name, server: svc.server() });
                        if let Some(role) = svc.role() {
                            let _ = poll_tx.send(Action::RoleKnown(role));
                        }
                    }
                    Err(ApiError::SessionExpired) => {
                        let _ = tx.send(Action::LoginFailed(
                            "login refused: check the username, password and PIN".into(),
                        ));
                    }
                    Err(e) => {
                        let _ = tx.send(Action::LoginFailed(e.to_string()));
                    }
                }
            });
            return;
        }
        if let Effect::Logout = effect {
            self.stop_polling();
            *lock(&self.sender) = None;
            self.keep.store(false, std::sync::atomic::Ordering::Relaxed);
            let svc = lock(&self.service).take();
            self.connect.forget();
            tokio::spawn(async move {
                if let Some(svc) = svc {
                    if let Err(e) = svc.logout().await {
                        tracing::info!(error = %e, "logout on the server failed; session forgotten locally");
                    }
                }
                let _ = tx.send(Action::LoggedOut);
            });
            return;
        }
        // The cache needs no server: it shows even before the session is checked.
        if self.load_cached(&effect) {
            return;
        }
        let store = self.store();
        let Some(svc) = self.service() else {
            let _ = tx.send(Action::SessionExpired);
            return;
        };
        // The link reports the connection itself; the plain poller's fetches do it here.
        let linked = lock(&self.link).is_some();
        let live = Connection::Polling { every_secs: poll_interval(&svc).as_secs() as u32 };
        let live = move |a: Action| if linked { vec![a] } else { vec![Action::ConnectionChanged(live), a] };
        // Marking read when a burst settles is a conversation fetch after a pause.
        let (settle, effect) = match effect {
            Effect::MarkReadWhenSettled { user, up_to } => {
                (true, Effect::FetchConversation { user, after_id: Some(up_to) })
            }
            other => (false, other),
        };
        match effect {
            Effect::FetchInbox { page, unread_only } => {
                // Only the first fetch after the link started can be the one it brings.
                let link_brings = self.link_brings_inbox.swap(false, std::sync::atomic::Ordering::SeqCst);
                if linked && link_brings && page == 1 && !unread_only {
                    return;
                }
                self.spawn_keyed(format!("inbox:{page}"), async move {
                    match svc.inbox(page, unread_only).await {
                        Ok(Some(r)) => {
                            if let Some(store) = &store {
                                local::save_inbox(store, &r, unread_only).await;
                            }
                            send_all(&tx, live(Action::InboxLoaded(r)))
                        }
                        Ok(None) => send_all(&tx, live(Action::InboxUnchanged)),
                        Err(e) => report(&tx, "inbox", e, linked),
                    }
                })
            }
            Effect::FetchConversation { user, after_id } => {
                // Its own key: a waiting mark-read must not cancel a real fetch, nor be cancelled by one.
                let key = if settle { format!("read:{user}") } else { format!("conv:{user}") };
                self.spawn_keyed(key, async move {
                    if settle {
                        tokio::time::sleep(READ_SETTLE).await;
                    }
                    match svc.conversation(user.clone(), after_id).await {
                        Ok(Some(mut r)) => {
                            if r.with_user.is_empty() {
                                r.with_user = user;
                            }
                            if let Some(store) = &store {
                                local::save_conversation(store, &r.with_user, &r).await;
                                local::hide_deleted(store, &mut r.messages).await;
                            }
                            send_all(&tx, live(Action::ConversationLoaded(r)))
                        }
                        Ok(None) => send_all(&tx, [Action::ConversationUnchanged(user)]),
                        Err(ApiError::SessionExpired) => send_all(&tx, [Action::SessionExpired]),
                        Err(e) => {
                            send_all(&tx, [Action::ConversationFailed { user, reason: e.to_string() }]);
                            report(&tx, "conversation", e, linked)
                        }
                    }
                })
            }
            Effect::Send { client_id, recipient, content, subject } => {
                let outbox = self.outbox();
                let sender = self.sender.clone();
                tokio::spawn(async move {
                    let mut msg = OutgoingMessage::new(recipient, subject, content);
                    let id = uuid::Uuid::parse_str(&client_id).ok();
                    if let (Some(store), Some(id)) = (outbox, id) {
                        msg.client_id = id;
                        // Saved before any attempt; the sender reports how it goes.
                        if local::with(&store, "enqueue", {
                            let msg = msg.clone();
                            move |s| s.enqueue(&msg)
                        })
                        .await
                        .is_some()
                        {
                            wake(&sender);
                            return;
                        }
                    }
                    send_direct(&svc, &tx, client_id, msg.send_request()).await;
                });
            }
            Effect::Resend { client_id, recipient, content } => {
                let outbox = self.outbox();
                let sender = self.sender.clone();
                tokio::spawn(async move {
                    if let (Some(store), Ok(id)) = (outbox, uuid::Uuid::parse_str(&client_id)) {
                        if local::with(&store, "edit", {
                            let content = content.clone();
                            move |s| s.edit_failed(id, &content)
                        })
                        .await
                        .is_some()
                        {
                            wake(&sender);
                            return;
                        }
                    }
                    let req = SendRequest { recipient, content, subject: None };
                    send_direct(&svc, &tx, client_id, req).await;
                });
            }
            Effect::Search { query, scope } => {
                let client = svc.live_client();
                self.spawn_keyed("search".into(), async move {
                    let local = match &store {
                        Some(store) => {
                            let (scope, query) = (scope.clone(), query.clone());
                            local::with(store, "search", move |s| match &scope {
                                Some(user) => s.search_conversation(user, &query),
                                None => s.search(&query),
                            })
                            .await
                        }
                        None => None,
                    }
                    .unwrap_or_default();
                    let _ = tx.send(Action::SearchResults { query: query.clone(), messages: local });
                    // Everywhere: the server's search too, when it has one (404: it doesn't).
                    let (None, Some(client)) = (scope, client) else { return };
                    match client.search(&query).await {
                        Ok(found) => {
                            if let Some(store) = &store {
                                local::save_messages(store, &found.results).await;
                            }
                            let _ = tx.send(Action::SearchResults { query, messages: found.results });
                        }
                        Err(ApiError::NotFound(_)) => {}
                        Err(e) => tracing::info!(error = %e, "server search failed; cached results only"),
                    }
                });
            }
            Effect::Discard { client_id } => {
                if let (Some(store), Ok(id)) = (store, uuid::Uuid::parse_str(&client_id)) {
                    let sender = self.sender.clone();
                    tokio::spawn(async move {
                        let discarded = store.call(move |s| s.discard(id)).await;
                        match discarded {
                            // The messages queued behind it go now, not on the next `R`.
                            Ok(()) => wake(&sender),
                            Err(e) => {
                                // Still in the outbox (being sent right now): show it again.
                                let back = local::with(&store, "load outbox", |s| s.pending()).await;
                                let back = back.unwrap_or_default().into_iter().map(pending).collect();
                                send_all(&tx, [Action::OutboxLoaded(back), Action::Failed(e.to_string())]);
                            }
                        }
                    });
                }
            }
            Effect::Delete { id } => {
                tokio::spawn(async move {
                    match svc.delete(id).await {
                        Ok(()) => {
                            if let Some(store) = &store {
                                local::save_event(store, &WsEvent::MessageDeleted { message_id: id }).await;
                            }
                            let _ = tx.send(Action::Deleted(id));
                        }
                        Err(e) => report(&tx, "delete", e, linked),
                    }
                });
            }
            // Became a fetch above.
            Effect::MarkReadWhenSettled { .. } => {}
            Effect::MarkRead { id } => {
                tokio::spawn(async move {
                    let result = svc.mark_read(id).await;
                    if let (Ok(()), Some(store)) = (&result, &store) {
                        local::with(store, "mark read", move |s| s.apply_read(id, None)).await;
                    }
                    if let Err(e) = result {
                        if e == ApiError::SessionExpired {
                            let _ = tx.send(Action::SessionExpired);
                        } else {
                            tracing::info!(error = %e, id, "mark read failed");
                        }
                    }
                });
            }
            Effect::FetchPet => self.spawn_keyed("pet".into(), async move {
                match svc.pet().await {
                    Ok(p) => {
                        let _ = tx.send(Action::PetLoaded(p));
                    }
                    Err(e) => report(&tx, "pet", e, linked),
                }
            }),
            Effect::FetchShop => self.spawn_keyed("shop".into(), async move {
                match svc.pet_shop().await {
                    Ok(items) => {
                        let _ = tx.send(Action::ShopLoaded(items));
                    }
                    Err(e) => pet_failed(&tx, "shop", e),
                }
            }),
            Effect::BuyPetItem { item } => {
                tokio::spawn(async move {
                    match svc.pet_buy(item).await {
                        Ok(message) => {
                            let _ = tx.send(Action::PetBought(message));
                        }
                        Err(e) => pet_failed(&tx, "buy", e),
                    }
                });
            }
            Effect::CreatePet { name, species } => {
                tokio::spawn(async move {
                    match svc.pet_create(name, species).await {
                        Ok(()) => {
                            let _ = tx.send(Action::PetCreated);
                        }
                        Err(e) => pet_failed(&tx, "create pet", e),
                    }
                });
            }
            Effect::Reconnect => {
                // `R`: the link reconnects or checks now (within its budget), and the
                // messages waiting out their backoff are tried now too.
                if let Some(store) = self.outbox() {
                    // Queued ahead of the sender's next read, so it sees the retry times cleared.
                    drop(store.call(|s| s.retry_now()));
                }
                wake(&self.sender);
                if !self.command(LiveCommand::RetryNow) {
                    let _ = tx.send(Action::PollDue);
                }
            }
            Effect::Login { .. }
            | Effect::Logout
            | Effect::LoadCache
            | Effect::LoadConversation { .. }
            | Effect::SaveDraft { .. }
            | Effect::OpenEditor { .. }
            | Effect::Copy { .. }
            | Effect::Quit
            | Effect::OpenAccount { .. }
            | Effect::NoticeTimer { .. }
            | Effect::UserActive
            | Effect::ShowingConversation(_)
            | Effect::Announce { .. }
            | Effect::UnreadChanged { .. } => {}
        }
    }
}

/// Send without an outbox (no store, or a service without a client): the outcome
/// comes back as `SendSucceeded` / `SendRefused`.
async fn send_direct<S: Service>(svc: &S, tx: &UnboundedSender<Action>, client_id: String, req: SendRequest) {
    match svc.send(req, client_id.clone()).await {
        Ok(response) => {
            let _ = tx.send(Action::SendSucceeded { client_id, response, at: chrono::Utc::now() });
        }
        Err(ApiError::SessionExpired) => send_all(
            tx,
            [Action::SendRefused { client_id, reason: "session expired".into() }, Action::SessionExpired],
        ),
        Err(ApiError::Forbidden(reason) | ApiError::Invalid(reason)) => {
            let _ = tx.send(Action::SendRefused { client_id, reason });
        }
        Err(e) => {
            let _ = tx.send(Action::SendRefused { client_id, reason: e.to_string() });
        }
    }
}

/// The pet's timer: `PetRefreshDue` every [`PET_REFRESH`], and with `animate` a
/// `PetBlink` every [`PET_FRAME`]; ends when the app stops listening.
async fn pet_ticks(tx: UnboundedSender<Action>, animate: bool) {
    let every = if animate { PET_FRAME } else { PET_REFRESH };
    let per_refresh = (PET_REFRESH.as_secs() / every.as_secs()).max(1);
    let mut ticks: u64 = 0;
    loop {
        tokio::time::sleep(every).await;
        ticks += 1;
        if animate && tx.send(Action::PetBlink).is_err() {
            return;
        }
        if ticks % per_refresh == 0 && tx.send(Action::PetRefreshDue(chrono::Utc::now())).is_err() {
            return;
        }
    }
}

/// Wake the outbox sender, if one runs.
fn wake(sender: &Mutex<Option<SenderHandle>>) {
    if let Some(s) = lock(sender).as_ref() {
        s.wake();
    }
}

/// An outbox entry as the echo the screen shows.
fn pending(e: OutboxEntry) -> Pending {
    Pending {
        client_id: e.message.client_id.to_string(),
        recipient: e.message.recipient,
        content: e.message.content,
        subject: e.message.subject,
        mark: match e.state {
            OutboxState::Queued | OutboxState::Sending { .. } if e.retry_at.is_some() => SendMark::Retrying {
                limited: e.last_error.as_deref().is_some_and(sender::is_wait),
                reason: e.last_error.unwrap_or_default(),
                at: e.retry_at.unwrap_or_default(),
            },
            OutboxState::Queued => SendMark::Queued,
            // In doubt between runs: the next attempt checks first.
            OutboxState::Sending { .. } => SendMark::Sending,
            OutboxState::Sent { server_id } => SendMark::Sent(server_id),
            OutboxState::Failed { reason } => SendMark::Failed(reason),
        },
    }
}

/// What the outbox sender says, as actions (its waiting is the link's to report).
fn outbox_action(event: OutboxEvent) -> Option<Action> {
    Some(match event {
        OutboxEvent::Sending { client_id, .. } => {
            Action::SendProgress { client_id: client_id.to_string(), mark: SendMark::Sending }
        }
        OutboxEvent::Queued { client_id, .. } => {
            Action::SendProgress { client_id: client_id.to_string(), mark: SendMark::Queued }
        }
        OutboxEvent::Sent { client_id, recipient, server_id } => Action::SendSucceeded {
            client_id: client_id.to_string(),
            response: crate::model::types::SendResponse {
                message_id: server_id,
                status: "sent".into(),
                recipient,
                conversation_id: None,
            },
            at: chrono::Utc::now(),
        },
        OutboxEvent::Failed { client_id, reason, .. } => {
            Action::SendRefused { client_id: client_id.to_string(), reason }
        }
        OutboxEvent::Retrying { client_id, reason, at, limited, .. } => Action::SendProgress {
            client_id: client_id.to_string(),
            mark: SendMark::Retrying { reason, at, limited },
        },
        OutboxEvent::Waiting { .. } | OutboxEvent::Idle => return None,
    })
}

/// How often to poll this server.
fn poll_interval<S: Service>(svc: &S) -> Duration {
    if svc.has_etags() {
        POLL_WITH_ETAG
    } else {
        POLL_WITHOUT_ETAG
    }
}

fn send_all(tx: &UnboundedSender<Action>, actions: impl IntoIterator<Item = Action>) {
    for a in actions {
        let _ = tx.send(a);
    }
}

/// What the live link says, as actions.
fn action_for(event: LiveEvent) -> Action {
    let secs = |d: Duration| u32::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(u32::MAX);
    match event {
        LiveEvent::State(s) => Action::ConnectionChanged(match s {
            LinkState::Connecting => Connection::Connecting,
            LinkState::Live => Connection::Live,
            LinkState::Polling { interval } => Connection::Polling { every_secs: secs(interval) },
            LinkState::Offline { retry_in } => Connection::Offline { retry_secs: secs(retry_in) },
            LinkState::RateLimited { until } => Connection::RateLimited { until },
        }),
        LiveEvent::Inbox(r) => Action::InboxLoaded(r),
        LiveEvent::Conversation { user, messages } => Action::ConversationLoaded(ConversationResponse {
            messages,
            with_user: user,
            ..Default::default()
        }),
        LiveEvent::Pushed(WsEvent::MessageNew { message }) => Action::MessagesArrived(vec![message]),
        LiveEvent::Pushed(WsEvent::MessageRead { message_id, read_at }) => {
            Action::MessageRead { id: message_id, at: read_at.map(|t| t.utc()) }
        }
        LiveEvent::Pushed(WsEvent::MessageDeleted { message_id }) => Action::MessageDeleted(message_id),
        LiveEvent::Synced(at) => Action::Synced(at),
        LiveEvent::SessionExpired => Action::SessionExpired,
    }
}

/// A failed pet request: log in again, or the server's reason as a notice (the
/// refusals a person can act on, such as "Not enough coins", without a prefix).
fn pet_failed(tx: &UnboundedSender<Action>, what: &str, e: ApiError) {
    let reason = match e {
        ApiError::SessionExpired => return send_all(tx, [Action::SessionExpired]),
        ApiError::Invalid(r) | ApiError::Forbidden(r) => r,
        e => format!("{what}: {e}"),
    };
    send_all(tx, [Action::PetActionFailed(reason)]);
}

/// A failed request as actions: log in again, offline, or a one-line notice. With the
/// live link running, the connection state is its to report.
fn report(tx: &UnboundedSender<Action>, what: &str, e: ApiError, linked: bool) {
    match e {
        ApiError::SessionExpired => send_all(tx, [Action::SessionExpired]),
        ApiError::Offline(_) if linked => send_all(tx, [Action::Unreachable]),
        ApiError::Offline(_) => send_all(
            tx,
            [
                // The status bar says so; a notice on every failed poll would be noise.
                Action::ConnectionChanged(Connection::Offline {
                    retry_secs: POLL_WITH_ETAG.as_secs() as u32,
                }),
                Action::Unreachable,
            ],
        ),
        e => send_all(tx, [Action::Failed(format!("{what}: {e}"))]),
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

    /// What the pet timer sends in `secs` seconds (paused clock).
    async fn pet_timer_for(secs: u64, animate: bool) -> (usize, usize) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(pet_ticks(tx, animate));
        tokio::time::sleep(Duration::from_secs(secs) + Duration::from_millis(500)).await;
        task.abort();
        let (mut refreshes, mut blinks) = (0, 0);
        while let Ok(a) = rx.try_recv() {
            match a {
                Action::PetRefreshDue(_) => refreshes += 1,
                Action::PetBlink => blinks += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        (refreshes, blinks)
    }

    #[tokio::test(start_paused = true)]
    async fn pet_timer_refreshes_every_minute_and_blinks_only_when_asked() {
        assert_eq!(pet_timer_for(150, false).await, (2, 0));
        assert_eq!(pet_timer_for(60, true).await, (1, 30));
    }

    #[test]
    fn link_events_become_actions() {
        let at = chrono::DateTime::<chrono::Utc>::default();
        let cases = [
            (LiveEvent::State(LinkState::Live), Action::ConnectionChanged(Connection::Live)),
            (
                LiveEvent::State(LinkState::Offline { retry_in: Duration::from_millis(7200) }),
                Action::ConnectionChanged(Connection::Offline { retry_secs: 8 }),
            ),
            (
                LiveEvent::State(LinkState::Polling { interval: Duration::from_secs(15) }),
                Action::ConnectionChanged(Connection::Polling { every_secs: 15 }),
            ),
            (
                LiveEvent::State(LinkState::RateLimited { until: at }),
                Action::ConnectionChanged(Connection::RateLimited { until: at }),
            ),
            (LiveEvent::Pushed(WsEvent::MessageDeleted { message_id: 4 }), Action::MessageDeleted(4)),
            (LiveEvent::Synced(at), Action::Synced(at)),
            (LiveEvent::SessionExpired, Action::SessionExpired),
        ];
        for (event, action) in cases {
            assert_eq!(action_for(event), action);
        }
        let conv = action_for(LiveEvent::Conversation { user: "sam".into(), messages: Vec::new() });
        assert!(matches!(conv, Action::ConversationLoaded(r) if r.with_user == "sam"));
    }
}
