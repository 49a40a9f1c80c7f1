//! SQL for a [`SearchRequest`], the same text shape for PostgreSQL and SQLite with
//! numbered placeholders (`$1` / `?1`). Every condition is an indexed column or an
//! `EXISTS` over an indexed child table; nothing reads the stored JSON.

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};

use super::params::{Index, ReferenceRows, SearchParam};
use super::query::{Filter, Modifier, Prefix, SearchRequest, SearchValue, Sort};
use crate::fhir::text::search_form;
use crate::store::projection;

pub const MAX_SORT_KEYS: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Double(f64),
    Bool(bool),
    Timestamp(NaiveDateTime),
    Date(NaiveDate),
    Int(i64),
}

/// SQL text with its binds.
#[derive(Debug, Clone)]
pub struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
    pub postgres: bool,
    aliases: usize,
}

impl Sql {
    pub fn new(postgres: bool) -> Sql {
        Sql {
            text: String::new(),
            binds: Vec::new(),
            postgres,
            aliases: 0,
        }
    }

    pub fn bind(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        if self.postgres {
            format!("${}", self.binds.len())
        } else {
            format!("?{}", self.binds.len())
        }
    }

    fn text(&mut self, value: &str) -> String {
        self.bind(Bind::Text(value.to_string()))
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("x{}", self.aliases)
    }

    /// `column` starts with `prefix` (already folded): LIKE on PostgreSQL (the column is
    /// bytewise, COLLATE "C", so its index serves the prefix), a byte range on SQLite (its
    /// LIKE ignores ASCII case).
    fn starts_with(&mut self, column: &str, prefix: &str) -> String {
        if self.postgres {
            let escaped = prefix
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let p = self.text(&format!("{escaped}%"));
            format!("{column} LIKE {p}")
        } else {
            self.prefix_range(column, prefix)
        }
    }

    /// `column` starts with `prefix`, as a range between two binds, which an index seeks
    /// even in a generic plan (PostgreSQL can only take a range from `LIKE` when it plans for
    /// the value).
    fn prefix_range(&mut self, column: &str, prefix: &str) -> String {
        let low = self.text(prefix);
        let high = self.text(&format!("{prefix}\u{10FFFF}"));
        format!("({column} >= {low} AND {column} < {high})")
    }

    fn contains(&mut self, column: &str, part: &str) -> String {
        let escaped = part
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = self.text(&format!("%{escaped}%"));
        format!("{column} LIKE {p} ESCAPE '\\'")
    }
}

fn table_of(resource_type: &str) -> &'static str {
    projection::find(resource_type).map_or("", |p| p.table())
}

