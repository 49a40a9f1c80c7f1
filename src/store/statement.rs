//! Generated SQL (search, conditional writes) as a diesel query that stays prepared.
//!
//! `diesel::sql_query` never caches its statement, so PostgreSQL parsed and planned every
//! search anew. Generated text keeps values in binds, so its shapes repeat: each connection
//! keeps a shape's statement prepared, for a bounded number of shapes.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{LazyLock, Mutex};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error as DieselError;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Bool, Date, Double, HasSqlType, Text, Timestamp, Untyped};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::db::DbConnection;
use crate::search::sql::{Bind, Sql};

/// Shapes kept prepared per connection. A stream of unusual searches (many OR-ed values)
/// then grows no cache without end: past the bound, new shapes run unprepared as before.
const MAX_PREPARED_SHAPES: usize = 512;

/// Statements with more binds run unprepared: such texts are `IN` lists whose length
/// varies (a transaction's ids, an include's sources), and each length would take a shape
/// from the searches that repeat.
const MAX_PREPARED_BINDS: usize = 32;

struct Shapes {
    hasher: RandomState,
    seen: Mutex<HashSet<u64>>,
}

static SHAPES: LazyLock<Shapes> = LazyLock::new(|| Shapes {
    hasher: RandomState::new(),
    seen: Mutex::new(HashSet::new()),
});

/// Whether statements of this text may be cached. A hash collision only lets one more
/// shape in; the statement cache itself is keyed by the full text.
fn admitted(sql: &Sql) -> bool {
    if sql.binds.len() > MAX_PREPARED_BINDS {
        return false;
    }
    let key = SHAPES.hasher.hash_one(&sql.text);
    let Ok(mut seen) = SHAPES.seen.lock() else {
        return false;
    };
    if seen.contains(&key) {
        return true;
    }
    seen.len() < MAX_PREPARED_SHAPES && seen.insert(key)
}

/// A piece of the text: literal SQL, or the placeholder of bind number `n` (0-based).
#[derive(Debug, PartialEq)]
enum Part<'a> {
    Sql(&'a str),
    Bind(usize),
}

/// Splits text at its `$n` (PostgreSQL) or `?n` (SQLite) placeholders. Diesel numbers
/// placeholders itself as binds are pushed, in text order, so a placeholder used twice
/// becomes two parameters with the same value.
fn parts(text: &str) -> Vec<Part<'_>> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if matches!(bytes[i], b'$' | b'?') && digits > 0 {
            let number: usize = text[i + 1..i + 1 + digits].parse().unwrap_or(0);
            if start < i {
                parts.push(Part::Sql(&text[start..i]));
            }
            parts.push(Part::Bind(number.wrapping_sub(1)));
            i += 1 + digits;
            start = i;
        } else {
            i += 1;
        }
    }
    if start < text.len() {
        parts.push(Part::Sql(&text[start..]));
    }
    parts
}

pub struct Statement<'a> {
    parts: Vec<Part<'a>>,
    binds: &'a [Bind],
    cached: bool,
}

impl<'a> Statement<'a> {
    pub fn new(sql: &'a Sql) -> Statement<'a> {
        Statement {
            parts: parts(&sql.text),
            binds: &sql.binds,
            cached: admitted(sql),
        }
    }
}

impl<DB> QueryFragment<DB> for Statement<'_>
where
    DB: Backend
        + HasSqlType<Text>
        + HasSqlType<Double>
        + HasSqlType<Bool>
        + HasSqlType<Timestamp>
        + HasSqlType<Date>
        + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    f64: ToSql<Double, DB>,
    bool: ToSql<Bool, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    NaiveDate: ToSql<Date, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        if !self.cached {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.parts {
            match part {
                Part::Sql(text) => out.push_sql(text),
                Part::Bind(n) => match self.binds.get(*n) {
                    Some(Bind::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                    Some(Bind::Double(v)) => out.push_bind_param::<Double, _>(v)?,
                    Some(Bind::Bool(v)) => out.push_bind_param::<Bool, _>(v)?,
                    Some(Bind::Timestamp(v)) => out.push_bind_param::<Timestamp, _>(v)?,
                    Some(Bind::Date(v)) => out.push_bind_param::<Date, _>(v)?,
                    Some(Bind::Int(v)) => out.push_bind_param::<BigInt, _>(v)?,
                    None => {
                        return Err(DieselError::QueryBuilderError(
                            format!("placeholder {} has no bind", n.wrapping_add(1)).into(),
                        ))
                    }
                },
            }
        }
        Ok(())
    }
}

impl QueryId for Statement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Statement<'_> {
    type SqlType = Untyped;
}

impl<Conn: diesel::Connection> RunQueryDsl<Conn> for Statement<'_> {}

/// The rows of generated SQL, on either backend.
pub fn load<Row>(conn: &mut DbConnection, sql: &Sql) -> QueryResult<Vec<Row>>
where
    Row: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    let statement = Statement::new(sql);
    match conn {
        DbConnection::Postgresql(c) => statement.load(c),
        DbConnection::Sqlite(c) => statement.load(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_placeholders_of_either_backend() {
        assert_eq!(
            parts("SELECT a FROM t WHERE x = $1 AND (y > $12 OR y = $1)"),
            vec![
                Part::Sql("SELECT a FROM t WHERE x = "),
                Part::Bind(0),
                Part::Sql(" AND (y > "),
                Part::Bind(11),
                Part::Sql(" OR y = "),
                Part::Bind(0),
                Part::Sql(")"),
            ]
        );
        assert_eq!(
            parts("?2?1"),
            vec![Part::Bind(1), Part::Bind(0)],
            "adjacent placeholders"
        );
        assert_eq!(parts("a $ b ? c"), vec![Part::Sql("a $ b ? c")]);
    }

    #[test]
    fn admits_a_bounded_number_of_shapes() {
        let shape = |text: &str| {
            let mut sql = Sql::new(true);
            sql.text = text.into();
            sql
        };
        assert!(admitted(&shape("SELECT 'shape under test'")));
        assert!(
            admitted(&shape("SELECT 'shape under test'")),
            "a known shape stays in"
        );
        for n in 0..MAX_PREPARED_SHAPES {
            admitted(&shape(&format!("SELECT {n} AS filler")));
        }
        assert!(!admitted(&shape("SELECT 'one shape too many'")));
        assert!(admitted(&shape("SELECT 'shape under test'")));
    }

    #[test]
    fn long_bind_lists_run_unprepared() {
        let mut sql = Sql::new(true);
        let list: Vec<String> = (0..=MAX_PREPARED_BINDS)
            .map(|i| sql.bind(Bind::Int(i as i64)))
            .collect();
        sql.text = format!("SELECT 1 WHERE 0 IN ({})", list.join(", "));
        assert!(!admitted(&sql));
    }
}
