use crate::shipments::WritebackStatus;
use leptos::prelude::*;

/// A write-back status as colour, icon and word: never colour alone.
#[component]
pub fn StatusBadge(status: WritebackStatus) -> impl IntoView {
    let icon = match status {
        WritebackStatus::Pending => "…",
        WritebackStatus::Retrying => "↻",
        WritebackStatus::Success => "✓",
        WritebackStatus::Failed => "✕",
        WritebackStatus::ConfirmedManually => "✔",
    };
    view! {
        <span class=format!("badge badge-{}", status.as_str()) data-status=status.as_str()>
            <span class="badge-icon" aria-hidden="true">{icon}</span>
            {status.label()}
        </span>
    }
}
