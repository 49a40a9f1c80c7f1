//! Parsing a search query string into a typed [`SearchRequest`].

use chrono::{NaiveDate, NaiveDateTime};

use super::params::{Index, ParamType, ReferenceRows, SearchParam};
use super::registry::{registry, Definition};
use crate::fhir::datetime::{self, Precision};
use crate::fhir::text::search_form;
use crate::store::projection;
use crate::store::projection::extract::normalize_reference;

/// A malformed search, reported as 400 naming the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError {
    pub param: String,
    pub vi: String,
    pub en: String,
}

impl SearchError {
    fn new(param: &str, vi: impl Into<String>, en: impl Into<String>) -> SearchError {
        SearchError {
            param: param.to_string(),
            vi: vi.into(),
            en: en.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl Prefix {
    /// Splits a leading prefix off a date, number or quantity value.
    fn split(value: &str) -> (Prefix, &str) {
        let prefix = match value.get(..2) {
            Some("eq") => Prefix::Eq,
            Some("ne") => Prefix::Ne,
            Some("gt") => Prefix::Gt,
            Some("lt") => Prefix::Lt,
            Some("ge") => Prefix::Ge,
            Some("le") => Prefix::Le,
            Some("sa") => Prefix::Sa,
            Some("eb") => Prefix::Eb,
            Some("ap") => Prefix::Ap,
            _ => return (Prefix::Eq, value),
        };
        (prefix, &value[2..])
    }
}

/// One value of an OR list, typed by its parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchValue {
    /// Folded text for prefix or `:contains`; the original for `:exact`.
    Text(String),
    /// `system|code`: `system` is `None` for any system, `Some(None)` for "no system".
    Token {
        system: Option<Option<String>>,
        code: Option<String>,
    },
    /// `:of-type`: identifier type system, type code and value.
    OfType {
        type_system: String,
        type_code: String,
        value: String,
    },
    Date {
        prefix: Prefix,
        start: NaiveDateTime,
        end: NaiveDateTime,
        first: NaiveDate,
        last: NaiveDate,
    },
    /// Candidate `Type/id` targets (or `identifier:system|value` for `:identifier`).
    Reference(Vec<String>),
    /// `:identifier` without a system: any system with this value.
    ReferenceIdentifierValue(String),
    Quantity {
        prefix: Prefix,
        value: f64,
        low: f64,
        high: f64,
        code: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    None,
    Exact,
    Contains,
    Not,
    Text,
    OfType,
    /// `reference:identifier=system|value`: matches Reference.identifier.
    Identifier,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Values OR-ed together.
    Param {
        param: SearchParam,
        modifier: Modifier,
        values: Vec<SearchValue>,
    },
    Missing {
        param: SearchParam,
        missing: bool,
    },
    /// `reference.inner`: the resource points (through `param`) at a `target_type` matching `inner`.
    Chain {
        rows: ReferenceRows,
        target_type: &'static str,
        inner: Box<Filter>,
    },
    /// Several possible target types of a chain, OR-ed.
    AnyOf(Vec<Filter>),
    /// `_has:Source:param:inner`: some `source` resource points here through `param`.
    Has {
        source: &'static str,
        rows: ReferenceRows,
        inner: Box<Filter>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub param: SearchParam,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// No `_total` given: the count only where it costs nothing, when the first page holds
    /// every match. Counting the rest would read every match of a common name.
    WhenComplete,
    None,
    Estimate,
    Accurate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    False,
    True,
    Text,
    Data,
    Count,
}

/// `_include` / `_revinclude`: `source:param[:target]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    pub source: &'static str,
    pub rows: ReferenceRows,
    pub target: Option<&'static str>,
    pub iterate: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub resource_type: &'static str,
    pub filters: Vec<Filter>,
    pub count: i64,
    pub sort: Vec<Sort>,
    pub total: Total,
    pub summary: Summary,
    pub elements: Option<Vec<String>>,
    pub includes: Vec<Include>,
    pub revincludes: Vec<Include>,
    pub cursor: Option<String>,
    /// Parameters that were ignored (unknown or not supported), for the OperationOutcome.
    pub ignored: Vec<String>,
}

pub struct Limits {
    pub default_count: i64,
    pub max_count: i64,
    /// `Prefer: handling=strict`: unknown parameters are errors.
    pub strict: bool,
}

/// Splits on `separator` unless escaped with `\`, and unescapes `\,`, `\|`, `\$`, `\\`.
fn split_escaped(value: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                if next != separator {
                    parts.last_mut().unwrap().push('\\');
                }
                parts.last_mut().unwrap().push(next);
            }
        } else if c == separator {
            parts.push(String::new());
        } else {
            parts.last_mut().unwrap().push(c);
        }
    }
    parts
}

