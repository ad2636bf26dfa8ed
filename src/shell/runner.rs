//! The effect runner: turns each [`Effect`] into a tokio task that talks to the server
//! through a [`Service`] and reports back as an [`Action`] on a channel. The UI never
//! waits for a reply. A fetch replaces an identical one still in flight (latest wins).
//! News comes from the live link (`crate::sync::link`: websocket or budget-aware
//! polling, reconnect, catch-up), started at login and mapped to actions here; every
//! message goes out through the outbox and its sender (`crate::sync::sender`). The link
//! and the sender reach the server through the same [`Service`] as the runner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::AbortHandle;

use crate::api::ApiError;
use crate::app::action::{Action, Connection};
use crate::app::effect::Effect;
use crate::app::state::{Pending, SendMark};
use crate::model::lock::lock;
use crate::model::types::{ConversationResponse, LoginRequest, WsEvent};
use crate::shell::account::{self, Accounts};
use crate::shell::local::{self, Shared};
use crate::shell::service::{Connect, Etags};
use crate::store::{OutboxEntry, OutboxState, OutgoingMessage, Store, StoreHandle};
use crate::sync::link::{self, LinkConfig, LinkState, LiveCommand, LiveEvent};
use crate::sync::sender::{self, OutboxEvent, SenderHandle};
use crate::sync::service::Service;

/// The retry the status bar shows for a fetch that found the server unreachable before
/// the live link runs (the link reports its own retries).
const OFFLINE_RETRY: Duration = Duration::from_secs(15);
/// Quiet time after a pushed message before the conversation is marked read: a burst
/// of messages costs one request.
pub const READ_SETTLE: Duration = Duration::from_millis(1500);
/// How often the pet is refreshed while its pane shows (the server applies decay).
pub const PET_REFRESH: Duration = Duration::from_secs(60);
/// The pet's animation tick with `pet.animate = true`: at most one frame per 2 s.
pub const PET_FRAME: Duration = Duration::from_secs(2);

/// Runs effects as tasks; results come back on `tx`.
pub struct Runner<C: Connect> {
    connect: Arc<C>,
    service: Arc<Mutex<Option<C::Service>>>,
    tx: UnboundedSender<Action>,
    inflight: Mutex<HashMap<String, AbortHandle>>,
    /// The task passing the link's events on; aborting it ends the link too.
    forwarder: Mutex<Option<AbortHandle>>,
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
    /// The outbox sender (`crate::sync::sender`), while logged in with a store.
    sender: Arc<Mutex<Option<SenderHandle>>>,
    /// The pet's refresh (and animation) timer, while logged in.
    pet_timer: Mutex<Option<AbortHandle>>,
    /// Tick the pet's idle animation (`pet.animate` in `config.toml`).
    pet_animate: bool,
    /// The ETags of the runner's own fetches (the link keeps its own).
    etags: Etags,
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
            forwarder: Mutex::new(None),
            link: Mutex::new(None),
            link_brings_inbox: std::sync::atomic::AtomicBool::new(false),
            link_config: LinkConfig::default(),
            open: Mutex::new(None),
            store: Arc::default(),
            sender: Arc::default(),
            pet_timer: Mutex::new(None),
            pet_animate: false,
            etags: Etags::default(),
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
    /// written there, and start-up and opening a conversation read from it first. The
    /// outbox sender starts on it too: it flushes at once, so messages left by the last
    /// run (quit, crash, `kill -9`) go out now.
    ///
    /// Without one (no data directory) a stand-in store in a private temporary directory
    /// takes its place for this run, so every message still goes through an outbox, with
    /// its idempotency key and its retries; only nothing outlives the run. (An account
    /// store that cannot be opened falls back the same way, inside [`StoreHandle`].)
    pub fn set_store(&self, store: Option<Shared>) {
        // Dropping the old handle stops its task (an attempt cut short is settled later).
        *lock(&self.sender) = None;
        let service = self.service();
        let store = match (store, &service) {
            (Some(store), _) => Some(store),
            (None, Some(svc)) => Some(StoreHandle::stand_in(&svc.username().unwrap_or_default())),
            (None, None) => None,
        };
        if let (Some(store), Some(svc)) = (&store, service) {
            self.start_sender(svc, store.clone());
        }
        *lock(&self.store) = store;
    }

