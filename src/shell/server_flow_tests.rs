//! Conversations end to end: the runner (with the account's store) against the
//! production profile in-process: a deleted message the server keeps listing (as head
//! does), and a conversation route that answers 500 (as feb5 does).

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use super::pet_flow_tests::logged_in;
use crate::api::{ClientOptions, Fetched};
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::model::types::Message;
use crate::server::{start, FailRoute, Profile, RouteLimit, ServerOptions};
use crate::shell::client_service::ClientConnect;
use crate::shell::runner::Runner;
use crate::store::Store;

/// The next action that `pick` accepts; others (status, sync) are skipped.
async fn next<T>(rx: &mut UnboundedReceiver<Action>, mut pick: impl FnMut(Action) -> Option<T>) -> T {
    loop {
        let action = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await;
        if let Some(found) = pick(action.expect("no result within 30 s").expect("runner alive")) {
            return found;
        }
    }
}

async fn fetch(runner: &Runner<ClientConnect>, rx: &mut UnboundedReceiver<Action>) -> Vec<Message> {
    runner.run(Effect::FetchConversation { user: "sam".into(), after_id: None });
    next(rx, |a| match a {
        Action::ConversationLoaded(r) => Some(r.messages),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_deleted_message_stays_hidden_though_the_server_lists_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let opts =
        ServerOptions { profile: Profile::Production, ..ServerOptions::local_demo(dir.path().join("db")) };
    let server = start(opts).await.unwrap();
    let url = server.url();
    let client = logged_in(&url).await;
    let opened = Store::open_account(&dir.path().join("data"), client.server_url().as_str(), "alex").unwrap();
    let store = crate::store::StoreHandle::new(opened.store);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connect = ClientConnect { opts: ClientOptions::default(), config_dir: dir.path().join("config") };
    let runner = Runner::new(connect, Some(client), tx);
    runner.set_store(Some(store));

    let before = fetch(&runner, &mut rx).await;
    let doomed = before.last().expect("the demo seed has alex and sam talking").id;
    runner.run(Effect::Delete { id: doomed });
    let deleted = next(&mut rx, |a| match a {
        Action::Deleted(id) => Some(id),
        Action::Failed(e) => panic!("delete failed: {e:?}"),
        _ => None,
    })
    .await;
    assert_eq!(deleted, doomed);

    // The server still lists it to alex (the quirk), yet alex never sees it again.
    let observer = logged_in(&url).await;
    let Ok(Fetched::Fresh { value, .. }) = observer.conversation("sam", 200, None, None).await else {
        panic!("the conversation loads");
    };
    assert!(value.messages.iter().any(|m| m.id == doomed), "the production profile returns it");
    let after = fetch(&runner, &mut rx).await;
    assert!(after.iter().all(|m| m.id != doomed), "deleted message came back");
    assert_eq!(after.len(), before.len() - 1, "only the deleted one is hidden");
    server.shutdown().await;
}

#[tokio::test]
async fn a_conversation_answering_500_comes_back_as_a_failure_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions {
        profile: Profile::Production,
        fail_routes: vec![FailRoute::Conversation],
        ..ServerOptions::local_demo(dir.path().join("db"))
    };
    let server = start(opts).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connect = ClientConnect { opts: ClientOptions::default(), config_dir: dir.path().join("config") };
    let runner = Runner::new(connect, Some(logged_in(&server.url()).await), tx);

    runner.run(Effect::FetchConversation { user: "sam".into(), after_id: None });
    let (user, reason) = next(&mut rx, |a| match a {
        Action::ConversationFailed { user, reason } => Some((user, reason)),
        Action::ConversationLoaded(_) => panic!("the route was switched to fail"),
        _ => None,
    })
    .await;
    assert_eq!(user, "sam");
    assert!(reason.contains("server error 500") && reason.contains("error id"), "{reason}");

    // `r` once the server is well again: the conversation loads.
    server.fail_routes(&[]);
    assert!(!fetch(&runner, &mut rx).await.is_empty());
    server.shutdown().await;
}

/// Start-up asks for the inbox once: the live link's first catch-up brings it, so the
/// app's own fetch is not sent too. One inbox request an hour is all this server
/// allows; a second one would be refused (429) and reported.
#[tokio::test]
async fn start_up_fetches_the_inbox_once() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions {
        profile: Profile::Production,
        route_limit: Some("1/h".parse::<RouteLimit>().unwrap()),
        ..ServerOptions::local_demo(dir.path().join("db"))
    };
    let server = start(opts).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connect = ClientConnect { opts: ClientOptions::default(), config_dir: dir.path().join("config") };
    let runner = Runner::new(connect, Some(logged_in(&server.url()).await), tx);
    // As the app's loop does at login: the link first, then the login's effects.
    let mut state = crate::app::fixture::fresh(100, 30, crate::app::state::Look::default());
    runner.start_polling();
    let login = Action::LoginSucceeded { username: "alex".into(), server: server.url() };
    for fx in crate::app::update(&mut state, login) {
        runner.run(fx);
    }
    let mut seen = Vec::new();
    let inbox = next(&mut rx, |a| match a {
        Action::InboxLoaded(r) => Some(r),
        other => {
            seen.push(format!("{other:?}"));
            None
        }
    })
    .await;
    assert!(!inbox.conversations.is_empty());
    // Whatever else start-up does in the next seconds, it is not a refused inbox.
    let quiet = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some(a)) = tokio::time::timeout_at(quiet, rx.recv()).await {
        seen.push(format!("{a:?}"));
    }
    let refused = seen.iter().filter(|a| a.contains("RateLimited") || a.contains("rate-limited")).count();
    assert_eq!(refused, 0, "a second inbox request at start-up: {seen:#?}");
    server.shutdown().await;
}