fn or_all(parts: Vec<String>) -> String {
    if parts.is_empty() {
        "1=0".into()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

/// The condition for `filter` on rows of `resource_type` aliased `a`.
pub fn condition(sql: &mut Sql, resource_type: &str, a: &str, filter: &Filter) -> String {
    match filter {
        Filter::Param {
            param,
            modifier,
            values,
        } => {
            let positive = param_condition(
                sql,
                resource_type,
                a,
                param,
                *modifier,
                values,
                Form::Exists,
            );
            if *modifier == Modifier::Not {
                match param.index {
                    Index::Code { column, .. } | Index::Flag(column) => {
                        format!("({a}.{column} IS NULL OR NOT {positive})")
                    }
                    _ => format!("NOT {positive}"),
                }
            } else {
                positive
            }
        }
        Filter::Missing { param, missing } => {
            let present = presence(sql, resource_type, a, param);
            if *missing {
                format!("NOT {present}")
            } else {
                present
            }
        }
        Filter::Chain {
            rows,
            target_type,
            inner,
        } => {
            let x = sql.alias();
            let y = sql.alias();
            let link = reference_rows(sql, &x, resource_type, rows);
            let prefix = sql.text(&format!("{target_type}/"));
            let table = table_of(target_type);
            let inner = condition(sql, target_type, &y, inner);
            format!(
                "EXISTS (SELECT 1 FROM resource_reference {x} WHERE {link} \
                 AND {x}.resource_id = {a}.id AND {x}.target IN \
                 (SELECT {prefix} || {y}.id FROM {table} {y} WHERE NOT {y}.deleted AND {inner}))"
            )
        }
        Filter::AnyOf(filters) => {
            let parts = filters
                .iter()
                .map(|f| condition(sql, resource_type, a, f))
                .collect();
            or_all(parts)
        }
        Filter::Has {
            source,
            rows,
            inner,
        } => {
            let x = sql.alias();
            let y = sql.alias();
            let link = reference_rows(sql, &x, source, rows);
            let prefix = sql.text(&format!("{resource_type}/"));
            let table = table_of(source);
            let inner = condition(sql, source, &y, inner);
            format!(
                "EXISTS (SELECT 1 FROM resource_reference {x} JOIN {table} {y} ON {y}.id = {x}.resource_id \
                 WHERE {link} AND {x}.target = {prefix} || {a}.id \
                 AND NOT {y}.deleted AND {inner})"
            )
        }
    }
}

/// The `resource_reference` rows of `rows` for sources of `resource_type`, aliased `x`.
pub fn reference_rows(sql: &mut Sql, x: &str, resource_type: &str, rows: &ReferenceRows) -> String {
    let rt = sql.text(resource_type);
    let p = sql.text(rows.param);
    let mut link = format!("{x}.resource_type = {rt} AND {x}.param = {p}");
    if let Some(target) = rows.target {
        let of_type = sql.starts_with(&format!("{x}.target"), &format!("{target}/"));
        link.push_str(&format!(" AND {of_type}"));
    }
    link
}

/// The rows of `param` in a shared index table aliased `x`.
fn param_rows(sql: &mut Sql, x: &str, param: &SearchParam) -> String {
    match param.index {
        Index::StringsOf(codes) | Index::WholeOf(codes) => {
            let codes: Vec<String> = codes.iter().map(|c| sql.text(c)).collect();
            format!("{x}.param IN ({})", codes.join(", "))
        }
        _ => format!("{x}.param = {}", sql.text(param.code)),
    }
}

/// How a child-table condition is written.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// `EXISTS (SELECT 1 FROM child x WHERE <rows> AND x.resource_id = a.id)`.
    Exists,
    /// `SELECT x.resource_id AS id FROM child x WHERE <rows>`: the matching ids themselves.
    Ids,
}

/// A condition on the rows of a child-table index, as `form` asks.
fn child_exists(
    sql: &mut Sql,
    resource_type: &str,
    a: &str,
    param: &SearchParam,
    form: Form,
    rows: impl FnOnce(&mut Sql, &str) -> String,
) -> String {
    let x = sql.alias();
    let (owner, link) = match param.index {
        Index::Telecom(system) => {
            let link = match system {
                Some(system) => format!("{x}.system = {}", sql.text(system)),
                None => "1=1".into(),
            };
            ("patient_id", link)
        }
        Index::Identifier => {
            let rt = sql.text(resource_type);
            ("resource_id", format!("{x}.resource_type = {rt}"))
        }
        _ => {
            let link = match param.reference_rows() {
                Some(rows) => reference_rows(sql, &x, resource_type, &rows),
                None => {
                    let rt = sql.text(resource_type);
                    let rows = param_rows(sql, &x, param);
                    format!("{x}.resource_type = {rt} AND {rows}")
                }
            };
            ("resource_id", link)
        }
    };
    let table = match param.index {
        Index::Telecom(_) => "patient_telecom",
        Index::Identifier => "resource_identifier",
        Index::Coding => "resource_coding",
        Index::Strings | Index::StringsOf(_) | Index::WholeOf(_) => "resource_string",
        _ => "resource_reference",
    };
    let rows = rows(sql, &x);
    match form {
        Form::Exists => format!(
            "EXISTS (SELECT 1 FROM {table} {x} WHERE {link} AND {x}.{owner} = {a}.id AND {rows})"
        ),
        Form::Ids => format!("SELECT {x}.{owner} AS id FROM {table} {x} WHERE {link} AND {rows}"),
    }
}

/// The column of the type's own table that holds `param` (the start of a range).
fn own_column(param: &SearchParam) -> Option<&'static str> {
    match param.index {
        Index::Code { column, .. }
        | Index::Flag(column)
        | Index::Instants { start: column, .. }
        | Index::Dates { start: column, .. }
        | Index::Quantity { value: column, .. } => Some(column),
        _ => None,
    }
}

fn presence(sql: &mut Sql, resource_type: &str, a: &str, param: &SearchParam) -> String {
    match (param.index, own_column(param)) {
        (Index::Id, _) => "1=1".into(),
        (_, Some(column)) => format!("{a}.{column} IS NOT NULL"),
        _ => child_exists(sql, resource_type, a, param, Form::Exists, |_, _| {
            "1=1".into()
        }),
    }
}

fn token_parts(value: &SearchValue) -> (Option<Option<&str>>, Option<&str>) {
    match value {
        SearchValue::Token { system, code } => {
            (system.as_ref().map(|s| s.as_deref()), code.as_deref())
        }
        _ => (None, None),
    }
}

/// `system`/`code` match on a child row aliased `x`.
fn system_code(
    sql: &mut Sql,
    x: &str,
    system_column: &str,
    code_column: &str,
    value: &SearchValue,
) -> String {
    let (system, code) = token_parts(value);
    let mut parts = Vec::new();
    match system {
        Some(Some(s)) => {
            let b = sql.text(s);
            parts.push(format!("{x}.{system_column} = {b}"));
        }
        Some(None) => parts.push(format!("{x}.{system_column} IS NULL")),
        None => {}
    }
    if let Some(code) = code {
        let b = sql.text(code);
        parts.push(format!("{x}.{code_column} = {b}"));
    }
    if parts.is_empty() {
        "1=1".into()
    } else {
        format!("({})", parts.join(" AND "))
    }
}

