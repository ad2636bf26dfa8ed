//! Timers the runner starts for `update` (their ends come back as actions).

use tokio::sync::mpsc::UnboundedSender;

use crate::app::action::Action;
use crate::app::state::NOTICE_LIFETIME;

/// The notice numbered `seq` has had its time: `NoticeExpired(seq)` after
/// [`NOTICE_LIFETIME`] (`update` ignores it when a newer notice replaced that one).
pub async fn notice(tx: UnboundedSender<Action>, seq: u64) {
    tokio::time::sleep(NOTICE_LIFETIME).await;
    let _ = tx.send(Action::NoticeExpired(seq));
}
