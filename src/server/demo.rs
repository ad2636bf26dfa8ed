//! Demo activity: `dr_morgan` acknowledges a patient's message a few seconds after
//! it arrives, and sends `alex` a check-in about a minute after start.

use std::time::Duration;

use rusqlite::params;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use super::db::{now_secs, ts};
use super::errors::ServerError;
use super::messages::{deliver, find_user, insert_message};
use super::seed::CLINICIAN;
use super::state::AppState;
use crate::model::types::WsEvent;

/// Delay before dr_morgan answers.
pub const REPLY_AFTER: Duration = Duration::from_secs(3);
/// Delay before dr_morgan's check-in to alex.
pub const CHECK_IN_AFTER: Duration = Duration::from_secs(60);

/// dr_morgan marks `read_id` read (when given) and sends `text` to `to`.
async fn clinician_says(
    state: &AppState,
    to: String,
    read_id: Option<i64>,
    text: &'static str,
    subject: Option<&'static str>,
) -> Result<(), ServerError> {
    let (message, read) = state
        .db
        .call(move |c| {
            let tx = c.transaction()?;
            let (me, _) = find_user(&tx, CLINICIAN)?.ok_or_else(|| ServerError::not_found("no clinician"))?;
            let (them, _) = find_user(&tx, &to)?.ok_or_else(|| ServerError::not_found("no patient"))?;
            let now = now_secs();
            let read = match read_id {
                Some(id) => {
                    let n = tx.execute(
                        "UPDATE messages SET read_at = ?2 WHERE id = ?1 AND recipient_id = ?3 AND read_at IS NULL",
                        params![id, now, me],
                    )?;
                    (n > 0).then_some((id, now))
                }
                None => None,
            };
            let message = insert_message(&tx, me, them, subject, text, now)?;
            tx.commit()?;
            Ok((message, read))
        })
        .await?;
    if let Some((id, at)) = read {
        state.hub.publish(
            &[CLINICIAN, &message.recipient],
            &WsEvent::MessageRead { message_id: id, read_at: ts(at) },
        );
    }
    deliver(state, message);
    Ok(())
}

/// Start the demo activity; abort the handle to stop it.
pub fn spawn_activity(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut news = state.new_messages.subscribe();
        let check_in = tokio::time::sleep(CHECK_IN_AFTER);
        tokio::pin!(check_in);
        let mut checked_in = false;
        loop {
            tokio::select! {
                got = news.recv() => match got {
                    Ok(m) if m.recipient == CLINICIAN && m.sender != CLINICIAN => {
                        let state = state.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(REPLY_AFTER).await;
                            let text = "Thanks for your message. I've read it and will follow up at our next session. Take care.";
                            if let Err(e) = clinician_says(&state, m.sender, Some(m.id), text, None).await {
                                tracing::warn!("demo reply failed: {e}");
                            }
                        });
                    }
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
                _ = &mut check_in, if !checked_in => {
                    checked_in = true;
                    let text = "Hi Alex, quick check-in: how are you feeling today? Reply whenever you're ready.";
                    if let Err(e) = clinician_says(&state, "alex".into(), None, text, Some("Check-in")).await {
                        tracing::warn!("demo check-in failed: {e}");
                    }
                }
            }
        }
    })
}
