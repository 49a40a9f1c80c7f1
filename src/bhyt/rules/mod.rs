//! The checker for the catalogue in `rules.md`.
//!
//! - [`field`]: rules on one value, driven by the table spec (type, length, required, date
//!   formats) and by the data table of field checks (code lists, identifiers, patterns).
//! - [`record`]: rules across the fields of one row (date order, line arithmetic,
//!   conditional requirements).
//! - [`dossier`]: rules across the tables of one HOSO and the envelope (MA_LK linking, table
//!   presence per MA_LOAI_KCB, copied demographics, XML1 totals).
//! - [`catalogue`]: which rules are checked, which need outside catalogues or services.

pub mod catalogue;
pub mod dossier;
pub mod field;
pub mod record;

use std::collections::HashSet;
use std::io::BufRead;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::envelope::{Document, EnvelopeReader, Header, Hoso};
use super::spec::{spec, Standard};
use super::xml::{Row, Table};
use super::ReadError;
use catalogue::Catalogues;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// One broken rule at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    /// 1-based HOSO index inside an envelope.
    pub hoso: Option<usize>,
    /// `XML1` … `XML15`, `CHECKIN`, or `GIAMDINHHS` for envelope rules.
    pub table: &'static str,
    /// 1-based row for list tables.
    pub row: Option<usize>,
    pub field: Option<&'static str>,
    pub vi: String,
    pub en: String,
}

impl Finding {
    /// `HOSO[1].XML2[3].DON_GIA`.
    pub fn location(&self) -> String {
        let mut out = String::new();
        if let Some(hoso) = self.hoso {
            out.push_str(&format!("HOSO[{hoso}]."));
        }
        out.push_str(self.table);
        if let Some(row) = self.row {
            out.push_str(&format!("[{row}]"));
        }
        if let Some(field) = self.field {
            out.push('.');
            out.push_str(field);
        }
        out
    }
}

/// Collects findings for one place in the file.
pub struct Sink<'f> {
    findings: &'f mut Vec<Finding>,
    hoso: Option<usize>,
}

impl Sink<'_> {
    /// Records `rule` on `field` of `row` (row 0 for single-record tables and envelope rules).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        rule: &'static str,
        level: Level,
        table: &'static str,
        row: Option<usize>,
        field: Option<&'static str>,
        vi: String,
        en: String,
    ) {
        self.findings.push(Finding {
            rule,
            level,
            hoso: self.hoso,
            table,
            row,
            field,
            vi,
            en,
        });
    }
}

/// A money or quantity value of a file. Almost every value is `digits[.digits]` of at most
/// 18 characters, read here in one pass into the mantissa and scale the library's parser
/// gives; signs, underscores, exponents and long values go through that parser.
pub fn decimal(value: &str) -> Option<Decimal> {
    let bytes = value.as_bytes();
    let mut mantissa = 0i64;
    let mut point = None;
    let plain = bytes.len() <= 18
        && bytes.iter().enumerate().all(|(i, &b)| match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + i64::from(b - b'0');
                true
            }
            b'.' if point.is_none() => {
                point = Some(i);
                true
            }
            _ => false,
        });
    match point {
        // Digits on both sides of the point, or no point.
        Some(i) if plain && i > 0 && i + 1 < bytes.len() => {
            Some(Decimal::new(mantissa, (bytes.len() - i - 1) as u32))
        }
        None if plain && !bytes.is_empty() => Some(Decimal::new(mantissa, 0)),
        _ => Decimal::from_str(value).ok(),
    }
}

/// The sum of amounts read from a file: `None` when one is `None` or, for a hostile file,
/// when the sum overflows (`Decimal`'s operators panic).
pub fn total(values: impl IntoIterator<Item = Option<Decimal>>) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |sum, v| sum.checked_add(v?))
}

/// The product of `factors` divided by `divisor`, rounded to 2 decimals as the line formulas
/// are; `None` on overflow.
pub fn rounded(factors: &[Decimal], divisor: u32) -> Option<Decimal> {
    factors
        .iter()
        .try_fold(Decimal::ONE, |p, f| p.checked_mul(*f))
        .map(|p| (p / Decimal::from(divisor)).round_dp(2))
}

/// Whether two amounts differ by more than the 0.01 the rules tolerate.
pub fn differ(a: Decimal, b: Decimal) -> bool {
    a.checked_sub(b)
        .is_none_or(|d| d.abs() > Decimal::new(1, 2))
}

/// A row and where it is, for rules that report on it.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub row: Row<'a>,
    /// 1-based, `None` for single-record tables.
    pub index: Option<usize>,
}

impl<'a> At<'a> {
    pub fn table(&self) -> &'static str {
        self.row.table.spec.name
    }

    pub fn get(&self, field: &str) -> &'a str {
        self.row.get(field)
    }

    /// The static field name from the spec (locations need `'static`).
    pub fn name(&self, field: &str) -> Option<&'static str> {
        let spec = self.row.table.spec;
        spec.field_index(field).map(|i| spec.fields[i].name)
    }

    pub fn report(
        &self,
        sink: &mut Sink,
        rule: &'static str,
        level: Level,
        field: &str,
        vi: String,
        en: String,
    ) {
        sink.push(
            rule,
            level,
            self.table(),
            self.index,
            self.name(field),
            vi,
            en,
        );
    }
}

/// Iterates the rows of a table with their 1-based index (none for single-record tables).
pub fn rows(table: &Table) -> impl Iterator<Item = At<'_>> {
    let list = table.spec.list.is_some();
    table.rows().enumerate().map(move |(i, row)| At {
        row,
        index: list.then_some(i + 1),
    })
}