fn unescape(part: &str) -> String {
    part.replace("\\,", ",")
        .replace("\\|", "|")
        .replace("\\$", "$")
        .replace("\\\\", "\\")
}

fn stored_type(name: &str) -> Option<&'static str> {
    projection::find(name).map(|p| p.resource_type())
}

pub fn parse(
    resource_type: &'static str,
    params: &[(String, String)],
    limits: &Limits,
) -> Result<SearchRequest, SearchError> {
    let mut request = SearchRequest {
        resource_type,
        filters: Vec::new(),
        count: limits.default_count,
        sort: Vec::new(),
        total: Total::WhenComplete,
        summary: Summary::False,
        elements: None,
        includes: Vec::new(),
        revincludes: Vec::new(),
        cursor: None,
        ignored: Vec::new(),
    };
    for (name, value) in params {
        match name.as_str() {
            "_format" | "_pretty" => {}
            "_count" => {
                request.count = value
                    .parse::<i64>()
                    .ok()
                    .filter(|c| *c >= 0)
                    .ok_or_else(|| {
                        SearchError::new(
                            name,
                            "phải là số nguyên không âm",
                            "must be a non-negative integer",
                        )
                    })?
                    .min(limits.max_count)
            }
            "_sort" => request.sort = parse_sort(resource_type, value)?,
            "_total" => {
                request.total = match value.as_str() {
                    "none" => Total::None,
                    "estimate" => Total::Estimate,
                    "accurate" => Total::Accurate,
                    _ => {
                        return Err(SearchError::new(
                            name,
                            "phải là none, estimate hoặc accurate",
                            "must be none, estimate or accurate",
                        ))
                    }
                }
            }
            "_summary" => {
                request.summary = match value.as_str() {
                    "true" => Summary::True,
                    "false" => Summary::False,
                    "text" => Summary::Text,
                    "data" => Summary::Data,
                    "count" => Summary::Count,
                    _ => {
                        return Err(SearchError::new(
                            name,
                            "phải là true, false, text, data hoặc count",
                            "must be true, false, text, data or count",
                        ))
                    }
                }
            }
            "_elements" => {
                request.elements = Some(
                    value
                        .split(',')
                        .map(|e| e.trim().to_string())
                        .filter(|e| !e.is_empty())
                        .collect(),
                )
            }
            "_cursor" => request.cursor = Some(value.clone()),
            "_include" | "_include:iterate" | "_revinclude" | "_revinclude:iterate" => {
                let iterate = name.ends_with(":iterate");
                let include = parse_include(name, value, iterate)?;
                if name.starts_with("_include") {
                    request.includes.push(include);
                } else {
                    request.revincludes.push(include);
                }
            }
            // An empty value means the parameter is absent (search.html).
            _ if value.is_empty() => {}
            _ => match parse_filter(resource_type, name, value)? {
                Some(filter) => request.filters.push(filter),
                None if limits.strict => {
                    return Err(SearchError::new(
                        name,
                        "tham số không được hỗ trợ (Prefer: handling=strict)",
                        "unknown or unsupported parameter (Prefer: handling=strict)",
                    ))
                }
                None => request.ignored.push(name.clone()),
            },
        }
    }
    Ok(request)
}

fn sortable(param: &SearchParam) -> bool {
    !matches!(
        param.index,
        Index::Identifier
            | Index::Coding
            | Index::Telecom(_)
            | Index::References
            | Index::ReferencesOf { .. }
    )
}

fn parse_sort(resource_type: &str, value: &str) -> Result<Vec<Sort>, SearchError> {
    let keys: Vec<Sort> = value
        .split(',')
        .filter(|k| !k.is_empty())
        .map(|key| {
            let (descending, code) = match key.strip_prefix('-') {
                Some(code) => (true, code),
                None => (false, key),
            };
            let param = registry()
                .find(resource_type, code)
                .and_then(|d| d.supported)
                .filter(sortable)
                .ok_or_else(|| {
                    SearchError::new(
                        "_sort",
                        format!("không sắp xếp được theo {code}"),
                        format!("cannot sort by {code}"),
                    )
                })?;
            Ok(Sort { param, descending })
        })
        .collect::<Result<_, _>>()?;
    if keys.len() > super::sql::MAX_SORT_KEYS {
        return Err(SearchError::new(
            "_sort",
            format!("tối đa {} khóa sắp xếp", super::sql::MAX_SORT_KEYS),
            format!("at most {} sort keys", super::sql::MAX_SORT_KEYS),
        ));
    }
    Ok(keys)
}

