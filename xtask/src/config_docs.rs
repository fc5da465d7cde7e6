//! `cargo xtask config-docs [--check]`: writes `docs/configuration.md` and `docs/gateway.example.toml`
//! from the config types, so the reference cannot drift from the code. With `--check` (part of
//! `cargo xtask ci`) nothing is written: it fails when a committed file differs from what the types give.
//!
//! The input is `schemars::schema_for!(Config)` (doc comments become descriptions, `#[serde(default)]`
//! gives defaults, secrets are `writeOnly`, each table lists its keys in declaration order) and the table
//! of environment variables the loader uses. [`tables`] flattens the schema into TOML tables and keys;
//! [`render_reference`] and [`render_example`] turn those into the two files.
//!
//! What a key means lives in the config types' doc comments, never here: this file holds only the
//! framing of the two documents.

use anyhow::{Context, bail};
use construct_core::config::{Config, EnvTarget, KEY_ORDER, KNOWN_ENV_VARS, KnownEnvVar};
use serde_json::{Map, Value};

use crate::ci::workspace_root;

/// The reference, relative to the workspace root.
const REFERENCE: &str = "docs/configuration.md";
/// The example configuration shipped in the release tarball.
const EXAMPLE: &str = "docs/gateway.example.toml";

/// A short, realistic file for the reference's last section (it must load without warnings).
const SHORT_EXAMPLE: &str = r#"[gateway]
host = "127.0.0.1"
port = 42617
path_prefix = "/construct"
trusted_proxies = ["10.0.0.0/8"]
allowed_origins = ["https://dashboard.example.com"]
request_timeout_secs = 30
max_body_bytes = 65536

[provider]
base_url = "https://api.openai.com/v1"
model = "gpt-4o-mini"
"#;

/// Generates both files, or with `--check` compares them with the committed ones.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask config-docs [--check]"),
    };
    let schema = schemars::schema_for!(Config).to_value();
    let tables = tables(&schema)?;
    let files = [
        (REFERENCE, render_reference(&schema, &tables, KNOWN_ENV_VARS)?),
        (EXAMPLE, render_example(&tables, KNOWN_ENV_VARS)?),
    ];
    let root = workspace_root();
    let mut stale = Vec::new();
    for (path, generated) in &files {
        let file = root.join(path);
        if check {
            let committed = std::fs::read_to_string(&file).unwrap_or_default();
            if let Some(line) = first_difference(&committed, generated) {
                stale.push(format!("{path} (first difference at line {line})"));
            }
        } else {
            std::fs::write(&file, generated).with_context(|| format!("writing {}", file.display()))?;
            eprintln!("xtask config-docs: wrote {path}");
        }
    }
    if !stale.is_empty() {
        bail!(
            "the configuration docs are stale: {}. They are generated from crates/construct-core/src/config/; \
             run `cargo xtask config-docs` and commit the result",
            stale.join(", ")
        );
    }
    Ok(())
}

/// The 1-based number of the first line where `a` and `b` differ, `None` when they are equal.
fn first_difference(a: &str, b: &str) -> Option<usize> {
    if a == b {
        return None;
    }
    let same = a.lines().zip(b.lines()).take_while(|(x, y)| x == y).count();
    Some(same + 1)
}

/// How a table is written in TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TableKind {
    /// Always present (`[gateway]`): its defaults apply without the header.
    Always,
    /// Off until its header exists (`[channels_config.whatsapp]`).
    Optional,
    /// One entry of a list of tables (`[[mcp.servers]]`).
    ListItem,
}

/// A TOML table of the configuration.
#[derive(Debug)]
struct Table {
    /// Dotted path; empty for the root.
    path: String,
    kind: TableKind,
    /// The struct's doc comment.
    description: String,
    /// Its keys, in declaration order; sub-tables are tables of their own.
    keys: Vec<Key>,
}

/// A key that holds a value (not a sub-table).
#[derive(Debug, Clone)]
struct Key {
    name: String,
    /// Dotted path from the root.
    path: String,
    type_name: String,
    secret: bool,
    /// Must be given (a list entry's mandatory keys); a channel's "required" keys have empty defaults.
    required: bool,
    default: Option<Value>,
    example: Option<Value>,
    /// The field's doc comment.
    description: String,
    /// The key holds a list of tables, documented as a [`TableKind::ListItem`] table at the same path.
    list_of_tables: bool,
}