/// The result of checking one file.
#[derive(Debug, Default)]
pub struct Report {
    pub document: Option<&'static str>,
    pub standard: Option<Standard>,
    pub hoso_count: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.level == Level::Error)
            .count()
    }
}

/// Checks one file of any kind, recognised by its root; `standard` overrides the detection
/// of QĐ 4210 envelopes.
pub fn check_document(
    input: impl BufRead,
    first_bytes: &[u8],
    standard: Option<Standard>,
    catalogues: &Catalogues,
) -> Result<Report, ReadError> {
    match Document::recognise(first_bytes)? {
        Document::Envelope => check_envelope(input, standard, catalogues),
        Document::CheckIn => check_table_file("CHECKIN", input, catalogues),
        Document::Xml12 => check_table_file("XML12", input, catalogues),
    }
}

/// Checks a check-in or table 12 file (QĐ 130 only: QĐ 4210 had neither).
pub fn check_table_file(
    name: &str,
    mut input: impl BufRead,
    catalogues: &Catalogues,
) -> Result<Report, ReadError> {
    let spec = spec(Standard::Qd130)
        .table(name)
        .expect("CHECKIN and XML12 are in the QĐ 130 spec");
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::new("R-GEN-001", name, e.to_string(), e.to_string()))?;
    let table = Table::parse(spec, bytes, name)?;
    let mut report = Report {
        document: Some(spec.root),
        standard: Some(Standard::Qd130),
        ..Report::default()
    };
    let mut sink = Sink {
        findings: &mut report.findings,
        hoso: None,
    };
    field::check_table(&table, &mut sink);
    record::check_table(&table, None, &mut sink);
    catalogues.check_table(&table, &mut sink);
    dossier::numbering(&table, &mut sink);
    Ok(report)
}

/// Streams an envelope and checks each HOSO as it is read.
pub fn check_envelope(
    input: impl BufRead,
    standard: Option<Standard>,
    catalogues: &Catalogues,
) -> Result<Report, ReadError> {
    let mut reader = EnvelopeReader::new(input)?;
    let mut report = Report {
        document: Some(super::envelope::ROOT),
        ..Report::default()
    };
    let mut seen_ma_lk = HashSet::new();
    while let Some(hoso) = reader.next_hoso()? {
        let index = reader.count;
        let standard = standard.unwrap_or_else(|| hoso.standard());
        report.standard.get_or_insert(standard);
        let mut sink = Sink {
            findings: &mut report.findings,
            hoso: Some(index),
        };
        let dossier = Episode {
            index,
            standard,
            header: &reader.header,
            catalogues,
        };
        check_hoso(hoso, &dossier, &mut seen_ma_lk, &mut sink)?;
    }
    report.hoso_count = reader.count;
    let header = reader.header.clone();
    reader.finish()?;
    let mut sink = Sink {
        findings: &mut report.findings,
        hoso: None,
    };
    dossier::check_count(&header, report.hoso_count, &mut sink);
    Ok(report)
}

/// Where a HOSO sits and what it is checked against.
pub struct Episode<'a> {
    /// 1-based position in the envelope.
    pub index: usize,
    pub standard: Standard,
    pub header: &'a Header,
    pub catalogues: &'a Catalogues,
}

/// Parses the tables of one HOSO and runs every rule on them.
pub fn check_hoso(
    hoso: Hoso,
    episode: &Episode,
    seen_ma_lk: &mut HashSet<String>,
    sink: &mut Sink,
) -> Result<(), ReadError> {
    let Episode {
        index,
        standard,
        header,
        catalogues,
    } = *episode;
    let spec = spec(standard);
    let mut tables = Vec::with_capacity(hoso.files.len());
    for file in hoso.files {
        let location = format!("HOSO[{index}].{}", file.loaihoso);
        // The check-in and table 12 files travel outside the envelope (CV 1245).
        let table_spec = spec
            .table(&file.loaihoso)
            .filter(|t| !matches!(t.name, "CHECKIN" | "XML12"))
            .ok_or_else(|| {
                ReadError::new(
                    if standard == Standard::Qd4210 {
                        "R-4210-008"
                    } else {
                        "R-GEN-002"
                    },
                    &location,
                    format!(
                        "LOAIHOSO {} không hợp lệ theo QĐ {}",
                        file.loaihoso,
                        standard.as_str()
                    ),
                    format!(
                        "LOAIHOSO {} is not valid under QĐ {}",
                        file.loaihoso,
                        standard.as_str()
                    ),
                )
            })?;
        tables.push(Table::parse(table_spec, file.content, &location)?);
    }
    let dossier = dossier::Dossier::new(&tables, standard);
    for table in &tables {
        field::check_table(table, sink);
        record::check_table(table, dossier.xml1(), sink);
        catalogues.check_table(table, sink);
    }
    dossier.check(header, seen_ma_lk, sink);
    Ok(())
}

/// Sniffs and checks an in-memory file (REST, tests).
pub fn check_bytes(bytes: &[u8], standard: Option<Standard>) -> Result<Report, ReadError> {
    check_document(bytes, bytes, standard, &Catalogues::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fast path reads what the library reads, scale included.
        #[test]
        fn decimals_read_as_the_library_does(text in "[0-9]{0,20}(\\.[0-9]{0,20})?|[-+0-9._eE]{0,12}") {
            let parts = |d: Decimal| (d.mantissa(), d.scale());
            proptest::prop_assert_eq!(
                decimal(&text).map(parts),
                Decimal::from_str(&text).ok().map(parts)
            );
        }
    }
}