fn param_condition(
    sql: &mut Sql,
    resource_type: &str,
    a: &str,
    param: &SearchParam,
    modifier: Modifier,
    values: &[SearchValue],
    form: Form,
) -> String {
    match param.index {
        Index::Id => {
            let parts = values
                .iter()
                .filter_map(|v| token_parts(v).1)
                .map(|code| {
                    let b = sql.text(code);
                    format!("{a}.id = {b}")
                })
                .collect();
            or_all(parts)
        }
        Index::Code {
            column,
            system: fixed,
        } => {
            let parts = values
                .iter()
                .map(|v| {
                    let (system, code) = token_parts(v);
                    let foreign = matches!((system, fixed), (Some(Some(s)), Some(f)) if s != f);
                    match (foreign, code) {
                        (true, _) => "1=0".into(),
                        (false, Some(code)) => {
                            let b = sql.text(code);
                            format!("{a}.{column} = {b}")
                        }
                        (false, None) => format!("{a}.{column} IS NOT NULL"),
                    }
                })
                .collect();
            or_all(parts)
        }
        Index::Flag(column) => {
            let parts = values
                .iter()
                .map(|v| match token_parts(v).1 {
                    Some("true") => {
                        let b = sql.bind(Bind::Bool(true));
                        format!("{a}.{column} = {b}")
                    }
                    Some("false") => {
                        let b = sql.bind(Bind::Bool(false));
                        format!("{a}.{column} = {b}")
                    }
                    _ => "1=0".into(),
                })
                .collect();
            or_all(parts)
        }
        Index::Identifier => child_exists(sql, resource_type, a, param, form, |sql, x| {
            let parts = values
                .iter()
                .map(|v| match v {
                    SearchValue::OfType { type_system, type_code, value } => {
                        let ts = sql.text(type_system);
                        let tc = sql.text(type_code);
                        let val = sql.text(value);
                        format!("({x}.type_system = {ts} AND {x}.type_code = {tc} AND {x}.value = {val})")
                    }
                    other => system_code(sql, x, "system", "value", other),
                })
                .collect();
            or_all(parts)
        }),
        Index::Coding => child_exists(sql, resource_type, a, param, form, |sql, x| {
            let parts = values
                .iter()
                .map(|v| match (modifier, v) {
                    (Modifier::Text, SearchValue::Text(text)) => {
                        sql.starts_with(&format!("{x}.text"), text)
                    }
                    (_, other) => system_code(sql, x, "system", "code", other),
                })
                .collect();
            or_all(parts)
        }),
        Index::Telecom(_) => child_exists(sql, resource_type, a, param, form, |sql, x| {
            let parts = values
                .iter()
                .map(|v| system_code(sql, x, "system", "value", v))
                .collect();
            or_all(parts)
        }),
        Index::Strings | Index::StringsOf(_) | Index::WholeOf(_) => {
            let rows = param.string_rows(modifier);
            child_exists(sql, resource_type, a, &rows, form, |sql, x| {
                let parts = values
                    .iter()
                    .filter_map(|v| match v {
                        SearchValue::Text(text) => Some(text),
                        _ => None,
                    })
                    .map(|text| string_match(sql, x, modifier, text))
                    .collect();
                or_all(parts)
            })
        }
        Index::References | Index::ReferencesOf { .. } => {
            child_exists(sql, resource_type, a, param, form, |sql, x| {
                let parts = values
                    .iter()
                    .map(|v| match v {
                        SearchValue::Reference(targets) => {
                            let targets: Vec<String> =
                                targets.iter().map(|t| sql.text(t)).collect();
                            format!("{x}.target IN ({})", targets.join(", "))
                        }
                        SearchValue::ReferenceIdentifierValue(value) => {
                            // Any system: an `identifier:` target that ends with `|value`.
                            let identifier = sql.starts_with(&format!("{x}.target"), "identifier:");
                            let tail = sql.text(&format!("|{value}"));
                            format!(
                                "({identifier} AND \
                             SUBSTR({x}.target, LENGTH({x}.target) - LENGTH({tail}) + 1) = {tail})"
                            )
                        }
                        _ => "1=0".into(),
                    })
                    .collect();
                or_all(parts)
            })
        }
        Index::Instants { start, end } => {
            let parts = values
                .iter()
                .filter_map(|v| match v {
                    SearchValue::Date {
                        prefix,
                        start: ls,
                        end: le,
                        ..
                    } => Some((*prefix, *ls, *le)),
                    _ => None,
                })
                .map(|(prefix, ls, le)| {
                    let (ls, le) = approximate(prefix, ls, le);
                    range_condition(
                        sql,
                        a,
                        start,
                        end,
                        prefix,
                        Bind::Timestamp(ls),
                        Bind::Timestamp(le),
                    )
                })
                .collect();
            or_all(parts)
        }
        Index::Dates { start, end } => {
            let parts = values
                .iter()
                .filter_map(|v| match v {
                    SearchValue::Date {
                        prefix,
                        first,
                        last,
                        ..
                    } => Some((*prefix, *first, *last)),
                    _ => None,
                })
                .map(|(prefix, first, last)| {
                    let (first, last) = if prefix == Prefix::Ap {
                        let (s, e) = approximate(
                            prefix,
                            first.and_hms_opt(0, 0, 0).expect("midnight"),
                            last.and_hms_opt(0, 0, 0).expect("midnight"),
                        );
                        (s.date(), e.date())
                    } else {
                        (first, last)
                    };
                    range_condition(
                        sql,
                        a,
                        start,
                        end,
                        prefix,
                        Bind::Date(first),
                        Bind::Date(last),
                    )
                })
                .collect();
            or_all(parts)
        }
        Index::Quantity { value, unit } => {
            let parts = values
                .iter()
                .filter_map(|v| match v {
                    SearchValue::Quantity {
                        prefix,
                        value: number,
                        low,
                        high,
                        code,
                    } => Some((*prefix, *number, *low, *high, code.clone())),
                    _ => None,
                })
                .map(|(prefix, number, low, high, code)| {
                    let col = format!("{a}.{value}");
                    let n = sql.bind(Bind::Double(number));
                    let compare = match prefix {
                        Prefix::Eq | Prefix::Ne | Prefix::Ap => {
                            let (low, high) = if prefix == Prefix::Ap {
                                (number * 0.9, number * 1.1)
                            } else {
                                (low, high)
                            };
                            let l = sql.bind(Bind::Double(low));
                            let h = sql.bind(Bind::Double(high));
                            let within = format!("({col} >= {l} AND {col} < {h})");
                            if prefix == Prefix::Ne {
                                format!("NOT {within}")
                            } else {
                                within
                            }
                        }
                        Prefix::Gt | Prefix::Sa => format!("{col} > {n}"),
                        Prefix::Lt | Prefix::Eb => format!("{col} < {n}"),
                        Prefix::Ge => format!("{col} >= {n}"),
                        Prefix::Le => format!("{col} <= {n}"),
                    };
                    match code {
                        Some(code) => {
                            let c = sql.text(&code);
                            format!("({col} IS NOT NULL AND {compare} AND {a}.{unit} = {c})")
                        }
                        None => format!("({col} IS NOT NULL AND {compare})"),
                    }
                })
                .collect();
            or_all(parts)
        }
    }
}

