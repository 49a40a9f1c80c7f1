//! FHIR search: the parameter registry, query parsing, SQL generation, paging and
//! `_include` / `_revinclude`.

pub mod params;
pub mod query;
pub mod registry;
pub mod sql;

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::store::{Found, Reader, StoreError};
use query::{Include, SearchError, SearchRequest, Summary, Total};
use sql::{Bind, Boundary, Sql};

/// How deep `:iterate` includes may go.
const MAX_INCLUDE_DEPTH: usize = 4;

#[derive(Debug)]
pub enum SearchFailure {
    Invalid(SearchError),
    Store(StoreError),
}

impl From<StoreError> for SearchFailure {
    fn from(error: StoreError) -> SearchFailure {
        SearchFailure::Store(error)
    }
}

/// One page of results.
#[derive(Debug)]
pub struct SearchPage {
    pub matches: Vec<Found>,
    pub included: Vec<Found>,
    pub total: Option<i64>,
    /// Cursors for the `next` and `previous` links.
    pub next: Option<String>,
    pub previous: Option<String>,
}

fn encode_cursor(boundary: &Boundary) -> String {
    let json = json!({"b": boundary.backward, "k": boundary.keys, "id": boundary.id});
    URL_SAFE_NO_PAD.encode(json.to_string())
}

fn decode_cursor(cursor: &str) -> Option<Boundary> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let json: Value = serde_json::from_slice(&bytes).ok()?;
    Some(Boundary {
        backward: json["b"].as_bool()?,
        keys: json["k"]
            .as_array()?
            .iter()
            .map(|k| k.as_str().map(str::to_string))
            .collect(),
        id: json["id"].as_str()?.to_string(),
    })
}

fn bad_cursor() -> SearchFailure {
    SearchFailure::Invalid(SearchError {
        param: "_cursor".into(),
        vi: "con trỏ trang không hợp lệ cho tìm kiếm này".into(),
        en: "the page cursor does not belong to this search".into(),
    })
}

fn boundary_of(found: &Found, sort_keys: usize, backward: bool) -> Boundary {
    Boundary {
        backward,
        keys: found.sort_keys.iter().take(sort_keys).cloned().collect(),
        id: found.id.clone(),
    }
}

pub fn search(db: &mut dyn Reader, request: &SearchRequest) -> Result<SearchPage, SearchFailure> {
    let postgres = db.is_postgres();
    let count = |db: &mut dyn Reader| db.count(&sql::count_query(request, postgres));
    if request.summary == Summary::Count || request.count == 0 {
        return Ok(SearchPage {
            matches: Vec::new(),
            included: Vec::new(),
            total: (request.total != Total::None || request.summary == Summary::Count)
                .then(|| count(db))
                .transpose()?,
            next: None,
            previous: None,
        });
    }
    let boundary = match &request.cursor {
        Some(cursor) => Some(decode_cursor(cursor).ok_or_else(bad_cursor)?),
        None => None,
    };
    let backward = boundary.as_ref().is_some_and(|b| b.backward);
    // The first page counts in the same statement unless PostgreSQL estimates.
    let counted = boundary.is_none()
        && match request.total {
            Total::Accurate => true,
            Total::Estimate => !postgres,
            Total::None | Total::WhenComplete => false,
        };
    let query = sql::page_query(
        request,
        postgres,
        boundary.as_ref(),
        request.count + 1,
        counted,
    )
    .ok_or_else(bad_cursor)?;
    let (mut matches, match_count) = db.page(request.resource_type, &query)?;
    let more = matches.len() as i64 > request.count;
    matches.truncate(request.count as usize);
    if backward {
        matches.reverse();
    }
    let keys = sql::order_keys(request);
    let (next, previous) = match (backward, boundary.is_some()) {
        (false, had_cursor) => (
            more.then(|| {
                matches
                    .last()
                    .map(|f| encode_cursor(&boundary_of(f, keys, false)))
            })
            .flatten(),
            had_cursor
                .then(|| {
                    matches
                        .first()
                        .map(|f| encode_cursor(&boundary_of(f, keys, true)))
                })
                .flatten(),
        ),
        (true, _) => (
            matches
                .last()
                .map(|f| encode_cursor(&boundary_of(f, keys, false))),
            more.then(|| {
                matches
                    .first()
                    .map(|f| encode_cursor(&boundary_of(f, keys, true)))
            })
            .flatten(),
        ),
    };
    // A first page that holds every match is its own count.
    let total = match request.total {
        Total::None => None,
        _ if boundary.is_none() && !more => Some(matches.len() as i64),
        Total::WhenComplete => None,
        _ if match_count.is_some() => match_count,
        Total::Estimate if postgres => Some(db.estimate(&sql::estimate_query(request))?),
        _ => Some(count(db)?),
    };
    let included = includes(db, request, &matches)?;
    Ok(SearchPage {
        matches,
        included,
        total,
        next,
        previous,
    })
}

