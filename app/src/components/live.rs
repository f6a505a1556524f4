//! Server-sent events in the browser: the server says "what you show has changed", the
//! page reads it again. The browser's EventSource reconnects by itself; `connected`
//! tells the page whether it is currently connected, so it can say so.
//!
//! Each event's id is its feed's stamp (`{tag}.{version}`). The server writes into the
//! page the stamps it took before reading the page's data ([`FeedStamps`]), so the
//! event a stream opens with, which announces the feed as it stands, is news only when
//! something changed since: a page that has just loaded does not read everything again.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The name of the `<meta>` element that carries the stamps into the browser.
pub const FEEDS_META: &str = "shipback-feeds";

/// Where each feed stood when the server began drawing the page. The server provides
/// them per request; the browser reads them from the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedStamps {
    pub shipments: String,
    pub status: String,
}

impl FeedStamps {
    /// The stamps in context; none (every first event is news) outside a page.
    pub fn current() -> FeedStamps {
        use_context::<FeedStamps>().unwrap_or_default()
    }

    /// In the browser: the stamps the server wrote into the page.
    pub fn from_page() -> FeedStamps {
        crate::wire::page_meta(FEEDS_META)
            .and_then(Result::ok)
            .unwrap_or_default()
    }
}

/// The `<meta>` element that hands the stamps to the browser, drawn by the server.
#[component]
pub fn FeedStampsMeta() -> impl IntoView {
    let content = serde_json::to_string(&FeedStamps::current()).unwrap_or_default();
    view! { <meta name=FEEDS_META content=content/> }
}

/// One event as the page gets it.
pub struct LiveEvent {
    pub data: String,
    /// `false`: the page already has what the event announces (its id is the stamp
    /// the page's data was read at, or one the page has already acted on).
    pub news: bool,
}

/// Calls `on_event` with each `event` that `url` sends, from the browser only (effects
/// do not run on the server), until the page goes away. `known`: the stamp the page's
/// data was read at.
pub fn follow_events(
    url: &'static str,
    event: &'static str,
    known: String,
    on_event: impl Fn(LiveEvent) + Clone + 'static,
    connected: RwSignal<bool>,
) {
    use leptos::__reexports::send_wrapper::SendWrapper;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    Effect::new(move |_| {
        let Ok(source) = web_sys::EventSource::new(url) else {
            connected.set(false);
            return;
        };
        let on_event = on_event.clone();
        // The id of the last event acted on: a reconnection opens with the feed's
        // stamp, news only if it moved while the page was away.
        let mut seen = known.clone();
        let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            connected.set(true);
            let Some(message) = e.dyn_ref::<web_sys::MessageEvent>() else {
                return;
            };
            let id = message.last_event_id();
            let news = id.is_empty() || id != seen;
            seen = id;
            on_event(LiveEvent {
                data: message.data().as_string().unwrap_or_default(),
                news,
            });
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| connected.set(false));
        let _ = source.add_event_listener_with_callback(event, on_message.as_ref().unchecked_ref());
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let held = SendWrapper::new((source, on_message, on_error));
        on_cleanup(move || held.0.close());
    });
}