/// One string value against a `resource_string` row aliased `x`.
fn string_match(sql: &mut Sql, x: &str, modifier: Modifier, text: &str) -> String {
    match modifier {
        Modifier::Exact => {
            // Through the token index: the whole-string row's token is its folded form.
            let t = sql.text(&search_form(text));
            let b = sql.text(text);
            format!("({x}.token = {t} AND {x}.exact = {b})")
        }
        Modifier::Contains => sql.contains(&format!("{x}.token"), text),
        _ => sql.starts_with(&format!("{x}.token"), text),
    }
}

/// `ap`: widen the range by a tenth of its distance from now (search.html).
fn approximate(
    prefix: Prefix,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> (NaiveDateTime, NaiveDateTime) {
    if prefix != Prefix::Ap {
        return (start, end);
    }
    let now = Utc::now().naive_utc();
    let gap = (now - start).abs().max((now - end).abs()) / 10;
    let gap = gap.max(Duration::days(1));
    (start - gap, end + gap)
}

/// Range semantics of search.html for a resource range `[start, end]` against the search
/// range `[ls, le]`. A missing end means "still going on". Plain column comparisons, so the
/// planner can estimate them and use the indexes.
fn range_condition(
    sql: &mut Sql,
    a: &str,
    start: &str,
    end: &str,
    prefix: Prefix,
    ls: Bind,
    le: Bind,
) -> String {
    let (s, e) = (format!("{a}.{start}"), format!("{a}.{end}"));
    let test = match prefix {
        Prefix::Eq | Prefix::Ne => {
            let ls = sql.bind(ls);
            let le = sql.bind(le);
            // `{s} <= {le}` follows from start <= end; it bounds the start column's index
            // range and lets the planner estimate it.
            let inside = format!("{s} >= {ls} AND {s} <= {le} AND {e} IS NOT NULL AND {e} <= {le}");
            if prefix == Prefix::Ne {
                format!("NOT ({inside})")
            } else {
                inside
            }
        }
        Prefix::Gt => format!("({e} IS NULL OR {e} > {})", sql.bind(le)),
        Prefix::Lt => format!("{s} < {}", sql.bind(ls)),
        Prefix::Ge => format!("({e} IS NULL OR {e} >= {})", sql.bind(ls)),
        Prefix::Le => format!("{s} <= {}", sql.bind(le)),
        Prefix::Sa => format!("{s} > {}", sql.bind(le)),
        Prefix::Eb => format!("({e} IS NOT NULL AND {e} < {})", sql.bind(ls)),
        Prefix::Ap => {
            let le = sql.bind(le);
            format!("{s} <= {le} AND ({e} IS NULL OR {e} >= {})", sql.bind(ls))
        }
    };
    format!("({s} IS NOT NULL AND {test})")
}

/// The SQL expression a sort key orders by.
pub fn sort_expression(sql: &mut Sql, resource_type: &str, a: &str, param: &SearchParam) -> String {
    match (param.index, own_column(param)) {
        (Index::Id, _) => format!("{a}.id"),
        (_, Some(column)) => format!("{a}.{column}"),
        _ => {
            let x = sql.alias();
            let rt = sql.text(resource_type);
            // The parameter's own rows: the whole name, not its parts.
            let own = match param.index {
                Index::StringsOf(codes) | Index::WholeOf(codes) => codes[0],
                _ => param.code,
            };
            let p = sql.text(own);
            format!(
                "(SELECT MIN({x}.token) FROM resource_string {x} WHERE {x}.resource_type = {rt} \
                 AND {x}.param = {p} AND {x}.resource_id = {a}.id AND {x}.exact IS NOT NULL)"
            )
        }
    }
}

/// How a stored sort value is bound back for keyset comparisons.
fn sort_bind(param: &SearchParam, text: &str) -> Option<Bind> {
    Some(match param.index {
        Index::Flag(_) => Bind::Bool(matches!(text, "true" | "1" | "t")),
        Index::Instants { .. } => {
            Bind::Timestamp(NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()?)
        }
        Index::Dates { .. } => Bind::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?),
        Index::Quantity { .. } => Bind::Double(text.parse().ok()?),
        _ => Bind::Text(text.to_string()),
    })
}