fn parse_include(name: &str, value: &str, iterate: bool) -> Result<Include, SearchError> {
    let parts: Vec<&str> = value.split(':').collect();
    let bad = || {
        SearchError::new(
            name,
            format!("{value} không phải dạng Loại:tham-số[:Loại-đích] với tham số tham chiếu được hỗ trợ"),
            format!("{value} is not Type:param[:TargetType] with a supported reference parameter"),
        )
    };
    let (source, param, target) = match parts.as_slice() {
        [source, param] => (*source, *param, None),
        [source, param, target] => (*source, *param, Some(*target)),
        _ => return Err(bad()),
    };
    let source = stored_type(source).ok_or_else(bad)?;
    let definition = registry().find(source, param).ok_or_else(bad)?;
    let rows = definition
        .supported
        .and_then(|s| s.reference_rows())
        .ok_or_else(bad)?;
    let target = match target {
        Some(t) => Some(
            stored_type(t)
                .filter(|t| definition.targets.iter().any(|d| d == t))
                .ok_or_else(bad)?,
        ),
        None => None,
    };
    Ok(Include {
        source,
        rows,
        target,
        iterate,
    })
}

/// `None` for parameters to ignore (unknown or unsupported).
fn parse_filter(
    resource_type: &'static str,
    name: &str,
    value: &str,
) -> Result<Option<Filter>, SearchError> {
    if let Some(rest) = name.strip_prefix("_has:") {
        return parse_has(resource_type, name, rest, value);
    }
    if let Some((reference, inner)) = name.split_once('.') {
        return parse_chain(resource_type, name, reference, inner, value);
    }
    let (code, modifier) = match name.split_once(':') {
        Some((code, modifier)) => (code, Some(modifier)),
        None => (name, None),
    };
    let Some(definition) = registry().find(resource_type, code) else {
        return Ok(None);
    };
    let Some(param) = definition.supported else {
        return Ok(None);
    };
    if modifier == Some("missing") {
        let missing = match value {
            "true" => true,
            "false" => false,
            _ => {
                return Err(SearchError::new(
                    name,
                    "phải là true hoặc false",
                    "must be true or false",
                ))
            }
        };
        return Ok(Some(Filter::Missing { param, missing }));
    }
    let modifier = parse_modifier(name, &param, definition, modifier)?;
    let values = split_escaped(value, ',')
        .iter()
        .map(|v| parse_value(name, &param, definition, &modifier, v))
        .collect::<Result<Vec<_>, _>>()?;
    let modifier = match modifier {
        TypedModifier::Plain(m) => m,
        TypedModifier::TargetType(_) => Modifier::None,
    };
    Ok(Some(Filter::Param {
        param,
        modifier,
        values,
    }))
}

enum TypedModifier {
    Plain(Modifier),
    /// `subject:Patient=123`.
    TargetType(String),
}

fn parse_modifier(
    name: &str,
    param: &SearchParam,
    definition: &Definition,
    modifier: Option<&str>,
) -> Result<TypedModifier, SearchError> {
    let unsupported = || {
        SearchError::new(
            name,
            format!(
                "bộ bổ nghĩa :{} không dùng được cho tham số này",
                modifier.unwrap_or("")
            ),
            format!(
                "modifier :{} is not supported on this parameter",
                modifier.unwrap_or("")
            ),
        )
    };
    let Some(modifier) = modifier else {
        return Ok(TypedModifier::Plain(Modifier::None));
    };
    let plain = match (param.kind, modifier) {
        (ParamType::String, "exact") => Modifier::Exact,
        (ParamType::String, "contains") => Modifier::Contains,
        (ParamType::Token, "not") => Modifier::Not,
        (ParamType::Token, "text") if matches!(param.index, Index::Coding) => Modifier::Text,
        (ParamType::Token, "of-type") if param.index == Index::Identifier => Modifier::OfType,
        (ParamType::Reference, "identifier") => Modifier::Identifier,
        (ParamType::Reference, target) if definition.targets.iter().any(|t| t == target) => {
            return Ok(TypedModifier::TargetType(target.to_string()))
        }
        _ => return Err(unsupported()),
    };
    Ok(TypedModifier::Plain(plain))
}

