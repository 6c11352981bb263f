//! JSON Schema (`schemaType: "JSON"`), drafts 4, 6, 7, 2019-09 and 2020-12 (`$schema` picks
//! one, draft 7 when absent, as Confluent does).
//!
//! It owns: checking a schema text (JSON, an object or a boolean, valid against its draft's
//! meta-schema, every `$ref` resolvable, locally or to a reference by its name), the canonical
//! text (the JSON re-serialised compactly, keys in the order given) and the normalized text
//! (keys sorted), and compatibility as Confluent's registry decides it: the schema is loaded
//! into the same schema model Confluent's loader builds (string, number, object, array, enum,
//! const, combined, not, reference, empty/true/false; keywords of several types in one object
//! become a synthetic `allOf`), the differences between the old and the new schema are computed
//! keyword family by keyword family, and the check passes iff every difference is one of the
//! compatible kinds (the strict policy, Confluent's default).
//!
//! It never does I/O: remote `$ref`s are never fetched, only registered references are used.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::error::{RegistryError, Result};

// ---------------------------------------------------------------------------------------------
// Order-keeping JSON (serde_json's Value sorts keys without its preserve_order feature, and
// turning that on would change every map in the workspace).
// ---------------------------------------------------------------------------------------------

/// JSON whose objects keep their keys in the order written.
#[derive(Debug, Clone, PartialEq)]
pub enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    /// The same JSON with every object's keys sorted.
    pub fn sorted(&self) -> Ordered {
        match self {
            Ordered::Array(a) => Ordered::Array(a.iter().map(Ordered::sorted).collect()),
            Ordered::Object(o) => {
                let mut o: Vec<(String, Ordered)> =
                    o.iter().map(|(k, v)| (k.clone(), v.sorted())).collect();
                o.sort_by(|a, b| a.0.cmp(&b.0));
                Ordered::Object(o)
            }
            other => other.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> std::result::Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_bool<E>(self, b: bool) -> std::result::Result<Ordered, E> {
                Ok(Ordered::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> std::result::Result<Ordered, E> {
                Ok(Ordered::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> std::result::Result<Ordered, E> {
                Ok(Ordered::Number(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> std::result::Result<Ordered, E> {
                serde_json::Number::from_f64(n)
                    .map(Ordered::Number)
                    .ok_or_else(|| E::custom("not a finite number"))
            }
            fn visit_str<E>(self, s: &str) -> std::result::Result<Ordered, E> {
                Ok(Ordered::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> std::result::Result<Ordered, E> {
                Ok(Ordered::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(Ordered::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Ordered, A::Error> {
                let mut out: Vec<(String, Ordered)> = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Ordered>()? {
                    // A repeated key keeps its first place and its last value (serde_json's rule).
                    match out.iter_mut().find(|(seen, _)| *seen == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(Ordered::Object(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Ordered::Null => s.serialize_unit(),
            Ordered::Bool(b) => s.serialize_bool(*b),
            Ordered::Number(n) => n.serialize(s),
            Ordered::String(v) => s.serialize_str(v),
            Ordered::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Ordered::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Drafts
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Draft {
    D4,
    D6,
    D7,
    D201909,
    D202012,
}

impl Draft {
    /// The draft a document declares; draft 7 when it declares none.
    fn of(v: &Value) -> std::result::Result<Draft, String> {
        let Some(declared) = v.get("$schema") else {
            return Ok(Draft::D7);
        };
        let Some(url) = declared.as_str() else {
            return Err("$schema must be a string".into());
        };
        let bare = url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('#');
        match bare {
            "json-schema.org/draft-04/schema" => Ok(Draft::D4),
            "json-schema.org/draft-06/schema" => Ok(Draft::D6),
            "json-schema.org/draft-07/schema" => Ok(Draft::D7),
            "json-schema.org/draft/2019-09/schema" => Ok(Draft::D201909),
            "json-schema.org/draft/2020-12/schema" => Ok(Draft::D202012),
            _ => Err(format!("unsupported $schema {url}")),
        }
    }

    fn meta_validate(self, v: &Value) -> std::result::Result<(), String> {
        let result = match self {
            Draft::D4 => jsonschema::draft4::meta::validate(v),
            Draft::D6 => jsonschema::draft6::meta::validate(v),
            Draft::D7 => jsonschema::draft7::meta::validate(v),
            Draft::D201909 => jsonschema::draft201909::meta::validate(v),
            Draft::D202012 => jsonschema::draft202012::meta::validate(v),
        };
        result.map_err(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{e} at {at}")
            }
        })
    }

    fn id_keyword(self) -> &'static str {
        if self == Draft::D4 {
            "id"
        } else {
            "$id"
        }
    }

    fn array_keywords(self) -> &'static [&'static str] {
        match self {
            Draft::D4 => &[
                "items",
                "additionalItems",
                "minItems",
                "maxItems",
                "uniqueItems",
            ],
            Draft::D6 | Draft::D7 => &[
                "items",
                "additionalItems",
                "minItems",
                "maxItems",
                "uniqueItems",
                "contains",
            ],
            Draft::D201909 | Draft::D202012 => &[
                "items",
                "additionalItems",
                "prefixItems",
                "unevaluatedItems",
                "minItems",
                "maxItems",
                "uniqueItems",
                "contains",
                "minContains",
                "maxContains",
            ],
        }
    }

    fn object_keywords(self) -> &'static [&'static str] {
        match self {
            Draft::D4 => &[
                "properties",
                "required",
                "minProperties",
                "maxProperties",
                "dependencies",
                "patternProperties",
                "additionalProperties",
            ],
            Draft::D6 | Draft::D7 => &[
                "properties",
                "required",
                "minProperties",
                "maxProperties",
                "dependencies",
                "patternProperties",
                "additionalProperties",
                "propertyNames",
            ],
            Draft::D201909 | Draft::D202012 => &[
                "properties",
                "required",
                "minProperties",
                "maxProperties",
                "dependencies",
                "dependentRequired",
                "dependentSchemas",
                "patternProperties",
                "additionalProperties",
                "propertyNames",
                "unevaluatedProperties",
            ],
        }
    }
}

const NUMBER_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern", "format"];

// ---------------------------------------------------------------------------------------------
// The schema model (one node per schema, in an arena: `$ref`s may make cycles)
// ---------------------------------------------------------------------------------------------

type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Criterion {
    All,
    Any,
    One,
}

impl Criterion {
    fn keyword(self) -> &'static str {
        match self {
            Criterion::All => "allOf",
            Criterion::Any => "anyOf",
            Criterion::One => "oneOf",
        }
    }
}

#[derive(Debug, Clone, Default)]
struct ObjectNode {
    properties: Vec<(String, NodeId)>,
    pattern_properties: Vec<(String, NodeId)>,
    additional_allowed: bool,
    additional_schema: Option<NodeId>,
    required: Vec<String>,
    min_properties: Option<f64>,
    max_properties: Option<f64>,
    property_dependencies: Vec<(String, Vec<String>)>,
    schema_dependencies: Vec<(String, NodeId)>,
}

#[derive(Debug, Clone, Default)]
struct ArrayNode {
    all_items: Option<NodeId>,
    item_schemas: Vec<NodeId>,
    additional_allowed: bool,
    additional_schema: Option<NodeId>,
    unevaluated: Option<NodeId>,
    min_items: Option<f64>,
    max_items: Option<f64>,
    unique_items: bool,
    min_contains: Option<f64>,
    max_contains: Option<f64>,
}

#[derive(Debug, Clone, Default)]
struct NumberNode {
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: Option<f64>,
    exclusive_maximum: Option<f64>,
    multiple_of: Option<f64>,
    integer: bool,
}

#[derive(Debug, Clone, Default)]
struct StringNode {
    min_length: Option<f64>,
    max_length: Option<f64>,
    pattern: Option<String>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// `{}` (or nothing that constrains).
    Empty,
    /// `true`: accepts everything, like `{}`.
    True,
    /// `false`: accepts nothing.
    False,
    Null,
    Boolean,
    String(StringNode),
    Number(NumberNode),
    Object(Box<ObjectNode>),
    Array(Box<ArrayNode>),
    Enum(Vec<Value>),
    Const(Value),
    Combined(Criterion, Vec<NodeId>),
    Not(NodeId),
    Conditional,
    Reference(NodeId),
}

impl Kind {
    /// Schemas of different tags are different types (what Confluent compares by class).
    fn tag(&self) -> u8 {
        match self {
            Kind::Empty => 0,
            Kind::True => 1,
            Kind::False => 2,
            Kind::Null => 3,
            Kind::Boolean => 4,
            Kind::String(_) => 5,
            Kind::Number(_) => 6,
            Kind::Object(_) => 7,
            Kind::Array(_) => 8,
            Kind::Enum(_) => 9,
            Kind::Const(_) => 10,
            Kind::Combined(..) => 11,
            Kind::Not(_) => 12,
            Kind::Conditional => 13,
            Kind::Reference(_) => 14,
        }
    }

    fn is_empty_like(&self) -> bool {
        matches!(self, Kind::Empty | Kind::True)
    }
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    default: Option<Value>,
    /// The JSON of a branch of `allOf`/`anyOf`/`oneOf` (None elsewhere): equal JSON means the
    /// same branch when combined schemas collapse duplicates.
    raw: Option<Value>,
}

impl Node {
    fn bare(kind: Kind) -> Node {
        Node {
            kind,
            id: None,
            title: None,
            description: None,
            default: None,
            raw: None,
        }
    }
}

/// One JSON document: the schema itself (index 0) or a referenced one.
#[derive(Debug)]
struct Doc {
    /// The reference name (`None` for the schema itself).
    name: Option<String>,
    value: Value,
    draft: Draft,
}

struct Loader<'a> {
    docs: &'a [Doc],
    nodes: Vec<Node>,
    by_pointer: HashMap<(usize, String), NodeId>,
    /// Nodes allocated but not built yet: (node, document, pointer).
    pending: Vec<(NodeId, usize, String)>,
}

/// How deep comparing may nest (through properties, items, branches and `$ref`s): it
/// recurses, and a request's thread has a bounded stack.
const MAX_DEPTH: usize = 200;

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn as_limit(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

impl<'a> Loader<'a> {
    fn value_at(&self, doc: usize, pointer: &str) -> Option<&'a Value> {
        self.docs[doc].value.pointer(pointer)
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The node for the schema at `pointer` in `doc`: allocated once, built later by
    /// [`Loader::finish`] (no recursion, however deep the schema or its `$ref` chains).
    fn load(&mut self, doc: usize, pointer: String) -> NodeId {
        if let Some(id) = self.by_pointer.get(&(doc, pointer.clone())) {
            return *id;
        }
        let id = self.push(Node::bare(Kind::Empty));
        self.by_pointer.insert((doc, pointer.clone()), id);
        self.pending.push((id, doc, pointer));
        id
    }

    /// Builds every node allocated so far, and those they allocate in turn.
    fn finish(&mut self) -> std::result::Result<(), String> {
        while let Some((id, doc, pointer)) = self.pending.pop() {
            let value = self
                .value_at(doc, &pointer)
                .ok_or_else(|| format!("no schema at #{pointer}"))?;
            self.nodes[id] = self.build(doc, &pointer, value)?;
        }
        Ok(())
    }

    fn child(
        &mut self,
        doc: usize,
        pointer: &str,
        path: &[&str],
    ) -> std::result::Result<NodeId, String> {
        let mut p = pointer.to_string();
        for seg in path {
            p.push('/');
            p.push_str(&escape_pointer(seg));
        }
        Ok(self.load(doc, p))
    }

    fn build(
        &mut self,
        doc: usize,
        pointer: &str,
        value: &'a Value,
    ) -> std::result::Result<Node, String> {
        // Only branches of allOf/anyOf/oneOf are ever told apart by their JSON.
        let branch = pointer
            .rsplit('/')
            .nth(1)
            .is_some_and(|parent| ["allOf", "anyOf", "oneOf"].contains(&parent));
        let raw = branch.then(|| value.clone());
        let o = match value {
            Value::Bool(true) => {
                return Ok(Node {
                    raw: raw.clone(),
                    ..Node::bare(Kind::True)
                })
            }
            Value::Bool(false) => {
                return Ok(Node {
                    raw: raw.clone(),
                    ..Node::bare(Kind::False)
                })
            }
            Value::Object(o) => o,
            _ => {
                return Err(format!(
                    "the schema at #{pointer} is not an object or a boolean"
                ))
            }
        };
        let draft = self.docs[doc].draft;
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
        let mut node = Node {
            kind: Kind::Empty,
            id: text(draft.id_keyword()),
            title: text("title"),
            description: text("description"),
            default: o.get("default").cloned(),
            raw: raw.clone(),
        };
        if let Some(r) = o.get("$ref") {
            let r = r.as_str().ok_or("$ref must be a string")?;
            let (target_doc, target_pointer) = self.resolve_ref(doc, r)?;
            let target = self.load(target_doc, target_pointer);
            node.kind = Kind::Reference(target);
            return Ok(node);
        }
        let mut kinds: Vec<Kind> = Vec::new();
        if let Some(Value::Array(values)) = o.get("enum") {
            kinds.push(Kind::Enum(values.clone()));
        }
        for c in [Criterion::All, Criterion::Any, Criterion::One] {
            if let Some(Value::Array(subs)) = o.get(c.keyword()) {
                let mut ids = Vec::with_capacity(subs.len());
                for i in 0..subs.len() {
                    ids.push(self.child(doc, pointer, &[c.keyword(), &i.to_string()])?);
                }
                kinds.push(Kind::Combined(c, ids));
            }
        }
        if o.contains_key("not") {
            kinds.push(Kind::Not(self.child(doc, pointer, &["not"])?));
        }
        if draft != Draft::D4 {
            if let Some(c) = o.get("const") {
                kinds.push(Kind::Const(c.clone()));
            }
        }
        let (mut array_done, mut object_done, mut number_done, mut string_done) =
            (false, false, false, false);
        match o.get("type") {
            Some(Value::String(t)) => {
                kinds.push(self.typed(doc, pointer, o, t)?);
                mark_family(
                    t,
                    &mut array_done,
                    &mut object_done,
                    &mut number_done,
                    &mut string_done,
                );
            }
            Some(Value::Array(ts)) => {
                let mut ids = Vec::with_capacity(ts.len());
                for t in ts {
                    let t = t
                        .as_str()
                        .ok_or("type must be a string or an array of strings")?;
                    let kind = self.typed(doc, pointer, o, t)?;
                    ids.push(self.push(Node::bare(kind)));
                    mark_family(
                        t,
                        &mut array_done,
                        &mut object_done,
                        &mut number_done,
                        &mut string_done,
                    );
                }
                kinds.push(Kind::Combined(Criterion::Any, ids));
            }
            _ => {}
        }
        let has_any = |keys: &[&str]| keys.iter().any(|k| o.contains_key(*k));
        if !array_done && has_any(draft.array_keywords()) {
            kinds.push(self.array(doc, pointer, o)?);
        }
        if !object_done && has_any(draft.object_keywords()) {
            kinds.push(self.object(doc, pointer, o)?);
        }
        if !number_done && has_any(NUMBER_KEYWORDS) {
            kinds.push(Kind::Number(number(o, draft, false)));
        }
        if !string_done && has_any(STRING_KEYWORDS) {
            kinds.push(Kind::String(string(o)));
        }
        if draft >= Draft::D7 && has_any(&["if", "then", "else"]) {
            for k in ["if", "then", "else"] {
                if o.contains_key(k) {
                    self.child(doc, pointer, &[k])?;
                }
            }
            kinds.push(Kind::Conditional);
        }
        node.kind = match kinds.len() {
            0 => Kind::Empty,
            1 => kinds.pop().expect("one kind"),
            _ => {
                let ids = kinds
                    .into_iter()
                    .map(|k| self.push(Node::bare(k)))
                    .collect();
                Kind::Combined(Criterion::All, ids)
            }
        };
        Ok(node)
    }

    fn typed(
        &mut self,
        doc: usize,
        pointer: &str,
        o: &'a serde_json::Map<String, Value>,
        t: &str,
    ) -> std::result::Result<Kind, String> {
        let draft = self.docs[doc].draft;
        Ok(match t {
            "string" => Kind::String(string(o)),
            "integer" => Kind::Number(number(o, draft, true)),
            "number" => Kind::Number(number(o, draft, false)),
            "boolean" => Kind::Boolean,
            "null" => Kind::Null,
            "array" => self.array(doc, pointer, o)?,
            "object" => self.object(doc, pointer, o)?,
            other => return Err(format!("unknown type: [{other}]")),
        })
    }

    fn object(
        &mut self,
        doc: usize,
        pointer: &str,
        o: &'a serde_json::Map<String, Value>,
    ) -> std::result::Result<Kind, String> {
        let mut n = ObjectNode {
            additional_allowed: true,
            ..ObjectNode::default()
        };
        if let Some(Value::Object(props)) = o.get("properties") {
            for k in props.keys() {
                let id = self.child(doc, pointer, &["properties", k])?;
                n.properties.push((k.clone(), id));
            }
        }
        if let Some(Value::Object(props)) = o.get("patternProperties") {
            for k in props.keys() {
                let id = self.child(doc, pointer, &["patternProperties", k])?;
                n.pattern_properties.push((k.clone(), id));
            }
        }
        match o.get("additionalProperties") {
            Some(Value::Bool(b)) => n.additional_allowed = *b,
            Some(Value::Object(_)) => {
                n.additional_schema = Some(self.child(doc, pointer, &["additionalProperties"])?)
            }
            _ => {}
        }
        if let Some(Value::Array(req)) = o.get("required") {
            n.required = req
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
        }
        n.min_properties = as_limit(o.get("minProperties"));
        n.max_properties = as_limit(o.get("maxProperties"));
        for keyword in ["dependencies", "dependentRequired", "dependentSchemas"] {
            if let Some(Value::Object(deps)) = o.get(keyword) {
                for (k, v) in deps {
                    match v {
                        Value::Array(names) if keyword != "dependentSchemas" => {
                            n.property_dependencies.push((
                                k.clone(),
                                names
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect(),
                            ));
                        }
                        Value::Object(_) | Value::Bool(_) if keyword != "dependentRequired" => {
                            let id = self.child(doc, pointer, &[keyword, k])?;
                            n.schema_dependencies.push((k.clone(), id));
                        }
                        _ => {}
                    }
                }
            }
        }
        if o.contains_key("propertyNames") {
            self.child(doc, pointer, &["propertyNames"])?;
        }
        Ok(Kind::Object(Box::new(n)))
    }

    fn array(
        &mut self,
        doc: usize,
        pointer: &str,
        o: &'a serde_json::Map<String, Value>,
    ) -> std::result::Result<Kind, String> {
        let draft = self.docs[doc].draft;
        let mut n = ArrayNode {
            additional_allowed: true,
            ..ArrayNode::default()
        };
        // 2020-12: prefixItems is the tuple and items then covers the rest (additionalItems).
        let prefixed = draft == Draft::D202012 && o.contains_key("prefixItems");
        if prefixed {
            if let Some(Value::Array(items)) = o.get("prefixItems") {
                for i in 0..items.len() {
                    n.item_schemas.push(self.child(
                        doc,
                        pointer,
                        &["prefixItems", &i.to_string()],
                    )?);
                }
            }
        }
        match o.get("items") {
            Some(Value::Array(items)) if draft != Draft::D202012 => {
                for i in 0..items.len() {
                    n.item_schemas
                        .push(self.child(doc, pointer, &["items", &i.to_string()])?);
                }
            }
            // 2020-12: a boolean `items` only says whether items past the tuple may exist.
            Some(Value::Bool(b)) if draft == Draft::D202012 => n.additional_allowed = *b,
            Some(Value::Object(_)) if prefixed => {
                n.additional_schema = Some(self.child(doc, pointer, &["items"])?)
            }
            Some(Value::Object(_)) | Some(Value::Bool(_)) => {
                n.all_items = Some(self.child(doc, pointer, &["items"])?)
            }
            _ => {}
        }
        if draft != Draft::D202012 {
            match o.get("additionalItems") {
                Some(Value::Bool(b)) => n.additional_allowed = *b,
                Some(Value::Object(_)) => {
                    n.additional_schema = Some(self.child(doc, pointer, &["additionalItems"])?)
                }
                _ => {}
            }
        }
        if draft >= Draft::D201909 && o.contains_key("unevaluatedItems") {
            n.unevaluated = Some(self.child(doc, pointer, &["unevaluatedItems"])?);
        }
        if o.contains_key("contains") {
            self.child(doc, pointer, &["contains"])?;
        }
        n.min_items = as_limit(o.get("minItems"));
        n.max_items = as_limit(o.get("maxItems"));
        n.unique_items = o.get("uniqueItems") == Some(&Value::Bool(true));
        n.min_contains = as_limit(o.get("minContains"));
        n.max_contains = as_limit(o.get("maxContains"));
        Ok(Kind::Array(Box::new(n)))
    }

    /// (document, JSON pointer) a `$ref` in `doc` points at.
    fn resolve_ref(&self, doc: usize, r: &str) -> std::result::Result<(usize, String), String> {
        let (base, fragment) = match r.split_once('#') {
            Some((b, f)) => (b, f),
            None => (r, ""),
        };
        let target_doc = if base.is_empty() {
            doc
        } else {
            self.find_doc(doc, base, r)
                .ok_or_else(|| format!("$ref {r} names no registered reference"))?
        };
        if fragment.is_empty() {
            return Ok((target_doc, String::new()));
        }
        if fragment.starts_with('/') {
            let pointer = percent_decode(fragment);
            if self.value_at(target_doc, &pointer).is_none() {
                return Err(format!("$ref {r} points at nothing"));
            }
            return Ok((target_doc, pointer));
        }
        find_anchor(&self.docs[target_doc].value, fragment, "")
            .map(|p| (target_doc, p))
            .ok_or_else(|| format!("$ref {r} names no anchor"))
    }

    fn find_doc(&self, doc: usize, base: &str, whole: &str) -> Option<usize> {
        let by_name = |name: &str| {
            self.docs
                .iter()
                .position(|d| d.name.as_deref() == Some(name))
        };
        if let Some(i) = by_name(whole).or_else(|| by_name(base)) {
            return Some(i);
        }
        let id_of = |d: &Doc| {
            d.value
                .get(d.draft.id_keyword())
                .and_then(Value::as_str)
                .map(|s| s.trim_end_matches('#').to_string())
        };
        // Relative to the referring document's own $id.
        if let Some(own) = id_of(&self.docs[doc]) {
            if own == base {
                return Some(doc);
            }
            if let Some(dir) = own.rfind('/').map(|i| &own[..=i]) {
                let absolute = format!("{dir}{base}");
                if let Some(i) = by_name(&absolute) {
                    return Some(i);
                }
                if let Some(i) = self
                    .docs
                    .iter()
                    .position(|d| id_of(d).as_deref() == Some(absolute.as_str()))
                {
                    return Some(i);
                }
            }
        }
        if let Some(i) = self
            .docs
            .iter()
            .position(|d| id_of(d).as_deref() == Some(base))
        {
            return Some(i);
        }
        // A name given as a bare file name for a URL-shaped $ref, or the other way round.
        let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
        self.docs
            .iter()
            .position(|d| d.name.as_deref().map(last) == Some(last(base)))
    }
}

fn mark_family(t: &str, array: &mut bool, object: &mut bool, number: &mut bool, string: &mut bool) {
    match t {
        "array" => *array = true,
        "object" => *object = true,
        "integer" | "number" => *number = true,
        "string" => *string = true,
        _ => {}
    }
}

fn number(o: &serde_json::Map<String, Value>, draft: Draft, integer: bool) -> NumberNode {
    let exclusive = |k: &str| {
        if draft == Draft::D4 {
            None // a boolean modifier of minimum/maximum in draft 4
        } else {
            as_limit(o.get(k))
        }
    };
    NumberNode {
        minimum: as_limit(o.get("minimum")),
        maximum: as_limit(o.get("maximum")),
        exclusive_minimum: exclusive("exclusiveMinimum"),
        exclusive_maximum: exclusive("exclusiveMaximum"),
        multiple_of: as_limit(o.get("multipleOf")),
        integer,
    }
}

fn string(o: &serde_json::Map<String, Value>) -> StringNode {
    StringNode {
        min_length: as_limit(o.get("minLength")),
        max_length: as_limit(o.get("maxLength")),
        pattern: o.get("pattern").and_then(Value::as_str).map(str::to_string),
    }
}

/// The pointer of the subschema carrying `$anchor: name` (or a draft 4-7 `$id: "#name"`).
fn find_anchor(v: &Value, name: &str, at: &str) -> Option<String> {
    match v {
        Value::Object(o) => {
            let hash = format!("#{name}");
            let hit = o.get("$anchor").and_then(Value::as_str) == Some(name)
                || ["$id", "id"]
                    .iter()
                    .any(|k| o.get(*k).and_then(Value::as_str) == Some(hash.as_str()));
            if hit {
                return Some(at.to_string());
            }
            o.iter().find_map(|(k, child)| {
                find_anchor(child, name, &format!("{at}/{}", escape_pointer(k)))
            })
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, child)| find_anchor(child, name, &format!("{at}/{i}"))),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The parsed schema
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct JsonSchema {
    nodes: Vec<Node>,
    root: NodeId,
    canonical: String,
    normalized: String,
}

impl JsonSchema {
    /// Parses `text`; `references` are the (reference name, text) pairs of the registered
    /// schemas its `$ref`s may name.
    pub fn parse(text: &str, references: &[(String, String)]) -> Result<JsonSchema> {
        Self::parse_detailed(text, references)
            .map_err(|why| RegistryError::InvalidSchema(format!("{text}, details: {why}")))
    }

    /// Parses, failing with the reason alone.
    pub fn parse_detailed(
        text: &str,
        references: &[(String, String)],
    ) -> std::result::Result<JsonSchema, String> {
        let invalid = |why: &str| why.to_string();
        let ordered: Ordered =
            serde_json::from_str(text).map_err(|e| invalid(&format!("not JSON: {e}")))?;
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(&format!("not JSON: {e}")))?;
        if !matches!(value, Value::Object(_) | Value::Bool(_)) {
            return Err(invalid("a JSON schema must be an object or a boolean"));
        }
        let draft = Draft::of(&value).map_err(|e| invalid(&e))?;
        draft
            .meta_validate(&value)
            .map_err(|e| invalid(&format!("not a valid JSON schema: {e}")))?;
        let mut docs = vec![Doc {
            name: None,
            value,
            draft,
        }];
        for (name, reference) in references {
            // Registered references were checked when they were registered.
            let Ok(value) = serde_json::from_str::<Value>(reference) else {
                continue;
            };
            let draft = Draft::of(&value).unwrap_or(Draft::D7);
            docs.push(Doc {
                name: Some(name.clone()),
                value,
                draft,
            });
        }
        let mut loader = Loader {
            docs: &docs,
            nodes: Vec::new(),
            by_pointer: HashMap::new(),
            pending: Vec::new(),
        };
        let root = loader.load(0, String::new());
        loader.finish().map_err(|e| invalid(&e))?;
        let canonical = serde_json::to_string(&ordered).map_err(|e| invalid(&e.to_string()))?;
        let normalized =
            serde_json::to_string(&ordered.sorted()).map_err(|e| invalid(&e.to_string()))?;
        Ok(JsonSchema {
            nodes: loader.nodes,
            root,
            canonical,
            normalized,
        })
    }

    pub fn canonical(&self) -> String {
        self.canonical.clone()
    }

    /// The same JSON with every object's keys sorted.
    pub fn normalized(&self) -> String {
        self.normalized.clone()
    }

    /// Why a reader with this schema cannot read data written with `writer`: Confluent's
    /// differences from `writer` (the original) to `self` (the update) that are not compatible.
    pub fn read_problems(&self, writer: &JsonSchema) -> Vec<String> {
        differences(writer, self)
            .into_iter()
            .filter(|(change, _)| !change.compatible())
            .map(|(change, path)| {
                format!(
                    "{{errorType:'{}', description:'{}', location:'{path}'}}",
                    change.name(),
                    change.description(&path)
                )
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Differences
// ---------------------------------------------------------------------------------------------

macro_rules! changes {
    ($($variant:ident => $name:literal,)*) => {
        /// Confluent's `Difference.Type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        enum Change { $($variant,)* }
        impl Change {
            fn name(self) -> &'static str {
                match self { $(Change::$variant => $name,)* }
            }
        }
    };
}

changes! {
    IdChanged => "ID_CHANGED",
    DescriptionChanged => "DESCRIPTION_CHANGED",
    TitleChanged => "TITLE_CHANGED",
    DefaultChanged => "DEFAULT_CHANGED",
    SchemaAdded => "SCHEMA_ADDED",
    SchemaRemoved => "SCHEMA_REMOVED",
    TypeExtended => "TYPE_EXTENDED",
    TypeNarrowed => "TYPE_NARROWED",
    TypeChanged => "TYPE_CHANGED",
    MaxLengthAdded => "MAX_LENGTH_ADDED",
    MaxLengthRemoved => "MAX_LENGTH_REMOVED",
    MaxLengthIncreased => "MAX_LENGTH_INCREASED",
    MaxLengthDecreased => "MAX_LENGTH_DECREASED",
    MinLengthAdded => "MIN_LENGTH_ADDED",
    MinLengthRemoved => "MIN_LENGTH_REMOVED",
    MinLengthIncreased => "MIN_LENGTH_INCREASED",
    MinLengthDecreased => "MIN_LENGTH_DECREASED",
    PatternAdded => "PATTERN_ADDED",
    PatternRemoved => "PATTERN_REMOVED",
    PatternChanged => "PATTERN_CHANGED",
    MaximumAdded => "MAXIMUM_ADDED",
    MaximumRemoved => "MAXIMUM_REMOVED",
    MaximumIncreased => "MAXIMUM_INCREASED",
    MaximumDecreased => "MAXIMUM_DECREASED",
    MinimumAdded => "MINIMUM_ADDED",
    MinimumRemoved => "MINIMUM_REMOVED",
    MinimumIncreased => "MINIMUM_INCREASED",
    MinimumDecreased => "MINIMUM_DECREASED",
    ExclusiveMaximumAdded => "EXCLUSIVE_MAXIMUM_ADDED",
    ExclusiveMaximumRemoved => "EXCLUSIVE_MAXIMUM_REMOVED",
    ExclusiveMaximumIncreased => "EXCLUSIVE_MAXIMUM_INCREASED",
    ExclusiveMaximumDecreased => "EXCLUSIVE_MAXIMUM_DECREASED",
    ExclusiveMinimumAdded => "EXCLUSIVE_MINIMUM_ADDED",
    ExclusiveMinimumRemoved => "EXCLUSIVE_MINIMUM_REMOVED",
    ExclusiveMinimumIncreased => "EXCLUSIVE_MINIMUM_INCREASED",
    ExclusiveMinimumDecreased => "EXCLUSIVE_MINIMUM_DECREASED",
    MultipleOfAdded => "MULTIPLE_OF_ADDED",
    MultipleOfRemoved => "MULTIPLE_OF_REMOVED",
    MultipleOfExpanded => "MULTIPLE_OF_EXPANDED",
    MultipleOfReduced => "MULTIPLE_OF_REDUCED",
    MultipleOfChanged => "MULTIPLE_OF_CHANGED",
    RequiredAttributeAdded => "REQUIRED_ATTRIBUTE_ADDED",
    RequiredAttributeWithDefaultAdded => "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
    RequiredAttributeRemoved => "REQUIRED_ATTRIBUTE_REMOVED",
    MaxPropertiesAdded => "MAX_PROPERTIES_ADDED",
    MaxPropertiesRemoved => "MAX_PROPERTIES_REMOVED",
    MaxPropertiesIncreased => "MAX_PROPERTIES_INCREASED",
    MaxPropertiesDecreased => "MAX_PROPERTIES_DECREASED",
    MinPropertiesAdded => "MIN_PROPERTIES_ADDED",
    MinPropertiesRemoved => "MIN_PROPERTIES_REMOVED",
    MinPropertiesIncreased => "MIN_PROPERTIES_INCREASED",
    MinPropertiesDecreased => "MIN_PROPERTIES_DECREASED",
    AdditionalPropertiesAdded => "ADDITIONAL_PROPERTIES_ADDED",
    AdditionalPropertiesRemoved => "ADDITIONAL_PROPERTIES_REMOVED",
    AdditionalPropertiesExtended => "ADDITIONAL_PROPERTIES_EXTENDED",
    AdditionalPropertiesNarrowed => "ADDITIONAL_PROPERTIES_NARROWED",
    DependencyArrayAdded => "DEPENDENCY_ARRAY_ADDED",
    DependencyArrayRemoved => "DEPENDENCY_ARRAY_REMOVED",
    DependencyArrayExtended => "DEPENDENCY_ARRAY_EXTENDED",
    DependencyArrayNarrowed => "DEPENDENCY_ARRAY_NARROWED",
    DependencyArrayChanged => "DEPENDENCY_ARRAY_CHANGED",
    DependencySchemaAdded => "DEPENDENCY_SCHEMA_ADDED",
    DependencySchemaRemoved => "DEPENDENCY_SCHEMA_REMOVED",
    PropertyAddedToOpenContentModel => "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    PropertyWithEmptySchemaAddedToOpenContentModel => "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    RequiredPropertyAddedToUnopenContentModel => "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    RequiredPropertyWithDefaultAddedToUnopenContentModel => "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
    OptionalPropertyAddedToUnopenContentModel => "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    PropertyRemovedFromOpenContentModel => "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    PropertyWithFalseRemovedFromClosedContentModel => "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    PropertyRemovedFromClosedContentModel => "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    PropertyRemovedIsCoveredByPartiallyOpenContentModel => "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    PropertyRemovedNotCoveredByPartiallyOpenContentModel => "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    PropertyAddedIsCoveredByPartiallyOpenContentModel => "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    PropertyAddedNotCoveredByPartiallyOpenContentModel => "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    MaxItemsAdded => "MAX_ITEMS_ADDED",
    MaxItemsRemoved => "MAX_ITEMS_REMOVED",
    MaxItemsIncreased => "MAX_ITEMS_INCREASED",
    MaxItemsDecreased => "MAX_ITEMS_DECREASED",
    MinItemsAdded => "MIN_ITEMS_ADDED",
    MinItemsRemoved => "MIN_ITEMS_REMOVED",
    MinItemsIncreased => "MIN_ITEMS_INCREASED",
    MinItemsDecreased => "MIN_ITEMS_DECREASED",
    MaxContainsAdded => "MAX_CONTAINS_ADDED",
    MaxContainsRemoved => "MAX_CONTAINS_REMOVED",
    MaxContainsIncreased => "MAX_CONTAINS_INCREASED",
    MaxContainsDecreased => "MAX_CONTAINS_DECREASED",
    MinContainsAdded => "MIN_CONTAINS_ADDED",
    MinContainsRemoved => "MIN_CONTAINS_REMOVED",
    MinContainsIncreased => "MIN_CONTAINS_INCREASED",
    MinContainsDecreased => "MIN_CONTAINS_DECREASED",
    UniqueItemsAdded => "UNIQUE_ITEMS_ADDED",
    UniqueItemsRemoved => "UNIQUE_ITEMS_REMOVED",
    AdditionalItemsAdded => "ADDITIONAL_ITEMS_ADDED",
    AdditionalItemsRemoved => "ADDITIONAL_ITEMS_REMOVED",
    AdditionalItemsExtended => "ADDITIONAL_ITEMS_EXTENDED",
    AdditionalItemsNarrowed => "ADDITIONAL_ITEMS_NARROWED",
    UnevaluatedItemsAdded => "UNEVALUATED_ITEMS_ADDED",
    UnevaluatedItemsRemoved => "UNEVALUATED_ITEMS_REMOVED",
    UnevaluatedItemsExtended => "UNEVALUATED_ITEMS_EXTENDED",
    UnevaluatedItemsNarrowed => "UNEVALUATED_ITEMS_NARROWED",
    ItemAddedToOpenContentModel => "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
    ItemWithEmptySchemaAddedToOpenContentModel => "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    ItemAddedToClosedContentModel => "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
    ItemRemovedFromOpenContentModel => "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
    ItemWithFalseRemovedFromClosedContentModel => "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    ItemRemovedFromClosedContentModel => "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    ItemRemovedIsCoveredByPartiallyOpenContentModel => "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    ItemRemovedNotCoveredByPartiallyOpenContentModel => "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    ItemAddedIsCoveredByPartiallyOpenContentModel => "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    ItemAddedNotCoveredByPartiallyOpenContentModel => "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    EnumArrayExtended => "ENUM_ARRAY_EXTENDED",
    EnumArrayNarrowed => "ENUM_ARRAY_NARROWED",
    EnumArrayChanged => "ENUM_ARRAY_CHANGED",
    CombinedTypeExtended => "COMBINED_TYPE_EXTENDED",
    CombinedTypeChanged => "COMBINED_TYPE_CHANGED",
    ProductTypeExtended => "PRODUCT_TYPE_EXTENDED",
    ProductTypeNarrowed => "PRODUCT_TYPE_NARROWED",
    SumTypeExtended => "SUM_TYPE_EXTENDED",
    SumTypeNarrowed => "SUM_TYPE_NARROWED",
    CombinedTypeSubschemasChanged => "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
    NotTypeExtended => "NOT_TYPE_EXTENDED",
    NotTypeNarrowed => "NOT_TYPE_NARROWED",
    TooComplex => "SCHEMA_TOO_COMPLEX",
}

impl Change {
    /// Confluent's COMPATIBLE_CHANGES (the strict policy).
    fn compatible(self) -> bool {
        use Change::*;
        matches!(
            self,
            IdChanged
                | DescriptionChanged
                | TitleChanged
                | DefaultChanged
                | SchemaRemoved
                | TypeExtended
                | MaxLengthIncreased
                | MaxLengthRemoved
                | MinLengthDecreased
                | MinLengthRemoved
                | PatternRemoved
                | MaximumIncreased
                | MaximumRemoved
                | MinimumDecreased
                | MinimumRemoved
                | ExclusiveMaximumIncreased
                | ExclusiveMaximumRemoved
                | ExclusiveMinimumDecreased
                | ExclusiveMinimumRemoved
                | MultipleOfReduced
                | MultipleOfRemoved
                | RequiredAttributeWithDefaultAdded
                | RequiredAttributeRemoved
                | DependencyArrayNarrowed
                | DependencyArrayRemoved
                | DependencySchemaRemoved
                | MaxPropertiesIncreased
                | MaxPropertiesRemoved
                | MinPropertiesDecreased
                | MinPropertiesRemoved
                | AdditionalPropertiesAdded
                | AdditionalPropertiesExtended
                | PropertyWithEmptySchemaAddedToOpenContentModel
                | RequiredPropertyWithDefaultAddedToUnopenContentModel
                | OptionalPropertyAddedToUnopenContentModel
                | PropertyWithFalseRemovedFromClosedContentModel
                | PropertyRemovedFromOpenContentModel
                | PropertyAddedIsCoveredByPartiallyOpenContentModel
                | PropertyRemovedIsCoveredByPartiallyOpenContentModel
                | MaxItemsIncreased
                | MaxItemsRemoved
                | MinItemsDecreased
                | MinItemsRemoved
                | UniqueItemsRemoved
                | MaxContainsIncreased
                | MaxContainsRemoved
                | MinContainsDecreased
                | MinContainsRemoved
                | UnevaluatedItemsAdded
                | UnevaluatedItemsExtended
                | AdditionalItemsAdded
                | AdditionalItemsExtended
                | ItemWithEmptySchemaAddedToOpenContentModel
                | ItemAddedToClosedContentModel
                | ItemWithFalseRemovedFromClosedContentModel
                | ItemRemovedFromOpenContentModel
                | ItemAddedIsCoveredByPartiallyOpenContentModel
                | ItemRemovedIsCoveredByPartiallyOpenContentModel
                | EnumArrayExtended
                | CombinedTypeExtended
                | ProductTypeNarrowed
                | SumTypeExtended
                | NotTypeNarrowed
        )
    }

    /// Confluent's wording, with the update called "new" and the original "old".
    fn description(self, path: &str) -> String {
        use Change::*;
        let name = self.name();
        match self {
            MaximumAdded | MinimumAdded | ExclusiveMaximumAdded | ExclusiveMinimumAdded
            | MultipleOfAdded | MaxLengthAdded | MinLengthAdded | PatternAdded
            | RequiredAttributeAdded | MaxPropertiesAdded | MinPropertiesAdded
            | DependencyArrayAdded | DependencySchemaAdded | MaxItemsAdded | MinItemsAdded
            | MaxContainsAdded | MinContainsAdded | UniqueItemsAdded | AdditionalItemsRemoved
            | AdditionalPropertiesRemoved | UnevaluatedItemsRemoved => format!(
                "The keyword at path '{path}' in the new schema is not present in the old schema"
            ),
            MinLengthIncreased | MinimumIncreased | ExclusiveMinimumIncreased
            | MinPropertiesIncreased | MultipleOfExpanded | MinItemsIncreased
            | MinContainsIncreased => format!(
                "The value at path '{path}' in the new schema is more than its value in the old schema"
            ),
            MaxLengthDecreased | MaximumDecreased | MaxItemsDecreased | MaxContainsDecreased
            | ExclusiveMaximumDecreased | MaxPropertiesDecreased => format!(
                "The value at path '{path}' in the new schema is less than its value in the old schema"
            ),
            PatternChanged | MultipleOfChanged | DependencyArrayChanged => format!(
                "The value at path '{path}' is different between the new and old schema"
            ),
            AdditionalItemsNarrowed | EnumArrayNarrowed | SumTypeNarrowed
            | AdditionalPropertiesNarrowed | UnevaluatedItemsNarrowed => format!(
                "An array or combined type at path '{path}' has fewer elements in the new schema than the old schema"
            ),
            DependencyArrayExtended | ProductTypeExtended | SumTypeExtended | NotTypeExtended => {
                format!(
                    "An array or combined type at path '{path}' has more elements in the new schema than the old schema"
                )
            }
            TypeChanged | TypeNarrowed | CombinedTypeChanged | CombinedTypeSubschemasChanged
            | EnumArrayChanged => format!(
                "A type at path '{path}' is different between the new schema and the old schema"
            ),
            PropertyAddedToOpenContentModel | ItemAddedToOpenContentModel => format!(
                "The new schema has an open content model and has a property or item at path '{path}' which is missing in the old schema"
            ),
            RequiredPropertyAddedToUnopenContentModel => format!(
                "The new schema has an unopen content model and has a required property at path '{path}' which is missing in the old schema"
            ),
            PropertyRemovedFromClosedContentModel | ItemRemovedFromClosedContentModel => format!(
                "The new schema has a closed content model and is missing a property or item present at path '{path}' in the old schema"
            ),
            PropertyRemovedNotCoveredByPartiallyOpenContentModel
            | ItemRemovedNotCoveredByPartiallyOpenContentModel => format!(
                "A property or item is missing in the new schema but present at path '{path}' in the old schema and is not covered by its partially open content model"
            ),
            PropertyAddedNotCoveredByPartiallyOpenContentModel
            | ItemAddedNotCoveredByPartiallyOpenContentModel => format!(
                "The new schema has a property or item at path '{path}' which is missing in the old schema and is not covered by its partially open content model"
            ),
            SchemaAdded => format!("A schema at path '{path}' is in the new schema but not in the old schema"),
            TooComplex => format!("The schemas at path '{path}' are too complex to compare"),
            _ => format!("The schemas differ at path '{path}': {name}"),
        }
    }
}

/// Differences with their locations (`#/properties/foo`).
type Diffs = Vec<(Change, String)>;

/// Comparisons allowed for one check: combined schemas compare every pair of branches, so a
/// hostile schema could otherwise make a check take forever.
const COMPARISON_BUDGET: usize = 200_000;

struct Differ<'a> {
    original: &'a [Node],
    update: &'a [Node],
    path: Vec<String>,
    out: Vec<(Change, String)>,
    /// (original, update) pairs being compared further up: a `$ref` cycle, assumed equal.
    in_progress: HashSet<(bool, NodeId, NodeId)>,
    /// Whether `original` and `update` are swapped (inside a `not`).
    flipped: bool,
    depth: usize,
    budget: usize,
}

/// Every difference from `original` to `update`, with its location.
fn differences(original: &JsonSchema, update: &JsonSchema) -> Vec<(Change, String)> {
    let mut d = Differ {
        original: &original.nodes,
        update: &update.nodes,
        path: Vec::new(),
        out: Vec::new(),
        in_progress: HashSet::new(),
        flipped: false,
        depth: 0,
        budget: COMPARISON_BUDGET,
    };
    d.compare(Some(original.root), Some(update.root));
    d.out
}

fn all_compatible(diffs: &[(Change, String)]) -> bool {
    diffs.iter().all(|(c, _)| c.compatible())
}

fn regex_finds(pattern: &str, key: &str) -> bool {
    regex::Regex::new(pattern).is_ok_and(|r| r.is_match(key))
}

impl<'a> Differ<'a> {
    fn add(&mut self, change: Change) {
        let path = format!("#/{}", self.path.join("/"));
        self.out.push((change, path));
    }

    fn add_at(&mut self, segment: &str, change: Change) {
        self.path.push(segment.to_string());
        self.add(change);
        self.path.pop();
    }

    fn at<R>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(segment.to_string());
        let r = f(self);
        self.path.pop();
        r
    }

    /// Runs `f` collecting its differences apart (Confluent's sub-context).
    fn apart(&mut self, f: impl FnOnce(&mut Self)) -> Vec<(Change, String)> {
        let saved = std::mem::take(&mut self.out);
        f(self);
        std::mem::replace(&mut self.out, saved)
    }

    /// Runs `f` with the original and the update swapped (`not` compares them reversed).
    fn flipped(&mut self, f: impl FnOnce(&mut Self)) {
        std::mem::swap(&mut self.original, &mut self.update);
        self.flipped = !self.flipped;
        f(self);
        self.flipped = !self.flipped;
        std::mem::swap(&mut self.original, &mut self.update);
    }

    fn resolve(nodes: &[Node], mut id: NodeId) -> NodeId {
        for _ in 0..64 {
            match nodes[id].kind {
                Kind::Reference(target) => id = target,
                _ => break,
            }
        }
        id
    }

    fn compare(&mut self, o: Option<NodeId>, u: Option<NodeId>) {
        if self.depth >= MAX_DEPTH {
            return self.add(Change::TooComplex);
        }
        self.depth += 1;
        self.compare_at_depth(o, u);
        self.depth -= 1;
    }

    fn compare_at_depth(&mut self, o: Option<NodeId>, u: Option<NodeId>) {
        let (o, u) = match (o, u) {
            (None, None) => return,
            (None, Some(_)) => return self.add(Change::SchemaAdded),
            (Some(_), None) => return self.add(Change::SchemaRemoved),
            (Some(o), Some(u)) => (o, u),
        };
        if self.budget == 0 {
            return self.add(Change::TooComplex);
        }
        self.budget -= 1;
        let o = Self::resolve(self.original, o);
        let u = Self::resolve(self.update, u);
        let (on, un) = (&self.original[o], &self.update[u]);
        match (&on.kind, &un.kind) {
            (ok, Kind::Combined(criterion, subs)) if !matches!(ok, Kind::Combined(..)) => {
                if subs.len() == 1 {
                    let sub = subs[0];
                    let diffs = self.apart(|d| d.compare(Some(o), Some(sub)));
                    if all_compatible(&diffs) {
                        self.out.extend(diffs);
                        return;
                    }
                } else if matches!(criterion, Criterion::Any | Criterion::One) {
                    for sub in subs.clone() {
                        let diffs = self.apart(|d| d.compare(Some(o), Some(sub)));
                        if all_compatible(&diffs) {
                            self.out.extend(diffs);
                            self.add(Change::SumTypeExtended);
                            return;
                        }
                    }
                }
            }
            (Kind::Combined(criterion, subs), uk) if !matches!(uk, Kind::Combined(..)) => {
                if subs.len() == 1 {
                    let sub = subs[0];
                    let diffs = self.apart(|d| d.compare(Some(sub), Some(u)));
                    if all_compatible(&diffs) {
                        self.out.extend(diffs);
                        return;
                    }
                } else if *criterion == Criterion::All {
                    for sub in subs.clone() {
                        let diffs = self.apart(|d| d.compare(Some(sub), Some(u)));
                        if all_compatible(&diffs) {
                            self.out.extend(diffs);
                            self.add(Change::ProductTypeNarrowed);
                            return;
                        }
                    }
                }
            }
            _ => {}
        }
        let (on, un) = (&self.original[o], &self.update[u]);
        if on.kind.tag() != un.kind.tag() {
            if !matches!(on.kind, Kind::False) && !un.kind.is_empty_like() {
                self.add(Change::TypeChanged);
            }
            return;
        }
        if !self.in_progress.insert((self.flipped, o, u)) {
            return;
        }
        if on.id != un.id {
            self.add(Change::IdChanged);
        }
        if on.title != un.title {
            self.add(Change::TitleChanged);
        }
        if on.description != un.description {
            self.add(Change::DescriptionChanged);
        }
        if on.default != un.default {
            self.add(Change::DefaultChanged);
        }
        match (&on.kind, &un.kind) {
            (Kind::String(a), Kind::String(b)) => self.strings(a, b),
            (Kind::Number(a), Kind::Number(b)) => self.numbers(a, b),
            (Kind::Enum(a), Kind::Enum(b)) => self.enums(a, b),
            (Kind::Const(a), Kind::Const(b)) if a != b => {
                self.add_at("const", Change::EnumArrayChanged);
            }
            (Kind::Combined(ca, sa), Kind::Combined(cb, sb)) => {
                self.combined(*ca, sa, *cb, sb);
            }
            (Kind::Not(a), Kind::Not(b)) => {
                let (a, b) = (*a, *b);
                self.at("not", |d| {
                    // Reversed: the update's excluded schema must cover the original's.
                    let diffs = d.apart(|d| d.flipped(|d| d.compare(Some(b), Some(a))));
                    d.add(if all_compatible(&diffs) {
                        Change::NotTypeNarrowed
                    } else {
                        Change::NotTypeExtended
                    });
                });
            }
            (Kind::Object(a), Kind::Object(b)) => self.objects(a, b),
            (Kind::Array(a), Kind::Array(b)) => self.arrays(a, b),
            _ => {}
        }
        self.in_progress.remove(&(self.flipped, o, u));
    }

    #[allow(clippy::too_many_arguments)]
    fn limit(
        &mut self,
        keyword: &str,
        o: Option<f64>,
        u: Option<f64>,
        added: Change,
        removed: Change,
        increased: Change,
        decreased: Change,
    ) {
        match (o, u) {
            (None, Some(_)) => self.add_at(keyword, added),
            (Some(_), None) => self.add_at(keyword, removed),
            (Some(a), Some(b)) if a < b => self.add_at(keyword, increased),
            (Some(a), Some(b)) if a > b => self.add_at(keyword, decreased),
            _ => {}
        }
    }

    fn strings(&mut self, o: &StringNode, u: &StringNode) {
        use Change::*;
        self.limit(
            "maxLength",
            o.max_length,
            u.max_length,
            MaxLengthAdded,
            MaxLengthRemoved,
            MaxLengthIncreased,
            MaxLengthDecreased,
        );
        self.limit(
            "minLength",
            o.min_length,
            u.min_length,
            MinLengthAdded,
            MinLengthRemoved,
            MinLengthIncreased,
            MinLengthDecreased,
        );
        match (&o.pattern, &u.pattern) {
            (None, Some(_)) => self.add_at("pattern", PatternAdded),
            (Some(_), None) => self.add_at("pattern", PatternRemoved),
            (Some(a), Some(b)) if a != b => self.add_at("pattern", PatternChanged),
            _ => {}
        }
    }

    fn numbers(&mut self, o: &NumberNode, u: &NumberNode) {
        use Change::*;
        self.limit(
            "maximum",
            o.maximum,
            u.maximum,
            MaximumAdded,
            MaximumRemoved,
            MaximumIncreased,
            MaximumDecreased,
        );
        self.limit(
            "minimum",
            o.minimum,
            u.minimum,
            MinimumAdded,
            MinimumRemoved,
            MinimumIncreased,
            MinimumDecreased,
        );
        self.limit(
            "exclusiveMaximum",
            o.exclusive_maximum,
            u.exclusive_maximum,
            ExclusiveMaximumAdded,
            ExclusiveMaximumRemoved,
            ExclusiveMaximumIncreased,
            ExclusiveMaximumDecreased,
        );
        self.limit(
            "exclusiveMinimum",
            o.exclusive_minimum,
            u.exclusive_minimum,
            ExclusiveMinimumAdded,
            ExclusiveMinimumRemoved,
            ExclusiveMinimumIncreased,
            ExclusiveMinimumDecreased,
        );
        match (o.multiple_of, u.multiple_of) {
            (None, Some(_)) => self.add_at("multipleOf", MultipleOfAdded),
            (Some(_), None) => self.add_at("multipleOf", MultipleOfRemoved),
            (Some(a), Some(b)) if a != b => {
                // Confluent compares the integer parts.
                let (ai, bi) = (a.trunc() as i64, b.trunc() as i64);
                let change = if ai != 0 && bi % ai == 0 {
                    MultipleOfExpanded
                } else if bi != 0 && ai % bi == 0 {
                    MultipleOfReduced
                } else {
                    MultipleOfChanged
                };
                self.add_at("multipleOf", change);
            }
            _ => {}
        }
        if o.integer != u.integer {
            self.add(if o.integer {
                TypeExtended
            } else {
                TypeNarrowed
            });
        }
    }

    fn enums(&mut self, o: &[Value], u: &[Value]) {
        let covers = |big: &[Value], small: &[Value]| small.iter().all(|v| big.contains(v));
        let (o_in_u, u_in_o) = (covers(u, o), covers(o, u));
        if o_in_u && u_in_o {
            return;
        }
        self.add_at(
            "enum",
            if o_in_u {
                Change::EnumArrayExtended
            } else if u_in_o {
                Change::EnumArrayNarrowed
            } else {
                Change::EnumArrayChanged
            },
        );
    }

    /// Subschemas of a combined schema with repeats collapsed (same JSON, same schema).
    fn distinct(nodes: &[Node], subs: &[NodeId]) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = Vec::new();
        for &s in subs {
            let dup = nodes[s].raw.is_some()
                && out
                    .iter()
                    .any(|&t| nodes[t].raw.is_some() && nodes[t].raw == nodes[s].raw);
            if !dup {
                out.push(s);
            }
        }
        out
    }

    fn combined(&mut self, oc: Criterion, os: &[NodeId], uc: Criterion, us: &[NodeId]) {
        use Change::*;
        let (o_single, u_single) = (os.len() == 1, us.len() == 1);
        let criteria = if oc == uc {
            None
        } else if uc == Criterion::Any
            || (o_single && u_single)
            || (o_single && uc == Criterion::One)
            || (u_single && oc == Criterion::All)
        {
            Some(CombinedTypeExtended)
        } else {
            Some(CombinedTypeChanged)
        };
        if let Some(c) = criteria {
            self.add(c);
            if c == CombinedTypeChanged {
                return;
            }
        }
        let os = Self::distinct(self.original, os);
        let us = Self::distinct(self.update, us);
        if os.len() < us.len() {
            self.add(if uc == Criterion::All {
                ProductTypeExtended
            } else {
                SumTypeExtended
            });
        } else if os.len() > us.len() {
            self.add(if oc == Criterion::All {
                ProductTypeNarrowed
            } else {
                SumTypeNarrowed
            });
        }
        // Every compatible (original branch, update branch) pair, then a largest matching.
        let mut edges: Vec<Vec<(usize, Diffs)>> = vec![Vec::new(); os.len()];
        for (i, &a) in os.iter().enumerate() {
            let segment = format!("{}/{i}", oc.keyword());
            self.at(&segment, |d| {
                for (j, &b) in us.iter().enumerate() {
                    let diffs = d.apart(|d| d.compare(Some(a), Some(b)));
                    if all_compatible(&diffs) {
                        edges[i].push((j, diffs));
                    }
                }
            });
        }
        let matched = maximum_matching(os.len(), us.len(), &edges);
        let mut count = 0;
        for (j, i) in matched.iter().enumerate() {
            if let Some(i) = i {
                count += 1;
                if let Some((_, diffs)) = edges[*i].iter().find(|(jj, _)| *jj == j) {
                    self.out.extend(diffs.iter().cloned());
                }
            }
        }
        if count < os.len().min(us.len()) {
            self.add(CombinedTypeSubschemasChanged);
        }
    }

    fn objects(&mut self, o: &ObjectNode, u: &ObjectNode) {
        use Change::*;
        let has = |n: &ObjectNode, k: &str| n.properties.iter().any(|(p, _)| p == k);
        let prop =
            |n: &ObjectNode, k: &str| n.properties.iter().find(|(p, _)| p == k).map(|(_, id)| *id);
        // required
        self.at("required", |d| {
            for (k, _) in &o.properties {
                if !has(u, k) {
                    continue;
                }
                let (was, is) = (o.required.contains(k), u.required.contains(k));
                if was && !is {
                    d.add_at(k, RequiredAttributeRemoved);
                } else if !was && is {
                    let with_default = prop(u, k).is_some_and(|id| d.update[id].default.is_some());
                    d.add_at(
                        k,
                        if with_default {
                            RequiredAttributeWithDefaultAdded
                        } else {
                            RequiredAttributeAdded
                        },
                    );
                }
            }
        });
        // properties
        let mut keys: Vec<&String> = o.properties.iter().map(|(k, _)| k).collect();
        for (k, _) in &u.properties {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        self.at("properties", |d| {
            for k in keys {
                d.at(k, |d| d.property(o, u, k, prop(o, k), prop(u, k)));
            }
        });
        // dependencies
        self.at("dependencies", |d| {
            let mut keys: Vec<&String> = o.property_dependencies.iter().map(|(k, _)| k).collect();
            for (k, _) in &u.property_dependencies {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            let deps = |n: &ObjectNode, k: &str| -> Option<Vec<String>> {
                n.property_dependencies
                    .iter()
                    .find(|(p, _)| p == k)
                    .map(|(_, v)| v.clone())
            };
            for k in keys {
                let change = match (deps(o, k), deps(u, k)) {
                    (_, None) => Some(DependencyArrayRemoved),
                    (None, _) => Some(DependencyArrayAdded),
                    (Some(a), Some(b)) => {
                        let a_in_b = a.iter().all(|x| b.contains(x));
                        let b_in_a = b.iter().all(|x| a.contains(x));
                        match (a_in_b, b_in_a) {
                            (true, true) => None,
                            (true, false) => Some(DependencyArrayExtended),
                            (false, true) => Some(DependencyArrayNarrowed),
                            (false, false) => Some(DependencyArrayChanged),
                        }
                    }
                };
                if let Some(c) = change {
                    d.add_at(k, c);
                }
            }
            let mut keys: Vec<&String> = o.schema_dependencies.iter().map(|(k, _)| k).collect();
            for (k, _) in &u.schema_dependencies {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            let dep = |n: &ObjectNode, k: &str| {
                n.schema_dependencies
                    .iter()
                    .find(|(p, _)| p == k)
                    .map(|(_, id)| *id)
            };
            for k in keys {
                match (dep(o, k), dep(u, k)) {
                    (_, None) => d.add_at(k, DependencySchemaRemoved),
                    (None, _) => d.add_at(k, DependencySchemaAdded),
                    (a, b) => d.at(k, |d| d.compare(a, b)),
                }
            }
        });
        // additionalProperties
        self.at("additionalProperties", |d| {
            if o.additional_allowed != u.additional_allowed {
                d.add(if u.additional_allowed {
                    AdditionalPropertiesAdded
                } else {
                    AdditionalPropertiesRemoved
                });
            } else if o.additional_schema.is_none() && u.additional_schema.is_some() {
                d.add(AdditionalPropertiesNarrowed);
            } else if u.additional_schema.is_none() && o.additional_schema.is_some() {
                d.add(AdditionalPropertiesExtended);
            } else {
                d.compare(o.additional_schema, u.additional_schema);
            }
        });
        self.limit(
            "maxProperties",
            o.max_properties,
            u.max_properties,
            MaxPropertiesAdded,
            MaxPropertiesRemoved,
            MaxPropertiesIncreased,
            MaxPropertiesDecreased,
        );
        self.limit(
            "minProperties",
            o.min_properties,
            u.min_properties,
            MinPropertiesAdded,
            MinPropertiesRemoved,
            MinPropertiesIncreased,
            MinPropertiesDecreased,
        );
    }

    fn open_object(n: &ObjectNode) -> bool {
        n.pattern_properties.is_empty() && n.additional_schema.is_none() && n.additional_allowed
    }

    fn partial_object(n: &ObjectNode, key: &str) -> Option<NodeId> {
        n.pattern_properties
            .iter()
            .find(|(p, _)| regex_finds(p, key))
            .map(|(_, id)| *id)
            .or(n.additional_schema)
    }

    fn property(
        &mut self,
        o: &ObjectNode,
        u: &ObjectNode,
        key: &str,
        os: Option<NodeId>,
        us: Option<NodeId>,
    ) {
        use Change::*;
        match (os, us) {
            (Some(os), None) => {
                if Self::open_object(u) {
                    self.add(PropertyRemovedFromOpenContentModel);
                } else if let Some(partial) = Self::partial_object(u, key) {
                    let diffs = self.apart(|d| d.compare(Some(os), Some(partial)));
                    let ok = all_compatible(&diffs);
                    self.out.extend(diffs);
                    self.add(if ok {
                        PropertyRemovedIsCoveredByPartiallyOpenContentModel
                    } else {
                        PropertyRemovedNotCoveredByPartiallyOpenContentModel
                    });
                } else if matches!(self.original[os].kind, Kind::False) {
                    self.add(PropertyWithFalseRemovedFromClosedContentModel);
                } else {
                    self.add(PropertyRemovedFromClosedContentModel);
                }
            }
            (None, Some(us)) => {
                if Self::open_object(o) {
                    self.add(
                        if matches!(self.update[us].kind, Kind::Empty | Kind::True) {
                            PropertyWithEmptySchemaAddedToOpenContentModel
                        } else {
                            PropertyAddedToOpenContentModel
                        },
                    );
                } else {
                    if let Some(partial) = Self::partial_object(o, key) {
                        let diffs = self.apart(|d| d.compare(Some(partial), Some(us)));
                        let ok = all_compatible(&diffs);
                        self.out.extend(diffs);
                        self.add(if ok {
                            PropertyAddedIsCoveredByPartiallyOpenContentModel
                        } else {
                            PropertyAddedNotCoveredByPartiallyOpenContentModel
                        });
                    }
                    self.add(if u.required.iter().any(|r| r == key) {
                        if self.update[us].default.is_some() {
                            RequiredPropertyWithDefaultAddedToUnopenContentModel
                        } else {
                            RequiredPropertyAddedToUnopenContentModel
                        }
                    } else {
                        OptionalPropertyAddedToUnopenContentModel
                    });
                }
            }
            (os, us) => self.compare(os, us),
        }
    }

    fn open_array(&self, n: &ArrayNode, nodes: &[Node]) -> bool {
        n.additional_allowed
            && n.additional_schema.is_none()
            && n.unevaluated
                .is_none_or(|id| nodes[id].kind.is_empty_like())
    }

    fn partial_array(n: &ArrayNode, nodes: &[Node]) -> Option<NodeId> {
        if n.additional_schema.is_some() {
            return n.additional_schema;
        }
        if n.additional_allowed {
            if let Some(id) = n.unevaluated {
                let k = &nodes[id].kind;
                if !matches!(k, Kind::False) && !k.is_empty_like() {
                    return Some(id);
                }
            }
        }
        None
    }

    fn arrays(&mut self, o: &ArrayNode, u: &ArrayNode) {
        use Change::*;
        self.at("items", |d| d.compare(o.all_items, u.all_items));
        let common = o.item_schemas.len().min(u.item_schemas.len());
        for i in 0..common {
            let (a, b) = (o.item_schemas[i], u.item_schemas[i]);
            self.at(&format!("items/{i}"), |d| d.compare(Some(a), Some(b)));
        }
        for (i, &a) in o.item_schemas.iter().enumerate().skip(common) {
            self.at(&format!("items/{i}"), |d| {
                if d.open_array(u, d.update) {
                    d.add(ItemRemovedFromOpenContentModel);
                } else if let Some(partial) = Self::partial_array(u, d.update) {
                    let diffs = d.apart(|d| d.compare(Some(a), Some(partial)));
                    let ok = all_compatible(&diffs);
                    d.out.extend(diffs);
                    d.add(if ok {
                        ItemRemovedIsCoveredByPartiallyOpenContentModel
                    } else {
                        ItemRemovedNotCoveredByPartiallyOpenContentModel
                    });
                } else if matches!(d.original[a].kind, Kind::False) {
                    d.add(ItemWithFalseRemovedFromClosedContentModel);
                } else {
                    d.add(ItemRemovedFromClosedContentModel);
                }
            });
        }
        for (i, &b) in u.item_schemas.iter().enumerate().skip(common) {
            self.at(&format!("items/{i}"), |d| {
                if d.open_array(o, d.original) {
                    d.add(if d.update[b].kind.is_empty_like() {
                        ItemWithEmptySchemaAddedToOpenContentModel
                    } else {
                        ItemAddedToOpenContentModel
                    });
                } else if let Some(partial) = Self::partial_array(o, d.original) {
                    let diffs = d.apart(|d| d.compare(Some(partial), Some(b)));
                    let ok = all_compatible(&diffs);
                    d.out.extend(diffs);
                    d.add(if ok {
                        ItemAddedIsCoveredByPartiallyOpenContentModel
                    } else {
                        ItemAddedNotCoveredByPartiallyOpenContentModel
                    });
                } else {
                    d.add(ItemAddedToClosedContentModel);
                }
            });
        }
        self.at("additionalItems", |d| {
            if o.additional_allowed != u.additional_allowed {
                d.add(if o.additional_allowed {
                    AdditionalItemsRemoved
                } else {
                    AdditionalItemsAdded
                });
            } else if o.additional_schema.is_none() && u.additional_schema.is_some() {
                d.add(AdditionalItemsNarrowed);
            } else if u.additional_schema.is_none() && o.additional_schema.is_some() {
                d.add(AdditionalItemsExtended);
            } else {
                d.compare(o.additional_schema, u.additional_schema);
            }
        });
        if o.unevaluated.is_some() || u.unevaluated.is_some() {
            self.at("unevaluatedItems", |d| {
                let is_false = |nodes: &[Node], id: NodeId| matches!(nodes[id].kind, Kind::False);
                let is_empty = |nodes: &[Node], id: NodeId| nodes[id].kind.is_empty_like();
                match (o.unevaluated, u.unevaluated) {
                    (None, Some(b)) => d.add(if is_false(d.update, b) {
                        UnevaluatedItemsRemoved
                    } else {
                        UnevaluatedItemsNarrowed
                    }),
                    (Some(a), None) => d.add(if is_false(d.original, a) {
                        UnevaluatedItemsAdded
                    } else {
                        UnevaluatedItemsExtended
                    }),
                    (Some(a), Some(b)) => {
                        let (af, bf) = (is_false(d.original, a), is_false(d.update, b));
                        let (ae, be) = (is_empty(d.original, a), is_empty(d.update, b));
                        if af && !bf {
                            d.add(UnevaluatedItemsAdded);
                        } else if !af && bf {
                            d.add(UnevaluatedItemsRemoved);
                        } else if ae && !be {
                            d.add(UnevaluatedItemsNarrowed);
                        } else if !ae && be {
                            d.add(UnevaluatedItemsExtended);
                        } else {
                            d.compare(Some(a), Some(b));
                        }
                    }
                    (None, None) => {}
                }
            });
        }
        self.limit(
            "maxItems",
            o.max_items,
            u.max_items,
            MaxItemsAdded,
            MaxItemsRemoved,
            MaxItemsIncreased,
            MaxItemsDecreased,
        );
        self.limit(
            "minItems",
            o.min_items,
            u.min_items,
            MinItemsAdded,
            MinItemsRemoved,
            MinItemsIncreased,
            MinItemsDecreased,
        );
        if o.unique_items != u.unique_items {
            self.add_at(
                "uniqueItems",
                if o.unique_items {
                    UniqueItemsRemoved
                } else {
                    UniqueItemsAdded
                },
            );
        }
        self.limit(
            "maxContains",
            o.max_contains.map(f64::trunc),
            u.max_contains.map(f64::trunc),
            MaxContainsAdded,
            MaxContainsRemoved,
            MaxContainsIncreased,
            MaxContainsDecreased,
        );
        self.limit(
            "minContains",
            o.min_contains.map(f64::trunc),
            u.min_contains.map(f64::trunc),
            MinContainsAdded,
            MinContainsRemoved,
            MinContainsIncreased,
            MinContainsDecreased,
        );
    }
}

/// A largest matching of a bipartite graph (left `0..left`, right `0..right`, `edges[l]` the
/// right vertices `l` may pair with): for each right vertex, its left partner.
fn maximum_matching<T>(left: usize, right: usize, edges: &[Vec<(usize, T)>]) -> Vec<Option<usize>> {
    fn augment<T>(
        l: usize,
        edges: &[Vec<(usize, T)>],
        seen: &mut [bool],
        partner: &mut [Option<usize>],
    ) -> bool {
        for (r, _) in &edges[l] {
            if seen[*r] {
                continue;
            }
            seen[*r] = true;
            if partner[*r].is_none_or(|other| augment(other, edges, seen, partner)) {
                partner[*r] = Some(l);
                return true;
            }
        }
        false
    }
    let mut partner = vec![None; right];
    for l in 0..left {
        let mut seen = vec![false; right];
        augment(l, edges, &mut seen, &mut partner);
    }
    partner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> JsonSchema {
        JsonSchema::parse(text, &[]).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Whether a reader with `new` may read data written with `old` (BACKWARD).
    fn backward(old: &str, new: &str) -> bool {
        parse(new).read_problems(&parse(old)).is_empty()
    }

    fn kinds(old: &str, new: &str) -> Vec<&'static str> {
        differences(&parse(old), &parse(new))
            .into_iter()
            .map(|(c, _)| c.name())
            .collect()
    }

    #[test]
    fn rejects_what_is_not_a_schema() {
        for bad in [
            "{",
            "42",
            r#""string""#,
            r#"{"type": 5}"#,
            r#"{"type": "text"}"#,
            r#"{"minLength": -1}"#,
            r#"{"$schema": "http://example.com/my-draft", "type": "string"}"#,
            r##"{"$ref": "#/definitions/missing"}"##,
            r#"{"$ref": "other.json"}"#,
        ] {
            match JsonSchema::parse(bad, &[]) {
                Err(RegistryError::InvalidSchema(why)) => assert!(!why.is_empty()),
                other => panic!("{bad} should be invalid, got {other:?}"),
            }
        }
        parse("true");
        parse("{}");
        parse(
            r#"{"$schema": "http://json-schema.org/draft-04/schema#", "id": "x", "type": "integer", "minimum": 1, "exclusiveMinimum": true}"#,
        );
        parse(r#"{"$schema": "http://json-schema.org/draft-06/schema#", "const": 1}"#);
        parse(
            r#"{"$schema": "https://json-schema.org/draft/2019-09/schema", "type": "array", "items": [{"type": "string"}]}"#,
        );
        parse(
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{"type": "string"}], "items": false}"#,
        );
    }

    #[test]
    fn canonical_keeps_key_order_and_normalized_sorts_it() {
        let s = parse("{ \"type\" : \"object\",\n \"properties\": {\"b\": {\"type\": \"string\"}, \"a\": {}} }");
        assert_eq!(
            s.canonical(),
            r#"{"type":"object","properties":{"b":{"type":"string"},"a":{}}}"#
        );
        assert_eq!(
            s.normalized(),
            r#"{"properties":{"a":{},"b":{"type":"string"}},"type":"object"}"#
        );
    }

    #[test]
    fn references_resolve_by_name_and_are_compared_through() {
        let refs = |t: &str| vec![("customer.json".to_string(), t.to_string())];
        let order = r#"{"type": "object", "properties": {"customer": {"$ref": "customer.json"}}}"#;
        let v1 = JsonSchema::parse(
            order,
            &refs(r#"{"type": "object", "properties": {"id": {"type": "integer"}}}"#),
        )
        .unwrap();
        let v2 = JsonSchema::parse(
            order,
            &refs(r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#),
        )
        .unwrap();
        assert!(v1.read_problems(&v1).is_empty());
        let problems = v2.read_problems(&v1);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("TYPE_CHANGED"), "{problems:?}");
        assert!(
            problems[0].contains("#/properties/customer/properties/id"),
            "{problems:?}"
        );
        // A pointer into a named reference.
        JsonSchema::parse(
            r#"{"$ref": "defs.json#/definitions/id"}"#,
            &[(
                "defs.json".into(),
                r#"{"definitions": {"id": {"type": "string"}}}"#.into(),
            )],
        )
        .unwrap();
    }

    #[test]
    fn recursive_schemas_terminate() {
        let tree = r##"{"type": "object", "properties": {"value": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}}}"##;
        assert!(backward(tree, tree));
        let changed = tree.replace(
            r#""value": {"type": "string"}"#,
            r#""value": {"type": "number"}"#,
        );
        assert!(!backward(tree, &changed));
    }

    #[test]
    fn string_rules() {
        let s = |extra: &str| format!(r#"{{"type": "string"{extra}}}"#);
        assert!(backward(
            &s(r#", "maxLength": 10"#),
            &s(r#", "maxLength": 12"#)
        ));
        assert!(!backward(
            &s(r#", "maxLength": 12"#),
            &s(r#", "maxLength": 10"#)
        ));
        assert!(!backward(
            &s(r#", "minLength": 10"#),
            &s(r#", "minLength": 11"#)
        ));
        assert!(backward(&s(r#", "minLength": 11"#), &s("")));
        assert!(backward(&s(r#", "pattern": "^a""#), &s("")));
        assert!(!backward(&s(""), &s(r#", "pattern": "^a""#)));
        assert!(!backward(
            &s(r#", "pattern": "^a""#),
            &s(r#", "pattern": "^b""#)
        ));
        assert!(!backward(&s(""), r#"{"type": "number"}"#));
        assert_eq!(kinds(&s(""), r#"{"type": "number"}"#), vec!["TYPE_CHANGED"]);
    }

    #[test]
    fn number_rules() {
        let n = |t: &str, extra: &str| format!(r#"{{"type": "{t}"{extra}}}"#);
        assert!(backward(
            &n("number", r#", "maximum": 10"#),
            &n("number", r#", "maximum": 11"#)
        ));
        assert!(!backward(
            &n("number", r#", "maximum": 11"#),
            &n("number", r#", "maximum": 10"#)
        ));
        assert!(!backward(
            &n("number", r#", "minimum": 1"#),
            &n("number", r#", "minimum": 2"#)
        ));
        assert!(backward(
            &n("number", r#", "exclusiveMinimum": 2"#),
            &n("number", "")
        ));
        assert!(backward(
            &n("number", r#", "multipleOf": 10"#),
            &n("number", r#", "multipleOf": 2"#)
        ));
        assert!(!backward(
            &n("number", r#", "multipleOf": 2"#),
            &n("number", r#", "multipleOf": 10"#)
        ));
        assert!(!backward(
            &n("number", r#", "multipleOf": 10"#),
            &n("number", r#", "multipleOf": 11"#)
        ));
        assert_eq!(
            kinds(&n("number", ""), &n("integer", "")),
            vec!["TYPE_NARROWED"]
        );
        assert!(backward(&n("integer", ""), &n("number", "")));
    }

    #[test]
    fn enum_const_and_not_rules() {
        assert!(backward(
            r#"{"enum": ["red"]}"#,
            r#"{"enum": ["red", "blue"]}"#
        ));
        assert!(!backward(
            r#"{"enum": ["red", "blue"]}"#,
            r#"{"enum": ["red"]}"#
        ));
        assert!(!backward(r#"{"enum": ["red"]}"#, r#"{"enum": ["blue"]}"#));
        // An enum beside a type is a synthetic allOf; dropping the enum only widens.
        assert!(backward(
            r#"{"type": "string", "enum": ["red"]}"#,
            r#"{"type": "string"}"#
        ));
        assert!(!backward(r#"{"const": 1}"#, r#"{"const": 2}"#));
        assert!(backward(
            r#"{"not": {"type": "number"}}"#,
            r#"{"not": {"type": "integer"}}"#
        ));
        assert!(!backward(
            r#"{"not": {"type": "integer"}}"#,
            r#"{"not": {"type": "number"}}"#
        ));
    }

    #[test]
    fn combined_rules() {
        let one_of = r#"{"oneOf": [{"type": "string"}, {"type": "number"}]}"#;
        assert!(backward(r#"{"type": "string"}"#, one_of));
        assert!(backward(r#"{"oneOf": [{"type": "string"}]}"#, one_of));
        assert!(!backward(one_of, r#"{"oneOf": [{"type": "string"}]}"#));
        assert!(backward(
            r#"{"type": ["object"]}"#,
            r#"{"type": ["object", "array"]}"#
        ));
        assert!(backward(
            r#"{"allOf": [{"type": "string"}]}"#,
            r#"{"anyOf": [{"type": "string"}]}"#
        ));
        assert!(!backward(
            r#"{"anyOf": [{"type": "string"}]}"#,
            r#"{"allOf": [{"type": "number"}, {"type": "string"}]}"#
        ));
        assert!(backward(
            r#"{"allOf": [{"type": "number"}, {"type": "string"}]}"#,
            r#"{"oneOf": [{"type": "string"}]}"#
        ));
        // Branch order does not matter, repeats collapse.
        assert!(backward(
            r#"{"allOf": [{"enum": ["a"]}, {"type": "string"}, {"maxLength": 5}]}"#,
            r#"{"allOf": [{"maxLength": 5}, {"enum": ["a"]}, {"type": "string"}]}"#
        ));
        assert!(backward(
            r#"{"allOf": [{"type": "string"}, {"type": "string"}]}"#,
            r#"{"allOf": [{"type": "string"}]}"#
        ));
        assert_eq!(
            kinds(
                r#"{"allOf": [{"type": "string"}, {"enum": ["red"]}]}"#,
                r#"{"allOf": [{"type": "string"}, {"enum": ["blue"]}]}"#
            ),
            vec!["COMBINED_TYPE_SUBSCHEMAS_CHANGED"]
        );
    }

    #[test]
    fn object_content_model_rules() {
        // Open content model: any property may have been written, so adding one is unsafe.
        assert!(!backward(
            r#"{"properties": {}}"#,
            r#"{"properties": {"a": {"type": "string"}}}"#
        ));
        assert!(backward(
            r#"{"properties": {}}"#,
            r#"{"properties": {"a": {}}}"#
        ));
        assert!(backward(
            r#"{"properties": {"a": {"type": "string"}}}"#,
            r#"{"properties": {}}"#
        ));
        // Closed: optional additions are fine, required ones need a default.
        let closed = r#"{"properties": {"a": {"type": "string"}}, "additionalProperties": false}"#;
        assert!(backward(
            closed,
            r#"{"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "additionalProperties": false}"#
        ));
        assert!(!backward(
            closed,
            r#"{"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["b"], "additionalProperties": false}"#
        ));
        assert!(backward(
            closed,
            r#"{"properties": {"a": {"type": "string"}, "b": {"type": "string", "default": "x"}}, "required": ["b"], "additionalProperties": false}"#
        ));
        assert!(!backward(closed, r#"{"additionalProperties": false}"#));
        assert!(backward(
            r#"{"properties": {"a": false}, "additionalProperties": false}"#,
            r#"{"additionalProperties": false}"#
        ));
        // Partially open: covered by the additional schema or a pattern.
        let partial = r#"{"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}"#;
        assert!(backward(
            partial,
            r#"{"properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "additionalProperties": {"type": "string"}}"#
        ));
        assert!(!backward(
            partial,
            r#"{"properties": {"a": {"type": "string"}, "b": {"type": "number"}}, "additionalProperties": {"type": "string"}}"#
        ));
        assert!(backward(
            r#"{"additionalProperties": false, "patternProperties": {"^I_": {"type": "integer"}}}"#,
            r#"{"properties": {"I_1": {"type": "number"}}, "additionalProperties": false, "patternProperties": {"^I_": {"type": "integer"}}}"#
        ));
        // additionalProperties and required.
        assert!(!backward(
            r#"{"additionalProperties": true}"#,
            r#"{"additionalProperties": false}"#
        ));
        assert!(backward(
            r#"{"additionalProperties": false}"#,
            r#"{"additionalProperties": true}"#
        ));
        assert!(!backward(
            r#"{"additionalProperties": {"type": "string"}}"#,
            r#"{"additionalProperties": {"type": "number"}}"#
        ));
        assert!(backward(
            r#"{"properties": {"a": {}}, "required": ["a"]}"#,
            r#"{"properties": {"a": {}}}"#
        ));
        assert!(!backward(
            r#"{"properties": {"a": {}}}"#,
            r#"{"properties": {"a": {}}, "required": ["a"]}"#
        ));
        assert!(!backward(
            r#"{"minProperties": 1}"#,
            r#"{"minProperties": 2}"#
        ));
        assert!(backward(
            r#"{"maxProperties": 1}"#,
            r#"{"maxProperties": 2}"#
        ));
    }

    #[test]
    fn dependency_rules() {
        let props = r#""properties": {"a": {}, "b": {}}"#;
        assert!(!backward(
            &format!(r#"{{{props}, "dependencies": {{"a": ["b"]}}}}"#),
            &format!(r#"{{{props}, "dependencies": {{"b": ["a"]}}}}"#)
        ));
        assert!(backward(
            &format!(r#"{{{props}, "dependencies": {{"a": ["b"]}}}}"#),
            &format!("{{{props}}}")
        ));
        assert!(!backward(
            r#"{"dependencies": {"a": {"type": "string"}}}"#,
            r#"{"dependencies": {"a": {"type": "number"}}}"#
        ));
        assert!(backward(
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "dependentSchemas": {"a": {"type": "string"}}}"#,
            r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "dependentSchemas": {}}"#
        ));
    }

    #[test]
    fn array_rules() {
        assert!(!backward(
            r#"{"type": "array"}"#,
            r#"{"type": "array", "items": {"type": "string"}}"#
        ));
        assert!(backward(
            r#"{"type": "array", "items": {"type": "string"}}"#,
            r#"{"type": "array"}"#
        ));
        assert!(!backward(
            r#"{"type": "array", "maxItems": 2}"#,
            r#"{"type": "array", "maxItems": 1}"#
        ));
        assert!(backward(
            r#"{"type": "array", "uniqueItems": true}"#,
            r#"{"type": "array"}"#
        ));
        assert!(!backward(
            r#"{"type": "array"}"#,
            r#"{"type": "array", "uniqueItems": true}"#
        ));
        // Tuples: closed (additionalItems false), open, and partially open.
        let tuple =
            |items: &str, extra: &str| format!(r#"{{"type": "array", "items": [{items}]{extra}}}"#);
        assert!(backward(
            &tuple(r#"{"type": "string"}"#, r#", "additionalItems": false"#),
            &tuple(
                r#"{"type": "string"}, {"type": "number"}"#,
                r#", "additionalItems": false"#
            )
        ));
        assert!(backward(
            &tuple(r#"{"type": "string"}, {"type": "number"}"#, ""),
            &tuple(r#"{"type": "string"}"#, "")
        ));
        assert!(!backward(
            &tuple(r#"{"type": "string"}"#, ""),
            &tuple(r#"{"type": "string"}, {"type": "number"}"#, "")
        ));
        assert!(backward(
            &tuple(
                r#"{"type": "string"}"#,
                r#", "additionalItems": {"type": "string"}"#
            ),
            &tuple(
                r#"{"type": "string"}, {"type": "string"}"#,
                r#", "additionalItems": {"type": "string"}"#
            )
        ));
        assert!(!backward(
            r#"{"additionalItems": true}"#,
            r#"{"additionalItems": false}"#
        ));
        // 2020-12: prefixItems is the tuple, items what follows it.
        let d2020 = |body: &str| {
            format!(
                r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array", {body}}}"#
            )
        };
        assert!(backward(
            &d2020(r#""prefixItems": [{"type": "string"}, {"type": "number"}], "items": false"#),
            &d2020(r#""prefixItems": [{"type": "string"}], "items": {"type": "number"}"#)
        ));
        assert!(!backward(
            &d2020(
                r#""prefixItems": [{"type": "string"}], "unevaluatedItems": {"type": "string"}"#
            ),
            &d2020(
                r#""prefixItems": [{"type": "string"}, {"type": "number"}], "unevaluatedItems": {"type": "string"}"#
            )
        ));
        let items = |v: &str| {
            format!(
                r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema", "items": {v}}}"#
            )
        };
        assert!(!backward(&items("true"), &items("false")));
        assert!(backward(&items("false"), &items("true")));
        assert!(!backward(
            &d2020(r#""contains": {"type": "number"}, "minContains": 1"#),
            &d2020(r#""contains": {"type": "number"}, "minContains": 2"#)
        ));
        assert!(backward(
            &d2020(r#""contains": {"type": "number"}, "minContains": 2"#),
            &d2020(r#""contains": {"type": "number"}, "minContains": 1"#)
        ));
    }

    #[test]
    fn annotations_and_empty_schemas_are_compatible() {
        assert!(backward(
            r#"{"title": "a", "description": "x", "default": 1}"#,
            r#"{"title": "b", "description": "y", "default": 2}"#
        ));
        assert!(backward(r#"{"$id": "a"}"#, r#"{"$id": "b"}"#));
        assert!(backward(
            r#"{"type": "object", "properties": {"a": {}}}"#,
            "{}"
        ));
        assert!(backward(r#"{"type": "string"}"#, "true"));
        assert!(backward("false", r#"{"type": "string"}"#));
        assert!(backward(
            r##"{"$ref": "#/definitions/s", "definitions": {"s": {"type": "string"}}}"##,
            r#"{"type": "string"}"#
        ));
    }

    #[test]
    fn every_incompatible_change_is_described() {
        let problems = parse(r#"{"type": "array", "uniqueItems": true, "maxItems": 3}"#)
            .read_problems(&parse(r#"{"type": "array"}"#));
        assert_eq!(problems.len(), 2, "{problems:?}");
        for p in &problems {
            assert!(
                p.contains("in the new schema is not present in the old schema"),
                "{p}"
            );
        }
    }

    #[test]
    fn messages_name_the_change_and_where() {
        let problems = parse(r#"{"properties": {"foo": {"type": "number"}}}"#)
            .read_problems(&parse(r#"{"properties": {"foo": {"type": "string"}}}"#));
        assert_eq!(
            problems,
            vec!["{errorType:'TYPE_CHANGED', description:'A type at path '#/properties/foo' is different between the new schema and the old schema', location:'#/properties/foo'}".to_string()]
        );
    }

    #[test]
    fn deep_ref_chains_load_and_compare_within_a_small_stack() {
        // A chain of definitions, each holding the next: loading and comparing both recurse.
        let chain = |n: usize, leaf: &str| {
            let mut defs = Vec::new();
            for i in 0..n {
                defs.push(format!(
                    r##""d{i}": {{"type": "object", "properties": {{"next": {{"$ref": "#/definitions/d{}"}}}}}}"##,
                    i + 1
                ));
            }
            defs.push(format!(r#""d{n}": {{"type": "{leaf}"}}"#));
            format!(
                r##"{{"$ref": "#/definitions/d0", "definitions": {{{}}}}}"##,
                defs.join(", ")
            )
        };
        let run = move || {
            let ok = chain(150, "string");
            assert!(backward(&ok, &ok));
            assert!(!backward(&ok, &chain(150, "number")));
            // Deeper than comparing may go: refused as too complex, not a crash.
            let deep = chain(1000, "string");
            let problems = parse(&deep).read_problems(&parse(&deep));
            assert!(
                problems.iter().any(|p| p.contains("SCHEMA_TOO_COMPLEX")),
                "{problems:?}"
            );
            // The same through combined branches and array items.
            let branchy = deep
                .replace(
                    r#""type": "object", "properties": {"next": "#,
                    r#""anyOf": [{"type": "null"}, {"type": "array", "items": "#,
                )
                .replace("}}}, \"d", "}}]}, \"d");
            // (inside branches the cut-off makes no branch match: still refused, no crash).
            assert!(!parse(&branchy).read_problems(&parse(&branchy)).is_empty());
        };
        // Tokio's worker threads have 2 MiB stacks.
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }
}
