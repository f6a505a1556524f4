//! Who is signed in, as the page sees it: what their role lets the page offer. Hiding is
//! for the user's sake; the server checks every call.

use crate::api::who_am_i;
use crate::people::{Role, SignedIn};
use crate::wire::BrowserResource;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Who(pub BrowserResource<Result<SignedIn, ServerFnError>>);

/// Reads who is signed in, for the page and everything in it.
pub fn provide_who() {
    provide_context(Who(Resource::new_serde_wb(|| (), |_| who_am_i())));
}

/// Whether the signed-in person may do what `role` may. Call it inside a `Suspense` or
/// `Transition`, so that the server waits for the answer before rendering.
pub fn may(role: Role) -> bool {
    use_context::<Who>()
        .and_then(|who| who.0.get())
        .and_then(Result::ok)
        .is_some_and(|signed_in| signed_in.role.allows(role))
}
