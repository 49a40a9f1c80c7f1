//! Where each supported search parameter lives in the relational projection.

use super::query::Modifier;

/// The FHIR search parameter types this server evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Token,
    Date,
    Reference,
    Quantity,
    Uri,
}

impl ParamType {
    pub fn parse(text: &str) -> Option<ParamType> {
        Some(match text {
            "string" => ParamType::String,
            "token" => ParamType::Token,
            "date" => ParamType::Date,
            "reference" => ParamType::Reference,
            "quantity" => ParamType::Quantity,
            "uri" => ParamType::Uri,
            _ => return None,
        })
    }
}

/// The indexed columns or child table behind a parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Index {
    /// The resource id (`_id`).
    Id,
    /// A code column of the type's table; the code system when the element has a fixed one.
    Code {
        column: &'static str,
        system: Option<&'static str>,
    },
    /// A boolean column (`active`, `deceased`).
    Flag(&'static str),
    /// `resource_identifier`.
    Identifier,
    /// `resource_coding` rows of this parameter.
    Coding,
    /// `patient_telecom`, optionally of one ContactPoint system.
    Telecom(Option<&'static str>),
    /// `resource_string` rows of this parameter.
    Strings,
    /// `resource_string` rows of several parameters, the first one its own: `name` searches
    /// the whole-name rows and the `family` and `given` rows, which are not stored twice.
    StringsOf(&'static [&'static str]),
    /// Like `StringsOf`, but the first parameter's word rows begin with every prefix of the
    /// others (`name`: the whole name, also written from family and given when `text` says
    /// otherwise), so a prefix or `:contains` search reads them alone
    /// ([`SearchParam::string_rows`]).
    WholeOf(&'static [&'static str]),
    /// Inclusive UTC timestamp range columns; a missing end means "still going on".
    Instants {
        start: &'static str,
        end: &'static str,
    },
    /// Inclusive calendar-date range columns (birthDate).
    Dates {
        start: &'static str,
        end: &'static str,
    },
    /// `resource_reference` rows of this parameter (target types come from the official
    /// definition).
    References,
    /// `resource_reference` rows of another parameter whose target is of one type
    /// (`patient` → `subject` rows that point at a Patient), so the rows are not stored twice.
    ReferencesOf {
        param: &'static str,
        target: &'static str,
    },
    /// A numeric column with its unit code column.
    Quantity {
        value: &'static str,
        unit: &'static str,
    },
}

/// A supported search parameter of one resource type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchParam {
    pub code: &'static str,
    pub kind: ParamType,
    pub index: Index,
}

impl SearchParam {
    pub const fn new(code: &'static str, kind: ParamType, index: Index) -> SearchParam {
        SearchParam { code, kind, index }
    }

    /// The parameter whose rows a string search with `modifier` reads: a `WholeOf` parameter
    /// narrows to its whole-string rows, which hold every part, unless `:exact` compares the
    /// parts themselves.
    pub fn string_rows(self, modifier: Modifier) -> SearchParam {
        match self.index {
            Index::WholeOf(codes) if modifier != Modifier::Exact => {
                SearchParam::new(codes[0], self.kind, Index::Strings)
            }
            _ => self,
        }
    }

    /// The `resource_reference` rows behind a reference parameter.
    pub fn reference_rows(&self) -> Option<ReferenceRows> {
        match self.index {
            Index::References => Some(ReferenceRows {
                param: self.code,
                target: None,
            }),
            Index::ReferencesOf { param, target } => Some(ReferenceRows {
                param,
                target: Some(target),
            }),
            _ => None,
        }
    }
}

/// `resource_reference` rows of `param`, limited to targets of one type when `target` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceRows {
    pub param: &'static str,
    pub target: Option<&'static str>,
}

/// `patient` of a type whose `subject` may be a Patient: the `subject` rows of Patient targets.
pub const PATIENT_OF_SUBJECT: SearchParam = SearchParam::new(
    "patient",
    ParamType::Reference,
    Index::ReferencesOf {
        param: "subject",
        target: "Patient",
    },
);

/// Parameters every type supports, from `Resource`.
pub const COMMON: &[SearchParam] = &[
    SearchParam::new("_id", ParamType::Token, Index::Id),
    SearchParam::new(
        "_lastUpdated",
        ParamType::Date,
        Index::Instants {
            start: "last_updated",
            end: "last_updated",
        },
    ),
    SearchParam::new("_tag", ParamType::Token, Index::Coding),
    SearchParam::new("_security", ParamType::Token, Index::Coding),
    SearchParam::new("_profile", ParamType::Uri, Index::Coding),
    SearchParam::new("_source", ParamType::Uri, Index::Coding),
];