/// Flattens the schema into its tables, parents before children, keys in declaration order.
fn tables(schema: &Value) -> anyhow::Result<Vec<Table>> {
    let empty = Map::new();
    let defs = schema.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
    let mut out = Vec::new();
    collect(schema, String::new(), TableKind::Always, defs, &mut out)?;
    Ok(out)
}

fn collect(
    table: &Value,
    path: String,
    kind: TableKind,
    defs: &Map<String, Value>,
    out: &mut Vec<Table>,
) -> anyhow::Result<()> {
    let name = if path.is_empty() { "the root" } else { path.as_str() };
    let props = table.get("properties").and_then(Value::as_object).context("a table without properties")?;
    let order = table.get(KEY_ORDER).and_then(Value::as_array).with_context(|| {
        format!("{name} has no {KEY_ORDER}: add #[schemars(transform = key_order::<Self>)]")
    })?;
    let required: Vec<&str> = table
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();

    let mut keys = Vec::new();
    let mut children = Vec::new();
    for key in order.iter().filter_map(Value::as_str) {
        let prop = props.get(key).with_context(|| format!("{name}: {key} is ordered but not a property"))?;
        let key_path = if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
        let (target, optional) = non_null(prop, defs);
        if is_table(target) {
            let kind = if optional { TableKind::Optional } else { TableKind::Always };
            children.push((target, key_path, kind));
            continue;
        }
        let item = target.get("items").map(|items| resolve(items, defs)).filter(|items| is_table(items));
        if let Some(item) = item {
            children.push((item, key_path.clone(), TableKind::ListItem));
        }
        keys.push(Key {
            name: key.to_owned(),
            type_name: type_name(prop, defs),
            secret: is_secret(target),
            required: required.contains(&key),
            default: prop.get("default").cloned(),
            example: prop.get("examples").and_then(Value::as_array).and_then(|e| e.first()).cloned(),
            description: text(prop, "description"),
            list_of_tables: item.is_some(),
            path: key_path,
        });
    }
    out.push(Table { path, kind, description: text(table, "description"), keys });
    for (child, path, kind) in children {
        collect(child, path, kind, defs, out)?;
    }
    Ok(())
}

fn text(schema: &Value, field: &str) -> String {
    schema.get(field).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Follows a `$ref` into `$defs`.
fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => defs.get(name).map_or(schema, |def| resolve(def, defs)),
        None => schema,
    }
}

/// The schema of the value itself, and whether `null` (an `Option`'s `None`) is also allowed.
fn non_null<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> (&'a Value, bool) {
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let is_null = |b: &&Value| b.get("type").and_then(Value::as_str) == Some("null");
        if let Some(value) = branches.iter().find(|b| !is_null(b)) {
            return (resolve(value, defs), branches.iter().any(|b| is_null(&b)));
        }
    }
    let nullable = schema.get("type").and_then(Value::as_array).is_some_and(|t| t.contains(&"null".into()));
    (resolve(schema, defs), nullable)
}

fn is_table(schema: &Value) -> bool {
    schema.get("properties").is_some()
}

fn is_secret(schema: &Value) -> bool {
    schema.get("writeOnly") == Some(&Value::Bool(true))
}

/// The string values an enum allows (`"enum"`, or documented variants as `"oneOf"` of `"const"`s).
fn enum_values(schema: &Value) -> Option<Vec<&str>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(values.iter().filter_map(Value::as_str).collect());
    }
    let variants = schema.get("oneOf").and_then(Value::as_array)?;
    variants.iter().map(|v| v.get("const").and_then(Value::as_str)).collect()
}