fn ids_in(sql: &mut Sql, values: &[String]) -> String {
    values
        .iter()
        .map(|v| sql.bind(Bind::Text(v.clone())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `_include` and `_revinclude`, repeated for `:iterate` on what was added.
fn includes(
    db: &mut dyn Reader,
    request: &SearchRequest,
    matches: &[Found],
) -> Result<Vec<Found>, StoreError> {
    let postgres = db.is_postgres();
    let mut seen: HashSet<String> = matches.iter().map(Found::reference).collect();
    let mut included: Vec<Found> = Vec::new();
    let mut frontier: Vec<Found> = matches.to_vec();
    for depth in 0..MAX_INCLUDE_DEPTH {
        let mut added = Vec::new();
        let applies = |include: &&Include| depth == 0 || include.iterate;
        for include in request.includes.iter().filter(applies) {
            let sources: Vec<String> = frontier
                .iter()
                .filter(|f| f.resource_type == include.source)
                .map(|f| f.id.clone())
                .collect();
            if sources.is_empty() {
                continue;
            }
            let mut sql = Sql::new(postgres);
            let rows = sql::reference_rows(&mut sql, "x", include.source, &include.rows);
            let ids = ids_in(&mut sql, &sources);
            sql.text = format!(
                "SELECT x.target AS value FROM resource_reference x WHERE {rows} AND x.resource_id IN ({ids})"
            );
            let targets = db.strings(&sql)?;
            added.extend(fetch_targets(db, &targets, include.target, &mut seen)?);
        }
        for include in request.revincludes.iter().filter(applies) {
            let targets: Vec<String> = frontier.iter().map(Found::reference).collect();
            if targets.is_empty() {
                continue;
            }
            let mut sql = Sql::new(postgres);
            let rows = sql::reference_rows(&mut sql, "x", include.source, &include.rows);
            let ids = ids_in(&mut sql, &targets);
            sql.text = format!(
                "SELECT DISTINCT x.resource_type || '/' || x.resource_id AS value FROM resource_reference x \
                 WHERE {rows} AND x.target IN ({ids})"
            );
            let sources = db.strings(&sql)?;
            added.extend(fetch_targets(db, &sources, None, &mut seen)?);
        }
        if added.is_empty() {
            break;
        }
        frontier = added.clone();
        included.extend(added);
    }
    Ok(included)
}

/// Reads the stored resources behind `Type/id` references not yet in the bundle.
fn fetch_targets(
    db: &mut dyn Reader,
    references: &[String],
    only: Option<&str>,
    seen: &mut HashSet<String>,
) -> Result<Vec<Found>, StoreError> {
    let mut found = Vec::new();
    for projection in crate::store::projection::PROJECTIONS {
        let resource_type = projection.resource_type();
        if only.is_some_and(|o| o != resource_type) {
            continue;
        }
        let ids: Vec<String> = references
            .iter()
            .filter(|r| !seen.contains(*r))
            .filter_map(|r| {
                r.strip_prefix(resource_type)?
                    .strip_prefix('/')
                    .map(str::to_string)
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if ids.is_empty() {
            continue;
        }
        let mut sql = Sql::new(db.is_postgres());
        let list = ids_in(&mut sql, &ids);
        sql.text = format!(
            "SELECT t.id, t.version_id, t.last_updated, t.content, CAST(NULL AS TEXT) AS k0, \
             CAST(NULL AS TEXT) AS k1, CAST(NULL AS TEXT) AS k2 FROM {} t WHERE NOT t.deleted AND t.id IN ({list}) ORDER BY t.id",
            projection.table()
        );
        for row in db.found(resource_type, &sql)? {
            if seen.insert(row.reference()) {
                found.push(row);
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let boundary = Boundary {
            backward: true,
            keys: vec![Some("2024-05-01 01:00:00".into()), None],
            id: "p-1".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&boundary)), Some(boundary));
        assert_eq!(decode_cursor("not a cursor"), None);
    }
}
