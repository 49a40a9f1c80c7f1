//! Rules of `rules.md` that a file alone cannot decide. They are listed, not skipped
//! silently: `vnfhir bhyt check` prints them and the README names them. The facility's own
//! catalogues (drugs, services, supplies, staff) can be supplied as CSV files
//! (`vnfhir bhyt check --catalogue FILE`); the rules they decide are then checked.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::{rows, Level, Sink};
use crate::bhyt::spec::{parse_csv, Standard};
use crate::bhyt::xml::Table;

/// Rules that need a catalogue or service outside the file, with what is needed. Where the
/// rule also has a format part, that part is checked (see the rule's id in the findings).
pub const NEEDS_CATALOGUE: &[(&str, &str)] = &[
    ("R-GEN-007", "MOH common code sets (DMDC) for MA_DICH_VU, MA_THUOC, MA_VAT_TU, MA_KHOA, MA_BENH*, MA_PTTT_QT, MA_CSKCB"),
    ("R-XML1-011", "nationality list (TT 07/2016/TT-BCA App. 2; only 000 is in the pack)"),
    ("R-XML1-013", "occupation list (QĐ 34/2020/QĐ-TTg)"),
    ("R-XML1-014", "administrative units (province/district/commune)"),
    ("R-XML1-015", "administrative units after the 2025 reform"),
    ("R-XML1-021", "facility catalogue"),
    ("R-XML1-026", "ICD-10 (QĐ 4469) and YHCT catalogues"),
    ("R-XML1-027", "ICD-10 catalogue"),
    ("R-XML1-028", "YHCT disease catalogue"),
    ("R-XML1-030", "ICD-9-CM (QĐ 4440)"),
    ("R-XML1-032", "the facility's own correct-route registration codes"),
    ("R-XML1-034", "facility catalogue"),
    ("R-XML1-037", "facility catalogue"),
    ("R-XML1-038", "departments (QĐ 5937 App. 5)"),
    ("R-XML1-047", "gateway staff list"),
    ("R-XML1-053", "the facility's correct-route registration codes"),
    ("R-XML2-002", "the facility's approved drug catalogue"),
    ("R-XML2-003", "the facility's approved drug catalogue"),
    ("R-XML2-004", "the facility's approved drug catalogue (prices)"),
    ("R-XML2-015", "departments (QĐ 5937 App. 5) and which are examination departments"),
    ("R-XML2-016", "gateway staff list"),
    ("R-XML2-024", "the list of drugs billed with a service"),
    ("R-XML3-004", "the approved supply catalogue"),
    ("R-XML3-005", "the supply list (group 11 semantics)"),
    ("R-XML3-007", "the approved service catalogue"),
    ("R-XML3-008", "the approved service catalogue (code suffixes and prices)"),
    ("R-XML3-010", "gateway staff list"),
    ("R-XML3-012", "equipment catalogue"),
    ("R-XML3-013", "gateway staff list"),
    ("R-XML3-015", "ICD-10 and YHCT catalogues"),
    ("R-XML3-016", "YHCT disease catalogue"),
    ("R-XML3-025", "bed usage of all patients"),
    ("R-XML3-026", "department/bed-code mapping"),
    ("R-XML3-032", "procedures of all dossiers"),
    ("R-XML3-033", "departments (QĐ 5937 App. 5)"),
    ("R-XML3-038", "ICD-9-CM (QĐ 4440)"),
    ("R-XML4-002", "the approved service catalogue"),
    ("R-XML4-006", "gateway staff list"),
    ("R-XML5-002", "gateway staff list"),
    ("R-XML7-005", "gateway staff list"),
    ("R-XML8-003", "gateway staff list"),
    ("R-XML10-003", "gateway staff list"),
    ("R-XML11-008", "gateway staff list"),
    ("R-XML13-004", "facility catalogue"),
    ("R-XML13-006", "ICD-10 and YHCT catalogues"),
    ("R-XML14-005", "gateway staff list"),
    ("R-ID-002", "the card look-up (KQNhanLichSuKCB2024)"),
    ("R-ID-006", "facility catalogue"),
    ("R-ID-007", "gateway staff list"),
    ("R-CARD-001", "the card look-up (KQNhanLichSuKCB2024)"),
    ("R-CARD-002", "the card look-up (KQNhanLichSuKCB2024)"),
    ("R-CARD-003", "the card look-up (KQNhanLichSuKCB2024)"),
    ("R-CARD-004", "the card look-up (KQNhanLichSuKCB2024)"),
    ("R-CARD-005", "the card look-up (KQNhanLichSuKCB2024)"),
    ("R-CHK-012", "the check-in sent earlier for the episode"),
    ("R-X-023", "the 4210 file sent in parallel"),
    ("R-4210-006", "the approved drug catalogue and staff list"),
    ("R-4210-007", "the approved service/supply catalogue"),
    (
        "R-XML6-005",
        "HIV regimen codes (QĐ 5937 App. 10): which MA_PHAC_DO_DIEU_TRI is \"other\"",
    ),
    (
        "R-4210-003",
        "the facility's correct-route registration codes and level (special/non-special)",
    ),
];

