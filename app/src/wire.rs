//! How the server's answers reach the browser: JSON, written by serde_json on the server
//! and read in the browser by its own `JSON.parse` (through serde-wasm-bindgen).
//!
//! serde_json's reader, monomorphised for every answer type, was an eighth of the wasm;
//! the browser's parser costs nothing to download. Server functions answer with
//! [`BrowserJson`]; resources (whose values ride along in the server-rendered page) use
//! Leptos's codec built the same way, `Resource::new_serde_wb`.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A resource whose value the browser reads with `JSON.parse`.
pub type BrowserResource<T> =
    leptos::prelude::Resource<T, leptos_server::codee::string::JsonSerdeWasmCodec>;

/// A server function's answer as JSON, posted like Leptos's default `Json`.
pub type BrowserJson = Post<BrowserJsonEncoding>;

pub struct BrowserJsonEncoding;

impl ContentType for BrowserJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for BrowserJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for BrowserJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for BrowserJsonEncoding {
    type Error = String;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
        decode_text(text)
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn decode_text<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|e| format!("not JSON: {e:?}"))?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// Off the browser (the server's own tests) there is no `JSON.parse`: serde_json reads it.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn decode_text<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// What the server wrote into the page's `<meta name="{name}" content="…">`, read in
/// the browser: `None` when the page has no such element (or off the browser).
pub(crate) fn page_meta<T: DeserializeOwned>(name: &str) -> Option<Result<T, String>> {
    if !cfg!(target_arch = "wasm32") {
        return None;
    }
    leptos::prelude::document()
        .query_selector(&format!("meta[name=\"{name}\"]"))
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .map(|text| decode_text(&text))
}
