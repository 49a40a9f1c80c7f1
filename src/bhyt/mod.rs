//! BHYT claim XML: QĐ 130 as amended by QĐ 4750 (check-in table, XML1-XML15) and QĐ 4210
//! (XML1-XML5).
//!
//! - [`spec`] and [`codes`]: the regulation as data, loaded from the vendored CSVs in
//!   `regulation/`.
//! - [`xml`]: the inner table files, read and written byte-stably.
//! - [`envelope`]: the GIAMDINHHS envelope, streamed one HOSO at a time, and document
//!   recognition by root element.
//! - [`rules`]: the checker for the catalogue in `rules.md`.
//! - [`sample`]: synthetic clean dossiers for examples, tests and benchmarks.
//! - [`cli`] and [`rest`]: `vnfhir bhyt …` and `POST /$bhyt-xml-validate`.

pub mod cli;
pub mod codes;
pub mod envelope;
pub mod rest;
pub mod rules;
pub mod sample;
pub mod spec;
pub mod xml;

/// A file that cannot be read as BHYT XML at all: not UTF-8, not well-formed, bad base64, or
/// elements where the structure allows none. `rule` is R-GEN-001 (encoding/well-formedness)
/// or R-GEN-002 (element names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub rule: &'static str,
    /// Where, e.g. `HOSO[2].XML3` or `GIAMDINHHS`.
    pub location: String,
    pub vi: String,
    pub en: String,
}

impl ReadError {
    pub fn new(
        rule: &'static str,
        location: &str,
        vi: impl Into<String>,
        en: impl Into<String>,
    ) -> ReadError {
        ReadError {
            rule,
            location: location.to_string(),
            vi: vi.into(),
            en: en.into(),
        }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.rule, self.location, self.en)
    }
}

impl std::error::Error for ReadError {}
