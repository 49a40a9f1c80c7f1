//! The BHYT toolkit end to end: examples check clean, the failing corpus finds exactly the
//! rule it breaks, readers never panic.

use std::collections::BTreeSet;

use proptest::prelude::*;

use vnfhir::bhyt::envelope::{Envelope, FileHoso, Hoso};
use vnfhir::bhyt::rules::catalogue::{self, Catalogues};
use vnfhir::bhyt::rules::{check_bytes, check_document};
use vnfhir::bhyt::sample::{dossier, dossier_4210, envelope};
use vnfhir::bhyt::spec::{spec, Standard};
use vnfhir::bhyt::xml::Table;

fn examples() -> Vec<(&'static str, Envelope)> {
    vec![
        (
            "outpatient.xml",
            envelope(vec![dossier("LK-OP-0001", 2, 2, false)]),
        ),
        (
            "inpatient.xml",
            envelope(vec![dossier("LK-IP-0001", 5, 4, true)]),
        ),
        ("qd4210.xml", envelope(vec![dossier_4210("LK-4210-0001")])),
    ]
}

fn findings(xml: &str, standard: Option<Standard>) -> Vec<(String, String)> {
    let report = check_bytes(xml.as_bytes(), standard).expect("readable");
    report
        .findings
        .iter()
        .map(|f| (f.rule.to_string(), f.location()))
        .collect()
}

/// The example files are the sample dossiers, and they check clean.
/// `BHYT_BLESS=1 cargo test --test bhyt` rewrites them.
#[test]
fn examples_are_current_and_clean() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bhyt");
    for (name, envelope) in examples() {
        let xml = envelope.to_xml();
        let path = dir.join(name);
        if std::env::var_os("BHYT_BLESS").is_some() {
            std::fs::write(&path, &xml).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert_eq!(on_disk, xml, "{name} is stale; run with BHYT_BLESS=1");
        assert_eq!(findings(&xml, None), vec![], "{name}");
    }
}

#[test]
fn qd4210_is_recognised_by_content() {
    let xml = envelope(vec![dossier_4210("LK1")]).to_xml();
    let report = check_bytes(xml.as_bytes(), None).unwrap();
    assert_eq!(report.standard, Some(Standard::Qd4210));
    let forced = check_bytes(xml.as_bytes(), Some(Standard::Qd130)).unwrap();
    assert_eq!(forced.standard, Some(Standard::Qd130));
    assert!(forced.errors() > 0);
}

#[test]
fn inner_tables_round_trip_byte_for_byte() {
    for (_, envelope) in examples() {
        let back = Envelope::read(envelope.to_xml().as_bytes()).unwrap();
        for hoso in &back.hoso {
            for file in &hoso.files {
                let standard = hoso.standard();
                let table = spec(standard).table(&file.loaihoso).unwrap();
                let parsed = Table::parse(table, file.content.as_slice(), "t").unwrap();
                assert_eq!(parsed.to_xml().as_bytes(), &file.content[..]);
            }
        }
    }
}

/// Replaces `<FIELD>…</FIELD>` (or `<FIELD/>`) in table `table` of the first HOSO.
fn set(hoso: &mut Hoso, table: &str, field: &str, value: &str, nth: usize) {
    let file = hoso.files.iter_mut().find(|f| f.loaihoso == table).unwrap();
    let text = String::from_utf8(file.content.clone()).unwrap();
    let (open, empty) = (format!("<{field}>"), format!("<{field}/>"));
    let close = format!("</{field}>");
    let mut out = String::new();
    let mut rest = text.as_str();
    let mut seen = 0;
    loop {
        let a = rest
            .find(&open)
            .map(|i| (i, rest[i..].find(&close).unwrap() + i + close.len()));
        let b = rest.find(&empty).map(|i| (i, i + empty.len()));
        let Some((start, end)) = [a, b].into_iter().flatten().min() else {
            break;
        };
        out.push_str(&rest[..start]);
        if seen == nth {
            out.push_str(&if value.is_empty() {
                empty.clone()
            } else {
                format!("{open}{value}{close}")
            });
        } else {
            out.push_str(&rest[start..end]);
        }
        seen += 1;
        rest = &rest[end..];
    }
    out.push_str(rest);
    file.content = out.into_bytes();
}

fn rules_of(hoso: Hoso) -> BTreeSet<String> {
    rules_with(hoso, &Catalogues::default())
}

/// The rule ids found in `hoso` checked against `catalogues`.
fn rules_with(hoso: Hoso, catalogues: &Catalogues) -> BTreeSet<String> {
    let xml = envelope(vec![hoso]).to_xml();
    let report = check_document(xml.as_bytes(), xml.as_bytes(), None, catalogues).unwrap();
    report.findings.iter().map(|f| f.rule.to_string()).collect()
}

fn catalogue(csv: &str) -> Catalogues {
    let mut catalogues = Catalogues::default();
    catalogues.add_csv("test.csv", csv).unwrap();
    catalogues
}

