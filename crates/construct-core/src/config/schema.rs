//! How the configuration describes itself as JSON Schema, for the generated reference
//! (`docs/configuration.md`) and the example file (`cargo xtask config-docs`).
//!
//! The config types derive [`JsonSchema`]; this module supplies what a derive cannot:
//!
//! - schemas for the custom value types ([`Secret`], [`Cidr`], [`Scopes`], paths), with secrets marked
//!   `"writeOnly": true` so the generator can flag them;
//! - [`key_order`], a container transform recording each table's keys in declaration order under
//!   `"x-key-order"` (schemars keeps properties in a sorted map, and a reference that lists `host` after
//!   `api_rate_limit_per_minute` reads badly).
//!
//! Nothing here affects how configuration is loaded.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use super::Cidr;
use crate::principal::{Scope, Scopes};
use crate::secret::Secret;

/// The schema extension under which each config table lists its keys in declaration order.
pub const KEY_ORDER: &str = "x-key-order";

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        "Secret".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // `writeOnly`: it may be given, and is never shown back (it prints as `********`).
        json_schema!({ "type": "string", "writeOnly": true })
    }
}

impl JsonSchema for Cidr {
    fn schema_name() -> Cow<'static, str> {
        "Cidr".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "examples": ["10.0.0.0/8", "192.0.2.7"] })
    }
}

impl JsonSchema for Scopes {
    fn schema_name() -> Cow<'static, str> {
        "Scopes".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        json_schema!({
            "title": "scopes",
            "type": "array",
            "items": { "type": "string", "enum": names },
            "uniqueItems": true,
        })
    }
}

/// Stands in for `PathBuf` in `#[schemars(with = ...)]`: a string that names a file or directory.
pub(crate) struct FilePath;

impl JsonSchema for FilePath {
    fn schema_name() -> Cow<'static, str> {
        "FilePath".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "path" })
    }
}

/// A container transform (`#[schemars(transform = key_order::<Self>)]`) that records `T`'s keys, as serde
/// reads them, in declaration order under [`KEY_ORDER`].
pub(crate) fn key_order<T: DeserializeOwned>(schema: &mut Schema) {
    let mut recorder = FieldRecorder(None);
    // The recorder always fails once it has seen the field list: there is no value to build.
    let _ = T::deserialize(&mut recorder);
    if let Some(fields) = recorder.0 {
        schema.insert(KEY_ORDER.to_owned(), fields.iter().map(|f| serde_json::Value::from(*f)).collect());
    }
}

/// A deserializer that only notes the field names a derived `Deserialize` asks for.
struct FieldRecorder(Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for &mut FieldRecorder {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only structs have keys"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(de::Error::custom("keys recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use schemars::schema_for;
    use serde_json::Value;

    use super::*;
    use crate::config::{Config, ExternalMcpServer, GatewayConfig};

    /// Every table of the configuration, with its dotted path: the root, then each `$defs` entry that has
    /// properties.
    fn tables(root: &Schema) -> Vec<(String, &serde_json::Map<String, Value>)> {
        let mut out = vec![("(root)".to_owned(), root.as_object().expect("root is an object"))];
        if let Some(defs) = root.get("$defs").and_then(Value::as_object) {
            for (name, def) in defs {
                if let Some(def) = def.as_object().filter(|d| d.contains_key("properties")) {
                    out.push((name.clone(), def));
                }
            }
        }
        out
    }

    #[test]
    fn every_key_is_documented() {
        let schema = schema_for!(Config);
        let mut undocumented = Vec::new();
        for (table, def) in tables(&schema) {
            let Some(props) = def.get("properties").and_then(Value::as_object) else { continue };
            for (key, prop) in props {
                let described =
                    prop.get("description").and_then(Value::as_str).is_some_and(|d| !d.trim().is_empty());
                if !described {
                    undocumented.push(format!("{table}.{key}"));
                }
            }
            if table != "(root)" {
                let described =
                    def.get("description").and_then(Value::as_str).is_some_and(|d| !d.trim().is_empty());
                if !described {
                    undocumented.push(table);
                }
            }
        }
        assert!(undocumented.is_empty(), "config keys without a doc comment: {undocumented:?}");
    }

    #[test]
    fn every_enum_value_is_documented() {
        let schema = schema_for!(Config);
        let defs = schema.get("$defs").and_then(Value::as_object).expect("definitions");
        for (name, def) in defs {
            for variant in def.get("oneOf").and_then(Value::as_array).into_iter().flatten() {
                assert!(
                    variant.get("description").and_then(Value::as_str).is_some_and(|d| !d.is_empty()),
                    "{name}: a value without a doc comment: {variant}"
                );
            }
        }
    }

    #[test]
    fn every_table_records_its_key_order() {
        let schema = schema_for!(Config);
        for (table, def) in tables(&schema) {
            let props = def.get("properties").and_then(Value::as_object).expect("properties");
            let order: Vec<&str> = def
                .get(KEY_ORDER)
                .and_then(Value::as_array)
                .unwrap_or_else(|| panic!("{table} lacks #[schemars(transform = key_order::<Self>)]"))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let mut sorted = order.clone();
            sorted.sort_unstable();
            let keys: Vec<&str> = props.keys().map(String::as_str).collect();
            assert_eq!(sorted, keys, "{table}: key order and properties differ");
        }
    }

    #[test]
    fn key_order_follows_the_declaration() {
        let mut schema = Schema::default();
        key_order::<GatewayConfig>(&mut schema);
        let order = schema.get(KEY_ORDER).and_then(Value::as_array).expect("order");
        assert_eq!(order[..2], [Value::from("host"), Value::from("port")]);
        let mut schema = Schema::default();
        key_order::<ExternalMcpServer>(&mut schema);
        assert_eq!(schema.get(KEY_ORDER), Some(&serde_json::json!(["name", "url", "headers"])));
    }

    #[test]
    fn secrets_are_write_only() {
        let schema = schema_for!(Config);
        let api_key = schema.pointer("/$defs/ProviderConfig/properties/api_key").expect("api_key");
        assert_eq!(api_key.get("writeOnly"), Some(&Value::Bool(true)), "{api_key}");
        // A secret's default would print as the mask; the generator shows secrets as unset instead.
        let scopes = schema.pointer("/$defs/AuthConfig/properties/default_scopes/default").expect("default");
        assert_eq!(scopes, &serde_json::json!(["read", "chat"]));
    }
}