    /// Start the outbox sender on `store`; its events come back as actions.
    fn start_sender(&self, svc: C::Service, store: Shared) {
        // The same per-route limits the link keeps (production's, unless configured).
        let limits = self.link_config.budget.unwrap_or(self.link_config.auto_budget);
        let (handle, mut events) = sender::spawn(svc, store, limits, self.link_config.budget_windows);
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

    /// The outbox: the store, while its sender runs.
    fn outbox(&self) -> Option<Shared> {
        let running = lock(&self.sender).is_some();
        self.store().filter(|_| running)
    }

    /// The store slot itself, so a test can wait for the store's own thread.
    #[cfg(test)]
    pub(crate) fn store_slot(&self) -> Arc<Mutex<Option<Shared>>> {
        self.store.clone()
    }

    fn store(&self) -> Option<Shared> {
        // One that could not be opened at all (not even a stand-in) is no store.
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

    /// Whether the live link runs (it reports the connection itself).
    fn linked(&self) -> bool {
        lock(&self.link).is_some()
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

    /// Start the live link on `svc`; its events come back as actions.
    fn start_link(&self, svc: C::Service) {
        let (etx, mut events) = mpsc::channel(64);
        let (ctx, crx) = mpsc::channel(32);
        // Detached: it ends on `Shutdown`, on a 401, or when the forwarder below stops.
        let _link = link::spawn(svc, self.link_config.clone(), etx, crx);
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
                    keep_news(&store, &mut event).await;
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
        if let Some(old) = lock(&self.forwarder).replace(forward.abort_handle()) {
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

    /// Start the live link (and the pet's timer) at login; replaces a running one.
    pub fn start_polling(&self) {
        let Some(svc) = self.service() else { return };
        self.stop_polling();
        self.start_pet_timer();
        self.start_link(svc);
    }

    fn stop_polling(&self) {
        if let Some(link) = lock(&self.link).take() {
            let _ = link.try_send(LiveCommand::Shutdown);
        }
        if let Some(old) = lock(&self.forwarder).take() {
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

    /// Run one effect. The terminal's own (`Quit`, `OpenEditor`, `Copy`, `Announce`,
    /// `UnreadChanged`) belong to the event loop and are ignored here.
    pub fn run(&self, effect: Effect) {
        match effect {
            // What needs no server: the account's store, timers, hints to the link.
            Effect::OpenAccount { server, username } => {
                account::open(self, &self.accounts, &self.tx, &server, &username)
            }
            Effect::SaveDraft { user, text } => account::save_draft(self.store(), user, text),
            Effect::NoticeTimer { seq } => {
                self.spawn_keyed("notice".into(), crate::shell::timers::notice(self.tx.clone(), seq))
            }
            Effect::UserActive => self.user_input(),
            Effect::ShowingConversation(open) => {
                self.note_open(open.as_ref().map(|(u, id)| (u.as_str(), *id)))
            }
            Effect::Login { server, username, password, pin, remember } => {
                let req = LoginRequest {
                    username,
                    password: password.0.clone(),
                    pin: pin.0.clone(),
                    remember_me: Some(remember),
                };
                self.login(&server, req, remember);
            }
            Effect::Logout => self.logout(),
            // The cache needs no server: it shows even before the session is checked.
            Effect::LoadCache => self.load_cache(),
            Effect::LoadConversation { user } => self.load_conversation(user),
            Effect::FetchInbox { page, unread_only } => {
                self.with_service(|svc| self.fetch_inbox(svc, page, unread_only))
            }
            Effect::FetchConversation { user, after_id } => {
                self.with_service(|svc| self.fetch_conversation(svc, user, after_id, false))
            }
            // Marking read when a burst settles is a conversation fetch after a pause.
            Effect::MarkReadWhenSettled { user, up_to } => {
                self.with_service(|svc| self.fetch_conversation(svc, user, Some(up_to), true))
            }
            Effect::Send { client_id, recipient, content, subject } => self.with_service(|_| {
                self.send(client_id, OutgoingMessage::new(recipient, subject, content));
            }),
            Effect::Resend { client_id, content, .. } => {
                self.with_service(|_| self.resend(client_id, content))
            }
            Effect::Discard { client_id } => self.with_service(|_| self.discard(&client_id)),
            Effect::Search { query, scope } => self.with_service(|svc| self.search(svc, query, scope)),
            Effect::Delete { id } => self.with_service(|svc| self.delete(svc, id)),
            Effect::MarkRead { id } => self.with_service(|svc| self.mark_read(svc, id)),
            Effect::FetchPet => self.with_service(|svc| self.pet(svc, PetOp::Fetch)),
            Effect::FetchShop => self.with_service(|svc| self.pet(svc, PetOp::Shop)),
            Effect::BuyPetItem { item } => self.with_service(|svc| self.pet(svc, PetOp::Buy(item))),
            Effect::CreatePet { name, species } => {
                self.with_service(|svc| self.pet(svc, PetOp::Create { name, species }))
            }
            Effect::Reconnect => self.with_service(|_| self.reconnect()),
            Effect::Quit
            | Effect::OpenEditor { .. }
            | Effect::Copy { .. }
            | Effect::Announce { .. }
            | Effect::UnreadChanged { .. } => {}
        }
    }

    /// Run `f` with the service; without one (logged out), say the session is gone.
    fn with_service(&self, f: impl FnOnce(C::Service)) {
        match self.service() {
            Some(svc) => f(svc),
            None => {
                let _ = self.tx.send(Action::SessionExpired);
            }
        }
    }

    fn login(&self, server: &str, req: LoginRequest, remember: bool) {
        let tx = self.tx.clone();
        let svc = match self.connect.connect(server) {
            Ok(svc) => svc,
            Err(e) => {
                let _ = tx.send(Action::LoginFailed(e.to_string()));
                return;
            }
        };
        let slot = self.service.clone();
        let connect = self.connect.clone();
        self.keep.store(remember, std::sync::atomic::Ordering::Relaxed);
        self.spawn_keyed("login".into(), async move {
            match svc.login(req).await {
                Ok(name) => {
                    *lock(&slot) = Some(svc.clone());
                    if remember {
                        connect.persist(&svc);
                    }
                    let _ = tx.send(Action::LoginSucceeded { username: name, server: svc.server() });
                    if let Some(role) = svc.role() {
                        let _ = tx.send(Action::RoleKnown(role));
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
    }

    fn logout(&self) {
        self.stop_polling();
        *lock(&self.sender) = None;
        self.keep.store(false, std::sync::atomic::Ordering::Relaxed);
        let svc = lock(&self.service).take();
        self.connect.forget();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            if let Some(svc) = svc {
                if let Err(e) = svc.logout().await {
                    tracing::info!(error = %e, "logout on the server failed; session forgotten locally");
                }
            }
            let _ = tx.send(Action::LoggedOut);
        });
    }

    fn load_cache(&self) {
        let Some(store) = self.store() else { return };
        let tx = self.tx.clone();
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

    fn load_conversation(&self, user: String) {
        let Some(store) = self.store() else { return };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let messages = local::cached_conversation(&store, &user).await;
            if !messages.is_empty() {
                let _ = tx.send(Action::ConversationCached { user, messages });
            }
        });
    }

    fn fetch_inbox(&self, svc: C::Service, page: u32, unread_only: bool) {
        let linked = self.linked();
        // Only the first fetch after the link started can be the one it brings.
        let link_brings = self.link_brings_inbox.swap(false, std::sync::atomic::Ordering::SeqCst);
        if linked && link_brings && page == 1 && !unread_only {
            return;
        }
        let (tx, store, etags) = (self.tx.clone(), self.store(), self.etags.clone());
        self.spawn_keyed(format!("inbox:{page}"), async move {
            let key = format!("inbox:{page}:{unread_only}");
            let fetched = svc.inbox(page, unread_only, etags.get(&key)).await;
            match fetched.map(|f| etags.fresh(key, f)) {
                Ok(Some(r)) => {
                    if let Some(store) = &store {
                        local::save_inbox(store, &r, unread_only).await;
                    }
                    send_all(&tx, [Action::InboxLoaded(r)])
                }
                Ok(None) => send_all(&tx, [Action::InboxUnchanged]),
                Err(e) => report(&tx, "inbox", e, linked),
            }
        })
    }

    fn fetch_conversation(&self, svc: C::Service, user: String, after_id: Option<i64>, settle: bool) {
        let (tx, store, etags, linked) = (self.tx.clone(), self.store(), self.etags.clone(), self.linked());
        // Its own key: a waiting mark-read must not cancel a real fetch, nor be cancelled by one.
        let key = if settle { format!("read:{user}") } else { format!("conv:{user}") };
        self.spawn_keyed(key, async move {
            if settle {
                tokio::time::sleep(READ_SETTLE).await;
            }
            let key = format!("conv:{user}:{after_id:?}");
            let fetched = svc.conversation(user.clone(), after_id, etags.get(&key)).await;
            match fetched.map(|f| etags.fresh(key, f)) {
                Ok(Some(mut r)) => {
                    if r.with_user.is_empty() {
                        r.with_user = user;
                    }
                    if let Some(store) = &store {
                        local::save_conversation(store, &r.with_user, &r).await;
                        local::hide_deleted(store, &mut r.messages).await;
                    }
                    send_all(&tx, [Action::ConversationLoaded(r)])
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

    /// Put a new message into the outbox (saved before any attempt); the sender
    /// reports how it goes. Without an outbox the message is refused, its text kept on
    /// screen (✗) to edit or copy.
    fn send(&self, client_id: String, mut msg: OutgoingMessage) {
        let (tx, outbox, sender) = (self.tx.clone(), self.outbox(), self.sender.clone());
        tokio::spawn(async move {
            let stored = outbox_write(outbox, &client_id, move |store, id| {
                msg.client_id = id;
                store.enqueue(&msg).map(drop)
            })
            .await;
            match stored {
                Ok(()) => wake(&sender),
                Err(reason) => send_all(&tx, [Action::SendRefused { client_id, reason }]),
            }
        });
    }

    /// The user's edit of a refused message goes back into the outbox for another try.
    fn resend(&self, client_id: String, content: String) {
        let (tx, outbox, sender) = (self.tx.clone(), self.outbox(), self.sender.clone());
        tokio::spawn(async move {
            match outbox_write(outbox, &client_id, move |store, id| store.edit_failed(id, &content)).await {
                Ok(()) => wake(&sender),
                Err(reason) => send_all(&tx, [Action::SendRefused { client_id, reason }]),
            }
        });
    }

    fn discard(&self, client_id: &str) {
        let (Some(store), Ok(id)) = (self.store(), uuid::Uuid::parse_str(client_id)) else { return };
        let (tx, sender) = (self.tx.clone(), self.sender.clone());
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

    fn search(&self, svc: C::Service, query: String, scope: Option<String>) {
        let (tx, store) = (self.tx.clone(), self.store());
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
            if scope.is_some() {
                return;
            }
            match svc.search(query.clone()).await {
                Ok(found) => {
                    if let Some(store) = &store {
                        local::save_messages(store, &found).await;
                    }
                    let _ = tx.send(Action::SearchResults { query, messages: found });
                }
                Err(ApiError::NotFound(_)) => {}
                Err(e) => tracing::info!(error = %e, "server search failed; cached results only"),
            }
        });
    }

    fn delete(&self, svc: C::Service, id: i64) {
        let (tx, store, linked) = (self.tx.clone(), self.store(), self.linked());
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

    fn mark_read(&self, svc: C::Service, id: i64) {
        let (tx, store) = (self.tx.clone(), self.store());
        tokio::spawn(async move {
            let result = svc.mark_read(id).await;
            if let (Ok(()), Some(store)) = (&result, &store) {
                local::with(store, "mark read", move |s| s.apply_read(id, None)).await;
            }
            match result {
                Ok(()) => {}
                Err(ApiError::SessionExpired) => {
                    let _ = tx.send(Action::SessionExpired);
                }
                Err(e) => tracing::info!(error = %e, id, "mark read failed"),
            }
        });
    }

    /// The pet's effects: its state, the shop, buying, adopting.
    fn pet(&self, svc: C::Service, op: PetOp) {
        let (tx, linked) = (self.tx.clone(), self.linked());
        match op {
            PetOp::Fetch => self.spawn_keyed("pet".into(), async move {
                match svc.pet().await {
                    Ok(p) => send_all(&tx, [Action::PetLoaded(p)]),
                    Err(e) => report(&tx, "pet", e, linked),
                }
            }),
            PetOp::Shop => self.spawn_keyed("shop".into(), async move {
                match svc.pet_shop().await {
                    Ok(items) => send_all(&tx, [Action::ShopLoaded(items)]),
                    Err(e) => pet_failed(&tx, "shop", e),
                }
            }),
            PetOp::Buy(item) => {
                tokio::spawn(async move {
                    match svc.pet_buy(item).await {
                        Ok(message) => send_all(&tx, [Action::PetBought(message)]),
                        Err(e) => pet_failed(&tx, "buy", e),
                    }
                });
            }
            PetOp::Create { name, species } => {
                tokio::spawn(async move {
                    match svc.pet_create(name, species).await {
                        Ok(()) => send_all(&tx, [Action::PetCreated]),
                        Err(e) => pet_failed(&tx, "create pet", e),
                    }
                });
            }
        }
    }

    /// `R`: the link reconnects or checks now (within its budget), and the messages
    /// waiting out their backoff are tried now too.
    fn reconnect(&self) {
        if let Some(store) = self.outbox() {
            // Queued ahead of the sender's next read, so it sees the retry times cleared.
            drop(store.call(|s| s.retry_now()));
        }
        wake(&self.sender);
        if !self.command(LiveCommand::RetryNow) {
            let _ = self.tx.send(Action::PollDue);
        }
    }
}

/// What the pet's effects ask of the server.
enum PetOp {
    /// Its state.
    Fetch,
    /// The shop's items.
    Shop,
    /// Buy this item.
    Buy(String),
    /// Adopt a pet.
    Create {
        /// Its name.
        name: String,
        /// Its species.
        species: String,
    },
}

/// Change the outbox entry `client_id` with `write`; why not, in words for the user.
async fn outbox_write(
    outbox: Option<Shared>,
    client_id: &str,
    write: impl FnOnce(&mut Store, uuid::Uuid) -> Result<(), crate::store::StoreError> + Send + 'static,
) -> Result<(), String> {
    let Some(store) = outbox else {
        return Err("there is no outbox to keep it in (see the log); copy the text and try later".into());
    };
    let id = uuid::Uuid::parse_str(client_id).map_err(|e| format!("bad message id: {e}"))?;
    let written = store.call(move |s| write(s, id)).await;
    written.map_err(|e| {
        tracing::warn!(error = %e, "outbox write failed");
        format!("could not save it to the outbox: {e}")
    })
}

/// Keep what the link brought in the account's store (deleted messages stay hidden).
async fn keep_news(store: &Shared, event: &mut LiveEvent) {
    match event {
        LiveEvent::Inbox(r) => local::save_inbox(store, r, false).await,
        LiveEvent::Conversation { messages, .. } => {
            local::save_messages(store, messages).await;
            local::hide_deleted(store, messages).await;
        }
        LiveEvent::Pushed(e) => local::save_event(store, e).await,
        _ => {}
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
                Action::ConnectionChanged(Connection::Offline { retry_secs: OFFLINE_RETRY.as_secs() as u32 }),
                Action::Unreachable,
            ],
        ),
        e => send_all(tx, [Action::Failed(format!("{what}: {e}"))]),
    }
}

#[cfg(test)]
#[path = "seam_tests.rs"]
mod seam_tests;

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

    #[tokio::test]
    async fn without_an_outbox_a_message_is_refused_in_words() {
        let id = uuid::Uuid::new_v4().to_string();
        let refused = outbox_write(None, &id, |_, _| Ok(())).await.unwrap_err();
        assert!(refused.contains("no outbox") && refused.contains("copy the text"), "{refused}");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data").join("s.sqlite3"), "alex").unwrap().store;
        let store: Shared = StoreHandle::new(store);
        let written = outbox_write(Some(store.clone()), &id, |s, id| {
            let mut msg = OutgoingMessage::new("sam", None, "hi");
            msg.client_id = id;
            s.enqueue(&msg).map(drop)
        })
        .await;
        assert_eq!(written, Ok(()));
        let uid = uuid::Uuid::parse_str(&id).unwrap();
        let held = store.call(move |s| s.outbox_entry(uid)).await.unwrap();
        assert_eq!(held.map(|e| e.message.content), Some("hi".to_string()));
        let bad = outbox_write(Some(store), "not-an-id", |_, _| Ok(())).await.unwrap_err();
        assert!(bad.contains("bad message id"), "{bad}");
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