/// The type of a key, in words: `integer`, `secret`, `list of paths`, `"local"` or `"remote"`.
fn type_name(schema: &Value, defs: &Map<String, Value>) -> String {
    let (schema, _) = non_null(schema, defs);
    if is_secret(schema) {
        return "secret".to_owned();
    }
    if is_table(schema) {
        return "table".to_owned();
    }
    if let Some(values) = enum_values(schema) {
        let quoted: Vec<String> = values.iter().map(|v| format!("`\"{v}\"`")).collect();
        return match quoted.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => quoted.concat(),
        };
    }
    if let Some(title) = schema.get("title").and_then(Value::as_str) {
        return title.to_owned();
    }
    let json_type = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        Some(other) => other.as_str(),
        None => None,
    };
    match json_type {
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("path") => "path".to_owned(),
        Some("boolean") => "bool".to_owned(),
        Some("array") => {
            let item = schema.get("items").map_or_else(|| "value".to_owned(), |i| type_name(i, defs));
            format!("list of {}", plural(&item))
        }
        Some("object") => match schema.get("additionalProperties") {
            Some(value @ Value::Object(_)) => format!("table of {}", plural(&type_name(value, defs))),
            _ => "table".to_owned(),
        },
        Some(other) => other.to_owned(),
        None => "value".to_owned(),
    }
}

fn plural(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("list of ") {
        format!("lists of {rest}")
    } else if let Some(rest) = name.strip_prefix("table of ") {
        format!("tables of {rest}")
    } else if name.ends_with('s') || name.contains(' ') {
        name.to_owned()
    } else {
        format!("{name}s")
    }
}

/// A JSON value as inline TOML: `"127.0.0.1"`, `42617`, `["read", "chat"]`, `{}`.
fn toml_inline(value: &Value) -> anyhow::Result<String> {
    let value = toml::Value::try_from(value).with_context(|| format!("{value} has no TOML form"))?;
    Ok(value.to_string())
}

/// The Default column: `required`, `unset`, or the default as TOML. A secret never shows one (its
/// default would serialise as the mask).
fn default_cell(key: &Key) -> anyhow::Result<String> {
    if key.required {
        return Ok("required".to_owned());
    }
    match &key.default {
        _ if key.secret => Ok("unset".to_owned()),
        None | Some(Value::Null) => Ok("unset".to_owned()),
        Some(value) => Ok(format!("`{}`", toml_inline(value)?)),
    }
}

/// The environment variables that set `path`, in the table's order.
fn env_names<'a>(vars: &'a [KnownEnvVar], path: &str) -> Vec<&'a str> {
    vars.iter().filter(|var| var.key() == Some(path)).map(|var| var.name).collect()
}