/// A page boundary: the sort values and id of the last row seen, and the paging direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    pub backward: bool,
    pub keys: Vec<Option<String>>,
    pub id: String,
}

/// Whether a child-table index (all but the type's own columns) holds `param`'s values.
fn in_child_table(param: &SearchParam) -> bool {
    param.index != Index::Id && own_column(param).is_none()
}

/// Whether `filter` reads nothing of the type's row but its id.
fn on_id_only(filter: &Filter) -> bool {
    match filter {
        Filter::Param { param, .. } => param.index == Index::Id || in_child_table(param),
        Filter::Missing { param, .. } => in_child_table(param),
        Filter::Chain { .. } | Filter::Has { .. } => true,
        Filter::AnyOf(filters) => filters.iter().all(on_id_only),
    }
}

/// Where the matches come from: the live rows of the type's table, or, when the order is by
/// id and every filter reads only the id, the ids of the first child-table filter's index
/// rows. Index rows exist only for live resources (a delete leaves none), so the type table
/// is not probed once per match: a common name at a million patients matches thousands.
/// Returns the `FROM …` text, its alias and the filters left to apply.
fn source<'r>(
    sql: &mut Sql,
    request: &'r SearchRequest,
) -> (String, &'static str, Vec<&'r Filter>) {
    let table = table_of(request.resource_type);
    let every: Vec<&Filter> = request.filters.iter().collect();
    let by_id_only = request.sort.is_empty() && every.iter().all(|f| on_id_only(f));
    let driver = every.iter().enumerate().find_map(|(i, f)| match f {
        Filter::Param {
            param,
            modifier,
            values,
        } if by_id_only && in_child_table(param) && *modifier != Modifier::Not => {
            Some((i, param, *modifier, values))
        }
        _ => None,
    });
    let Some((driver, param, modifier, values)) = driver else {
        return (format!("{table} t WHERE NOT t.deleted"), "t", every);
    };
    let ids = param_condition(
        sql,
        request.resource_type,
        "d",
        param,
        modifier,
        values,
        Form::Ids,
    );
    let rest = every
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != driver)
        .map(|(_, f)| f)
        .collect();
    (
        format!("(SELECT DISTINCT id FROM ({ids}) m) d WHERE 1=1"),
        "d",
        rest,
    )
}