fn parse_value(
    name: &str,
    param: &SearchParam,
    definition: &Definition,
    modifier: &TypedModifier,
    value: &str,
) -> Result<SearchValue, SearchError> {
    let empty = || SearchError::new(name, "giá trị rỗng", "empty value");
    if value.is_empty() {
        return Err(empty());
    }
    match param.kind {
        ParamType::String => Ok(SearchValue::Text(match modifier {
            TypedModifier::Plain(Modifier::Exact) => value.to_string(),
            _ => search_form(value),
        })),
        ParamType::Uri => Ok(SearchValue::Token {
            system: None,
            code: Some(value.to_string()),
        }),
        ParamType::Token => parse_token(name, modifier, value),
        ParamType::Date => parse_date_value(name, value),
        ParamType::Reference if matches!(modifier, TypedModifier::Plain(Modifier::Identifier)) => {
            match split_escaped(value, '|').as_slice() {
                [system, value] if !system.is_empty() => Ok(SearchValue::Reference(vec![
                    crate::store::projection::identifier_target(
                        &unescape(system),
                        &unescape(value),
                    ),
                ])),
                [value] | [_, value] => Ok(SearchValue::ReferenceIdentifierValue(unescape(value))),
                _ => Err(SearchError::new(
                    name,
                    "dạng đúng là hệ|giá-trị",
                    "expected system|value",
                )),
            }
        }
        ParamType::Reference => {
            let target_type = match modifier {
                TypedModifier::TargetType(t) => Some(t.as_str()),
                _ => None,
            };
            Ok(SearchValue::Reference(reference_candidates(
                definition,
                target_type,
                value,
            )))
        }
        ParamType::Quantity => parse_quantity(name, value),
    }
}

fn parse_token(
    name: &str,
    modifier: &TypedModifier,
    value: &str,
) -> Result<SearchValue, SearchError> {
    if let TypedModifier::Plain(Modifier::Text) = modifier {
        return Ok(SearchValue::Text(search_form(value)));
    }
    let parts = split_escaped(value, '|');
    if let TypedModifier::Plain(Modifier::OfType) = modifier {
        return match parts.as_slice() {
            [type_system, type_code, value] if !type_code.is_empty() && !value.is_empty() => {
                Ok(SearchValue::OfType {
                    type_system: type_system.clone(),
                    type_code: type_code.clone(),
                    value: value.clone(),
                })
            }
            _ => Err(SearchError::new(
                name,
                "dạng đúng là hệ-loại|mã-loại|giá-trị",
                "expected type-system|type-code|value",
            )),
        };
    }
    let non_empty = |s: &String| (!s.is_empty()).then(|| unescape(s));
    match parts.as_slice() {
        [code] => Ok(SearchValue::Token {
            system: None,
            code: Some(unescape(code)),
        }),
        [system, code] => Ok(SearchValue::Token {
            system: Some(non_empty(system)),
            code: non_empty(code),
        }),
        _ => Err(SearchError::new(
            name,
            "mã định danh có nhiều hơn một dấu |",
            "a token has at most one unescaped |",
        )),
    }
}

fn parse_date_value(name: &str, value: &str) -> Result<SearchValue, SearchError> {
    let (prefix, text) = Prefix::split(value);
    let bad = || {
        SearchError::new(
            name,
            format!("{value} không phải ngày/giờ FHIR (có thể có tiền tố eq, ne, lt, gt, le, ge, sa, eb, ap)"),
            format!("{value} is not a FHIR date or dateTime (optionally prefixed by eq, ne, lt, gt, le, ge, sa, eb, ap)"),
        )
    };
    let span = datetime::parse_date_time(text).ok_or_else(bad)?;
    let (first, last) = match datetime::parse_date(text.split('T').next().unwrap_or(text)) {
        Some(dates) if span.precision != Precision::Time => (dates.first, dates.last),
        Some(dates) => (dates.first, dates.first),
        None => return Err(bad()),
    };
    Ok(SearchValue::Date {
        prefix,
        start: span.start,
        end: span.end,
        first,
        last,
    })
}

fn reference_candidates(
    definition: &Definition,
    target_type: Option<&str>,
    value: &str,
) -> Vec<String> {
    if value.contains('/') {
        return vec![normalize_reference(value)];
    }
    match target_type {
        Some(t) => vec![format!("{t}/{value}")],
        None => definition
            .targets
            .iter()
            .map(|t| format!("{t}/{value}"))
            .collect(),
    }
}