/// Rustdoc's intra-doc links as plain text, for the reference has nothing to link to: ``[`Name`]``
/// becomes `` `Name` `` and `[text](path::Name)` becomes `text`. Markdown links to URLs and anchors, and
/// TOML headers such as `[gateway]`, are left alone.
fn strip_doc_links(doc: &str) -> String {
    let is_item_path =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push('[');
            rest = after;
            break;
        };
        let (text, tail) = (&after[..close], &after[close + 1..]);
        let target = tail.strip_prefix('(').and_then(|t| t.find(')').map(|end| &t[..end]));
        if let Some(target) = target.filter(|t| is_item_path(t)) {
            out.push_str(text);
            rest = &tail[target.len() + 2..];
        } else if text.len() > 2
            && text.starts_with('`')
            && text.ends_with('`')
            && is_item_path(&text[1..text.len() - 1])
            && !tail.starts_with(['(', '['])
        {
            out.push_str(text);
            rest = tail;
        } else {
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A doc comment on one line (paragraphs joined), for a table cell or a TOML comment.
fn one_line(doc: &str) -> String {
    strip_doc_links(doc).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Meaning column: the whole doc comment on one line, with `|` escaped for the table.
fn meaning_cell(doc: &str) -> String {
    one_line(doc).replace('|', "\\|")
}

/// The sentences of a one-line text. A period ends one when the next word starts a sentence (a capital
/// or a code span) and it does not close an abbreviation such as "e.g.".
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(". ") {
        let next = text[i + 2..].chars().next().unwrap_or(' ');
        let abbreviation = ["e.g", "i.e", "etc"].iter().any(|a| text[start..i].ends_with(a));
        if (next.is_uppercase() || next == '`') && !abbreviation {
            out.push(&text[start..=i]);
            start = i + 2;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// What the example file says about a key: its first sentence, and whether it is required.
fn summary(key: &Key) -> String {
    let text = one_line(&key.description);
    let all = sentences(&text);
    let mut out = all.first().copied().unwrap_or_default().to_owned();
    let required = all.iter().skip(1).find(|s| s.starts_with("Required")).map(|s| {
        let end = s.find([';', '(', '.']).unwrap_or(s.len());
        format!("{}.", s[..end].trim_end())
    });
    match required {
        Some(required) => out = format!("{out} {required}"),
        None if key.required => out.push_str(" Required."),
        None => {}
    }
    out
}

/// The value the example file shows: the default; for a key unset (or empty) by default, its example; for
/// a secret, an empty string. The flag says whether it is an example rather than the default.
fn example_value(key: &Key) -> anyhow::Result<(String, bool)> {
    if key.secret {
        return Ok(("\"\"".to_owned(), false));
    }
    let chosen = match (&key.default, &key.example) {
        (Some(Value::String(s)), Some(example)) if s.is_empty() => (example, true),
        (Some(default), _) if !default.is_null() => (default, false),
        (_, Some(example)) => (example, true),
        _ => bail!("`{}` has neither a default nor an example: add #[schemars(example = ...)]", key.path),
    };
    Ok((toml_inline(chosen.0)?, chosen.1))
}

/// `docs/configuration.md`.
fn render_reference(schema: &Value, tables: &[Table], vars: &[KnownEnvVar]) -> anyhow::Result<String> {
    let mut out = String::from("# Configuration\n\n");
    out.push_str(
        "<!-- Generated by `cargo xtask config-docs` from the doc comments of crates/construct-core/src/config/. \
         Edit those, then regenerate; CI fails when this file is stale. -->\n\n",
    );
    out.push_str(&strip_doc_links(&text(schema, "description")));
    out.push_str(
        "\n\nEach section below is one TOML table. A key of type *secret* is never shown back: logs, errors \
         and `config check` print `********`. **Env** names the environment variables that set the key \
         (see [Environment variables](#environment-variables)). Every key, commented out with its default, \
         is in [`gateway.example.toml`](gateway.example.toml).\n",
    );
    for table in tables.iter().filter(|t| !t.keys.is_empty()) {
        let header = match table.kind {
            TableKind::ListItem => format!("[[{}]]", table.path),
            TableKind::Always | TableKind::Optional => format!("[{}]", table.path),
        };
        out.push_str(&format!("\n## `{header}`\n\n"));
        if !table.description.is_empty() {
            out.push_str(&strip_doc_links(&table.description));
            out.push_str("\n\n");
        }
        out.push_str("| Key | Type | Default | Env | Meaning |\n|---|---|---|---|---|\n");
        for key in &table.keys {
            let env: Vec<String> = env_names(vars, &key.path).iter().map(|v| format!("`{v}`")).collect();
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} |\n",
                key.name,
                key.type_name,
                default_cell(key)?,
                env.join(", "),
                meaning_cell(&key.description),
            ));
        }
    }
    out.push_str("\n## Environment variables\n\n| Variable | Sets | Notes |\n|---|---|---|\n");
    for var in vars {
        let sets = match var.sets {
            EnvTarget::Key(key) => format!("`{key}`"),
            EnvTarget::Other(what) => what.to_owned(),
        };
        out.push_str(&format!("| `{}` | {sets} | {} |\n", var.name, meaning_cell(var.notes)));
    }
    out.push_str(
        "\nAny other `CONSTRUCT_*` variable is reported as unknown at startup, so a misspelt setting is never \
         silently ignored.\n",
    );
    out.push_str("\n## Example\n\n```toml\n");
    out.push_str(SHORT_EXAMPLE);
    out.push_str("```\n");
    Ok(out)
}

/// `docs/gateway.example.toml`: every key commented out with its default, grouped by table. Uncommenting
/// every `#key = value` and `#[table]` line gives a valid configuration once the secrets are filled in.
fn render_example(tables: &[Table], vars: &[KnownEnvVar]) -> anyhow::Result<String> {
    let mut out = String::from(
        "# Construct Gateway: an example configuration with every key.\n\
         #\n\
         # Generated by `cargo xtask config-docs` from the config types; docs/configuration.md explains each\n\
         # key in full. Every key is commented out and shows its default, or for a key that is unset by\n\
         # default an example value. Secrets are shown empty: fill them in, or set the environment variable\n\
         # named beside them. A `#[table]` header that is commented out turns a feature on when uncommented.\n",
    );
    for table in tables.iter().filter(|t| !t.keys.is_empty() && t.kind != TableKind::ListItem) {
        out.push_str(&format!("\n# {}\n", sentences(&one_line(&table.description)).first().unwrap_or(&"")));
        match table.kind {
            TableKind::Optional => out.push_str(&format!("#[{}]\n", table.path)),
            _ => out.push_str(&format!("[{}]\n", table.path)),
        }
        for key in &table.keys {
            out.push('\n');
            push_key(&mut out, key, vars, false)?;
            if key.list_of_tables {
                let item = tables
                    .iter()
                    .find(|t| t.kind == TableKind::ListItem && t.path == key.path)
                    .with_context(|| format!("no entry table for {}", key.path))?;
                out.push_str(&format!("# Or one table per entry:\n#     [[{}]]\n", item.path));
                for item_key in &item.keys {
                    push_key(&mut out, item_key, vars, true)?;
                }
            }
        }
    }
    Ok(out)
}

/// One key of the example: its summary, its secret/env note, and the commented-out assignment. An
/// `entry` key (of a list of tables) is shown indented as prose, not offered for uncommenting.
fn push_key(out: &mut String, key: &Key, vars: &[KnownEnvVar], entry: bool) -> anyhow::Result<()> {
    let (comment, assign) = if entry { ("#     # ", "#     ") } else { ("# ", "#") };
    let (value, is_example) = example_value(key)?;
    let mut note = summary(key);
    if is_example && !key.required {
        let unset = key.default.as_ref().is_none_or(Value::is_null);
        note.push_str(if unset { " Unset by default; for example:" } else { " For example:" });
    }
    out.push_str(&format!("{comment}{note}\n"));
    let env = env_names(vars, &key.path);
    match (key.secret, env.is_empty()) {
        (true, true) => out.push_str(&format!("{comment}Secret.\n")),
        (true, false) => out.push_str(&format!("{comment}Secret. Env: {}.\n", env.join(", "))),
        (false, false) => out.push_str(&format!("{comment}Env: {}.\n", env.join(", "))),
        (false, true) => {}
    }
    out.push_str(&format!("{assign}{} = {value}\n", key.name));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use construct_core::config::{ConfigSources, load_with_contents};
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        schemars::schema_for!(Config).to_value()
    }

    fn key(tables: &[Table], path: &str) -> Key {
        let (table, name) = path.rsplit_once('.').unwrap_or(("", path));
        let found = tables.iter().filter(|t| t.path == table).flat_map(|t| &t.keys).find(|k| k.name == name);
        found.unwrap_or_else(|| panic!("no key {path}")).clone()
    }

    /// Loads `contents` through the real loader, with an empty environment.
    fn load(contents: &str) -> construct_core::config::LoadedConfig {
        let sources = ConfigSources { data_dir: Some("/nonexistent".into()), ..Default::default() };
        load_with_contents(&sources, Path::new("example.toml"), contents)
            .unwrap_or_else(|e| panic!("{e}\n{contents}"))
    }

    /// Every `#key = value` and `#[table]` line of the example, uncommented; prose (`# ...`) stays.
    fn uncomment(example: &str) -> String {
        example
            .lines()
            .map(|line| match line.strip_prefix('#') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '[') => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn type_names_come_from_the_schema() {
        let defs = Map::new();
        let names = [
            (json!({"type": "integer", "format": "uint16"}), "integer"),
            (json!({"type": ["string", "null"]}), "string"),
            (json!({"type": "boolean"}), "bool"),
            (json!({"type": "array", "items": {"type": "string", "format": "path"}}), "list of paths"),
            (json!({"type": "object", "additionalProperties": {"type": "string"}}), "table of strings"),
            (
                json!({"type": "object", "additionalProperties": {"type": "string", "writeOnly": true}}),
                "table of secrets",
            ),
            (json!({"type": ["string", "null"], "writeOnly": true}), "secret"),
            (
                json!({"oneOf": [{"const": "a"}, {"const": "b"}, {"const": "c"}]}),
                "`\"a\"`, `\"b\"` or `\"c\"`",
            ),
            (
                json!({"type": "array", "items": {"type": "array", "items": {"type": "string"}}}),
                "list of lists of strings",
            ),
        ];
        for (schema, expected) in names {
            assert_eq!(type_name(&schema, &defs), expected, "{schema}");
        }
        let tables = tables(&schema()).unwrap();
        for (path, expected) in [
            ("gateway.port", "integer"),
            ("gateway.trusted_proxies", "list of strings"),
            ("gateway.bootstrap_token_mode", "`\"until_first_pair\"` or `\"always\"`"),
            ("gateway.auth.mode", "`\"token\"` or `\"trusted-proxy\"`"),
            ("gateway.auth.default_scopes", "scopes"),
            ("gateway.auth.scopes_by_user", "table of scopes"),
            ("gateway.tls.cert_path", "path"),
            ("gateway.tls.client_auth.map", "list of tables"),
            ("kumiho.artifact_roots", "list of paths"),
            ("provider.temperature", "number"),
            ("mcp.servers.headers", "table of secrets"),
        ] {
            assert_eq!(key(&tables, path).type_name, expected, "{path}");
        }
    }

    #[test]
    fn defaults_render_as_toml_and_secrets_never_show_one() {
        let tables = tables(&schema()).unwrap();
        for (path, expected) in [
            ("gateway.host", "`\"127.0.0.1\"`"),
            ("gateway.port", "`42617`"),
            ("gateway.require_pairing", "`true`"),
            ("gateway.path_prefix", "unset"),
            ("gateway.trusted_proxies", "`[]`"),
            ("gateway.auth.default_scopes", "`[\"read\", \"chat\"]`"),
            ("gateway.auth.scopes_by_user", "`{}`"),
            ("provider.input_price_per_million", "`0.0`"),
            ("channels_config.whatsapp.api_base_url", "`\"https://graph.facebook.com/v18.0\"`"),
            // Its default serialises as the mask; it must not be shown as a default.
            ("channels_config.whatsapp.access_token", "unset"),
            ("provider.api_key", "unset"),
            ("mcp.servers.name", "required"),
        ] {
            assert_eq!(default_cell(&key(&tables, path)).unwrap(), expected, "{path}");
        }
    }

    #[test]
    fn secrets_are_marked() {
        let tables = tables(&schema()).unwrap();
        let secrets: Vec<&str> =
            tables.iter().flat_map(|t| &t.keys).filter(|k| k.secret).map(|k| k.path.as_str()).collect();
        for path in [
            "provider.api_key",
            "nodes.auth_token",
            "kumiho.service_token",
            "clawhub.api_token",
            "channels_config.webhook.secret",
            "channels_config.whatsapp.app_secret",
            "channels_config.nextcloud_talk.app_token",
        ] {
            assert!(secrets.contains(&path), "{path} is not marked secret");
        }
        assert!(!secrets.contains(&"gateway.bootstrap_token_sha256"), "a hash is not a secret");
        let reference = render_reference(&schema(), &tables, KNOWN_ENV_VARS).unwrap();
        assert!(
            reference.contains("| `api_key` | secret | unset | `CONSTRUCT_PROVIDER_API_KEY` |"),
            "{reference}"
        );
        assert!(!reference.contains("\"********\""), "a secret's masked default leaked");
    }

    #[test]
    fn env_column_lists_every_variable_for_the_key() {
        assert_eq!(env_names(KNOWN_ENV_VARS, "gateway.host"), ["CONSTRUCT_GATEWAY_HOST", "HOST"]);
        assert_eq!(env_names(KNOWN_ENV_VARS, "gateway.max_connections"), Vec::<&str>::new());
        let vars = [KnownEnvVar { name: "X", sets: EnvTarget::Key("a.b"), notes: "" }];
        assert_eq!(env_names(&vars, "a.b"), ["X"]);
        let reference = render_reference(&schema(), &tables(&schema()).unwrap(), KNOWN_ENV_VARS).unwrap();
        assert!(reference.contains("| `port` | integer | `42617` | `CONSTRUCT_GATEWAY_PORT`, `PORT` |"));
    }

    #[test]
    fn every_variable_sets_a_real_key() {
        let tables = tables(&schema()).unwrap();
        let keys: Vec<&str> = tables.iter().flat_map(|t| &t.keys).map(|k| k.path.as_str()).collect();
        for var in KNOWN_ENV_VARS {
            if let Some(key) = var.key() {
                assert!(keys.contains(&key), "{} sets {key}, which is not a configuration key", var.name);
            }
        }
    }

    #[test]
    fn text_helpers() {
        assert_eq!(strip_doc_links("0 means [`DEFAULT`]; see [`x`](y::Z)."), "0 means `DEFAULT`; see `x`.");
        assert_eq!(strip_doc_links("3. [Variables](KNOWN_ENV_VARS)."), "3. Variables.");
        let kept = "`[gateway] host`, `[[mcp.servers]]`, `[\"*\"]`, [the table](#environment-variables) [x";
        assert_eq!(strip_doc_links(kept), kept);
        assert_eq!(meaning_cell("a |\nb\n\nc"), "a \\| b c");
        assert_eq!(
            sentences("Serve it, e.g. `/x`. Must start with `/`. ok. Fine"),
            ["Serve it, e.g. `/x`.", "Must start with `/`. ok.", "Fine"]
        );
        assert_eq!(first_difference("a\nb\nc", "a\nb\nc"), None);
        assert_eq!(first_difference("a\nb\nc", "a\nx\nc"), Some(2));
    }

    #[test]
    fn the_reference_keeps_its_structure() {
        let reference = render_reference(&schema(), &tables(&schema()).unwrap(), KNOWN_ENV_VARS).unwrap();
        for heading in [
            "## `[gateway]`",
            "## `[gateway.pairing]`",
            "## `[gateway.tls.client_auth]`",
            "## `[[gateway.tls.client_auth.map]]`",
            "## `[channels_config]`",
            "## `[channels_config.whatsapp]`",
            "## `[[mcp.servers]]`",
            "## Environment variables",
            "## Example",
        ] {
            assert!(reference.contains(heading), "missing {heading}");
        }
        assert!(reference.contains("Sources, lowest precedence first:"));
        assert!(
            reference
                .contains("| `GMAIL_PUSH_WEBHOOK_SECRET` | `channels_config.gmail_push.webhook_secret` |")
        );
    }

    #[test]
    fn the_reference_example_loads_cleanly() {
        let loaded = load(SHORT_EXAMPLE);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn the_example_file_is_the_defaults_until_uncommented() {
        let example = render_example(&tables(&schema()).unwrap(), KNOWN_ENV_VARS).unwrap();
        let loaded = load(&example);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.config, Config::default());
    }

    #[test]
    fn the_uncommented_example_is_a_valid_configuration() {
        let tables = tables(&schema()).unwrap();
        let example = render_example(&tables, KNOWN_ENV_VARS).unwrap();
        let mut document: toml::Table = uncomment(&example).parse().expect("the uncommented example is TOML");
        // Secrets are shown empty; an enabled channel needs its secrets, so fill each one in.
        for secret in tables.iter().flat_map(|t| &t.keys).filter(|k| k.secret) {
            let mut parts: Vec<&str> = secret.path.split('.').collect();
            let last = parts.pop().unwrap_or_default();
            let table = parts
                .iter()
                .try_fold(&mut document, |t, p| t.get_mut(*p).and_then(toml::Value::as_table_mut));
            let slot = table.and_then(|t| t.get_mut(last));
            assert_eq!(slot.as_deref(), Some(&toml::Value::from("")), "{} is not shown empty", secret.path);
            if let Some(slot) = slot {
                *slot = toml::Value::from("example-secret");
            }
        }
        let loaded = load(&document.to_string());
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let config = loaded.config;
        assert!(config.channels_config.whatsapp.is_some() && config.channels_config.gmail_push.is_some());
        assert_eq!(config.gateway.path_prefix.as_deref(), Some("/construct"));
    }
}
