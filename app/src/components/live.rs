//! Server-sent events in the browser: the server says "what you show has changed", the
//! page reads it again. The browser's EventSource reconnects by itself; `connected`
//! tells the page whether it is currently connected, so it can say so.

use leptos::prelude::*;

/// Calls `on_event` with the data of each `event` that `url` sends, from the browser only
/// (effects do not run on the server), until the page goes away.
pub fn follow_events(
    url: &'static str,
    event: &'static str,
    on_event: impl Fn(String) + Clone + 'static,
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
        let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            connected.set(true);
            let data = e
                .dyn_ref::<web_sys::MessageEvent>()
                .and_then(|m| m.data().as_string())
                .unwrap_or_default();
            on_event(data);
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| connected.set(false));
        let _ = source.add_event_listener_with_callback(event, on_message.as_ref().unchecked_ref());
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let held = SendWrapper::new((source, on_message, on_error));
        on_cleanup(move || held.0.close());
    });
}