fn parse_quantity(name: &str, value: &str) -> Result<SearchValue, SearchError> {
    let (prefix, text) = Prefix::split(value);
    let parts = split_escaped(text, '|');
    let number = parts[0].as_str();
    let parsed: f64 = number.parse().map_err(|_| {
        SearchError::new(
            name,
            format!("{value} không phải số lượng (số[|hệ|mã])"),
            format!("{value} is not a quantity (number[|system|code])"),
        )
    })?;
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    let half = 0.5 * 10f64.powi(-decimals);
    let code = parts.get(2).filter(|c| !c.is_empty()).cloned();
    Ok(SearchValue::Quantity {
        prefix,
        value: parsed,
        low: parsed - half,
        high: parsed + half,
        code,
    })
}

fn parse_chain(
    resource_type: &'static str,
    name: &str,
    reference: &str,
    inner: &str,
    value: &str,
) -> Result<Option<Filter>, SearchError> {
    let (code, type_modifier) = match reference.split_once(':') {
        Some((code, t)) => (code, Some(t)),
        None => (reference, None),
    };
    let Some(definition) = registry().find(resource_type, code) else {
        return Ok(None);
    };
    let Some(rows) = definition.supported.and_then(|p| p.reference_rows()) else {
        return Ok(None);
    };
    let candidates: Vec<&'static str> = definition
        .targets
        .iter()
        .filter(|t| type_modifier.is_none_or(|m| m == t.as_str()))
        .filter_map(|t| stored_type(t))
        .collect();
    let mut chains = Vec::new();
    for target_type in candidates {
        if let Some(inner) = parse_filter(target_type, inner, value)? {
            chains.push(Filter::Chain {
                rows,
                target_type,
                inner: Box::new(inner),
            });
        }
    }
    match chains.len() {
        0 => Err(SearchError::new(
            name,
            "không có loại đích nào hỗ trợ tham số xâu chuỗi này",
            "no stored target type supports this chained parameter",
        )),
        1 => Ok(chains.pop()),
        _ => Ok(Some(Filter::AnyOf(chains))),
    }
}

