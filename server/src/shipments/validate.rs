//! Turns the station's JSON into [`NewShipment`]s, naming every field that is wrong.

use super::NewShipment;
use app::shipments::ShipmentItem;
use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

pub const MAX_BATCH: usize = 1000;
pub const MAX_ITEMS: usize = 200;
pub const MAX_QUANTITY: u64 = 100_000;
const MAX_TEXT: usize = 200;

/// One thing wrong with one field of one shipment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Position in the posted array (0 for a single object).
    pub index: usize,
    /// The field's path, such as `items[2].quantity`.
    pub field: String,
    pub message: String,
}

/// Parses a body that holds one shipment object or an array of up to [`MAX_BATCH`].
/// Account keys are checked later, against the store.
pub fn parse_batch(body: &[u8]) -> Result<Vec<NewShipment>, Vec<FieldError>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        vec![FieldError {
            index: 0,
            field: String::new(),
            message: format!("the body is not valid JSON: {e}"),
        }]
    })?;
    let objects = match value {
        Value::Array(values) => {
            if values.is_empty() {
                return Err(vec![whole(
                    "the array is empty; post at least one shipment",
                )]);
            }
            if values.len() > MAX_BATCH {
                return Err(vec![whole(&format!(
                    "{} shipments in one request; at most {MAX_BATCH} are accepted",
                    values.len()
                ))]);
            }
            values
        }
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(vec![whole(
                "expected a shipment object or an array of them",
            )])
        }
    };

    let mut errors = Vec::new();
    let mut shipments = Vec::with_capacity(objects.len());
    let mut seen = HashSet::new();
    for (index, value) in objects.into_iter().enumerate() {
        let mut fields = Fields {
            index,
            errors: &mut errors,
        };
        if let Some(shipment) = fields.shipment(value) {
            if !seen.insert(shipment.shipment_id.clone()) {
                errors.push(FieldError {
                    index,
                    field: "shipment_id".into(),
                    message: format!(
                        "'{}' appears more than once in this request",
                        shipment.shipment_id
                    ),
                });
            } else {
                shipments.push(shipment);
            }
        }
    }
    if errors.is_empty() {
        Ok(shipments)
    } else {
        Err(errors)
    }
}

fn whole(message: &str) -> FieldError {
    FieldError {
        index: 0,
        field: String::new(),
        message: message.to_string(),
    }
}

struct Fields<'a> {
    index: usize,
    errors: &'a mut Vec<FieldError>,
}

const SHIPMENT_FIELDS: [&str; 8] = [
    "shipment_id",
    "account",
    "order_id",
    "carrier",
    "service",
    "tracking_number",
    "ship_date",
    "items",
];