/// Rules about process or information that no file content can break.
pub const NOT_A_FILE_CHECK: &[(&str, &str)] = &[
    ("R-CHK-001", "when the check-in is sent"),
    ("R-CHK-002", "when no check-in is needed"),
    ("R-CHK-003", "what check-in data is used for"),
    ("R-XML3-030", "completion of NGAY_KQ within 60 days"),
    ("R-XML4-001", "information"),
    ("R-XML7-008", "information"),
    (
        "R-XML12-001",
        "table 12 travels on its own API (handled by document recognition)",
    ),
    ("R-XML13-007", "information"),
    ("R-XML14-001", "whether an appointment was issued"),
    ("R-XML14-006", "QĐ 3176 variant, information"),
    ("R-XML15-001", "information"),
];

/// Rules whose condition is exactly another rule's, reported under that id so one defect
/// gives one finding.
pub const COVERED_BY: &[(&str, &str)] = &[
    ("R-ID-003", "R-ID-001 and R-XML1-019 (TE1 cards share the card format), R-XML9-006 (MA_THE_TAM), R-XML1-021 (province + 000)"),
    ("R-XML5-001", "R-X-013 (XML5 only for MA_LOAI_KCB 02-06, 08, 09)"),
    ("R-XML8-001", "R-X-012 (XML8 only for MA_LOAI_KCB 03, 04, 06)"),
    ("R-XML13-001", "R-X-014 (XML13 exactly when MA_LOAI_RV is 2 or 5)"),
    ("R-X-018", "R-XML2-017, R-XML3-027 and R-XML3-029 (order and result times inside the stay)"),
    ("R-XML13-008", "none: a QĐ 3176 variant (unverified); files are checked against QĐ 4750, where TINH_TRANG_CT is an unknown element (R-GEN-002)"),
];

/// How a row value compares with a catalogue column of the same code.
#[derive(Clone, Copy)]
enum Match {
    /// The row field equals the column (trimmed, exact).
    Equal(&'static str, &'static str),
    /// The row price is at most the approved one.
    AtMost(&'static str, &'static str),
}

/// A rule decided by a catalogue whose key column is `catalogue`: the code in `field`
/// (each element of a ";"-list when `list`) must be in it, then match it in order.
struct ByCatalogue {
    rule: &'static str,
    table: &'static str,
    field: &'static str,
    catalogue: &'static str,
    list: bool,
    /// Whether this rule reports codes missing from the catalogue (one rule per code).
    reports_missing: bool,
    /// Codes (or first code parts) the rule does not apply to.
    skip: &'static [&'static str],
    matches: &'static [Match],
}

const fn by(
    rule: &'static str,
    table: &'static str,
    field: &'static str,
    catalogue: &'static str,
    matches: &'static [Match],
) -> ByCatalogue {
    ByCatalogue {
        rule,
        table,
        field,
        catalogue,
        list: false,
        reports_missing: true,
        skip: &[],
        matches,
    }
}

impl ByCatalogue {
    const fn list(mut self) -> ByCatalogue {
        self.list = true;
        self
    }

    /// Another rule on the same code reports it missing.
    const fn known(mut self) -> ByCatalogue {
        self.reports_missing = false;
        self
    }

    const fn skip(mut self, codes: &'static [&'static str]) -> ByCatalogue {
        self.skip = codes;
        self
    }
}

use Match::*;

/// Oxygen, nitric oxide, herbal and in-house products are not in the drug catalogue
/// (R-XML2-002).
const NOT_CATALOGUED: &[&str] = &["40.17", "40.573", "05V", "05C", "HD"];

