#![recursion_limit = "512"]
//! The browser entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        // A shipment's details are a lazy wasm chunk: when the server drew them, their
        // code must be here before hydration takes over.
        app::load_code_for_drawn_parts().await;
        // `hydrate_lazy`, not `hydrate_body`: the sign-in and admin screens are lazy
        // routes, whose hydration waits for their wasm chunk.
        leptos::mount::hydrate_lazy(app::App);
    });
}