impl Fields<'_> {
    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            index: self.index,
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn shipment(&mut self, value: Value) -> Option<NewShipment> {
        let Value::Object(mut map) = value else {
            self.error("", "expected a shipment object");
            return None;
        };
        let before = self.errors.len();
        for key in map.keys() {
            if !SHIPMENT_FIELDS.contains(&key.as_str()) {
                let message = format!(
                    "unknown field; the fields are {}",
                    SHIPMENT_FIELDS.join(", ")
                );
                self.errors.push(FieldError {
                    index: self.index,
                    field: key.clone(),
                    message,
                });
            }
        }
        let shipment_id = self.text(&mut map, "shipment_id", true);
        let account = self.text(&mut map, "account", true);
        let order_id = self.text(&mut map, "order_id", true);
        let carrier = self.text(&mut map, "carrier", true);
        let service = self.text(&mut map, "service", false);
        let tracking_number = self.text(&mut map, "tracking_number", true);
        if tracking_number.chars().any(char::is_whitespace) {
            self.error("tracking_number", "must not contain spaces");
        }
        let ship_date = self.ship_date(map.remove("ship_date"));
        let items = self.items(map.remove("items"));
        if self.errors.len() > before {
            return None;
        }
        Some(NewShipment {
            shipment_id,
            account,
            order_id,
            carrier,
            service,
            tracking_number,
            ship_date: ship_date?,
            items,
        })
    }

    /// A trimmed string field; `required` ones must be present and non-empty.
    fn text(&mut self, map: &mut Map<String, Value>, field: &str, required: bool) -> String {
        self.text_value(map.remove(field), field, required)
    }

    fn text_value(&mut self, value: Option<Value>, field: &str, required: bool) -> String {
        match value {
            Some(Value::String(s)) => {
                let s = s.trim().to_string();
                if required && s.is_empty() {
                    self.error(field, "must not be empty");
                } else if s.chars().count() > MAX_TEXT {
                    self.error(field, format!("longer than {MAX_TEXT} characters"));
                } else if s.chars().any(char::is_control) {
                    self.error(field, "must not contain control characters");
                }
                s
            }
            None | Some(Value::Null) if !required => String::new(),
            None | Some(Value::Null) => {
                self.error(field, "is required");
                String::new()
            }
            Some(other) => {
                self.error(field, format!("must be a string, not {}", kind(&other)));
                String::new()
            }
        }
    }

    fn ship_date(&mut self, value: Option<Value>) -> Option<DateTime<Utc>> {
        let text = match value {
            Some(Value::String(s)) => s,
            None | Some(Value::Null) => {
                self.error("ship_date", "is required");
                return None;
            }
            Some(other) => {
                self.error(
                    "ship_date",
                    format!("must be an RFC 3339 string, not {}", kind(&other)),
                );
                return None;
            }
        };
        match DateTime::parse_from_rfc3339(text.trim()) {
            Ok(t) if (2000..=2100).contains(&t.year()) => Some(t.with_timezone(&Utc)),
            Ok(_) => {
                self.error("ship_date", "must be between the years 2000 and 2100");
                None
            }
            Err(e) => {
                self.error(
                    "ship_date",
                    format!("'{text}' is not an RFC 3339 date-time ({e}); example: 2026-11-25T14:02:00Z"),
                );
                None
            }
        }
    }

    fn items(&mut self, value: Option<Value>) -> Vec<ShipmentItem> {
        let values = match value {
            Some(Value::Array(values)) => values,
            None | Some(Value::Null) => {
                self.error(
                    "items",
                    "is required: the order items shipped and their quantities",
                );
                return Vec::new();
            }
            Some(other) => {
                self.error("items", format!("must be an array, not {}", kind(&other)));
                return Vec::new();
            }
        };
        if values.is_empty() {
            self.error("items", "must list at least one item");
        }
        if values.len() > MAX_ITEMS {
            self.error("items", format!("at most {MAX_ITEMS} items per shipment"));
            return Vec::new();
        }
        let mut items = Vec::with_capacity(values.len());
        let mut seen = HashSet::new();
        for (i, value) in values.into_iter().enumerate() {
            let path = |field: &str| format!("items[{i}].{field}");
            let Value::Object(mut map) = value else {
                self.error(
                    &format!("items[{i}]"),
                    "expected an object with order_item_id, sku and quantity",
                );
                continue;
            };
            for key in map.keys() {
                if !["order_item_id", "sku", "quantity"].contains(&key.as_str()) {
                    let message = "unknown field; the fields are order_item_id, sku, quantity";
                    self.errors.push(FieldError {
                        index: self.index,
                        field: path(key),
                        message: message.into(),
                    });
                }
            }
            // A station that knows only SKUs may leave the order item id out: the
            // worker finds it in the marketplace's order.
            let order_item_id =
                self.text_value(map.remove("order_item_id"), &path("order_item_id"), false);
            let sku = self.text_value(map.remove("sku"), &path("sku"), false);
            if order_item_id.is_empty() && sku.is_empty() {
                self.error(&path("order_item_id"), "is required when there is no sku");
            }
            let line_key = if order_item_id.is_empty() {
                format!("sku:{sku}")
            } else {
                order_item_id.clone()
            };
            let named = !order_item_id.is_empty() || !sku.is_empty();
            if named && !seen.insert(line_key) {
                let field = if order_item_id.is_empty() {
                    "sku"
                } else {
                    "order_item_id"
                };
                self.error(
                    &path(field),
                    "listed twice in this shipment; add up the quantities",
                );
            }
            let quantity = match map.remove("quantity") {
                Some(Value::Number(n)) => match n.as_u64() {
                    Some(q) if (1..=MAX_QUANTITY).contains(&q) => q as u32,
                    _ => {
                        self.error(
                            &path("quantity"),
                            format!("must be a whole number from 1 to {MAX_QUANTITY}"),
                        );
                        0
                    }
                },
                None | Some(Value::Null) => {
                    self.error(&path("quantity"), "is required");
                    0
                }
                Some(other) => {
                    self.error(
                        &path("quantity"),
                        format!("must be a number, not {}", kind(&other)),
                    );
                    0
                }
            };
            items.push(ShipmentItem {
                order_item_id,
                sku: (!sku.is_empty()).then_some(sku),
                quantity,
            });
        }
        items
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({
            "shipment_id": "S-1",
            "account": "acme-us",
            "order_id": "113-1234567-1234567",
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": "1Z999AA10123456784",
            "ship_date": "2026-11-25T14:02:00Z",
            "items": [{"order_item_id": "11111111111111", "sku": "SKU-1", "quantity": 2}]
        })
    }

    fn errors_of(value: Value) -> Vec<(usize, String)> {
        parse_batch(value.to_string().as_bytes())
            .unwrap_err()
            .into_iter()
            .map(|e| (e.index, e.field))
            .collect()
    }

    #[test]
    fn accepts_one_object_or_an_array() {
        assert_eq!(
            parse_batch(valid().to_string().as_bytes()).unwrap().len(),
            1
        );
        let mut second = valid();
        second["shipment_id"] = json!("S-2");
        let batch = json!([valid(), second]);
        let parsed = parse_batch(batch.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].quantity(), 2);
        assert_eq!(parsed[0].items[0].sku.as_deref(), Some("SKU-1"));
    }

    #[test]
    fn names_each_bad_field() {
        let mut v = valid();
        v["tracking_number"] = json!("");
        v["ship_date"] = json!("25/11/2026");
        v["items"][0]["quantity"] = json!(0);
        v["colour"] = json!("red");
        let mut fields: Vec<String> = errors_of(v).into_iter().map(|(_, f)| f).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "colour",
                "items[0].quantity",
                "ship_date",
                "tracking_number"
            ]
        );
    }

    #[test]
    fn reports_the_index_in_a_batch() {
        let mut bad = valid();
        bad["shipment_id"] = json!("S-2");
        bad.as_object_mut().unwrap().remove("carrier");
        assert_eq!(
            errors_of(json!([valid(), bad])),
            vec![(1, "carrier".to_string())]
        );
    }

    #[test]
    fn rejects_wrong_types() {
        let mut v = valid();
        v["order_id"] = json!(12345);
        v["items"] = json!({"order_item_id": "1"});
        let fields: Vec<String> = errors_of(v).into_iter().map(|(_, f)| f).collect();
        assert_eq!(fields, vec!["order_id", "items"]);
    }

    #[test]
    fn rejects_duplicates_and_oversized_batches() {
        assert_eq!(
            errors_of(json!([valid(), valid()])),
            vec![(1, "shipment_id".to_string())]
        );
        let many: Vec<Value> = (0..=MAX_BATCH).map(|_| valid()).collect();
        assert_eq!(errors_of(Value::Array(many)), vec![(0, String::new())]);
        assert_eq!(errors_of(json!([])), vec![(0, String::new())]);
    }

    #[test]
    fn rejects_non_json() {
        assert!(parse_batch(b"{not json").is_err());
        assert!(parse_batch(b"42").is_err());
    }

    #[test]
    fn rejects_repeated_items_and_missing_items() {
        let mut v = valid();
        v["items"] = json!([
            {"order_item_id": "1", "quantity": 1},
            {"order_item_id": "1", "quantity": 2}
        ]);
        assert_eq!(
            errors_of(v),
            vec![(0, "items[1].order_item_id".to_string())]
        );
        let mut v = valid();
        v["items"] = json!([]);
        assert_eq!(errors_of(v), vec![(0, "items".to_string())]);
    }

    #[test]
    fn a_line_needs_an_order_item_id_or_a_sku() {
        let mut v = valid();
        v["items"] = json!([{"sku": "SKU-1", "quantity": 1}]);
        let parsed = parse_batch(v.to_string().as_bytes()).unwrap();
        assert_eq!(parsed[0].items[0].order_item_id, "");
        assert_eq!(parsed[0].items[0].sku.as_deref(), Some("SKU-1"));
        let mut v = valid();
        v["items"] = json!([{"quantity": 1}]);
        assert_eq!(
            errors_of(v),
            vec![(0, "items[0].order_item_id".to_string())]
        );
        let mut v = valid();
        v["items"] = json!([{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}]);
        assert_eq!(errors_of(v), vec![(0, "items[1].sku".to_string())]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Any JSON value: scalars of every kind, nested a few levels.
        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(|f| json!(f)),
                "\\PC{0,40}".prop_map(Value::from),
                Just(json!("2026-11-25T14:02:00Z")),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                    proptest::collection::btree_map("[a-z_]{1,16}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// Every field, and one the validator does not know.
        fn field() -> impl Strategy<Value = &'static str> {
            let fields: Vec<&'static str> =
                SHIPMENT_FIELDS.iter().copied().chain(["colour"]).collect();
            proptest::sample::select(fields)
        }

        proptest! {
            /// Whatever bytes arrive are read or refused with reasons: never a panic.
            #[test]
            fn any_body_is_read_or_refused(body in proptest::collection::vec(any::<u8>(), 0..400)) {
                if let Err(errors) = parse_batch(&body) {
                    prop_assert!(!errors.is_empty());
                }
            }

            /// One field of a valid shipment replaced by any JSON value: either the
            /// shipment is still valid, or the refusal names that field.
            #[test]
            fn a_bad_field_is_named(field in field(), value in json()) {
                let mut shipment = valid();
                shipment[field] = value;
                match parse_batch(shipment.to_string().as_bytes()) {
                    Ok(parsed) => prop_assert_eq!(parsed.len(), 1),
                    Err(errors) => prop_assert!(
                        errors.iter().all(|e| e.field == field || e.field.starts_with(&format!("{field}["))),
                        "{errors:?}"
                    ),
                }
            }
        }
    }
}