/// QĐ 130 rules the facility's catalogues decide, with the CSV key column they need.
const BY_CATALOGUE: &[ByCatalogue] = &[
    by(
        "R-XML2-002",
        "XML2",
        "MA_THUOC",
        "MA_THUOC",
        &[
            Equal("HAM_LUONG", "HAM_LUONG"),
            Equal("SO_DANG_KY", "SO_DANG_KY"),
            Equal("TT_THAU", "TT_THAU"),
        ],
    )
    .skip(NOT_CATALOGUED),
    by(
        "R-XML2-003",
        "XML2",
        "MA_THUOC",
        "MA_THUOC",
        &[Equal("TEN_THUOC", "TEN_THUOC")],
    )
    .known()
    .skip(NOT_CATALOGUED),
    by(
        "R-XML2-004",
        "XML2",
        "MA_THUOC",
        "MA_THUOC",
        &[AtMost("DON_GIA", "DON_GIA")],
    )
    .known()
    .skip(NOT_CATALOGUED),
    by(
        "R-XML3-004",
        "XML3",
        "MA_VAT_TU",
        "MA_VAT_TU",
        &[
            Equal("TT_THAU", "TT_THAU"),
            AtMost("DON_GIA_BH", "DON_GIA"),
            Equal("TEN_VAT_TU", "TEN_VAT_TU"),
        ],
    ),
    by(
        "R-XML3-007",
        "XML3",
        "MA_DICH_VU",
        "MA_DICH_VU",
        &[
            AtMost("DON_GIA_BH", "DON_GIA"),
            Equal("TEN_DICH_VU", "TEN_DICH_VU"),
        ],
    ),
    // The staff list registered on the gateway, keyed by practising-certificate code.
    by("R-XML2-016", "XML2", "MA_BAC_SI", "MA_BAC_SI", &[]).list(),
    by("R-XML3-013", "XML3", "MA_BAC_SI", "MA_BAC_SI", &[]).list(),
    by("R-XML3-010", "XML3", "NGUOI_THUC_HIEN", "MA_BAC_SI", &[]).list(),
    by("R-XML4-006", "XML4", "MA_BS_DOC_KQ", "MA_BAC_SI", &[]).list(),
    by("R-XML5-002", "XML5", "NGUOI_THUC_HIEN", "MA_BAC_SI", &[]).list(),
    by("R-ID-007", "XML13", "MA_BAC_SI", "MA_BAC_SI", &[]).list(),
    by("R-ID-007", "XML14", "MA_BAC_SI", "MA_BAC_SI", &[]).list(),
];

/// One catalogue file: rows by code (a code may have several approved rows, e.g. tenders).
struct Catalogue {
    key: String,
    columns: Vec<String>,
    rows: HashMap<String, Vec<Vec<String>>>,
}

