//! The BHYT toolkit end to end: examples check clean, the failing corpus finds exactly the
//! rule it breaks, readers never panic.

use std::collections::BTreeSet;

use proptest::prelude::*;

use vnfhir::bhyt::envelope::{Envelope, Hoso};
use vnfhir::bhyt::rules::check_bytes;
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
                let parsed = Table::parse(table, &file.content, "t").unwrap();
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
    let xml = envelope(vec![hoso]).to_xml();
    findings(&xml, None)
        .into_iter()
        .map(|(rule, _)| rule)
        .collect()
}

type Edit = (&'static str, &'static str, &'static str, usize);

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

#[test]
fn each_corpus_case_finds_exactly_its_rules() {
    let mut failures = Vec::new();
    for (inpatient, edits, expected) in corpus() {
        let mut hoso = dossier("LK1", 2, 2, inpatient);
        for (table, field, value, nth) in &edits {
            set(&mut hoso, table, field, value, *nth);
        }
        let found = rules_of(hoso);
        let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        if found != expected {
            failures.push(format!("{edits:?}: expected {expected:?}, found {found:?}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
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
