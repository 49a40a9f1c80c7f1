//! A FHIRPath engine for the invariants of StructureDefinitions.
//!
//! Why our own: the two Rust crates did not fit (checked May 2026). `octofhir-fhirpath`
//! 0.5.1 needs rustc 1.98 (we build with 1.95) and evaluates asynchronously on tokio;
//! `helios-fhirpath` 0.2.7 pins `serde =1.0.224` and `serde_json =1.0.144` (we are on
//! 1.0.229 / 1.0.154) and pulls in axum, reqwest, tokio and a generated R4 model, too much
//! for CI's two cores. The constraints of R4 use a small part of the language, so this module
//! implements that part over `serde_json` values, without copying them.
//!
//! Expressions are parsed once at load ([`Expression::compile`]); literal regexes of
//! `matches()` are compiled then too. Evaluation walks the JSON by reference.
//!
//! What is typed and what is not: the engine sees JSON, not a typed model. A choice element's
//! type comes from its JSON name (`valueQuantity` is a Quantity), a resource's from
//! `resourceType`; otherwise primitives are typed by their JSON form (a string may be any
//! string-like type). Strings that are both FHIR dates compare as dates, with partial
//! precision (`2024` vs `2024-03-15` is unknown, so empty).

mod eval;
mod parse;

use serde_json::{Map, Value};
use smallvec::SmallVec;

pub use eval::{Env, Item, Node, Terminology};
use parse::Expr;

/// The FHIR types a choice element (`value[x]`) can take, as JSON name suffix and type code.
pub const CHOICE_TYPES: &[(&str, &str)] = &[
    ("Base64Binary", "base64Binary"),
    ("Boolean", "boolean"),
    ("Canonical", "canonical"),
    ("Code", "code"),
    ("Date", "date"),
    ("DateTime", "dateTime"),
    ("Decimal", "decimal"),
    ("Id", "id"),
    ("Instant", "instant"),
    ("Integer", "integer"),
    ("Markdown", "markdown"),
    ("Oid", "oid"),
    ("PositiveInt", "positiveInt"),
    ("String", "string"),
    ("Time", "time"),
    ("UnsignedInt", "unsignedInt"),
    ("Uri", "uri"),
    ("Url", "url"),
    ("Uuid", "uuid"),
    ("Address", "Address"),
    ("Age", "Age"),
    ("Annotation", "Annotation"),
    ("Attachment", "Attachment"),
    ("CodeableConcept", "CodeableConcept"),
    ("Coding", "Coding"),
    ("ContactPoint", "ContactPoint"),
    ("Count", "Count"),
    ("Distance", "Distance"),
    ("Duration", "Duration"),
    ("HumanName", "HumanName"),
    ("Identifier", "Identifier"),
    ("Money", "Money"),
    ("Period", "Period"),
    ("Quantity", "Quantity"),
    ("Range", "Range"),
    ("Ratio", "Ratio"),
    ("Reference", "Reference"),
    ("SampledData", "SampledData"),
    ("Signature", "Signature"),
    ("Timing", "Timing"),
    ("ContactDetail", "ContactDetail"),
    ("Contributor", "Contributor"),
    ("DataRequirement", "DataRequirement"),
    ("Expression", "Expression"),
    ("ParameterDefinition", "ParameterDefinition"),
    ("RelatedArtifact", "RelatedArtifact"),
    ("TriggerDefinition", "TriggerDefinition"),
    ("UsageContext", "UsageContext"),
    ("Dosage", "Dosage"),
    ("Meta", "Meta"),
];

/// The type code of a choice element's JSON name suffix (`DateTime` → `dateTime`).
pub fn choice_type(suffix: &str) -> Option<&'static str> {
    CHOICE_TYPES
        .iter()
        .find(|(name, _)| *name == suffix)
        .map(|(_, code)| *code)
}