impl Catalogue {
    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// The catalogues supplied for a check; empty by default.
#[derive(Default)]
pub struct Catalogues(Vec<Catalogue>);

impl Catalogues {
    /// Reads a CSV catalogue. The first column names its kind: MA_THUOC (drugs), MA_DICH_VU
    /// (services), MA_VAT_TU (supplies) or MA_BAC_SI (staff); other columns are the fields
    /// compared (HAM_LUONG, SO_DANG_KY, TT_THAU, TEN_*, DON_GIA as the approved price).
    pub fn add_csv(&mut self, name: &str, text: &str) -> Result<(), String> {
        let mut lines = parse_csv(text.trim_start_matches('\u{feff}')).into_iter();
        let header: Vec<String> = lines
            .next()
            .ok_or_else(|| format!("{name}: empty catalogue"))?
            .iter()
            .map(|c| c.trim().to_string())
            .collect();
        let key = header[0].clone();
        if !BY_CATALOGUE.iter().any(|r| r.catalogue == key) {
            return Err(format!(
                "{name}: the first column must be MA_THUOC, MA_DICH_VU, MA_VAT_TU or MA_BAC_SI, not {key}"
            ));
        }
        let mut rows: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for (line, row) in lines.enumerate() {
            if row.len() != header.len() {
                return Err(format!(
                    "{name}: row {} has {} columns, the header {}",
                    line + 2,
                    row.len(),
                    header.len()
                ));
            }
            let row: Vec<String> = row.iter().map(|v| v.trim().to_string()).collect();
            rows.entry(row[0].clone()).or_default().push(row);
        }
        // Several files of one kind (e.g. drugs of two tender rounds) add up.
        match self.0.iter_mut().find(|c| c.key == key) {
            Some(known) if known.columns == header => {
                for (code, approved) in rows {
                    known.rows.entry(code).or_default().extend(approved);
                }
            }
            Some(_) => {
                return Err(format!(
                    "{name}: the columns differ from the earlier {key} catalogue"
                ))
            }
            None => self.0.push(Catalogue {
                key,
                columns: header,
                rows,
            }),
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&Catalogue> {
        self.0.iter().find(|c| c.key == key)
    }

    /// Rule ids the supplied catalogues decide.
    pub fn checked(&self) -> Vec<&'static str> {
        let mut ids: Vec<&str> = BY_CATALOGUE
            .iter()
            .filter(|r| self.get(r.catalogue).is_some())
            .map(|r| r.rule)
            .collect();
        ids.dedup();
        ids
    }

    /// The rules of [`NEEDS_CATALOGUE`] the supplied catalogues leave undecided, with what
    /// each needs; `vnfhir bhyt check` lists them.
    pub fn unchecked(&self) -> Vec<(&'static str, &'static str)> {
        let checked = self.checked();
        NEEDS_CATALOGUE
            .iter()
            .filter(|(id, _)| !checked.contains(id))
            .copied()
            .collect()
    }

    /// The catalogue rules on every row of a QĐ 130 table.
    pub fn check_table(&self, table: &Table, sink: &mut Sink) {
        if self.0.is_empty() || table.spec.standard != Standard::Qd130 {
            return;
        }
        for rule in BY_CATALOGUE.iter().filter(|r| r.table == table.spec.name) {
            let Some(catalogue) = self.get(rule.catalogue) else {
                continue;
            };
            for at in rows(table) {
                let value = at.get(rule.field);
                let codes = value
                    .split(';')
                    .filter(|_| rule.list)
                    .chain(Some(value).filter(|_| !rule.list));
                for code in codes.filter(|c| !c.is_empty()) {
                    let first = code.split('.').next();
                    if rule.skip.iter().any(|s| code == *s || first == Some(*s)) {
                        continue;
                    }
                    let Some(approved) = catalogue.rows.get(code) else {
                        if rule.reports_missing {
                            at.report(
                                sink,
                                rule.rule,
                                Level::Warning,
                                rule.field,
                                format!("{} {code} không có trong danh mục đã duyệt", rule.field),
                                format!("{} {code} is not in the approved catalogue", rule.field),
                            );
                        }
                        continue;
                    };
                    if let Some((m, expected)) = mismatch(catalogue, approved, rule, |f| at.get(f))
                    {
                        let (vi, en) = match m {
                            Equal(..) => (
                                "khác danh mục đã duyệt",
                                "does not match the approved catalogue",
                            ),
                            AtMost(..) => ("vượt giá đã duyệt", "exceeds the approved price"),
                        };
                        let (Equal(field, _) | AtMost(field, _)) = m;
                        let own = at.get(field);
                        at.report(
                            sink,
                            rule.rule,
                            Level::Warning,
                            field,
                            format!("{field} '{own}' {vi} cho {code} ({expected})"),
                            format!("{field} '{own}' {en} for {code} ({expected})"),
                        );
                    }
                }
            }
        }
    }
}

/// Narrows the approved rows of a code by each match in turn; the first match no row passes
/// is the finding, with what the catalogue approves.
fn mismatch<'r>(
    catalogue: &Catalogue,
    approved: &[Vec<String>],
    rule: &ByCatalogue,
    get: impl Fn(&str) -> &'r str,
) -> Option<(Match, String)> {
    let mut candidates: Vec<&Vec<String>> = approved.iter().collect();
    for m in rule.matches {
        let (field, column) = match *m {
            Equal(f, c) | AtMost(f, c) => (f, c),
        };
        // A catalogue without the column does not decide this part.
        let Some(col) = catalogue.column(column) else {
            continue;
        };
        let own = get(field);
        let passes = |row: &&Vec<String>| match m {
            Equal(..) => row[col] == own,
            AtMost(..) => match (Decimal::from_str(own), Decimal::from_str(&row[col])) {
                (Ok(own), Ok(limit)) => own <= limit,
                _ => true,
            },
        };
        let kept: Vec<&Vec<String>> = candidates.iter().copied().filter(passes).collect();
        if kept.is_empty() {
            let expected = candidates
                .iter()
                .map(|row| row[col].as_str())
                .collect::<Vec<_>>()
                .join(" | ");
            return Some((*m, expected));
        }
        candidates = kept;
    }
    None
}
