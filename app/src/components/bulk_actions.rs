//! Actions on the Failed shipments ticked in the grid: Retry now, for all at once.

use crate::api::retry_shipments;
use crate::components::format::server_error_text;
use leptos::prelude::*;

#[component]
pub fn BulkActions(picked: RwSignal<Vec<String>>, refresh: RwSignal<u64>) -> impl IntoView {
    let retry = Action::new(move |ids: &Vec<String>| retry_shipments(ids.clone()));
    let outcome = move || {
        retry.value().get().map(|result| match result {
            Ok(results) => {
                let done = results.iter().filter(|r| r.done).count();
                let refused: Vec<String> = results.into_iter().filter_map(|r| r.message).collect();
                if refused.is_empty() {
                    (false, format!("{done} shipments queued for a new round."))
                } else {
                    (
                        true,
                        format!("{done} queued; not retried: {}", refused.join("; ")),
                    )
                }
            }
            Err(e) => (true, format!("Retry failed: {}", server_error_text(&e))),
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = retry.value().get() {
            picked.set(Vec::new());
            refresh.update(|n| *n += 1);
        }
    });
    view! {
        <Show when=move || !picked.with(Vec::is_empty)>
            <div class="bulk-bar" role="region" aria-label="Selected shipments" data-testid="bulk-bar">
                <span class="bulk-count">
                    {move || format!("{} failed shipments selected", picked.with(Vec::len))}
                </span>
                <button
                    class="button primary"
                    data-testid="retry-selected"
                    disabled=move || retry.pending().get()
                    on:click=move |_| {
                        retry.dispatch(picked.get_untracked());
                    }
                >
                    "↻ Retry selected"
                </button>
                <button class="button link" on:click=move |_| picked.set(Vec::new())>
                    "Clear selection"
                </button>
            </div>
        </Show>
        {move || {
            outcome()
                .map(|(is_error, text)| {
                    view! {
                        <p
                            class=if is_error { "error-line" } else { "note-line" }
                            role="status"
                            data-testid="bulk-outcome"
                        >
                            {text}
                        </p>
                    }
                })
        }}
    }
}