/// The order of a search without `_sort` whose matches one index hands over in its own
/// order: one string or date filter, with at most code filters on the type's own columns
/// beside it (`gender`, `status`: they keep a good share of the rows, so a walk along the
/// index soon fills a page). A page then reads its own rows, not every match: a common name
/// matches thousands of people at a million patients. Any other search goes by id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexOrder<'r> {
    /// The position of the driving filter in the request.
    driver: usize,
    /// The driving parameter, narrowed to the rows its search reads.
    param: SearchParam,
    key: OrderKey<'r>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum OrderKey<'r> {
    /// The folded string, then the id; a resource comes once, at its first matching row.
    Token { modifier: Modifier, text: &'r str },
    /// The start of the date range, then the id.
    Start(&'static str),
}

pub fn index_order(request: &SearchRequest) -> Option<IndexOrder<'_>> {
    if !request.sort.is_empty() {
        return None;
    }
    let companion = |filter: &Filter| {
        matches!(filter, Filter::Param { param, modifier, .. }
            if matches!(param.index, Index::Code { .. }) && *modifier != Modifier::Not)
    };
    let mut drivers = request
        .filters
        .iter()
        .enumerate()
        .filter(|(_, f)| !companion(f));
    let (driver, filter) = drivers.next()?;
    if drivers.next().is_some() {
        return None;
    }
    let Filter::Param {
        param,
        modifier,
        values,
    } = filter
    else {
        return None;
    };
    let [value] = values.as_slice() else {
        return None;
    };
    let param = param.string_rows(*modifier);
    let key = match (param.index, value, *modifier) {
        (Index::Strings, SearchValue::Text(text), Modifier::None | Modifier::Exact) => {
            OrderKey::Token {
                modifier: *modifier,
                text,
            }
        }
        // Prefixes that bound the start from below, or match every row from the first on.
        (
            Index::Dates { start, .. } | Index::Instants { start, .. },
            SearchValue::Date {
                prefix: Prefix::Eq | Prefix::Sa | Prefix::Lt | Prefix::Le,
                ..
            },
            Modifier::None,
        ) => OrderKey::Start(start),
        _ => return None,
    };
    Some(IndexOrder { driver, param, key })
}

/// How many sort values a page boundary of `request` carries.
pub fn order_keys(request: &SearchRequest) -> usize {
    index_order(request).map_or(request.sort.len(), |_| 1)
}

/// The ids of one page (`id`, `n` and the keys `k0` the page is ordered by), with the
/// outer query's key columns and order.
struct Page {
    ids: String,
    keys: String,
    order: String,
}

/// `SELECT` of one page: id, version, lastUpdated, content, the sort keys as text and, with
/// `counted`, the number of every match in `n` (a window over the same scan, so the matches
/// are read once rather than again by a separate `COUNT`). The limit is written into the
/// text, not bound: PostgreSQL's generic plan then knows the page is small, and a repeated
/// search shape runs without planning each time.
pub fn page_query(
    request: &SearchRequest,
    postgres: bool,
    boundary: Option<&Boundary>,
    limit: i64,
    counted: bool,
) -> Option<Sql> {
    let mut sql = Sql::new(postgres);
    let table = table_of(request.resource_type);
    let n = if counted {
        "COUNT(*) OVER ()"
    } else {
        "CAST(NULL AS BIGINT)"
    };
    let page = match index_order(request) {
        Some(order) => indexed_page(&mut sql, request, order, boundary, limit, n)?,
        None => sorted_page(&mut sql, request, boundary, limit, n)?,
    };
    sql.text = format!(
        "SELECT t.id, t.version_id, t.last_updated, t.content, {}, p.n \
         FROM ({}) p JOIN {table} t ON t.id = p.id WHERE NOT t.deleted ORDER BY {}",
        page.keys, page.ids, page.order
    );
    Some(sql)
}

/// `ASC` or `DESC`, and the comparison that steps past a boundary, for the paging direction.
fn direction(boundary: Option<&Boundary>) -> (&'static str, &'static str) {
    if boundary.is_some_and(|b| b.backward) {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    }
}

/// A page in the order of the driving filter's index: `(key, id)` past the boundary, as a row
/// comparison the index can seek to, so a later page costs what the first does.
fn indexed_page(
    sql: &mut Sql,
    request: &SearchRequest,
    order: IndexOrder,
    boundary: Option<&Boundary>,
    limit: i64,
    n: &str,
) -> Option<Page> {
    let resource_type = request.resource_type;
    let table = table_of(resource_type);
    let (dir, beyond) = direction(boundary);
    let boundary = match boundary {
        Some(b) => match b.keys.as_slice() {
            [Some(key)] => Some((sort_bind(&order.param, key)?, b.id.as_str())),
            _ => return None,
        },
        None => None,
    };
    let past = |sql: &mut Sql, key: &str, id: &str| match &boundary {
        Some((value, last)) => {
            let v = sql.bind(value.clone());
            let last = sql.text(last);
            format!(" AND ({key}, {id}) {beyond} ({v}, {last})")
        }
        None => String::new(),
    };
    let others: Vec<&Filter> = request
        .filters
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != order.driver)
        .map(|(_, f)| f)
        .collect();
    let ids = match order.key {
        OrderKey::Start(column) => {
            let mut text = format!(
                "SELECT t.id, t.{column} AS k0, {n} AS n FROM {table} t WHERE NOT t.deleted"
            );
            for filter in &request.filters {
                text.push_str(" AND ");
                text.push_str(&condition(sql, resource_type, "t", filter));
            }
            text.push_str(&past(sql, &format!("t.{column}"), "t.id"));
            format!("{text} ORDER BY t.{column} {dir}, t.id {dir} LIMIT {limit}")
        }
        OrderKey::Token { modifier, text } => {
            let (x, y) = (sql.alias(), sql.alias());
            let rt = sql.text(resource_type);
            let p = sql.text(order.param.code);
            let matched = match modifier {
                Modifier::Exact => string_match(sql, &x, modifier, text),
                _ => sql.prefix_range(&format!("{x}.token"), text),
            };
            let mut ids = format!(
                "SELECT {x}.resource_id AS id, {x}.token AS k0, CAST(NULL AS BIGINT) AS n \
                 FROM resource_string {x}"
            );
            if !others.is_empty() {
                ids.push_str(&format!(
                    " JOIN {table} t ON t.id = {x}.resource_id AND NOT t.deleted"
                ));
            }
            ids.push_str(&format!(
                " WHERE {x}.resource_type = {rt} AND {x}.param = {p} AND {matched}"
            ));
            ids.push_str(&past(
                sql,
                &format!("{x}.token"),
                &format!("{x}.resource_id"),
            ));
            ids.push_str(" AND ");
            ids.push_str(&first_matching_row(sql, &x, &y, modifier, text));
            for filter in &others {
                ids.push_str(" AND ");
                ids.push_str(&condition(sql, resource_type, "t", filter));
            }
            format!("{ids} ORDER BY {x}.token {dir}, {x}.resource_id {dir} LIMIT {limit}")
        }
    };
    Some(Page {
        ids,
        keys: "CAST(p.k0 AS TEXT) AS k0, CAST(NULL AS TEXT) AS k1, CAST(NULL AS TEXT) AS k2".into(),
        order: format!("p.k0 {dir}, t.id {dir}"),
    })
}

