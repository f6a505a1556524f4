use crate::shipments::WritebackStatus;
use leptos::prelude::*;

/// A write-back status as colour, icon and word: never colour alone. An open shipment
/// that waits on something else (`waiting`) shows "Waiting".
#[component]
pub fn StatusBadge(status: WritebackStatus, #[prop(optional)] waiting: bool) -> impl IntoView {
    let waiting = waiting && status.is_open();
    let (icon, word, class) = match status {
        _ if waiting => ("‖", "Waiting", "waiting"),
        WritebackStatus::Pending => ("…", status.label(), status.as_str()),
        WritebackStatus::Retrying => ("↻", status.label(), status.as_str()),
        WritebackStatus::Success => ("✓", status.label(), status.as_str()),
        WritebackStatus::Failed => ("✕", status.label(), status.as_str()),
        WritebackStatus::ConfirmedManually => ("✔", status.label(), status.as_str()),
    };
    view! {
        <span
            class=format!("badge badge-{class}")
            data-status=status.as_str()
            data-waiting=waiting.then_some("true")
        >
            <span class="badge-icon" aria-hidden="true">{icon}</span>
            {word}
        </span>
    }
}
