//! `snapshot.meta`: the field layout and type names a snapshot declares for itself. Read at run
//! time so that a V8 that adds a node field or a node type needs no change here.

use super::Error;
use serde_json::Value;

/// What `snapshot` says about the arrays that follow it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    pub node_fields: Vec<String>,
    pub node_types: Vec<String>,
    pub edge_fields: Vec<String>,
    pub edge_types: Vec<String>,
    pub location_fields: Vec<String>,
    pub trace_function_info_fields: Vec<String>,
    pub trace_node_fields: Vec<String>,
    pub node_count: Option<u64>,
    pub edge_count: Option<u64>,
    pub root_index: u64,
    pub extra_native_bytes: u64,
}

fn strings(value: Option<&Value>, what: &str, offset: u64) -> Result<Vec<String>, Error> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let array = value.as_array().ok_or_else(|| {
        Error::format(
            Some(offset),
            format!("snapshot.meta.{what} is not an array"),
        )
    })?;
    array
        .iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                Error::format(
                    Some(offset),
                    format!("snapshot.meta.{what} holds a non-string"),
                )
            })
        })
        .collect()
}

/// The enum of a `*_types` list: the entry at the position of the `type` field.
fn type_names(
    meta: &Value,
    key: &str,
    fields: &[String],
    offset: u64,
) -> Result<Vec<String>, Error> {
    let type_pos = fields.iter().position(|f| f == "type").ok_or_else(|| {
        Error::format(
            Some(offset),
            format!("snapshot.meta.{key} has no \"type\" field"),
        )
    })?;
    let lists = meta
        .get(key.replace("fields", "types"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::format(
                Some(offset),
                format!("snapshot.meta lacks {}", key.replace("fields", "types")),
            )
        })?;
    let names = lists.get(type_pos).ok_or_else(|| {
        Error::format(
            Some(offset),
            format!(
                "snapshot.meta.{} has no entry for \"type\"",
                key.replace("fields", "types")
            ),
        )
    })?;
    let names = strings(Some(names), &key.replace("fields", "types"), offset)?;
    if names.len() > 255 {
        return Err(Error::format(
            Some(offset),
            "more than 255 node or edge types",
        ));
    }
    Ok(names)
}

impl Meta {
    /// Parses the `snapshot` object, whose first byte was at `offset`.
    pub fn from_json(bytes: &[u8], offset: u64) -> Result<Self, Error> {
        let snapshot: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::syntax(offset, format!("\"snapshot\" is not valid JSON: {e}")))?;
        let meta = snapshot
            .get("meta")
            .ok_or_else(|| Error::format(Some(offset), "\"snapshot\" has no \"meta\""))?;
        let node_fields = strings(meta.get("node_fields"), "node_fields", offset)?;
        let edge_fields = strings(meta.get("edge_fields"), "edge_fields", offset)?;
        for (fields, required, what) in [
            (
                &node_fields,
                &["type", "name", "id", "self_size", "edge_count"][..],
                "node_fields",
            ),
            (
                &edge_fields,
                &["type", "name_or_index", "to_node"][..],
                "edge_fields",
            ),
        ] {
            for field in required {
                if !fields.iter().any(|f| f == field) {
                    return Err(Error::format(
                        Some(offset),
                        format!("snapshot.meta.{what} lacks \"{field}\""),
                    ));
                }
            }
        }
        let node_types = type_names(meta, "node_fields", &node_fields, offset)?;
        let edge_types = type_names(meta, "edge_fields", &edge_fields, offset)?;
        let count = |key: &str| snapshot.get(key).and_then(Value::as_u64);
        Ok(Self {
            location_fields: strings(meta.get("location_fields"), "location_fields", offset)?,
            trace_function_info_fields: strings(
                meta.get("trace_function_info_fields"),
                "trace_function_info_fields",
                offset,
            )?,
            trace_node_fields: strings(meta.get("trace_node_fields"), "trace_node_fields", offset)?,
            node_count: count("node_count"),
            edge_count: count("edge_count"),
            root_index: count("root_index").unwrap_or(0),
            extra_native_bytes: count("extra_native_bytes").unwrap_or(0),
            node_fields,
            node_types,
            edge_fields,
            edge_types,
        })
    }
}