fn parse_has(
    resource_type: &'static str,
    name: &str,
    rest: &str,
    value: &str,
) -> Result<Option<Filter>, SearchError> {
    let bad = || {
        SearchError::new(
            name,
            "dạng đúng là _has:Loại:tham-số-tham-chiếu:tham-số",
            "expected _has:Type:reference-param:param",
        )
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(source), Some(code), Some(inner)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let source = stored_type(source).ok_or_else(bad)?;
    let definition = registry().find(source, code).ok_or_else(bad)?;
    let rows = definition
        .supported
        .and_then(|p| p.reference_rows())
        .ok_or_else(bad)?;
    if !definition.targets.iter().any(|t| t == resource_type) {
        return Err(bad());
    }
    let inner = parse_filter(source, inner, value)?.ok_or_else(bad)?;
    Ok(Some(Filter::Has {
        source,
        rows,
        inner: Box::new(inner),
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            default_count: 20,
            max_count: 100,
            strict: false,
        }
    }

    pub(crate) fn parsed(
        resource_type: &'static str,
        query: &[(&str, &str)],
    ) -> Result<SearchRequest, SearchError> {
        let params: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(resource_type, &params, &limits())
    }

    #[test]
    fn escapes_split_correctly() {
        assert_eq!(split_escaped(r"a\,b,c", ','), ["a,b", "c"]);
        assert_eq!(split_escaped(r"s\|x|c", '|'), ["s|x", "c"]);
    }

    #[test]
    fn tokens_with_and_without_systems() {
        let request = parsed("Patient", &[("identifier", "s|1,|2,3,s|")]).unwrap();
        let Filter::Param { values, .. } = &request.filters[0] else {
            panic!()
        };
        assert_eq!(
            values,
            &[
                SearchValue::Token {
                    system: Some(Some("s".into())),
                    code: Some("1".into())
                },
                SearchValue::Token {
                    system: Some(None),
                    code: Some("2".into())
                },
                SearchValue::Token {
                    system: None,
                    code: Some("3".into())
                },
                SearchValue::Token {
                    system: Some(Some("s".into())),
                    code: None
                },
            ]
        );
    }

    #[test]
    fn strings_are_folded_unless_exact() {
        let request = parsed("Patient", &[("name", "Nguyễn"), ("family:exact", "Nguyễn")]).unwrap();
        let Filter::Param { values, .. } = &request.filters[0] else {
            panic!()
        };
        assert_eq!(values, &[SearchValue::Text("nguyen".into())]);
        let Filter::Param {
            values, modifier, ..
        } = &request.filters[1]
        else {
            panic!()
        };
        assert_eq!(
            (values[0].clone(), *modifier),
            (SearchValue::Text("Nguyễn".into()), Modifier::Exact)
        );
    }

    #[test]
    fn dates_take_prefixes_and_reject_garbage() {
        let request = parsed("Patient", &[("birthdate", "ge1980-05")]).unwrap();
        let Filter::Param { values, .. } = &request.filters[0] else {
            panic!()
        };
        let SearchValue::Date {
            prefix,
            first,
            last,
            ..
        } = &values[0]
        else {
            panic!()
        };
        assert_eq!(
            (*prefix, first.to_string(), last.to_string()),
            (Prefix::Ge, "1980-05-01".into(), "1980-05-31".into())
        );
        for bad in ["xx1980", "1980-13", "ge", "1980-05-01T10:00"] {
            let error = parsed("Patient", &[("birthdate", bad)]).unwrap_err();
            assert_eq!(error.param, "birthdate", "{bad}");
        }
    }

    #[test]
    fn references_chains_and_has() {
        let request = parsed(
            "Encounter",
            &[
                ("subject", "123"),
                ("subject:Patient", "9"),
                ("patient.identifier", "s|1"),
            ],
        )
        .unwrap();
        let Filter::Param { values, .. } = &request.filters[0] else {
            panic!()
        };
        let SearchValue::Reference(targets) = &values[0] else {
            panic!()
        };
        assert!(
            targets.contains(&"Patient/123".to_string())
                && targets.contains(&"Group/123".to_string())
        );
        let Filter::Param { values, .. } = &request.filters[1] else {
            panic!()
        };
        assert_eq!(values[0], SearchValue::Reference(vec!["Patient/9".into()]));
        assert!(matches!(
            &request.filters[2],
            Filter::Chain {
                rows: ReferenceRows {
                    param: "subject",
                    target: Some("Patient")
                },
                target_type: "Patient",
                ..
            }
        ));
        let has = parsed("Patient", &[("_has:Encounter:subject:status", "finished")]).unwrap();
        assert!(matches!(
            &has.filters[0],
            Filter::Has {
                source: "Encounter",
                rows: ReferenceRows {
                    param: "subject",
                    target: None
                },
                ..
            }
        ));
        assert!(parsed("Patient", &[("_has:Encounter:status:status", "x")]).is_err());
    }

    #[test]
    fn unknown_parameters_are_ignored_or_strict_errors() {
        let request = parsed("Patient", &[("foo", "1"), ("_text", "x")]).unwrap();
        assert_eq!(request.ignored, ["foo", "_text"]);
        let strict = Limits {
            strict: true,
            ..limits()
        };
        let params = vec![("foo".to_string(), "1".to_string())];
        assert_eq!(parse("Patient", &params, &strict).unwrap_err().param, "foo");
    }

    #[test]
    fn result_parameters() {
        let request = parsed(
            "Patient",
            &[
                ("_count", "500"),
                ("_sort", "-birthdate,_id"),
                ("_total", "none"),
                ("_summary", "count"),
                ("_include", "Patient:organization"),
            ],
        )
        .unwrap();
        assert_eq!(request.count, 100);
        assert_eq!(request.sort.len(), 2);
        assert!(request.sort[0].descending);
        assert_eq!(
            (request.total, request.summary),
            (Total::None, Summary::Count)
        );
        assert!(parsed("Patient", &[("_sort", "identifier")]).is_err());
        assert!(parsed("Patient", &[("_count", "x")]).is_err());
        assert!(parsed("Encounter", &[("_include", "Encounter:status")]).is_err());
        assert!(parsed("Patient", &[("gender:contains", "x")]).is_err());
    }

    #[test]
    fn quantities_carry_their_precision() {
        let request = parsed("Encounter", &[("length", "gt5.4||d")]).unwrap();
        let Filter::Param { values, .. } = &request.filters[0] else {
            panic!()
        };
        let SearchValue::Quantity {
            prefix,
            low,
            high,
            code,
            ..
        } = &values[0]
        else {
            panic!()
        };
        assert_eq!(*prefix, Prefix::Gt);
        assert!((low - 5.35).abs() < 1e-9 && (high - 5.45).abs() < 1e-9);
        assert_eq!(code.as_deref(), Some("d"));
    }
}
