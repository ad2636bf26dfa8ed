//! The pet flow end to end: keys through `update`, effects through the real runner and
//! the real `Client`, against the reference server in-process (alex's Biscuit).

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::api::{Client, ClientOptions};
use crate::app::action::Action;
use crate::app::fixture;
use crate::app::keymap::Key;
use crate::app::state::{Look, NoticeKind, PetState, State};
use crate::app::update;
use crate::model::types::{LoginRequest, Pet};
use crate::server::{start, Profile, ServerOptions};
use crate::shell::client_service::ClientConnect;
use crate::shell::runner::Runner;

/// Run `actions` through `update`, hand every effect to the runner, and keep applying
/// what comes back until `done` holds. The timeout only guards against a hang.
pub(super) async fn settle(
    state: &mut State,
    runner: &Runner<ClientConnect>,
    rx: &mut UnboundedReceiver<Action>,
    actions: Vec<Action>,
    done: impl Fn(&State) -> bool,
) {
    let mut queue = actions;
    loop {
        for action in queue.drain(..) {
            for fx in update(state, action) {
                runner.run(fx);
            }
        }
        if done(state) {
            return;
        }
        let next = tokio::time::timeout(Duration::from_secs(30), rx.recv());
        queue.push(next.await.expect("no result within 30 s").expect("runner alive"));
    }
}

fn pet(state: &State) -> Option<&Pet> {
    match &state.pet {
        PetState::Some(p) => Some(p),
        _ => None,
    }
}

pub(super) async fn logged_in(url: &str) -> Client {
    let client = Client::new(url, &ClientOptions::default()).unwrap();
    let login = LoginRequest {
        username: "alex".into(),
        password: "healing-demo".into(),
        pin: "1234".into(),
        remember_me: None,
    };
    client.login(&login).await.unwrap();
    client
}

#[tokio::test]
async fn feeding_from_the_tui_spends_coins_and_fills_hunger_on_the_server() {
    buy_from_the_shop(Profile::Reference).await;
}

/// Production reads `item_id` strictly (400 `Invalid item` otherwise) and its success
/// body has no words; the purchase must still go through and say so.
#[tokio::test]
async fn buying_works_against_the_production_profile() {
    buy_from_the_shop(Profile::Production).await;
}

async fn buy_from_the_shop(profile: Profile) {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions { profile, ..ServerOptions::local_demo(dir.path().join("db.sqlite")) };
    let server = start(opts).await.unwrap();
    let url = server.url();
    // A second session looks at the server's side of things.
    let observer = logged_in(&url).await;
    let before = observer.pet_status().await.unwrap().pet.unwrap();
    assert_eq!((before.name.as_str(), before.coins), ("Biscuit", 50));

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connect = ClientConnect { opts: ClientOptions::default(), config_dir: dir.path().join("config") };
    let runner = Runner::new(connect, Some(logged_in(&url).await), tx);
    let mut state = fixture::fresh(120, 30, Look::default());
    let login = Action::LoginSucceeded { username: "alex".into(), server: url.clone() };
    settle(&mut state, &runner, &mut rx, vec![login], |s| pet(s).is_some()).await;

    // f opens the shop and fetches it; the first item is the apple.
    settle(&mut state, &runner, &mut rx, vec![Action::Key(Key::ch('f'))], |s| s.shop.is_some()).await;
    let items = state.shop.clone().unwrap();
    assert_eq!(items[0].id, "apple");
    let cost = items[0].cost;
    assert!(cost > 0 && cost <= before.coins);

    // Enter buys it; the pet is fetched again and shows the new coins.
    let enter = Action::Key(Key::parse("enter").unwrap());
    let bought = format!("bought apple · {} coins left", before.coins - cost);
    // Both: a pet refresh can bring the new coins before the purchase's own answer.
    let spent = |s: &State| {
        pet(s).is_some_and(|p| p.coins < before.coins) && s.notice.as_ref().is_some_and(|n| n.text == bought)
    };
    settle(&mut state, &runner, &mut rx, vec![enter.clone()], spent).await;
    assert!(
        state.notice.as_ref().is_some_and(|n| n.kind == NoticeKind::Info && n.text == bought),
        "{:?}",
        state.notice
    );
    assert_eq!(pet(&state).unwrap().coins, before.coins - cost);
    let after = observer.pet_status().await.unwrap().pet.unwrap();
    assert_eq!(after.coins, before.coins - cost, "coins went down on the server");
    assert!(
        after.hunger > before.hunger,
        "hunger went up on the server: {} -> {}",
        before.hunger,
        after.hunger
    );

    // The dearest item is beyond the coins left: refused, shown as a notice, nothing spent.
    let dearest = items.last().unwrap();
    assert!(dearest.cost > after.coins);
    let keys = vec![Action::Key(Key::ch('f')), Action::Key(Key::ch('G')), enter];
    let refused = |s: &State| s.notice.as_ref().is_some_and(|n| n.kind == NoticeKind::Error);
    settle(&mut state, &runner, &mut rx, keys, refused).await;
    assert_eq!(state.notice.as_ref().unwrap().text, "Not enough coins");
    assert_eq!(observer.pet_status().await.unwrap().pet.unwrap().coins, after.coins);
    server.shutdown().await;
}
