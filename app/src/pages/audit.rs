//! The audit log, for admins: who did what, when and from where.

use crate::api::audit_log;
use crate::audit::{AUDIT_EXPORT_PATH, AUDIT_PAGE_ROWS};
use crate::components::format::date_time;
use crate::components::format::server_error_text;
use crate::components::who::provide_who;
use crate::pages::topbar::AdminTopbar;
use leptos::prelude::*;

super::lazy::lazy_screen!(
    /// The audit log, fetched when an admin opens it.
    AuditRoute => AuditPage
);

#[component]
pub fn AuditPage() -> impl IntoView {
    provide_who();
    let entries = Resource::new_serde_wb(|| (), |_| audit_log());
    view! {
        <div class="screen">
            <AdminTopbar title="Audit log">
                <a class="button" href=AUDIT_EXPORT_PATH download data-testid="audit-export">
                    "⤓ Export CSV"
                </a>
            </AdminTopbar>
            <main class="content audit">
                <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || {
                        entries
                            .get()
                            .map(|result| match result {
                                Ok(entries) => {
                                    view! { <AuditTable entries=entries/> }.into_any()
                                }
                                Err(e) => {
                                    view! {
                                        <p class="error-line" role="alert">{server_error_text(&e)}</p>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
            </main>
        </div>
    }
}

#[component]
fn AuditTable(entries: Vec<crate::audit::AuditEntry>) -> impl IntoView {
    let count = entries.len();
    let rows = entries
        .into_iter()
        .map(|e| {
            view! {
                <tr data-testid="audit-row">
                    <td>{date_time(e.at)}</td>
                    <td>{e.actor}</td>
                    <td class="muted">{e.role}</td>
                    <td>{e.action}</td>
                    <td class="mono">{e.target}</td>
                    <td>{e.detail}</td>
                    <td class="muted">{e.address}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="grid-summary">
            {match count {
                1 => "The only entry so far.".to_string(),
                n => format!("The newest {n} entries (at most {AUDIT_PAGE_ROWS}); the export has them all."),
            }}
        </p>
        <div class="table-scroll" tabindex="0" role="region" aria-label="Audit log entries">
            <table class="grid audit-table" data-testid="audit-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"On"</th>
                        <th scope="col">"Detail"</th>
                        <th scope="col">"From"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