/// That the `resource_string` row `x` is its resource's first row (by token, then ord) to
/// match `text`, so a resource with two matching rows (two names, or a word repeated) is listed
/// once. The rows of `y` are tested by expressions no index serves, so PostgreSQL probes the
/// resource's own rows by primary key instead of reading every match.
fn first_matching_row(sql: &mut Sql, x: &str, y: &str, modifier: Modifier, text: &str) -> String {
    let matched = match modifier {
        Modifier::Exact => format!("{y}.exact = {}", sql.text(text)),
        _ => {
            let length = text.chars().count();
            format!("SUBSTR({y}.token, 1, {length}) = {}", sql.text(text))
        }
    };
    format!(
        "{x}.ord = (SELECT {y}.ord FROM resource_string {y} WHERE {y}.resource_type = {x}.resource_type \
         AND {y}.resource_id = {x}.resource_id AND {y}.param = {x}.param AND {matched} \
         ORDER BY {y}.token, {y}.ord LIMIT 1)"
    )
}

/// A page in `_sort` order, then by id.
fn sorted_page(
    sql: &mut Sql,
    request: &SearchRequest,
    boundary: Option<&Boundary>,
    limit: i64,
    n: &str,
) -> Option<Page> {
    let (from, a, filters) = source(sql, request);
    let mut conditions: Vec<String> = filters
        .into_iter()
        .map(|f| condition(sql, request.resource_type, a, f))
        .collect();
    let expressions: Vec<(String, &Sort)> = request
        .sort
        .iter()
        .map(|s| (sort_expression(sql, request.resource_type, a, &s.param), s))
        .collect();
    let backward = boundary.is_some_and(|b| b.backward);
    let (dir, beyond) = direction(boundary);
    if let Some(boundary) = boundary {
        if boundary.keys.len() != expressions.len() {
            return None;
        }
        let id = sql.text(&boundary.id);
        let mut after = format!("{a}.id {beyond} {id}");
        for ((expr, sort), key) in expressions.iter().zip(&boundary.keys).rev() {
            let forward = sort.descending == backward;
            let greater = if forward { ">" } else { "<" };
            after = match key {
                None if backward => {
                    format!("(({expr}) IS NOT NULL OR (({expr}) IS NULL AND {after}))")
                }
                None => format!("(({expr}) IS NULL AND {after})"),
                Some(text) => {
                    let v = sql.bind(sort_bind(&sort.param, text)?);
                    let step = format!("(({expr}) {greater} {v} OR (({expr}) = {v} AND {after}))");
                    if backward {
                        format!("(({expr}) IS NOT NULL AND {step})")
                    } else {
                        format!("(({expr}) IS NULL OR {step})")
                    }
                }
            };
        }
        conditions.push(after);
    }
    let mut order: Vec<String> = Vec::new();
    for (expr, sort) in &expressions {
        let direction = if sort.descending != backward {
            "DESC"
        } else {
            "ASC"
        };
        order.push(format!(
            "(CASE WHEN ({expr}) IS NULL THEN 1 ELSE 0 END) {dir}"
        ));
        order.push(format!("({expr}) {direction}"));
    }
    order.push(format!("{a}.id {dir}"));
    let keys: Vec<String> = (0..MAX_SORT_KEYS)
        .map(|i| match expressions.get(i) {
            Some((expr, _)) => format!("CAST(({expr}) AS TEXT) AS k{i}"),
            None => format!("CAST(NULL AS TEXT) AS k{i}"),
        })
        .collect();
    // The page's ids first, from indexes alone where the filters allow (the `{table}_live`
    // partial index covers `NOT deleted`); the stored JSON is read for those rows only.
    let order = order.join(", ");
    let mut ids = format!("SELECT {a}.id, {n} AS n FROM {from}");
    for condition in conditions {
        ids.push_str(" AND ");
        ids.push_str(&condition);
    }
    // Sort keys are expressions on `t` in both queries; ids from a child table order alone.
    let outer_order = if a == "t" {
        order.clone()
    } else {
        format!("t.id {dir}")
    };
    Some(Page {
        ids: format!("{ids} ORDER BY {order} LIMIT {limit}"),
        keys: keys.join(", "),
        order: outer_order,
    })
}

