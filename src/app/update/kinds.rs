//! The kinds of `Action`, as patterns: user commands, results of effects, the pet's
//! results and timers, and the events `update` handles itself. `update` routes by them
//! and every handler names the kinds it never gets, so no match has a catch-all arm and
//! a new `Action` does not compile until someone decides where it goes and what it does
//! to the screen (a catch-all once swallowed results, their redraws included).

/// The user commands: every `Action` a key can be bound to (those with a
/// [`name`](crate::app::action::Action::name)).
macro_rules! command_actions {
    () => {
        $crate::app::action::Action::Quit
            | $crate::app::action::Action::Help
            | $crate::app::action::Action::NextPane
            | $crate::app::action::Action::PrevPane
            | $crate::app::action::Action::Up
            | $crate::app::action::Action::Down
            | $crate::app::action::Action::PageUp
            | $crate::app::action::Action::PageDown
            | $crate::app::action::Action::Top
            | $crate::app::action::Action::Bottom
            | $crate::app::action::Action::Open
            | $crate::app::action::Action::Compose
            | $crate::app::action::Action::Send
            | $crate::app::action::Action::Newline
            | $crate::app::action::Action::OpenEditor
            | $crate::app::action::Action::Snippet
            | $crate::app::action::Action::Cancel
            | $crate::app::action::Action::Delete
            | $crate::app::action::Action::Refresh
            | $crate::app::action::Action::ToggleUnread
            | $crate::app::action::Action::ToggleSort
            | $crate::app::action::Action::Filter
            | $crate::app::action::Action::NewConversation
            | $crate::app::action::Action::CommandLine
            | $crate::app::action::Action::TogglePet
            | $crate::app::action::Action::Reconnect
            | $crate::app::action::Action::EditFailed
            | $crate::app::action::Action::DiscardFailed
            | $crate::app::action::Action::Copy
            | $crate::app::action::Action::Confirm
            | $crate::app::action::Action::Deny
            | $crate::app::action::Action::Feed
            | $crate::app::action::Action::NewPet
    };
}

/// What the pet's own effects report (the shop, buying, creating, its refresh and
/// blink timers), handled by `pet::apply`.
macro_rules! pet_results {
    () => {
        $crate::app::action::Action::ShopLoaded(_)
            | $crate::app::action::Action::PetBought(_)
            | $crate::app::action::Action::PetCreated
            | $crate::app::action::Action::PetActionFailed(_)
            | $crate::app::action::Action::PetRefreshDue(_)
            | $crate::app::action::Action::PetBlink
    };
}

/// What effects and the live link report back, handled by `results::apply`.
macro_rules! result_actions {
    () => {
        $crate::app::action::Action::LoginSucceeded { .. }
            | $crate::app::action::Action::LoginFailed(_)
            | $crate::app::action::Action::SessionExpired
            | $crate::app::action::Action::LoggedOut
            | $crate::app::action::Action::InboxLoaded(_)
            | $crate::app::action::Action::CacheLoaded(_)
            | $crate::app::action::Action::InboxUnchanged
            | $crate::app::action::Action::RoleKnown(_)
            | $crate::app::action::Action::WaitHintsLoaded(_)
            | $crate::app::action::Action::PollDue
            | $crate::app::action::Action::ConversationCached { .. }
            | $crate::app::action::Action::ConversationLoaded(_)
            | $crate::app::action::Action::ConversationUnchanged(_)
            | $crate::app::action::Action::ConversationFailed { .. }
            | $crate::app::action::Action::MessagesArrived(_)
            | $crate::app::action::Action::MessageRead { .. }
            | $crate::app::action::Action::Deleted(_)
            | $crate::app::action::Action::MessageDeleted(_)
            | $crate::app::action::Action::SearchResults { .. }
            | $crate::app::action::Action::SendSucceeded { .. }
            | $crate::app::action::Action::SendRefused { .. }
            | $crate::app::action::Action::SendProgress { .. }
            | $crate::app::action::Action::OutboxLoaded(_)
            | $crate::app::action::Action::DraftsLoaded(_)
            | $crate::app::action::Action::PetLoaded(_)
            | $crate::app::action::Action::ConnectionChanged(_)
            | $crate::app::action::Action::Synced(_)
            | $crate::app::action::Action::Unreachable
            | $crate::app::action::Action::Failed(_)
            | $crate::app::action::Action::Info(_)
    };
}

/// Events from the terminal and timers that `update` handles itself.
macro_rules! event_actions {
    () => {
        $crate::app::action::Action::Key(_)
            | $crate::app::action::Action::Paste(_)
            | $crate::app::action::Action::Resize(..)
            | $crate::app::action::Action::NoticeExpired(_)
            | $crate::app::action::Action::Tick(_)
            | $crate::app::action::Action::EditorDone { .. }
    };
}