/// The functions the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Empty,
    Exists,
    Not,
    Count,
    HasValue,
    Children,
    Descendants,
    Where,
    Select,
    All,
    First,
    Last,
    Tail,
    Single,
    Distinct,
    IsDistinct,
    Trace,
    StartsWith,
    EndsWith,
    Contains,
    Substring,
    Length,
    Upper,
    Lower,
    ToString,
    ToInteger,
    Iif,
    MemberOf,
    Resolve,
    Extension,
    HtmlChecks,
    Intersect,
    Combine,
    Union,
    Exclude,
    Today,
    Now,
}

impl Function {
    fn named(name: &str) -> Option<Function> {
        use Function::*;
        Some(match name {
            "empty" => Empty,
            "exists" => Exists,
            "not" => Not,
            "count" => Count,
            "hasValue" => HasValue,
            "children" => Children,
            "descendants" => Descendants,
            "where" => Where,
            "select" => Select,
            "all" => All,
            "first" => First,
            "last" => Last,
            "tail" => Tail,
            "single" => Single,
            "distinct" => Distinct,
            "isDistinct" => IsDistinct,
            "trace" => Trace,
            "startsWith" => StartsWith,
            "endsWith" => EndsWith,
            "contains" => Contains,
            "substring" => Substring,
            "length" => Length,
            "upper" => Upper,
            "lower" => Lower,
            "toString" => ToString,
            "toInteger" => ToInteger,
            "iif" => Iif,
            "memberOf" => MemberOf,
            "resolve" => Resolve,
            "extension" => Extension,
            "htmlChecks" => HtmlChecks,
            "intersect" => Intersect,
            "combine" => Combine,
            "union" => Union,
            "exclude" => Exclude,
            "today" => Today,
            "now" => Now,
            _ => return None,
        })
    }

    /// Functions whose argument is evaluated once per input item, with `$this` set.
    fn iterates(self) -> bool {
        matches!(
            self,
            Function::Where | Function::Select | Function::All | Function::Exists
        )
    }
}

/// A parsed FHIRPath expression.
#[derive(Debug, Clone)]
pub struct Expression {
    expr: Expr,
}

impl Expression {
    pub fn compile(text: &str) -> Result<Expression, String> {
        Ok(Expression {
            expr: parse::parse(text)?,
        })
    }

    /// The expression's value on `context` (an element of `env`'s resource).
    pub fn evaluate<'a>(
        &'a self,
        context: Node<'a>,
        env: &Env<'a>,
    ) -> Result<Vec<Item<'a>>, String> {
        eval::evaluate(&self.expr, context, env).map(SmallVec::into_vec)
    }

    /// Whether an invariant holds on `context`: `true`, or a non-empty non-boolean result.
    /// An empty result fails, as in HL7's validator (`code.exists() implies system = %ucum`
    /// without a system is empty: drt-1 is broken).
    pub fn holds<'a>(&'a self, context: Node<'a>, env: &Env<'a>) -> Result<bool, String> {
        let result = eval::evaluate(&self.expr, context, env)?;
        Ok(match result.as_slice() {
            [Item::Bool(value)] => *value,
            other => !other.is_empty(),
        })
    }
}

/// A member of a JSON object (`None` for anything else).
pub fn field<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Object(object) => get(object, key),
        _ => None,
    }
}

/// `object.get(key)`. FHIR objects have a handful of members: comparing their keys costs
/// less than SipHashing the wanted one for the map's index, on a lookup that the walk and
/// the invariants make for nearly every value.
pub fn get<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if object.len() > 8 {
        return object.get(key);
    }
    object.iter().find_map(|(k, v)| (k == key).then_some(v))
}

/// A resource's root node, for [`Env`] and as an invariant's context.
pub fn resource_node(resource: &Value) -> Node<'_> {
    Node {
        value: Some(resource),
        shadow: None,
        type_name: resource.get("resourceType").and_then(Value::as_str),
    }
}

#[cfg(test)]
mod tests;
