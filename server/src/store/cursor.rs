//! Keyset cursors: where the previous page stopped, as (sort value, row id).
//!
//! The cursor is opaque to clients (hex of a small JSON document) and names the sort
//! it belongs to, so that a cursor from one sort is refused under another.

use super::StoreError;
use app::query::SortKey;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "k")]
    pub sort: String,
    #[serde(rename = "d")]
    pub descending: bool,
    #[serde(rename = "v")]
    pub value: SortValue,
    #[serde(rename = "i")]
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a cursor always serialises");
        json.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(text: &str, key: SortKey, descending: bool) -> Result<Cursor, StoreError> {
        let invalid = |why: &str| StoreError::InvalidCursor(why.to_string());
        if !text.len().is_multiple_of(2)
            || text.len() > 2048
            || !text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid("not a cursor this server issued"));
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| invalid("not a cursor this server issued"))?;
        let cursor: Cursor = serde_json::from_slice(&bytes)
            .map_err(|_| invalid("not a cursor this server issued"))?;
        if cursor.sort != key.as_str() || cursor.descending != descending {
            return Err(invalid(
                "it belongs to another sort order; start again from the first page",
            ));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let c = Cursor {
            sort: "carrier".into(),
            descending: true,
            value: SortValue::Text("UPS \"x\"".into()),
            id: 42,
        };
        assert_eq!(
            Cursor::decode(&c.encode(), SortKey::Carrier, true).unwrap(),
            c
        );
    }

    #[test]
    fn refuses_foreign_and_broken_cursors() {
        let c = Cursor {
            sort: "ship_date".into(),
            descending: false,
            value: SortValue::Int(5),
            id: 1,
        };
        assert!(Cursor::decode(&c.encode(), SortKey::Carrier, false).is_err());
        assert!(Cursor::decode(&c.encode(), SortKey::ShipDate, true).is_err());
        assert!(Cursor::decode("zz", SortKey::ShipDate, false).is_err());
        assert!(Cursor::decode("abc", SortKey::ShipDate, false).is_err());
        assert!(Cursor::decode("é1", SortKey::ShipDate, false).is_err());
        assert!(Cursor::decode("aéb", SortKey::ShipDate, false).is_err());
    }
}