type Edit = (&'static str, &'static str, &'static str, usize);

/// `hoso` with `(table, field, value, nth)` edits applied (values through [`expand`]).
fn edited(mut hoso: Hoso, edits: &[Edit]) -> Hoso {
    for (table, field, value, nth) in edits {
        set(&mut hoso, table, field, &expand(value), *nth);
    }
    hoso
}

/// One case per rule: edits to a clean dossier and exactly the rule ids they must produce.
fn corpus() -> Vec<(bool, Vec<Edit>, Vec<&'static str>)> {
    vec![
        (false, vec![("XML1", "HO_TEN", "", 0)], vec!["R-XML1-016"]),
        (false, vec![("XML2", "MA_NHOM", "9", 0)], vec!["R-XML2-022"]),
        (false, vec![("XML1", "MA_HSBA", "", 0)], vec!["R-XML1-046"]),
        (false, vec![("XML1", "LY_DO_VV", "", 0)], vec!["R-XML1-024"]),
        (
            false,
            vec![("XML1", "CHAN_DOAN_RV", "", 0)],
            vec!["R-XML1-025"],
        ),
        (false, vec![("XML1", "MA_KHOA", "", 0)], vec!["R-XML1-038"]),
        (
            false,
            vec![("XML1", "MA_QUOCTICH", "VN", 0)],
            vec!["R-XML1-011"],
        ),
        (
            false,
            vec![("XML1", "GIOI_TINH", "4", 0)],
            vec!["R-XML1-009"],
        ),
        (
            false,
            vec![("XML1", "MA_DANTOC", "99", 0)],
            vec!["R-XML1-012"],
        ),
        (
            false,
            vec![("XML1", "MA_NGHE_NGHIEP", "123", 0)],
            vec!["R-XML1-013"],
        ),
        (
            false,
            vec![("XML1", "MAXA_CU_TRU", "267", 0)],
            vec!["R-XML1-014"],
        ),
        (
            false,
            vec![("XML1", "SO_CCCD", "12345", 0)],
            vec!["R-XML1-010"],
        ),
        (
            false,
            vec![("XML1", "MA_KHUVUC", "K4", 0)],
            vec!["R-XML1-048"],
        ),
        (
            false,
            vec![("XML1", "NHOM_MAU", "Z", 0)],
            vec!["R-XML1-054"],
        ),
        (
            false,
            vec![("XML1", "MA_LOAI_RV", "9", 0)],
            vec!["R-XML1-040"],
        ),
        (
            false,
            vec![("XML1", "KET_QUA_DTRI", "9", 0)],
            vec!["R-XML1-039"],
        ),
        (
            false,
            vec![("XML1", "MA_DOITUONG_KCB", "4.4", 0)],
            vec!["R-XML1-031", "R-XML1-033"],
        ),
        (
            false,
            vec![("XML1", "MA_THE_BHYT", "DN3797912345678", 0)],
            vec!["R-XML1-019"],
        ),
        (
            false,
            vec![("XML1", "MA_DKBD", "79001;79002", 0)],
            vec!["R-XML1-018"],
        ),
        (
            false,
            vec![("XML1", "MA_DKBD", "7900", 0)],
            vec!["R-XML1-021"],
        ),
        (
            false,
            vec![("XML1", "GT_THE_DEN", "20240630", 0)],
            vec!["R-XML1-020"],
        ),
        (
            false,
            vec![("XML1", "MA_CSKCB", "7900A1", 0)],
            vec!["R-GEN-004", "R-XML1-037", "R-X-022"],
        ),
        (
            false,
            vec![("XML1", "MA_NOI_DI", "7", 0)],
            vec!["R-XML1-034", "R-XML1-035"],
        ),
        (
            false,
            vec![("XML1", "MA_NOI_DEN", "79002", 0)],
            vec!["R-XML1-036"],
        ),
        (false, vec![("XML1", "MA_TTDV", "", 0)], vec!["R-XML1-047"]),
        (
            false,
            vec![("XML1", "MA_TTDV", "12", 0)],
            vec!["R-XML1-047"],
        ),
        (
            false,
            vec![("XML1", "THANG_QT", "13", 0)],
            vec!["R-XML1-044"],
        ),
        (
            false,
            vec![("XML1", "THANG_QT", "6", 0)],
            vec!["R-XML1-044"],
        ),
        (
            false,
            vec![("XML1", "NGAY_TTOAN", "202406010000", 0)],
            vec!["R-XML1-045"],
        ),
        (
            false,
            vec![("XML1", "CAN_NANG", "250", 0)],
            vec!["R-XML1-017"],
        ),
        (
            false,
            vec![("XML1", "CAN_NANG_CON", "0", 0)],
            vec!["R-XML1-049"],
        ),
        (
            false,
            vec![("XML1", "NGAY_TAI_KHAM", "20240701", 0)],
            vec!["R-XML1-050"],
        ),
        (
            false,
            vec![("XML1", "MA_BENH_CHINH", "Z00", 0)],
            vec!["R-XML1-029"],
        ),
        (
            false,
            vec![(
                "XML1",
                "MA_BENH_KT",
                "A1;A2;A3;A4;A5;A6;A7;A8;A9;B1;B2;B3;B4",
                0,
            )],
            vec!["R-XML1-027"],
        ),
        (
            false,
            vec![("XML1", "MA_DOITUONG_KCB", "1.2", 0)],
            vec!["R-XML1-033"],
        ),
        (
            false,
            vec![("XML1", "NGAY_SINH", "199013150000", 0)],
            vec!["R-XML1-007"],
        ),
        (
            false,
            vec![("XML1", "NGAY_SINH", "202407020000", 0)],
            vec!["R-XML1-008"],
        ),
        (
            false,
            vec![("XML1", "NGAY_MIEN_CCT", "2024", 0)],
            vec!["R-XML1-022"],
        ),
        (
            false,
            vec![("XML1", "NAM_NAM_LIEN_TUC", "20241301", 0)],
            vec!["R-XML1-023"],
        ),
        (
            false,
            vec![("XML1", "NGAY_RA", "202406301000", 0)],
            vec!["R-XML1-001", "R-XML2-017", "R-XML3-027", "R-XML3-029"],
        ),
        (
            false,
            vec![("XML1", "SO_NGAY_DTRI", "1", 0)],
            vec!["R-XML1-004"],
        ),
        (
            false,
            vec![("XML1", "NGAY_RA", "202407030930", 0)],
            vec!["R-XML1-042"],
        ),
        (false, vec![("XML1", "T_THUOC", "1.00", 0)], vec!["R-X-001"]),
        (false, vec![("XML1", "T_VTYT", "5", 0)], vec!["R-X-002"]),
        (
            false,
            vec![("XML1", "T_TONGCHI_BH", "1", 0)],
            vec!["R-X-004", "R-XML1-052"],
        ),
        (false, vec![("XML1", "T_BHTT_GDV", "1", 0)], vec!["R-X-009"]),
        (
            false,
            vec![("XML1", "T_NGUONKHAC", "-1", 0)],
            vec!["R-X-008", "R-X-010", "R-XML1-051"],
        ),
        (
            false,
            vec![("XML1", "T_TONGCHI_BV", "1,000", 0)],
            vec!["R-GEN-005"],
        ),
        (
            false,
            vec![("XML1", "MA_LOAI_KCB", "1", 0)],
            vec!["R-XML1-041"],
        ),
        (
            false,
            vec![("XML1", "MA_LOAI_KCB", "05", 0)],
            vec!["R-XML1-003"],
        ),
        (
            true,
            vec![
                ("XML1", "MA_LOAI_KCB", "07", 0),
                ("XML1", "SO_NGAY_DTRI", "0", 0),
                ("XML1", "NGAY_RA", "202407032359", 0),
                ("XML7", "NGAY_RA", "202407032359", 0),
            ],
            vec!["R-X-013"],
        ),
        (
            true,
            vec![("XML1", "SO_NGAY_DTRI", "2", 0)],
            vec!["R-XML1-005"],
        ),
        (
            true,
            vec![("XML1", "PP_DIEU_TRI", "", 0)],
            vec!["R-XML1-043"],
        ),
        (
            true,
            vec![("XML1", "NGAY_VAO_NOI_TRU", "202407040000", 0)],
            vec!["R-XML1-002"],
        ),
        (
            true,
            vec![
                ("XML1", "MA_LOAI_KCB", "08", 0),
                ("XML1", "SO_NGAY_DTRI", "2", 0),
            ],
            vec!["R-XML1-006"],
        ),
        (
            true,
            vec![("XML1", "MA_LOAI_RV", "2", 0)],
            vec!["R-XML1-036", "R-X-014"],
        ),
        (
            true,
            vec![("XML7", "NGAY_RA", "202407041100", 0)],
            vec!["R-XML7-004", "R-XML7-006"],
        ),
        (true, vec![("XML7", "MA_YTE", "BN9", 0)], vec!["R-XML7-006"]),
        (
            true,
            vec![("XML7", "MA_DINH_CHI_THAI", "1", 0)],
            vec!["R-XML7-002"],
        ),
        (
            true,
            vec![("XML7", "SO_NGAY_NGHI", "5", 0)],
            vec!["R-XML7-003"],
        ),
        (true, vec![("XML7", "MA_CHA", "123", 0)], vec!["R-XML7-007"]),
        (
            true,
            vec![("XML7", "MA_BS", "0000000000", 0)],
            vec!["R-ID-005"],
        ),
        (
            true,
            vec![("XML7", "PP_DIEUTRI", "", 0)],
            vec!["R-XML7-005"],
        ),
        (
            true,
            vec![("XML5", "THOI_DIEM_DBLS", "202407050000", 0)],
            vec!["R-XML5-003"],
        ),
        (
            true,
            vec![("XML5", "DIEN_BIEN_LS", "", 0)],
            vec!["R-XML5-002"],
        ),
        (true, vec![("XML5", "STT", "3", 0)], vec!["R-GEN-011"]),
        (true, vec![("XML5", "MA_LK", "OTHER", 0)], vec!["R-GEN-009"]),
        (false, vec![("XML2", "MA_THUOC", "", 0)], vec!["R-XML2-001"]),
        (
            false,
            vec![("XML2", "SO_DANG_KY", "", 0)],
            vec!["R-XML2-005"],
        ),
        (false, vec![("XML2", "TT_THAU", "", 0)], vec!["R-XML2-006"]),
        (
            false,
            vec![("XML2", "TT_THAU", "123;G1;2024", 0)],
            vec!["R-XML2-007"],
        ),
        (false, vec![("XML2", "PHAM_VI", "4", 0)], vec!["R-XML2-008"]),
        (false, vec![("XML2", "PHAM_VI", "2", 0)], vec!["R-XML2-009"]),
        (
            false,
            vec![("XML2", "TYLE_TT_BH", "101", 0)],
            vec!["R-XML2-009", "R-XML2-011"],
        ),
        (
            false,
            vec![("XML2", "DON_GIA", "1500.51", 0)],
            vec!["R-XML2-010", "R-XML2-011"],
        ),
        (
            false,
            vec![("XML2", "T_NGUONKHAC_CL", "5", 0)],
            vec!["R-XML2-012"],
        ),
        (
            false,
            vec![("XML2", "T_BHTT", "2400.00", 0)],
            vec!["R-XML2-013", "R-X-007", "R-X-009"],
        ),
        (
            false,
            vec![("XML2", "MUC_HUONG", "120", 0)],
            vec!["R-XML2-013", "R-XML2-014"],
        ),
        (
            false,
            vec![("XML2", "NGAY_YL", "202407020000", 0)],
            vec!["R-XML2-017"],
        ),
        (
            false,
            vec![("XML2", "NGAY_TH_YL", "202407010800", 0)],
            vec!["R-XML2-018"],
        ),
        (
            false,
            vec![("XML2", "VET_THUONG_TP", "2", 0)],
            vec!["R-XML2-019"],
        ),
        (
            false,
            vec![("XML2", "MA_PTTT", "4", 0)],
            vec!["R-XML2-020", "R-X-009"],
        ),
        (
            false,
            vec![("XML2", "NGUON_CTRA", "5", 0)],
            vec!["R-XML2-021"],
        ),
        (
            false,
            vec![("XML2", "MA_CSKCB_THUOC", "X.79001", 0)],
            vec!["R-XML2-023"],
        ),
        (
            false,
            vec![
                ("XML2", "SO_LUONG", "0", 0),
                ("XML2", "THANH_TIEN_BV", "0", 0),
                ("XML2", "THANH_TIEN_BH", "0", 0),
                ("XML2", "T_BNCCT", "0", 0),
                ("XML2", "T_BHTT", "0", 0),
            ],
            vec![
                "R-XML2-025",
                "R-X-001",
                "R-X-003",
                "R-X-004",
                "R-X-006",
                "R-X-007",
                "R-X-009",
            ],
        ),
        (false, vec![("XML2", "STT", "7", 1)], vec!["R-GEN-011"]),
        (
            false,
            vec![("XML2", "MA_BAC_SI", "", 0)],
            vec!["R-XML2-016"],
        ),
        (false, vec![("XML3", "MA_KHOA", "", 0)], vec!["R-XML3-033"]),
        (
            false,
            vec![("XML2", "MA_KHOA", "K01 ;K02", 0)],
            vec!["R-GEN-012"],
        ),
        (
            false,
            vec![("XML3", "MA_DICH_VU", "", 0)],
            vec!["R-XML3-001"],
        ),
        (
            false,
            vec![("XML3", "MA_NHOM", "10", 0)],
            vec!["R-XML3-002", "R-XML3-003", "R-X-002"],
        ),
        (
            false,
            vec![("XML3", "MA_NHOM", "12", 0)],
            vec!["R-XML3-009"],
        ),
        (
            false,
            vec![("XML3", "NGUOI_THUC_HIEN", "", 0)],
            vec!["R-XML3-010"],
        ),
        (false, vec![("XML3", "MA_MAY", "", 0)], vec!["R-XML3-011"]),
        (
            false,
            vec![("XML3", "MA_MAY", "XN-1", 0)],
            vec!["R-XML3-012"],
        ),
        (
            false,
            vec![("XML3", "MA_BAC_SI", "", 0)],
            vec!["R-XML3-013"],
        ),
        (false, vec![("XML3", "MA_NHOM", "8", 0)], vec!["R-XML3-014"]),
        (
            false,
            vec![("XML3", "PP_VO_CAM", "7", 0)],
            vec!["R-XML3-014"],
        ),
        (
            false,
            vec![("XML3", "TYLE_TT_DV", "150", 0)],
            vec!["R-XML3-017", "R-XML3-018", "R-XML3-019"],
        ),
        (
            false,
            vec![("XML3", "DON_GIA_BV", "1", 0)],
            vec!["R-XML3-018"],
        ),
        (
            false,
            vec![("XML3", "DON_GIA_BH", "1", 0)],
            vec!["R-XML3-019"],
        ),
        (
            false,
            vec![("XML3", "T_BNCCT", "1", 0)],
            vec!["R-XML3-020", "R-X-006"],
        ),
        (
            false,
            vec![("XML3", "T_TRANTT", "1", 0)],
            vec!["R-XML3-021"],
        ),
        (
            false,
            vec![
                ("XML3", "MA_NHOM", "15", 0),
                ("XML3", "MA_GIUONG", "H001", 0),
            ],
            vec!["R-XML3-022"],
        ),
        (
            true,
            vec![("XML3", "MA_NHOM", "15", 0), ("XML3", "SO_LUONG", "2", 0)],
            vec!["R-XML3-023", "R-XML3-024", "R-XML3-018", "R-XML3-019"],
        ),
        (
            false,
            vec![("XML3", "MA_GIUONG", "X001", 0)],
            vec!["R-XML3-024"],
        ),
        (
            false,
            vec![("XML3", "NGAY_YL", "202406300000", 0)],
            vec!["R-XML3-027"],
        ),
        (
            false,
            vec![("XML3", "NGAY_TH_YL", "202407010820", 0)],
            vec!["R-XML3-028"],
        ),
        (
            false,
            vec![("XML3", "NGAY_KQ", "202407010835", 0)],
            vec!["R-XML3-029"],
        ),
        (
            false,
            vec![("XML3", "GOI_VTYT", "X1", 0)],
            vec!["R-XML3-034"],
        ),
        (
            false,
            vec![("XML3", "TAI_SU_DUNG", "2", 0)],
            vec!["R-XML3-035"],
        ),
        (
            false,
            vec![
                ("XML3", "TAI_SU_DUNG", "1", 0),
                ("XML3", "DON_GIA_BH", "1", 0),
            ],
            vec!["R-XML3-036", "R-XML3-019"],
        ),
        (
            false,
            vec![("XML3", "MA_NHOM", "20", 0)],
            vec!["R-XML3-037"],
        ),
        (
            false,
            vec![("XML3", "MA_VAT_TU", "N03.01", 1)],
            vec!["R-XML3-006"],
        ),
        (
            true,
            vec![("XML3", "MA_NHOM", "13", 0), ("XML3", "MA_NHOM", "13", 1)],
            vec!["R-X-015", "R-XML3-039"],
        ),
        (false, vec![("XML3", "MA_NHOM", "2", 0)], vec!["R-X-019"]),
        (
            false,
            vec![("XML3", "SO_LUONG", "-1", 0)],
            vec!["R-XML3-040", "R-XML3-018", "R-XML3-019"],
        ),
    ]
}

/// Runs `cases` on `base` and lists the cases whose rule ids differ from the expected ones.
fn mismatches<C: std::fmt::Debug>(
    cases: Vec<(C, Vec<&'static str>)>,
    build: impl Fn(&C) -> Hoso,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (case, expected) in cases {
        let found = rules_of(build(&case));
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        if found != expected {
            failures.push(format!("{case:?}: expected {expected:?}, found {found:?}"));
        }
    }
    failures
}

#[test]
fn each_corpus_case_finds_exactly_its_rules() {
    let cases = corpus()
        .into_iter()
        .map(|(inpatient, edits, expected)| ((inpatient, edits), expected))
        .collect();
    let failures = mismatches(cases, |(inpatient, edits)| {
        edited(dossier("LK1", 2, 2, *inpatient), edits)
    });
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Clean rows of the tables the sample dossiers leave out, consistent with `dossier("LK1", …)`.
fn extra_table(name: &str) -> Vec<(&'static str, &'static str)> {
    let staff = [("MA_TTDV", "7912345678")];
    let mut row = match name {
        "XML4" => vec![
            ("STT", "1"),
            ("MA_DICH_VU", "23.0001.1596"),
            ("TEN_CHI_SO", "Glucose"),
            ("GIA_TRI", "5.6"),
            ("DON_VI_DO", "mmol/l"),
            ("KET_LUAN", "Bình thường"),
            ("NGAY_KQ", "202407010900"),
            ("MA_BS_DOC_KQ", "000789/HCM-CCHN"),
        ],
        "XML10" => vec![
            ("SO_SERI", "S-0001"),
            ("SO_CT", "CT-0001"),
            ("SO_NGAY", "10"),
            ("DON_VI", "Công ty An Bình"),
            ("CHAN_DOAN_RV", "Dưỡng thai"),
            ("TU_NGAY", "20240701"),
            ("DEN_NGAY", "20240711"),
            ("TEN_BS", "Trần Thị Bình"),
            ("MA_BS", "7900000001"),
            ("NGAY_CT", "20240701"),
        ],
        "XML11" => vec![
            ("SO_CT", "CT-0002"),
            ("SO_SERI", "S-0002"),
            ("SO_KCB", "KCB-0002"),
            ("DON_VI", "Công ty An Bình"),
            ("MA_BHXH", "7912345670"),
            ("CHAN_DOAN_RV", "Đái tháo đường type 2"),
            ("PP_DIEUTRI", "Insulin"),
            ("SO_NGAY_NGHI", "5"),
            ("TU_NGAY", "20240701"),
            ("DEN_NGAY", "20240705"),
            ("MA_BS", "7900000001"),
            ("NGAY_CT", "20240701"),
        ],
        "XML13" => vec![
            ("SO_HOSO", "HS-0001"),
            ("SO_CHUYENTUYEN", "CT-0001"),
            ("GIAY_CHUYEN_TUYEN", "GCT-0001"),
            ("HO_TEN", "Nguyễn Văn An"),
            ("DAU_HIEU_LS", "Đường huyết cao"),
            ("QT_BENHLY", "Đường huyết không kiểm soát"),
            ("TOMTAT_KQ", "Glucose 14 mmol/l"),
            ("TEN_DICH_VU", "Định lượng Glucose [Máu]"),
            ("MA_LYDO_CT", "1"),
            ("HUONG_DIEU_TRI", "Điều chỉnh insulin"),
            ("PHUONGTIEN_VC", "Xe cứu thương"),
            ("MA_BAC_SI", "000123/HCM-CCHN"),
        ],
        "XML14" => vec![
            ("SO_GIAYHEN_KL", "HK-0001"),
            ("MA_CSKCB", "79001"),
            ("HO_TEN", "Nguyễn Văn An"),
            ("NGAY_HEN_KL", "202407100800"),
            ("MA_BAC_SI", "000123/HCM-CCHN"),
            ("NGAY_CT", "20240701"),
        ],
        "XML6" => vec![
            ("NOI_LAY_MAU_XN", "79001"),
            ("NOI_XN_KD", "79001"),
            ("NOI_BDDT_ARV", "79001"),
            ("MA_LYDO_DTRI", "1"),
            ("LOAI_DTRI_LAO", "0"),
            ("SANG_LOC_LAO", "1"),
            ("KQ_DTRI_LAO", "1"),
            ("MA_LOAI_BN", "1"),
            ("GIAI_DOAN_LAM_SANG", "1"),
            ("NHOM_DOI_TUONG", "0"),
            ("MA_TINH_TRANG_DK", "2"),
            ("MA_XU_TRI", "2"),
            ("MA_PHAC_DO_DIEU_TRI", "1a"),
            ("NGAY_CHUYEN_PHAC_DO", "20240701"),
            ("LY_DO_CHUYEN_PHAC_DO", "1"),
        ],
        // An inpatient stay (MA_LOAI_KCB 03).
        "XML8" => vec![
            ("MA_LOAI_KCB", "03"),
            ("NGAY_VAO", "202407010800"),
            ("NGAY_RA", "202407031000"),
            ("CHAN_DOAN_VAO", "Đái tháo đường type 2"),
            ("CHAN_DOAN_RV", "Đái tháo đường type 2"),
            ("QT_BENHLY", "Đường huyết cao"),
            ("TOMTAT_KQ", "Glucose 14 mmol/l"),
            ("PP_DIEUTRI", "Insulin"),
            ("KET_QUA_DTRI", "2"),
            ("NGAY_CT", "20240703"),
        ],
        "XML9" => vec![
            ("HO_TEN_NND", "Nguyễn Thị Hoa"),
            ("NGAYSINH_NND", "19950101"),
            ("MA_DANTOC_NND", "01"),
            ("SO_CCCD_NND", "079195001234"),
            ("NGAYCAP_CCCD_NND", "20210101"),
            ("NOICAP_CCCD_NND", "Cục Cảnh sát QLHC về TTXH"),
            ("NOI_CU_TRU_NND", "12 Lê Lợi, Quận 1, TP Hồ Chí Minh"),
            ("MA_QUOCTICH", "000"),
            ("MATINH_CU_TRU", "79"),
            ("MAHUYEN_CU_TRU", "760"),
            ("MAXA_CU_TRU", "26734"),
            ("MA_THE_TAM", "TE1790123456789"),
            ("GIOI_TINH_CON", "1"),
            ("SO_CON", "1"),
            ("LAN_SINH", "1"),
            ("SO_CON_SONG", "1"),
            ("CAN_NANG_CON", "3200"),
            ("NGAY_SINH_CON", "202407020800"),
            ("NOI_SINH_CON", "Bệnh viện"),
            ("TINH_TRANG_CON", "Khỏe mạnh"),
            ("SINHCON_PHAUTHUAT", "0"),
            ("SINHCON_DUOI32TUAN", "0"),
            ("GHI_CHU", "Không"),
            ("NGUOI_DO_DE", "Trần Thị Bình"),
            ("NGUOI_GHI_PHIEU", "Trần Thị Bình"),
            ("NGAY_CT", "20240703"),
            ("SO", "01"),
            ("QUYEN_SO", "Q1"),
        ],
        "XML15" => vec![
            ("MA_BN", "BN000123"),
            ("PHANLOAI_LAO_VITRI", "1"),
            ("PHANLOAI_LAO_TS", "1"),
            ("PHANLOAI_LAO_HIV", "1"),
            ("PHANLOAI_LAO_VK", "1"),
            ("PHANLOAI_LAO_KT", "1"),
            ("LOAI_DTRI_LAO", "1"),
            ("NGAYBD_DTRI_LAO", "20240701"),
            ("PHACDO_DTRI_LAO", "1"),
            ("KET_QUA_DTRI_LAO", "1"),
            ("BDDT_ARV", "20240701"),
            ("NGAY_BAT_DAU_DT_CTX", "20240701"),
        ],
        other => panic!("no clean {other} row"),
    };
    row.push(("MA_LK", "LK1"));
    if !matches!(name, "XML4" | "XML6" | "XML15") {
        row.extend(staff);
    }
    row
}

/// Adds `name` with one clean row (none for `rows == 0`) to the HOSO.
fn add(hoso: &mut Hoso, name: &str, rows: usize) {
    let mut table = Table::new(spec(Standard::Qd130).table(name).unwrap());
    for _ in 0..rows {
        table.push(&extra_table(name)).unwrap();
    }
    hoso.files.push(FileHoso {
        loaihoso: name.into(),
        content: table.to_xml().into_bytes(),
    });
}

type TableCase = (bool, Vec<&'static str>, Vec<Edit>);

/// Cases on dossiers with added tables and three service lines (for bed days): the bases
/// with no edits check clean, each edit finds exactly its rules.
fn table_corpus() -> Vec<(TableCase, Vec<&'static str>)> {
    let transfer: Vec<Edit> = vec![
        ("XML1", "MA_LOAI_RV", "2", 0),
        ("XML1", "MA_NOI_DEN", "79002", 0),
    ];
    let referral = |more: &[Edit]| -> TableCase {
        let mut edits = transfer.clone();
        edits.extend_from_slice(more);
        (true, vec!["XML13"], edits)
    };
    let beds = |codes: &[&'static str], more: &[Edit]| -> TableCase {
        let mut edits: Vec<Edit> = codes
            .iter()
            .enumerate()
            .flat_map(|(i, code)| {
                [
                    ("XML3", "MA_NHOM", "15", i),
                    ("XML3", "MA_GIUONG", *code, i),
                ]
            })
            .collect();
        edits.extend_from_slice(more);
        (true, vec![], edits)
    };
    // Discharge at `ra` (XML1 and the discharge paper): 3 treatment days, so 2 bed days.
    let discharge = |ra: &'static str| -> [Edit; 2] {
        [("XML1", "NGAY_RA", ra, 0), ("XML7", "NGAY_RA", ra, 0)]
    };
    let three_beds = ["H001", "H001", "H001"];
    let op = |table: &'static str, edits: Vec<Edit>| -> TableCase { (false, vec![table], edits) };
    let short_stay = vec![
        ("XML1", "NGAY_RA", "202407011000", 0),
        ("XML1", "SO_NGAY_DTRI", "1", 0),
        ("XML7", "NGAY_RA", "202407011000", 0),
        ("XML7", "NGAY_CT", "20240701", 0),
        ("XML3", "MA_NHOM", "15", 0),
        ("XML3", "MA_GIUONG", "H001", 0),
    ];
    vec![
        (
            (false, vec!["XML4", "XML10", "XML11", "XML14"], vec![]),
            vec![],
        ),
        (referral(&[]), vec![]),
        (
            op("XML4", vec![("XML4", "TEN_CHI_SO", "", 0)]),
            vec!["R-XML4-003"],
        ),
        (
            op("XML4", vec![("XML4", "GIA_TRI", "LONG51", 0)]),
            vec!["R-XML4-003"],
        ),
        (
            op("XML4", vec![("XML4", "NGAY_KQ", "", 0)]),
            vec!["R-XML4-004"],
        ),
        (
            op("XML4", vec![("XML4", "MA_BS_DOC_KQ", "", 0)]),
            vec!["R-XML4-006"],
        ),
        // An outsourced test is read at the other facility: no reader here.
        (
            op(
                "XML4",
                vec![
                    ("XML3", "MA_DICH_VU", "23.0001.1596.K.79002", 0),
                    ("XML4", "MA_DICH_VU", "23.0001.1596.K.79002", 0),
                    ("XML4", "MA_BS_DOC_KQ", "", 0),
                ],
            ),
            vec!["R-LEN-012"],
        ),
        (
            op("XML4", vec![("XML4", "NGAY_KQ", "202407010905", 0)]),
            vec!["R-XML4-007"],
        ),
        (
            op("XML4", vec![("XML4", "MA_DICH_VU", "23.0099.1596", 0)]),
            vec!["R-X-021"],
        ),
        (
            op("XML4", vec![("XML4", "MA_DICH_VU", "23.0001.1596.K11", 0)]),
            vec!["R-LEN-012", "R-X-021"],
        ),
        (
            op(
                "XML4",
                vec![("XML3", "MA_NHOM", "2", 0), ("XML4", "KET_LUAN", "", 0)],
            ),
            vec!["R-XML4-005", "R-X-019"],
        ),
        (
            (false, vec![], vec![("XML4", "STT", "1", 0)]),
            vec!["R-GEN-014"],
        ),
        (
            op("XML10", vec![("XML10", "SO_NGAY", "5", 0)]),
            vec!["R-XML10-001"],
        ),
        (
            op(
                "XML10",
                vec![
                    ("XML10", "TU_NGAY", "20240702", 0),
                    ("XML10", "SO_NGAY", "9", 0),
                ],
            ),
            vec!["R-XML10-002"],
        ),
        ((true, vec!["XML10"], vec![]), vec![]),
        (
            (
                true,
                vec!["XML10"],
                vec![
                    ("XML10", "TU_NGAY", "20240702", 0),
                    ("XML10", "SO_NGAY", "9", 0),
                ],
            ),
            vec!["R-XML10-002"],
        ),
        (
            op("XML10", vec![("XML10", "SO_SERI", "", 0)]),
            vec!["R-XML10-003"],
        ),
        (
            op("XML11", vec![("XML11", "MA_BHXH", "123", 0)]),
            vec!["R-XML11-001"],
        ),
        (
            op("XML11", vec![("XML11", "MA_THE_BHYT", "DN47979", 0)]),
            vec!["R-XML11-002"],
        ),
        (
            op("XML11", vec![("XML11", "MA_DINH_CHI_THAI", "1", 0)]),
            vec!["R-XML11-003"],
        ),
        (
            op("XML11", vec![("XML11", "SO_NGAY_NGHI", "200", 0)]),
            vec!["R-XML11-004"],
        ),
        (
            op("XML11", vec![("XML11", "DEN_NGAY", "20240630", 0)]),
            vec!["R-XML11-005"],
        ),
        (
            op("XML11", vec![("XML11", "NGAY_CT", "", 0)]),
            vec!["R-XML11-006"],
        ),
        (
            op("XML11", vec![("XML11", "MAU_SO", "CT08", 0)]),
            vec!["R-XML11-007"],
        ),
        (
            op("XML11", vec![("XML11", "MA_BS", "", 0)]),
            vec!["R-XML11-008"],
        ),
        (
            op("XML11", vec![("XML1", "NGAY_SINH", "202001010000", 0)]),
            vec!["R-XML11-009"],
        ),
        (
            op("XML11", vec![("XML11", "DU_PHONG", "LONG4001", 0)]),
            vec!["R-LEN-014"],
        ),
        (
            op("XML14", vec![("XML14", "NGAY_HEN_KL", "202407010800", 0)]),
            vec!["R-XML14-002"],
        ),
        (
            op("XML14", vec![("XML14", "NGAY_CT", "20240630", 0)]),
            vec!["R-XML14-003"],
        ),
        (
            op("XML14", vec![("XML14", "GIOI_TINH", "2", 0)]),
            vec!["R-XML14-004"],
        ),
        (
            op("XML14", vec![("XML14", "NGAY_SINH", "199003160000", 0)]),
            vec!["R-X-011"],
        ),
        (
            op("XML14", vec![("XML14", "MA_BAC_SI", "", 0)]),
            vec!["R-XML14-005"],
        ),
        (
            op("XML14", vec![("XML14", "MA_BENH_CHINH", "E11.123", 0)]),
            vec!["R-XML14-004"],
        ),
        (
            op("XML14", vec![("XML14", "MA_BENH_CHINH", "E11.1234", 0)]),
            vec!["R-LEN-019", "R-XML14-004"],
        ),
        (
            referral(&[("XML13", "HO_TEN", "Nguyễn Văn Ân", 0)]),
            vec!["R-XML13-002"],
        ),
        (
            referral(&[("XML13", "DAU_HIEU_LS", "", 0)]),
            vec!["R-XML13-003"],
        ),
        (
            referral(&[("XML13", "MA_LYDO_CT", "7", 0)]),
            vec!["R-XML13-003"],
        ),
        (
            referral(&[("XML13", "MA_THE_BHYT", "DN4797912345678", 0)]),
            vec!["R-XML13-005"],
        ),
        (
            referral(&[("XML13", "SO_HOSO", "LONG51", 0)]),
            vec!["R-LEN-017"],
        ),
        (
            referral(&[("XML13", "NGAY_SINH", "199003160000", 0)]),
            vec!["R-X-011"],
        ),
        ((true, vec![], short_stay), vec!["R-X-016"]),
        (beds(&three_beds, &[]), vec!["R-X-017"]),
        // The discharge day is billed when the patient got worse, left at own request, or
        // stayed more than 4 hours into the last day (not exactly 4).
        (
            beds(&three_beds, &[("XML1", "KET_QUA_DTRI", "4", 0)]),
            vec![],
        ),
        (beds(&three_beds, &[("XML1", "MA_LOAI_RV", "4", 0)]), vec![]),
        (beds(&three_beds, &discharge("202407031201")), vec![]),
        (
            beds(&three_beds, &discharge("202407031200")),
            vec!["R-X-017"],
        ),
        (beds(&["H001", "H002"], &[]), vec!["R-X-020"]),
        // A change of bed at 09:00 the same day: one bed at a time.
        (
            beds(
                &["H001", "H002"],
                &[
                    ("XML3", "NGAY_TH_YL", "202407010900", 1),
                    ("XML3", "NGAY_KQ", "202407011000", 1),
                ],
            ),
            vec![],
        ),
        // The first bed runs into the next day, when the second starts.
        (
            beds(
                &["H001", "H002"],
                &[
                    ("XML3", "NGAY_KQ", "202407021000", 0),
                    ("XML3", "NGAY_YL", "202407020800", 1),
                    ("XML3", "NGAY_TH_YL", "202407020800", 1),
                    ("XML3", "NGAY_KQ", "202407020900", 1),
                ],
            ),
            vec!["R-X-020"],
        ),
        (
            (
                true,
                vec![],
                vec![
                    ("XML3", "MA_NHOM", "3", 0),
                    ("XML3", "NGAY_KQ", "202407011000", 0),
                ],
            ),
            vec!["R-XML3-031"],
        ),
        (
            (
                true,
                vec![],
                vec![("XML2", "MA_KHOA", "K01;K02;K03;K04;K05", 0)],
            ),
            vec!["R-LEN-008"],
        ),
        (
            (
                true,
                vec![],
                vec![("XML3", "MA_KHOA", "K01;K02;K03;K04;K05;K06", 0)],
            ),
            vec!["R-LEN-011"],
        ),
        (
            (true, vec![], vec![("XML1", "NHOM_MAU", "AB+AB+", 0)]),
            vec!["R-LEN-005", "R-XML1-054"],
        ),
        (
            (true, vec![], vec![("XML1", "MA_TAI_NAN", "12", 0)]),
            vec!["R-LEN-007"],
        ),
        (
            (true, vec![], vec![("XML2", "T_BNTT", "1", 0)]),
            vec!["R-X-005", "R-XML2-013"],
        ),
        (
            (true, vec!["XML6", "XML8", "XML9", "XML15"], vec![]),
            vec![],
        ),
        (
            op("XML6", vec![("XML6", "GIOI_TINH", "2", 0)]),
            vec!["R-XML6-001"],
        ),
        (
            op("XML6", vec![("XML6", "NGAY_SINH", "199003160000", 0)]),
            vec!["R-X-011"],
        ),
        (
            op("XML6", vec![("XML6", "LOAI_DTRI_LAO", "1", 0)]),
            vec!["R-XML6-002"],
        ),
        (
            op("XML6", vec![("XML6", "MA_TINH_TRANG_DK", "1", 0)]),
            vec!["R-XML6-003"],
        ),
        (
            op("XML6", vec![("XML6", "MA_XU_TRI", "1", 0)]),
            vec!["R-XML6-004"],
        ),
        (
            op("XML6", vec![("XML6", "MA_BAC_PHAC_DO", "4", 0)]),
            vec!["R-XML6-005"],
        ),
        (
            op("XML6", vec![("XML6", "MA_LYDO_DTRI", "6", 0)]),
            vec!["R-XML6-006"],
        ),
        (
            op("XML6", vec![("XML6", "NOI_XN_KD", "", 0)]),
            vec!["R-XML6-007"],
        ),
        (
            op("XML6", vec![("XML6", "MA_XU_TRI", "2;3", 0)]),
            vec!["R-LEN-013"],
        ),
        (
            op("XML6", vec![("XML6", "MA_THE_BHYT", "DN3797912345678", 0)]),
            vec!["R-ID-001"],
        ),
        (
            (true, vec!["XML8"], vec![("XML8", "MA_LOAI_KCB", "04", 0)]),
            vec!["R-XML8-002"],
        ),
        (
            (true, vec!["XML8"], vec![("XML8", "KET_QUA_DTRI", "1", 0)]),
            vec!["R-XML8-003"],
        ),
        (
            op(
                "XML8",
                vec![
                    ("XML8", "MA_LOAI_KCB", "01", 0),
                    ("XML8", "KET_QUA_DTRI", "1", 0),
                ],
            ),
            vec!["R-X-012"],
        ),
        (
            (true, vec!["XML9"], vec![("XML9", "HO_TEN_NND", "", 0)]),
            vec!["R-XML9-001"],
        ),
        (
            (true, vec!["XML9"], vec![("XML9", "MA_BHXH_NND", "123", 0)]),
            vec!["R-XML9-002"],
        ),
        (
            (
                true,
                vec!["XML9"],
                vec![("XML9", "MA_THE_NND", "DN47979", 0)],
            ),
            vec!["R-XML9-003"],
        ),
        (
            (
                true,
                vec!["XML9"],
                vec![("XML9", "NGAYSINH_NND", "19951301", 0)],
            ),
            vec!["R-XML9-004"],
        ),
        (
            (true, vec!["XML9"], vec![("XML9", "MA_DANTOC_NND", "99", 0)]),
            vec!["R-XML9-005"],
        ),
        (
            (
                true,
                vec!["XML9"],
                vec![("XML9", "MA_THE_TAM", "TE1010123456789", 0)],
            ),
            vec!["R-XML9-006"],
        ),
        (
            (true, vec!["XML9"], vec![("XML9", "GIOI_TINH_CON", "4", 0)]),
            vec!["R-XML9-007"],
        ),
        (
            (
                true,
                vec!["XML9"],
                vec![("XML9", "SINHCON_PHAUTHUAT", "1", 0)],
            ),
            vec!["R-XML9-008"],
        ),
        (
            (true, vec!["XML9"], vec![("XML9", "SO_CON", "0", 0)]),
            vec!["R-XML9-009"],
        ),
        (
            (
                true,
                vec!["XML9"],
                vec![("XML9", "SO_CCCD_NND", "12345", 0)],
            ),
            vec!["R-ID-004"],
        ),
        (
            (
                true,
                vec!["XML15"],
                vec![("XML15", "HO_TEN", "Lê Văn Bình", 0)],
            ),
            vec!["R-XML15-002"],
        ),
        (
            (
                true,
                vec!["XML15"],
                vec![("XML15", "PHANLOAI_LAO_TS", "7", 0)],
            ),
            vec!["R-XML15-003"],
        ),
        (
            (
                true,
                vec!["XML15"],
                vec![("XML15", "NGAYKT_DTRI_LAO", "20240630", 0)],
            ),
            vec!["R-XML15-004"],
        ),
        (
            (true, vec!["XML15"], vec![("XML15", "MA_BN", "LONG101", 0)]),
            vec!["R-LEN-025"],
        ),
        (
            (
                true,
                vec!["XML15"],
                vec![("XML15", "DU_PHONG", "LONG40001", 0)],
            ),
            vec!["R-LEN-026"],
        ),
        (
            (true, vec![], vec![("XML1", "MA_DOITUONG_KCB", "1.1.1", 0)]),
            vec!["R-LEN-006", "R-XML1-031", "R-XML1-033"],
        ),
        (
            (true, vec![], vec![("XML3", "GOI_VTYT", "G100", 0)]),
            vec!["R-LEN-009"],
        ),
        (
            (true, vec![], vec![("XML3", "TT_THAU", "LONG51", 0)]),
            vec!["R-LEN-010"],
        ),
        (
            referral(&[("XML13", "MA_LK", "LONG101", 0)]),
            vec!["R-LEN-016", "R-GEN-009"],
        ),
        (
            op("XML14", vec![("XML14", "MA_THE_BHYT", "CARDS13", 0)]),
            vec!["R-LEN-018", "R-XML14-004"],
        ),
        (
            referral(&[("XML13", "MA_BENH_KT", "LONG101", 0)]),
            vec!["R-LEN-020", "R-XML13-002"],
        ),
        (
            referral(&[("XML13", "DAU_HIEU_LS", "LONG4001", 0)]),
            vec!["R-LEN-021"],
        ),
        (
            op("XML14", vec![("XML14", "MA_LK", "LONG101", 0)]),
            vec!["R-LEN-022", "R-GEN-009"],
        ),
        (
            op("XML14", vec![("XML14", "SO_GIAYHEN_KL", "LONG51", 0)]),
            vec!["R-LEN-023"],
        ),
        (
            op("XML14", vec![("XML14", "MA_DOITUONG_KCB", "1.1.1", 0)]),
            vec!["R-LEN-024", "R-GEN-007", "R-XML14-004"],
        ),
    ]
}

/// Test values too long to write inline: `LONG<n>` is n letters, `CARDS<n>` a ";"-list of
/// n card numbers.
fn expand(value: &str) -> String {
    let count = |prefix| value.strip_prefix(prefix).and_then(|n| n.parse().ok());
    if let Some(n) = count("LONG") {
        "x".repeat(n)
    } else if let Some(n) = count("CARDS") {
        vec!["DN4797912345678"; n].join(";")
    } else {
        value.to_string()
    }
}

/// The dossier of a table case: three service lines, the added tables, then the edits.
fn table_dossier((inpatient, tables, edits): &TableCase) -> Hoso {
    let mut hoso = dossier("LK1", 2, 3, *inpatient);
    for table in tables {
        add(&mut hoso, table, 1);
    }
    for edit in edits {
        if hoso.file(edit.0).is_none() {
            // An edit on a table the case does not add: that table is sent empty.
            add(&mut hoso, edit.0, 0);
        } else {
            hoso = edited(hoso, std::slice::from_ref(edit));
        }
    }
    hoso
}

#[test]
fn each_table_case_finds_exactly_its_rules() {
    let failures = mismatches(table_corpus(), table_dossier);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// R-XML7-001: inpatient-type episodes (MA_LOAI_KCB 03, 04, 09) send the discharge paper
/// unless the patient absconded (MA_LOAI_RV 3); other episodes need none.
#[test]
fn inpatient_episodes_need_the_discharge_paper() {
    let cases: Vec<(Vec<Edit>, Vec<&str>)> = vec![
        (vec![], vec!["R-XML7-001"]),
        (vec![("XML1", "MA_LOAI_KCB", "04", 0)], vec!["R-XML7-001"]),
        (
            vec![
                ("XML1", "MA_LOAI_KCB", "09", 0),
                ("XML1", "SO_NGAY_DTRI", "0", 0),
                ("XML1", "NGAY_RA", "202407011100", 0),
            ],
            vec!["R-XML7-001"],
        ),
        (vec![("XML1", "MA_LOAI_RV", "3", 0)], vec![]),
        (
            vec![
                ("XML1", "MA_LOAI_KCB", "02", 0),
                ("XML1", "NGAY_RA", "202407032359", 0),
            ],
            vec![],
        ),
    ];
    let failures = mismatches(cases, |edits| {
        let mut hoso = dossier("LK1", 2, 2, true);
        hoso.files.retain(|f| f.loaihoso != "XML7");
        edited(hoso, edits)
    });
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// QĐ 4210 dossiers: each edit finds exactly its rules.
#[test]
fn each_4210_case_finds_exactly_its_rules() {
    let cases: Vec<(Vec<Edit>, Vec<&str>)> = vec![
        (
            vec![("XML1", "NGAY_SINH", "19850000", 0)],
            vec!["R-4210-001"],
        ),
        (vec![("XML1", "CAN_NANG", "250", 0)], vec!["R-4210-002"]),
        (vec![("XML1", "MA_LYDO_VVIEN", "3", 0)], vec!["R-4210-003"]),
        (
            vec![
                ("XML1", "MA_DKBD", "79002", 0),
                ("XML1", "MA_THE", "HC4797900001234", 0),
            ],
            vec!["R-4210-003"],
        ),
        (
            vec![("XML1", "NGAY_RA", "201906030930", 0)],
            vec!["R-4210-004"],
        ),
        (
            vec![
                ("XML1", "MA_LOAI_KCB", "3", 0),
                ("XML1", "SO_NGAY_DTRI", "2", 0),
                ("XML1", "NGAY_RA", "201906020930", 0),
                ("XML3", "MA_NHOM", "15", 0),
                ("XML3", "SO_LUONG", "2", 0),
            ],
            vec!["R-4210-005"],
        ),
        (
            vec![("XML2", "NGAY_YL", "201905010000", 0)],
            vec!["R-4210-006"],
        ),
        (
            vec![("XML3", "NGAY_YL", "201905010000", 0)],
            vec!["R-4210-007"],
        ),
    ];
    let failures = mismatches(cases, |edits| edited(dossier_4210("LK1"), edits));
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A clean check-in or table 12 row; `edits` replace or blank its values.
fn document_rules(name: &str, edits: &[(&str, &str)]) -> BTreeSet<String> {
    let mut row: Vec<(&str, String)> = match name {
        "CHECKIN" => vec![
            ("MA_LK", "LK1"),
            ("STT", "1"),
            ("MA_BN", "BN000123"),
            ("HO_TEN", "Nguyễn Văn An"),
            ("NGAY_SINH", "199003150000"),
            ("GIOI_TINH", "1"),
            ("MA_THE_BHYT", "DN4797912345678"),
            ("MA_DKBD", "79001"),
            ("GT_THE_TU", "20240101"),
            ("GT_THE_DEN", "20241231"),
            ("MA_DOITUONG_KCB", "1.1"),
            ("NGAY_VAO", "202407010800"),
            ("MA_LOAI_KCB", "01"),
            ("MA_CSKCB", "79001"),
            ("MA_DICH_VU", "02.1896"),
            ("TEN_DICH_VU", "Khám Nội"),
            ("NGAY_YL", "202407010805"),
        ],
        _ => vec![
            ("NGUOI_CHU_TRI", "Phạm Văn Cường"),
            ("CHUC_VU", "1"),
            ("NGAY_HOP", "20240701"),
            ("HO_TEN", "Nguyễn Văn An"),
            ("NGAY_SINH", "19900315"),
            ("SO_CCCD", "079090001234"),
            ("NGAY_CAP_CCCD", "20210101"),
            ("NOI_CAP_CCCD", "Cục Cảnh sát QLHC về TTXH"),
            ("DIA_CHI", "12 Lê Lợi, Quận 1, TP Hồ Chí Minh"),
            ("MATINH_CU_TRU", "79"),
            ("MAHUYEN_CU_TRU", "760"),
            ("MAXA_CU_TRU", "26734"),
            ("MA_BHXH", "7912345670"),
            ("DIEN_THOAI", "0901234567"),
            ("MA_DOI_TUONG", "TNLĐ"),
            ("KHAM_GIAM_DINH", "1"),
            ("SO_BIEN_BAN", "01"),
            ("DANG_HUONG_CHE_DO", "1"),
            ("NGAY_CHUNG_TU", "20240701"),
            ("SO_GIAY_GIOI_THIEU", "GT-01"),
            ("NGAY_DE_NGHI", "20240625"),
            ("MA_DONVI", "DV-01"),
            ("GIOI_THIEU_CUA", "BHXH TP Hồ Chí Minh"),
            ("KET_QUA_KHAM", "Tổn thương cơ thể 21%"),
            ("SO_VAN_BAN_CAN_CU", "56/2017/TT-BYT"),
            ("TYLE_TTCT_MOI", "21"),
            ("TONG_TYLE_TTCT", "21"),
            ("DE_NGHI", "Hưởng chế độ tai nạn lao động"),
            ("DUOC_XACDINH", "Không"),
        ],
    }
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    for (field, value) in edits {
        row.retain(|(k, _)| k != field);
        row.push((field, expand(value)));
    }
    let mut table = Table::new(spec(Standard::Qd130).table(name).unwrap());
    let pairs: Vec<(&str, &str)> = row.iter().map(|(k, v)| (*k, v.as_str())).collect();
    table.push(&pairs).unwrap();
    findings(&table.to_xml(), None)
        .into_iter()
        .map(|(rule, _)| rule)
        .collect()
}

/// A file checked on its own (CHECKIN or XML12) and the values its row changes.
type DocumentCase = (&'static str, Vec<(&'static str, &'static str)>);

#[test]
fn each_checkin_and_table_12_case_finds_exactly_its_rules() {
    let cases: Vec<(DocumentCase, Vec<&str>)> = vec![
        (("CHECKIN", vec![]), vec![]),
        (
            ("CHECKIN", vec![("MA_DICH_VU", ""), ("TEN_DICH_VU", "")]),
            vec!["R-CHK-004"],
        ),
        (("CHECKIN", vec![("TEN_DICH_VU", "")]), vec!["R-CHK-005"]),
        (
            (
                "CHECKIN",
                vec![
                    ("NGAY_VAO_NOI_TRU", "202407010700"),
                    ("LY_DO_VNT", "Sốt cao"),
                ],
            ),
            vec!["R-CHK-006"],
        ),
        (
            ("CHECKIN", vec![("NGAY_VAO_NOI_TRU", "202407010900")]),
            vec!["R-CHK-007"],
        ),
        (("CHECKIN", vec![("SO_CCCD", "12345")]), vec!["R-CHK-008"]),
        (("CHECKIN", vec![("MA_CSKCB", "790")]), vec!["R-ID-006"]),
        (
            ("CHECKIN", vec![("MA_DOITUONG_KCB", "9.9")]),
            vec!["R-CHK-009"],
        ),
        (
            ("CHECKIN", vec![("MA_THE_BHYT", "DN3797912345678")]),
            vec!["R-CHK-010"],
        ),
        (
            (
                "CHECKIN",
                vec![("MA_THUOC", "00.0000"), ("TEN_THUOC", "Vitamin C")],
            ),
            vec!["R-CHK-011"],
        ),
        (
            ("CHECKIN", vec![("MA_DOITUONG_KCB", "1.1.1")]),
            vec!["R-LEN-001", "R-CHK-009"],
        ),
        (
            ("CHECKIN", vec![("DU_PHONG", "LONG4001")]),
            vec!["R-LEN-002"],
        ),
        (
            ("CHECKIN", vec![("MA_LY_DO_VNT", "123456")]),
            vec!["R-LEN-003"],
        ),
        (
            (
                "CHECKIN",
                vec![("MA_THUOC", "40.17"), ("TEN_THUOC", "LONG1025")],
            ),
            vec!["R-LEN-004"],
        ),
        (
            ("CHECKIN", vec![("NGAY_YL", "202407011260")]),
            vec!["R-GEN-006"],
        ),
        (("CHECKIN", vec![("MA_BN", "")]), vec!["R-GEN-013"]),
        (("CHECKIN", vec![("STT", "2")]), vec!["R-GEN-011"]),
        (("XML12", vec![]), vec![]),
        (("XML12", vec![("MA_BHXH", "123")]), vec!["R-XML12-002"]),
        (("XML12", vec![("CHUC_VU", "3")]), vec!["R-XML12-003"]),
        (("XML12", vec![("TONG_TYLE_TTCT", "")]), vec!["R-XML12-004"]),
        (
            ("XML12", vec![("DANG_HUONG_CHE_DO", "1;2;3")]),
            vec!["R-LEN-015"],
        ),
        (("XML12", vec![("NGUOI_CHU_TRI", "")]), vec!["R-GEN-013"]),
    ];
    let mut failures = Vec::new();
    for ((name, edits), expected) in cases {
        let found = document_rules(name, &edits);
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        if found != expected {
            failures.push(format!(
                "{name} {edits:?}: expected {expected:?}, found {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Element structure (R-GEN-002/003): unknown, repeated, out-of-order and omitted elements.
#[test]
fn element_structure_is_checked() {
    let cases = [
        ("<MA_BN>", "<ABC>1</ABC><MA_BN>", "R-GEN-002"),
        ("<MA_BN>", "<HO_TEN>An</HO_TEN><MA_BN>", "R-GEN-003"),
        ("<DU_PHONG/>", "", "R-GEN-003"),
    ];
    for (from, to, rule) in cases {
        let mut hoso = dossier("LK1", 1, 1, false);
        let xml1 = &mut hoso.files[0];
        let text = String::from_utf8(xml1.content.clone()).unwrap();
        assert!(text.contains(from), "{from}");
        xml1.content = text.replacen(from, to, 1).into_bytes();
        assert_eq!(
            rules_of(hoso),
            BTreeSet::from([rule.to_string()]),
            "{from} → {to}"
        );
    }
}

/// A catalogue case: the CSV, the edits to the clean base dossier, the rule ids found.
type CatalogueCase = (String, Vec<Edit>, Vec<&'static str>);

/// Runs catalogue cases on `base`: with the catalogue exactly the expected ids; without it
/// the same file is clean and those ids are listed as not checked.
fn catalogue_mismatches(cases: Vec<CatalogueCase>, base: impl Fn() -> Hoso) -> Vec<String> {
    let listed =
        |c: &Catalogues| -> BTreeSet<&str> { c.unchecked().iter().map(|(id, _)| *id).collect() };
    let unchecked = listed(&Catalogues::default());
    let mut failures = Vec::new();
    for (csv, edits, expected) in cases {
        let supplied = catalogue(&csv);
        let hoso = edited(base(), &edits);
        let found = rules_with(hoso.clone(), &supplied);
        let alone = rules_of(hoso);
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        let decided = listed(&supplied);
        let misplaced: Vec<&String> = expected
            .iter()
            .filter(|id| !unchecked.contains(id.as_str()) || decided.contains(id.as_str()))
            .collect();
        if found != expected || !alone.is_empty() || !misplaced.is_empty() {
            failures.push(format!(
                "{csv:?} {edits:?}: expected {expected:?}, found {found:?}; \
                 without the catalogue {alone:?}; not listed as needing it: {misplaced:?}"
            ));
        }
    }
    failures
}

/// Drug, service and staff catalogues on an outpatient visit.
#[test]
fn supplied_catalogues_decide_their_rules() {
    let drugs = "MA_THUOC,TEN_THUOC,HAM_LUONG,SO_DANG_KY,TT_THAU,DON_GIA\n";
    let drug = "40.150,Paracetamol & Codein,500mg,VD-12345-20,123/QĐ-SYT;G1;N4;2024";
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("{drugs}{drug},1500.50\n"), vec![]),
        (
            format!("{drugs}40.151,{},1500.50\n", &drug[7..]),
            vec!["R-XML2-002"],
        ),
        (
            format!("{drugs}{},1500.50\n", drug.replace("500mg", "250mg")),
            vec!["R-XML2-002"],
        ),
        (
            format!("{drugs}{},1500.50\n", drug.replace("Codein", "")),
            vec!["R-XML2-003"],
        ),
        (format!("{drugs}{drug},1000\n"), vec!["R-XML2-004"]),
        // Two approved rows of one code: either may match.
        (format!("{drugs}{drug},1000\n{drug},2000\n"), vec![]),
        ("MA_DICH_VU,DON_GIA\n23.0001.1596,45000\n".into(), vec![]),
        (
            "MA_DICH_VU,DON_GIA\n23.0001.1596,40000\n".into(),
            vec!["R-XML3-007"],
        ),
        ("MA_DICH_VU\n23.0002.1596\n".into(), vec!["R-XML3-007"]),
        (
            "MA_BAC_SI\n000123/HCM-CCHN\n000456/HCM-CCHN\n".into(),
            vec![],
        ),
        ("MA_BAC_SI\n000123/HCM-CCHN\n".into(), vec!["R-XML3-010"]),
    ];
    let cases = cases
        .into_iter()
        .map(|(csv, expected)| (csv, vec![], expected))
        .collect();
    let failures = catalogue_mismatches(cases, || dossier("LK1", 1, 1, false));
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    let mut catalogues = Catalogues::default();
    assert!(catalogues.add_csv("bad.csv", "TEN_THUOC\nx\n").is_err());
    assert!(catalogues
        .add_csv("bad.csv", "MA_THUOC,DON_GIA\nx\n")
        .is_err());
}

/// The staff list and the supply catalogue on a clean dossier with every table they look
/// at: an inpatient transfer (XML5, XML13) with a result (XML4), an appointment (XML14) and
/// a supply on the second service line. Each case puts one unknown or mismatched code in
/// one place.
#[test]
fn staff_and_supply_catalogues_decide_their_rules() {
    let staff = "MA_BAC_SI\n000123/HCM-CCHN\n000456/HCM-CCHN\n000789/HCM-CCHN\n";
    let supplies = |price: &str| {
        format!(
            "MA_VAT_TU,TEN_VAT_TU,TT_THAU,DON_GIA\nN03.01.070,Bơm tiêm 5ml,123/QĐ-SYT;G1;N1;2024,{price}\n"
        )
    };
    let unknown = "000999/HCM-CCHN";
    let on_staff = |edits: Vec<Edit>, expected| (staff.to_string(), edits, expected);
    let cases: Vec<CatalogueCase> = vec![
        on_staff(vec![], vec![]),
        on_staff(vec![("XML2", "MA_BAC_SI", unknown, 1)], vec!["R-XML2-016"]),
        on_staff(
            vec![("XML3", "MA_BAC_SI", "000123/HCM-CCHN;000999/HCM-CCHN", 0)],
            vec!["R-XML3-013"],
        ),
        on_staff(
            vec![("XML4", "MA_BS_DOC_KQ", unknown, 0)],
            vec!["R-XML4-006"],
        ),
        on_staff(
            vec![("XML5", "NGUOI_THUC_HIEN", unknown, 0)],
            vec!["R-XML5-002"],
        ),
        on_staff(vec![("XML13", "MA_BAC_SI", unknown, 0)], vec!["R-ID-007"]),
        on_staff(vec![("XML14", "MA_BAC_SI", unknown, 0)], vec!["R-ID-007"]),
        (supplies("46000"), vec![], vec![]),
        (supplies("40000"), vec![], vec!["R-XML3-004"]),
        (
            supplies("46000"),
            vec![("XML3", "TEN_VAT_TU", "Bơm tiêm 10ml", 1)],
            vec!["R-XML3-004"],
        ),
        (
            supplies("46000"),
            vec![("XML3", "TT_THAU", "123/QĐ-SYT;G2;N1;2024", 1)],
            vec!["R-XML3-004"],
        ),
        (
            supplies("46000"),
            vec![("XML3", "MA_VAT_TU", "N03.01.080", 1)],
            vec!["R-XML3-004"],
        ),
    ];
    let base = || {
        let supply: Vec<Edit> = vec![
            ("XML1", "MA_LOAI_RV", "2", 0),
            ("XML1", "MA_NOI_DEN", "79002", 0),
            ("XML1", "T_VTYT", "46000", 0),
            ("XML3", "MA_NHOM", "10", 1),
            ("XML3", "MA_DICH_VU", "", 1),
            ("XML3", "MA_VAT_TU", "N03.01.070", 1),
            ("XML3", "TEN_VAT_TU", "Bơm tiêm 5ml", 1),
            ("XML3", "TT_THAU", "123/QĐ-SYT;G1;N1;2024", 1),
        ];
        table_dossier(&(true, vec!["XML4", "XML13", "XML14"], supply))
    };
    let failures = catalogue_mismatches(cases, base);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Every rule id of `rules.md` is reported by the checker or listed in `catalogue.rs` as
/// needing an outside catalogue, not being a file check, or covered by another id; the
/// README names those that need a catalogue.
#[test]
fn every_rule_of_the_catalogue_is_accounted_for() {
    let rules = include_str!("../src/bhyt/regulation/rules.md");
    let checker = [
        include_str!("../src/bhyt/rules/field.rs"),
        include_str!("../src/bhyt/rules/record.rs"),
        include_str!("../src/bhyt/rules/dossier.rs"),
        include_str!("../src/bhyt/rules/mod.rs"),
        include_str!("../src/bhyt/xml.rs"),
        include_str!("../src/bhyt/envelope.rs"),
    ]
    .concat();
    let listed: BTreeSet<&str> = catalogue::NEEDS_CATALOGUE
        .iter()
        .chain(catalogue::NOT_A_FILE_CHECK)
        .chain(catalogue::COVERED_BY)
        .map(|(id, _)| *id)
        .collect();
    let ids: Vec<&str> = rules
        .lines()
        .filter_map(|line| line.strip_prefix("| R-"))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), 285);
    let missing: Vec<String> = ids
        .iter()
        .map(|id| format!("R-{id}"))
        .filter(|id| !listed.contains(id.as_str()) && !checker.contains(&format!("\"{id}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "not implemented nor listed: {missing:?}"
    );
    let readme = include_str!("../README.md");
    let unlisted: Vec<&str> = catalogue::NEEDS_CATALOGUE
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !readme.contains(id))
        .collect();
    assert!(
        unlisted.is_empty(),
        "needing a catalogue but not in the README: {unlisted:?}"
    );
}

/// Files that cannot be read: the reader's rule id.
#[test]
fn unreadable_files_name_their_rule() {
    let read_rule = |hoso: Hoso| {
        let xml = envelope(vec![hoso]).to_xml();
        check_bytes(xml.as_bytes(), None)
            .map(|_| ())
            .unwrap_err()
            .rule
    };
    for value in ["A & B", "A < B", "A &nbsp; B"] {
        let mut hoso = dossier("LK1", 1, 1, false);
        set(&mut hoso, "XML1", "HO_TEN", value, 0);
        assert_eq!(read_rule(hoso), "R-GEN-008", "{value}");
    }
    let mut hoso = dossier_4210("LK1");
    hoso.files[2].loaihoso = "XML6".into();
    assert_eq!(read_rule(hoso), "R-4210-008");
}

#[test]
fn a_repeated_ma_lk_is_reported() {
    let xml = envelope(vec![
        dossier("LK1", 1, 1, false),
        dossier("LK1", 1, 1, false),
    ])
    .to_xml();
    let rules: BTreeSet<String> = findings(&xml, None).into_iter().map(|(r, _)| r).collect();
    assert_eq!(rules, BTreeSet::from(["R-GEN-010".to_string()]));
}

/// A value for any field: dates and numbers that parse, or short text with multi-byte
/// letters and list separators where the rules slice and split values.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{8}|[0-9]{12}|[0-9]{1,3}(\\.[0-9]{1,3})?",
        "[0-9A-Zaấđ;. -]{0,15}",
    ]
}

/// One row of every table of `standard`, filled from `values` in field order: the envelope
/// tables in one HOSO, the check-in and table 12 files on their own.
fn files_of(standard: Standard, values: &mut impl Iterator<Item = String>) -> Vec<String> {
    let mut hoso = Hoso::default();
    let mut files = Vec::new();
    for table in &spec(standard).tables {
        let values: Vec<String> = values.take(table.fields.len()).collect();
        let row: Vec<(&str, &str)> = table
            .fields
            .iter()
            .zip(&values)
            .map(|(f, v)| (f.name, v.as_str()))
            .collect();
        let mut file = Table::new(table);
        file.push(&row).unwrap();
        match table.name {
            "CHECKIN" | "XML12" => files.push(file.to_xml()),
            name => hoso.files.push(FileHoso {
                loaihoso: name.into(),
                content: file.to_xml().into_bytes(),
            }),
        }
    }
    files.push(envelope(vec![hoso]).to_xml());
    files
}

fn field_count() -> usize {
    [Standard::Qd130, Standard::Qd4210]
        .iter()
        .flat_map(|&s| &spec(s).tables)
        .map(|t| t.fields.len())
        .sum()
}

proptest! {
    // Each case checks every field of both standards.
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every rule on every field of both standards, with values that parse and values that
    /// do not, byte-sliced or not: no panic.
    #[test]
    fn any_field_values_never_panic(values in proptest::collection::vec(any_value(), field_count())) {
        let mut values = values.into_iter();
        for standard in [Standard::Qd130, Standard::Qd4210] {
            for file in files_of(standard, &mut values) {
                let _ = check_bytes(file.as_bytes(), Some(standard));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn envelope_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Envelope::read(&bytes);
        let _ = check_bytes(&bytes, None);
    }

    #[test]
    fn table_reader_never_panics(cut in 0usize..4000, noise in "[<>/&;A-Z_\\[\\]!CDAT ]{0,20}") {
        let xml = String::from_utf8(dossier("LK1", 2, 2, true).files[1].content.clone()).unwrap();
        let cut = cut.min(xml.len());
        let mangled = format!("{}{noise}{}", &xml.as_bytes().iter().take(cut).map(|&b| b as char).collect::<String>(), &xml[xml.char_indices().map(|(i, _)| i).find(|&i| i >= cut).unwrap_or(xml.len())..]);
        let table = spec(Standard::Qd130).table("XML2").unwrap();
        if let Ok(parsed) = Table::parse(table, mangled.as_bytes(), "XML2") {
            let _ = parsed.to_xml();
        }
        let wrapped = envelope(vec![Hoso { files: vec![vnfhir::bhyt::envelope::FileHoso { loaihoso: "XML2".into(), content: mangled.into_bytes() }] }]).to_xml();
        let _ = check_bytes(wrapped.as_bytes(), None);
    }
}