/// `SELECT COUNT(*)` of every match.
pub fn count_query(request: &SearchRequest, postgres: bool) -> Sql {
    every_match(request, postgres, "SELECT COUNT(*) AS n")
}

/// PostgreSQL's plan for reading every match, whose top row estimate is `_total=estimate`.
pub fn estimate_query(request: &SearchRequest) -> Sql {
    every_match(request, true, "EXPLAIN (FORMAT JSON) SELECT 1")
}

fn every_match(request: &SearchRequest, postgres: bool, select: &str) -> Sql {
    let mut sql = Sql::new(postgres);
    let (from, a, filters) = source(&mut sql, request);
    let conditions: Vec<String> = filters
        .into_iter()
        .map(|f| condition(&mut sql, request.resource_type, a, f))
        .collect();
    let mut text = format!("{select} FROM {from}");
    for condition in conditions {
        text.push_str(" AND ");
        text.push_str(&condition);
    }
    sql.text = text;
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::tests::parsed;

    /// Asserts which index orders a search without `_sort`: the driving filter's position
    /// and key.
    fn assert_order(
        resource_type: &'static str,
        query: &[(&str, &str)],
        expected: Option<(usize, OrderKey)>,
    ) {
        let request = parsed(resource_type, query).unwrap();
        let order = index_order(&request).map(|o| (o.driver, o.key));
        assert_eq!(order, expected, "{query:?}");
    }

    #[test]
    fn one_string_or_date_filter_orders_by_its_index() {
        let name = Some(OrderKey::Token {
            modifier: Modifier::None,
            text: "nguyen van",
        });
        assert_order("Patient", &[("name", "Nguyễn Văn")], name.map(|k| (0, k)));
        assert_order(
            "Patient",
            &[("gender", "female"), ("name", "Nguyễn Văn")],
            name.map(|k| (1, k)),
        );
        assert_order(
            "Patient",
            &[("family:exact", "Lê")],
            Some((
                0,
                OrderKey::Token {
                    modifier: Modifier::Exact,
                    text: "Lê",
                },
            )),
        );
        assert_order(
            "Patient",
            &[("birthdate", "1980-05"), ("gender", "female")],
            Some((0, OrderKey::Start("birth_date"))),
        );
        assert_order(
            "Encounter",
            &[("date", "lt2024"), ("status", "finished")],
            Some((0, OrderKey::Start("period_start"))),
        );
        // By id: a sort, a second driving filter, several values, or a filter whose index
        // order does not bound the walk.
        for query in [
            &[("name", "an"), ("_sort", "birthdate")][..],
            &[("name", "an"), ("birthdate", "1980")],
            &[("name", "an"), ("identifier", "001080000001")],
            &[("name", "an,binh")],
            &[("name:contains", "an")],
            &[("name:exact", "An")],
            &[("address", "ha noi")],
            &[("gender:not", "male"), ("name", "an")],
            &[("birthdate", "ge1980")],
            &[("gender", "female")],
        ] {
            assert_order("Patient", query, None);
        }
    }
}
