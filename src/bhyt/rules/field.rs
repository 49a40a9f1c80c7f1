//! Rules on single values. The type, length, required flag and date format of every field
//! come from the table spec; the checks below add code lists, identifiers and patterns, each
//! tied to the rule id of `rules.md` that states it.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{rows, At, Level, Sink};
use crate::bhyt::codes;
use crate::bhyt::spec::{spec, FieldType, Required, Standard, TableSpec};
use crate::bhyt::xml::{trim, Shape, Table};

#[derive(Debug, Clone, Copy)]
enum Check {
    /// A list in `regulation/codes/`.
    Code(&'static str),
    Values(&'static [&'static str]),
    /// Integer in an inclusive range.
    Int(u32, u32),
    Digits(usize),
    /// R-ID-001 card number; `TE1`+province+10 digits (R-ID-003) fits the same pattern.
    Card,
    Cccd,
    /// 10 digits, not all zeros (BHXH numbers).
    Bhxh,
    /// 5 characters, the first two the province digits.
    Facility,
    /// MA_DKBD: a facility, or province + `000` for temporary cards.
    Registration,
    TempCard,
    Bed,
    SupplyPackage,
    Machine,
    DrugFacility,
    Tender,
}

/// Which values a rule applies to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    Only(Standard),
}

struct Entry {
    rule: &'static str,
    level: Level,
    scope: Scope,
    /// Empty: every table with these fields.
    tables: &'static [&'static str],
    fields: &'static [&'static str],
    check: Check,
    /// ";"-separated list: the check applies to each element.
    list: bool,
}

const fn e(
    rule: &'static str,
    tables: &'static [&'static str],
    fields: &'static [&'static str],
    check: Check,
) -> Entry {
    Entry {
        rule,
        level: Level::Error,
        scope: Scope::All,
        tables,
        fields,
        check,
        list: false,
    }
}

impl Entry {
    const fn list(mut self) -> Entry {
        self.list = true;
        self
    }

    const fn warning(mut self) -> Entry {
        self.level = Level::Warning;
        self
    }

    const fn only(mut self, standard: Standard) -> Entry {
        self.scope = Scope::Only(standard);
        self
    }
}

use Check::*;

/// Table-specific entries win over the generic (`&[]`) ones for the same field.
const CHECKS: &[Entry] = &[
    // Code lists (R-GEN-007 unless a table rule names the field).
    e("R-XML1-009", &["XML1"], &["GIOI_TINH"], Code("GIOI_TINH")),
    e("R-GEN-007", &[], &["GIOI_TINH"], Code("GIOI_TINH")),
    e(
        "R-XML9-007",
        &["XML9"],
        &["GIOI_TINH_CON"],
        Code("GIOI_TINH"),
    ),
    e(
        "R-XML1-041",
        &["XML1"],
        &["MA_LOAI_KCB"],
        Code("MA_LOAI_KCB"),
    )
    .only(Standard::Qd130),
    e("R-GEN-007", &[], &["MA_LOAI_KCB"], Code("MA_LOAI_KCB")).only(Standard::Qd130),
    e("R-GEN-007", &[], &["MA_LOAI_KCB"], Code("MA_LOAI_KCB_4210")).only(Standard::Qd4210),
    e("R-GEN-007", &[], &["MA_LYDO_VVIEN"], Code("MA_LYDO_VVIEN")).only(Standard::Qd4210),
    e(
        "R-XML1-039",
        &["XML1"],
        &["KET_QUA_DTRI"],
        Code("KET_QUA_DTRI"),
    ),
    e("R-GEN-007", &[], &["KET_QUA_DTRI"], Code("KET_QUA_DTRI")),
    e("R-XML1-040", &["XML1"], &["MA_LOAI_RV"], Code("MA_LOAI_RV")),
    e("R-GEN-007", &[], &["MA_LOAI_RV"], Code("MA_LOAI_RV")),
    e(
        "R-XML1-031",
        &["XML1"],
        &["MA_DOITUONG_KCB"],
        Code("MA_DOITUONG_KCB"),
    )
    .only(Standard::Qd130),
    e(
        "R-CHK-009",
        &["CHECKIN"],
        &["MA_DOITUONG_KCB"],
        Code("MA_DOITUONG_KCB"),
    ),
    e(
        "R-GEN-007",
        &[],
        &["MA_DOITUONG_KCB"],
        Code("MA_DOITUONG_KCB"),
    )
    .only(Standard::Qd130),
    e("R-XML1-012", &["XML1"], &["MA_DANTOC"], Code("MA_DANTOC")),
    e("R-GEN-007", &[], &["MA_DANTOC"], Code("MA_DANTOC")),
    e(
        "R-XML9-005",
        &["XML9"],
        &["MA_DANTOC_NND"],
        Code("MA_DANTOC"),
    ),
    e("R-XML1-048", &["XML1"], &["MA_KHUVUC"], Code("MA_KHUVUC")),
    e("R-XML1-054", &["XML1"], &["NHOM_MAU"], Code("NHOM_MAU")).warning(),
    e("R-XML2-008", &["XML2"], &["PHAM_VI"], Code("PHAM_VI")),
    e("R-GEN-007", &[], &["PHAM_VI"], Code("PHAM_VI")),
    e("R-XML2-020", &["XML2"], &["MA_PTTT"], Code("MA_PTTT")).only(Standard::Qd130),
    e("R-GEN-007", &[], &["MA_PTTT"], Code("MA_PTTT")).only(Standard::Qd130),
    e("R-XML2-021", &["XML2"], &["NGUON_CTRA"], Code("NGUON_CTRA")),
    e(
        "R-XML2-022",
        &["XML2"],
        &["MA_NHOM"],
        Values(&["4", "5", "6", "7", "17"]),
    ),
    e("R-XML3-037", &["XML3"], &["MA_NHOM"], Code("MA_NHOM")),
    e("R-XML3-014", &["XML3"], &["PP_VO_CAM"], Code("PP_VO_CAM")),
    e(
        "R-XML13-003",
        &["XML13"],
        &["MA_LYDO_CT"],
        Code("MA_LYDO_CT"),
    ),
    e("R-XML11-007", &["XML11"], &["MAU_SO"], Code("MAU_SO")),
    // Ranges and flags.
    e("R-XML2-009", &["XML2"], &["TYLE_TT_BH"], Int(0, 100)),
    e("R-XML2-014", &["XML2"], &["MUC_HUONG"], Int(0, 100)),
    e(
        "R-XML3-017",
        &["XML3"],
        &["TYLE_TT_BH", "TYLE_TT_DV", "MUC_HUONG"],
        Int(0, 100),
    ),
    e("R-XML2-019", &["XML2"], &["VET_THUONG_TP"], Values(&["1"])),
    e(
        "R-XML3-035",
        &["XML3"],
        &["VET_THUONG_TP", "TAI_SU_DUNG"],
        Values(&["1"]),
    ),
    e("R-XML1-044", &["XML1"], &["THANG_QT"], Int(1, 12)),
    e("R-XML1-044", &["XML1"], &["NAM_QT"], Digits(4)),
    e("R-XML6-006", &["XML6"], &["MA_LYDO_DTRI"], Int(1, 5)),
    e("R-XML6-006", &["XML6"], &["LOAI_DTRI_LAO"], Int(0, 3)),
    e("R-XML6-006", &["XML6"], &["SANG_LOC_LAO"], Int(1, 4)),
    e("R-XML6-006", &["XML6"], &["KQ_DTRI_LAO"], Int(1, 7)),
    e("R-XML6-006", &["XML6"], &["MA_LYDO_XNTL_VR"], Int(1, 3)),
    e("R-XML6-006", &["XML6"], &["KQ_XNTL_VR"], Int(1, 5)),
    e("R-XML6-006", &["XML6"], &["MA_LOAI_BN"], Int(1, 5)),
    e("R-XML6-006", &["XML6"], &["GIAI_DOAN_LAM_SANG"], Int(1, 4)),
    e("R-XML6-006", &["XML6"], &["NHOM_DOI_TUONG"], Int(0, 11)),
    e("R-XML6-006", &["XML6"], &["MA_TINH_TRANG_DK"], Int(1, 9)).list(),
    e("R-XML6-006", &["XML6"], &["MA_XU_TRI"], Int(1, 8)).list(),
    e(
        "R-XML6-006",
        &["XML6"],
        &["LY_DO_CHUYEN_PHAC_DO"],
        Int(1, 6),
    ),
    e("R-XML6-003", &["XML6"], &["LAN_XN_PCR"], Int(1, 3)),
    // Regimen line 1-3; when it is required depends on the QĐ 5937 App. 10 regimen list.
    e(
        "R-XML6-005",
        &["XML6"],
        &["MA_BAC_PHAC_DO", "MA_BAC_PHAC_DO_BD"],
        Int(1, 3),
    ),
    e("R-XML12-003", &["XML12"], &["CHUC_VU"], Int(1, 2)),
    e("R-XML12-003", &["XML12"], &["KHAM_GIAM_DINH"], Int(1, 8)),
    e("R-XML12-003", &["XML12"], &["DANG_HUONG_CHE_DO"], Int(1, 7)).list(),
    e("R-XML12-003", &["XML12"], &["DANG_KHUYETTAT"], Int(1, 6)),
    e("R-XML12-003", &["XML12"], &["MUC_DO_KHUYETTAT"], Int(1, 4)),
    e(
        "R-XML12-003",
        &["XML12"],
        &["MA_DOI_TUONG"],
        Values(&[
            "BB", "BHXH1L", "BNN", "CĐHH", "KNLĐH", "KNLĐT", "NKT", "NVQS", "TB", "TH", "TNLĐ",
        ]),
    )
    .list(),
    e(
        "R-XML15-003",
        &["XML15"],
        &["PHANLOAI_LAO_VITRI", "PHANLOAI_LAO_VK"],
        Int(1, 2),
    ),
    e(
        "R-XML15-003",
        &["XML15"],
        &["PHANLOAI_LAO_TS", "PHANLOAI_LAO_KT"],
        Int(1, 6),
    ),
    e("R-XML15-003", &["XML15"], &["PHANLOAI_LAO_HIV"], Int(1, 3)),
    e("R-XML15-003", &["XML15"], &["LOAI_DTRI_LAO"], Int(0, 3)),
    e("R-XML15-003", &["XML15"], &["PHACDO_DTRI_LAO"], Int(1, 25)),
    e("R-XML15-003", &["XML15"], &["KET_QUA_DTRI_LAO"], Int(1, 6)),
    e(
        "R-XML9-008",
        &["XML9"],
        &["SINHCON_PHAUTHUAT", "SINHCON_DUOI32TUAN"],
        Values(&["0", "1"]),
    )
    .warning(),
    e(
        "R-XML9-009",
        &["XML9"],
        &["SO_CON", "LAN_SINH", "SO_CON_SONG"],
        Int(1, 99),
    )
    .warning(),
    // Demographic codes whose catalogues are outside the pack: format only.
    e("R-XML1-011", &["XML1"], &["MA_QUOCTICH"], Digits(3)),
    e("R-XML9-005", &[], &["MA_QUOCTICH"], Digits(3)),
    e("R-XML1-013", &["XML1"], &["MA_NGHE_NGHIEP"], Digits(5)),
    e("R-XML1-014", &["XML1"], &["MATINH_CU_TRU"], Digits(2)),
    e("R-XML1-014", &["XML1"], &["MAHUYEN_CU_TRU"], Digits(3)),
    e("R-XML1-014", &["XML1"], &["MAXA_CU_TRU"], Digits(5)),
    e("R-XML9-005", &[], &["MATINH_CU_TRU"], Digits(2)),
    e("R-XML9-005", &[], &["MAHUYEN_CU_TRU"], Digits(3)),
    e("R-XML9-005", &[], &["MAXA_CU_TRU"], Digits(5)),
    // Identifiers.
    e("R-XML1-019", &["XML1"], &["MA_THE_BHYT"], Card)
        .list()
        .only(Standard::Qd130),
    e("R-CHK-010", &["CHECKIN"], &["MA_THE_BHYT"], Card),
    e("R-XML9-003", &["XML9"], &["MA_THE_NND"], Card),
    e("R-XML11-002", &["XML11"], &["MA_THE_BHYT"], Card).warning(),
    e("R-ID-001", &[], &["MA_THE_BHYT", "MA_THE"], Card).list(),
    e("R-XML9-006", &["XML9"], &["MA_THE_TAM"], TempCard),
    e("R-XML1-010", &["XML1"], &["SO_CCCD"], Cccd),
    e("R-CHK-008", &["CHECKIN"], &["SO_CCCD"], Cccd),
    e("R-ID-004", &[], &["SO_CCCD", "SO_CCCD_NND"], Cccd),
    e("R-XML1-047", &["XML1"], &["MA_TTDV"], Bhxh),
    e("R-XML11-001", &["XML11"], &["MA_BHXH"], Bhxh),
    e("R-XML12-002", &["XML12"], &["MA_BHXH"], Bhxh),
    e("R-XML9-002", &["XML9"], &["MA_BHXH_NND"], Bhxh),
    e("R-XML7-007", &["XML7"], &["MA_CHA", "MA_ME"], Bhxh).warning(),
    e("R-ID-005", &["XML7", "XML10", "XML11"], &["MA_BS"], Bhxh),
    e("R-ID-005", &[], &["MA_BHXH", "MA_TTDV"], Bhxh),
    e("R-XML1-021", &["XML1"], &["MA_DKBD"], Registration).list(),
    e("R-XML1-037", &["XML1"], &["MA_CSKCB"], Facility),
    e(
        "R-XML1-034",
        &["XML1"],
        &["MA_NOI_DI", "MA_NOI_DEN"],
        Facility,
    ),
    e(
        "R-ID-006",
        &[],
        &["MA_CSKCB", "MA_NOI_DI", "MA_NOI_DEN", "MA_NOI_CHUYEN"],
        Facility,
    ),
    // Patterns.
    e("R-XML3-024", &["XML3"], &["MA_GIUONG"], Bed).list(),
    e("R-XML3-034", &["XML3"], &["GOI_VTYT"], SupplyPackage),
    e("R-XML3-012", &["XML3"], &["MA_MAY"], Machine).list(),
    e("R-XML2-023", &["XML2"], &["MA_CSKCB_THUOC"], DrugFacility),
    e("R-XML2-007", &["XML2"], &["TT_THAU"], Tender).only(Standard::Qd130),
];

/// Rule ids that the catalogue gives for the generic checks on particular fields.
const SPECIFIC: &[(&str, &str, &str, &str)] = &[
    ("R-GEN-013", "XML1", "HO_TEN", "R-XML1-016"),
    ("R-GEN-013", "XML1", "DIA_CHI", "R-XML1-016"),
    ("R-GEN-013", "XML1", "MA_BN", "R-XML1-016"),
    ("R-GEN-013", "XML1", "LY_DO_VV", "R-XML1-024"),
    ("R-GEN-013", "XML1", "CHAN_DOAN_VAO", "R-XML1-025"),
    ("R-GEN-013", "XML1", "CHAN_DOAN_RV", "R-XML1-025"),
    ("R-GEN-013", "XML1", "MA_HSBA", "R-XML1-046"),
    ("R-GEN-013", "XML1", "MA_KHOA", "R-XML1-038"),
    ("R-GEN-013", "XML2", "NGAY_YL", "R-XML2-017"),
    ("R-GEN-013", "XML2", "MA_THUOC", "R-XML2-001"),
    ("R-GEN-013", "XML2", "TEN_THUOC", "R-XML2-001"),
    ("R-GEN-013", "XML2", "HAM_LUONG", "R-XML2-001"),
    ("R-GEN-013", "XML2", "DON_VI_TINH", "R-XML2-001"),
    ("R-GEN-013", "XML2", "DUONG_DUNG", "R-XML2-001"),
    ("R-GEN-013", "XML2", "LIEU_DUNG", "R-XML2-001"),
    ("R-GEN-013", "XML3", "MA_BAC_SI", "R-XML3-013"),
    ("R-GEN-013", "XML3", "MA_KHOA", "R-XML3-033"),
    ("R-GEN-013", "XML3", "NGAY_YL", "R-XML3-027"),
    ("R-GEN-013", "XML5", "DIEN_BIEN_LS", "R-XML5-002"),
    ("R-GEN-013", "XML5", "THOI_DIEM_DBLS", "R-XML5-002"),
    ("R-GEN-013", "XML5", "NGUOI_THUC_HIEN", "R-XML5-002"),
    ("R-GEN-013", "XML6", "*", "R-XML6-007"),
    ("R-GEN-013", "XML7", "PP_DIEUTRI", "R-XML7-005"),
    ("R-GEN-013", "XML7", "MA_TTDV", "R-XML7-005"),
    ("R-GEN-013", "XML7", "MA_BS", "R-XML7-005"),
    ("R-GEN-013", "XML8", "*", "R-XML8-003"),
    ("R-GEN-013", "XML9", "*", "R-XML9-001"),
    ("R-GEN-013", "XML10", "*", "R-XML10-003"),
    ("R-GEN-013", "XML11", "NGAY_CT", "R-XML11-006"),
    ("R-GEN-013", "XML11", "MA_BS", "R-XML11-008"),
    ("R-GEN-013", "XML11", "MA_TTDV", "R-XML11-008"),
    ("R-GEN-013", "XML13", "*", "R-XML13-003"),
    ("R-GEN-013", "XML14", "*", "R-XML14-005"),
    ("R-GEN-013", "XML14", "NGAY_HEN_KL", "R-XML14-002"),
    ("R-GEN-013", "XML14", "NGAY_CT", "R-XML14-003"),
    ("R-GEN-013", "XML12", "TONG_TYLE_TTCT", "R-XML12-004"),
    ("R-GEN-013", "XML4", "TEN_CHI_SO", "R-XML4-003"),
    ("R-GEN-004", "XML4", "MA_CHI_SO", "R-XML4-003"),
    ("R-GEN-004", "XML4", "TEN_CHI_SO", "R-XML4-003"),
    ("R-GEN-004", "XML4", "GIA_TRI", "R-XML4-003"),
    ("R-GEN-004", "XML4", "DON_VI_DO", "R-XML4-003"),
    ("R-GEN-006", "XML1", "NGAY_SINH", "R-XML1-007"),
    ("R-GEN-006", "XML1", "NGAY_MIEN_CCT", "R-XML1-022"),
    ("R-GEN-006", "XML1", "NAM_NAM_LIEN_TUC", "R-XML1-023"),
    ("R-GEN-006", "XML9", "NGAYSINH_NND", "R-XML9-004"),
    ("R-GEN-006", "XML9", "NGAYCAP_CCCD_NND", "R-XML9-004"),
    ("R-GEN-006", "XML11", "TU_NGAY", "R-XML11-005"),
    ("R-GEN-006", "XML11", "DEN_NGAY", "R-XML11-005"),
];

/// The QĐ 4210 rule ids that replace generic ones; looked up before [`SPECIFIC`].
const SPECIFIC_4210: &[(&str, &str, &str, &str)] =
    &[("R-GEN-006", "XML1", "NGAY_SINH", "R-4210-001")];

/// Specific rules whose finding is a warning where the generic check is an error: the
/// validator requires TONG_TYLE_TTCT, the appendix only for some assessments.
const DOWNGRADED: &[&str] = &["R-XML12-004"];

fn specific(generic: &'static str, table: &TableSpec, field: &str) -> &'static str {
    let overrides: &[_] = match table.standard {
        Standard::Qd4210 => &[SPECIFIC_4210, SPECIFIC],
        Standard::Qd130 => &[SPECIFIC],
    };
    let find = |field: &str| {
        overrides.iter().find_map(|list| {
            list.iter()
                .find(|(g, t, f, _)| *g == generic && *t == table.name && *f == field)
        })
    };
    find(field)
        .or_else(|| find("*"))
        .map_or(generic, |(_, _, _, rule)| rule)
}

/// Section 13 of `rules.md`: where the gateway validator's limit differs from QĐ 4750
/// (`max_len` of the spec). Above the QĐ limit is an error under this id; above a stricter
/// validator limit, still within QĐ 4750, a warning that the gateway may reject it.
const VALIDATOR_LIMITS: &[(&str, &str, &[&str], usize)] = &[
    ("R-LEN-001", "CHECKIN", &["MA_DOITUONG_KCB"], 5),
    ("R-LEN-002", "CHECKIN", &["LY_DO_VNT", "DU_PHONG"], 4000),
    ("R-LEN-003", "CHECKIN", &["MA_LY_DO_VNT"], 10),
    ("R-LEN-004", "CHECKIN", &["TEN_THUOC", "TEN_VAT_TU"], 2000),
    ("R-LEN-005", "XML1", &["NHOM_MAU"], 10),
    ("R-LEN-006", "XML1", &["MA_DOITUONG_KCB"], 5),
    ("R-LEN-007", "XML1", &["MA_TAI_NAN"], 2),
    ("R-LEN-008", "XML2", &["MA_KHOA"], 15),
    ("R-LEN-009", "XML3", &["GOI_VTYT"], 4),
    ("R-LEN-010", "XML3", &["TT_THAU"], 100),
    ("R-LEN-011", "XML3", &["MA_KHOA"], 20),
    ("R-LEN-012", "XML4", &["MA_DICH_VU"], 50),
    ("R-LEN-013", "XML6", &["MA_XU_TRI"], 1),
    ("R-LEN-014", "XML7", &["DU_PHONG"], 4000),
    ("R-LEN-014", "XML9", &["DU_PHONG"], 4000),
    ("R-LEN-014", "XML10", &["DU_PHONG"], 4000),
    ("R-LEN-014", "XML11", &["DU_PHONG"], 4000),
    ("R-LEN-015", "XML12", &["DANG_HUONG_CHE_DO"], 3),
    ("R-LEN-016", "XML13", &["MA_LK"], 250),
    (
        "R-LEN-017",
        "XML13",
        &["SO_HOSO", "SO_CHUYENTUYEN", "GIAY_CHUYEN_TUYEN"],
        100,
    ),
    ("R-LEN-018", "XML13", &["MA_THE_BHYT", "GT_THE_DEN"], 200),
    ("R-LEN-018", "XML14", &["MA_THE_BHYT", "GT_THE_DEN"], 200),
    ("R-LEN-019", "XML13", &["MA_BENH_CHINH"], 50),
    ("R-LEN-019", "XML14", &["MA_BENH_CHINH"], 50),
    ("R-LEN-020", "XML13", &["MA_BENH_KT"], 200),
    ("R-LEN-020", "XML14", &["MA_BENH_KT"], 200),
    (
        "R-LEN-021",
        "XML13",
        &[
            "DAU_HIEU_LS",
            "QT_BENHLY",
            "TOMTAT_KQ",
            "CHAN_DOAN_RV",
            "PP_DIEUTRI",
            "PP_DIEU_TRI",
            "HUONG_DIEU_TRI",
            "DU_PHONG",
        ],
        4000,
    ),
    ("R-LEN-022", "XML14", &["MA_LK"], 200),
    ("R-LEN-023", "XML14", &["SO_GIAYHEN_KL"], 100),
    ("R-LEN-024", "XML14", &["MA_DOITUONG_KCB"], 10),
    ("R-LEN-025", "XML15", &["MA_LK", "MA_BN"], 200),
    ("R-LEN-026", "XML15", &["DU_PHONG"], 40000),
];

/// The section 13 entry for a QĐ 130 field, if any.
fn validator_limit(table: &TableSpec, field: &str) -> Option<(&'static str, usize)> {
    if table.standard != Standard::Qd130 {
        return None;
    }
    VALIDATOR_LIMITS
        .iter()
        .find(|(_, t, fields, _)| *t == table.name && fields.contains(&field))
        .map(|(rule, _, _, max)| (*rule, *max))
}

/// How a date-like field is written, read from the `format` column of the spec.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DateKind {
    Datetime,
    /// NGAY_SINH: yyyymmddHHMM with 00 for unknown parts.
    Birth,
    Date,
    DateList,
    /// NGAY_MIEN_CCT: a certificate date or the date-time the condition was met.
    DateOrDatetime,
    /// QĐ 4210 NGAY_SINH: yyyy or yyyymmdd.
    YearOrDate,
    Year,
}

fn date_kind(format: &str) -> Option<DateKind> {
    Some(match format {
        "yyyymmddHHMM" => DateKind::Datetime,
        "yyyymmddHHMM (unknown parts 00)" => DateKind::Birth,
        "yyyymmdd" => DateKind::Date,
        f if f.starts_with("yyyymmdd; \";\"-list") => DateKind::DateList,
        "yyyymmdd (certificate) or yyyymmddHHMM" => DateKind::DateOrDatetime,
        "yyyymmdd, or yyyy when only the year is known" => DateKind::YearOrDate,
        "yyyy" => DateKind::Year,
        _ => return None,
    })
}

/// Everything decided per field once per table spec.
struct Compiled {
    rule_required: &'static str,
    level_required: Level,
    rule_length: &'static str,
    /// A gateway validator limit stricter than QĐ 4750 (warning).
    validator: Option<(&'static str, usize)>,
    rule_date: &'static str,
    date: Option<DateKind>,
    decimals: usize,
    checks: Vec<&'static Entry>,
}

fn compiled(table: &'static TableSpec) -> &'static [Compiled] {
    static CACHE: OnceLock<HashMap<(Standard, &'static str), Vec<Compiled>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        [Standard::Qd130, Standard::Qd4210]
            .into_iter()
            .flat_map(|s| spec(s).tables.iter())
            .map(|t| ((t.standard, t.name), compile(t)))
            .collect()
    });
    &cache[&(table.standard, table.name)]
}

fn compile(table: &'static TableSpec) -> Vec<Compiled> {
    table
        .fields
        .iter()
        .map(|field| {
            let applies = |e: &&Entry| {
                e.fields.contains(&field.name)
                    && (e.scope == Scope::All || e.scope == Scope::Only(table.standard))
            };
            let own: Vec<&Entry> = CHECKS
                .iter()
                .filter(applies)
                .filter(|e| e.tables.contains(&table.name))
                .collect();
            let checks = if own.is_empty() {
                CHECKS
                    .iter()
                    .filter(applies)
                    .filter(|e| e.tables.is_empty())
                    .collect()
            } else {
                own
            };
            let three = field.format.contains("3 decimals")
                || field.name.starts_with("DON_GIA")
                || field.name.starts_with("SO_LUONG");
            let rule_required = specific("R-GEN-013", table, field.name);
            let limit = validator_limit(table, field.name);
            Compiled {
                rule_required,
                level_required: if DOWNGRADED.contains(&rule_required) {
                    Level::Warning
                } else {
                    Level::Error
                },
                rule_length: limit.map_or_else(
                    || specific("R-GEN-004", table, field.name),
                    |(rule, _)| rule,
                ),
                validator: limit.filter(|(_, max)| field.max_len.is_none_or(|own| max < &own)),
                rule_date: specific("R-GEN-006", table, field.name),
                date: date_kind(field.format),
                decimals: if three { 3 } else { 2 },
                checks,
            }
        })
        .collect()
}

pub fn check_table(table: &Table, sink: &mut Sink) {
    let spec = table.spec;
    let compiled = compiled(spec);
    for at in rows(table) {
        check_shape(at, sink);
        for (i, field) in spec.fields.iter().enumerate() {
            let value = at.row.at(i);
            let c = &compiled[i];
            let trimmed = trim(value);
            if trimmed.is_empty() {
                if field.required == Required::Yes {
                    at.report(
                        sink,
                        c.rule_required,
                        c.level_required,
                        field.name,
                        format!("{} bắt buộc nhưng để trống", field.name),
                        format!("{} is required but empty", field.name),
                    );
                }
                continue;
            }
            // Byte length first: counting characters is only needed near the limit.
            let over = |max: usize| value.len() > max && value.chars().count() > max;
            if let Some(max) = field.max_len.filter(|&max| over(max)) {
                let n = value.chars().count();
                at.report(
                    sink,
                    c.rule_length,
                    Level::Error,
                    field.name,
                    format!("{} dài {n} ký tự, tối đa {max}", field.name),
                    format!("{} has {n} characters, at most {max}", field.name),
                );
            } else if let Some((rule, max)) = c.validator.filter(|&(_, max)| over(max)) {
                let n = value.chars().count();
                at.report(
                    sink,
                    rule,
                    Level::Warning,
                    field.name,
                    format!(
                        "{} dài {n} ký tự: đúng QĐ 4750 nhưng cổng giám định chỉ nhận {max}",
                        field.name
                    ),
                    format!(
                        "{} has {n} characters: within QĐ 4750, but the gateway validator accepts {max}",
                        field.name
                    ),
                );
            }
            if !type_ok(field.ty, trimmed, c.decimals) {
                let what = match field.ty {
                    FieldType::Number => "an integer".to_string(),
                    _ => format!("a decimal with '.' and at most {} decimals", c.decimals),
                };
                at.report(
                    sink,
                    "R-GEN-005",
                    Level::Error,
                    field.name,
                    format!("{} = '{trimmed}' sai kiểu số", field.name),
                    format!("{} = '{trimmed}' is not {what}", field.name),
                );
            }
            if let Some(kind) = c.date {
                if !date_ok(kind, trimmed) {
                    at.report(
                        sink,
                        c.rule_date,
                        Level::Error,
                        field.name,
                        format!(
                            "{} = '{trimmed}' không đúng định dạng {}",
                            field.name, field.format
                        ),
                        format!(
                            "{} = '{trimmed}' is not a valid {}",
                            field.name, field.format
                        ),
                    );
                }
            }
            if trimmed.bytes().any(|b| b == b';')
                && trimmed.split(';').any(|p| p.trim() != p || p.is_empty())
            {
                at.report(
                    sink,
                    "R-GEN-012",
                    Level::Error,
                    field.name,
                    format!(
                        "{}: danh sách ';' có khoảng trắng hoặc phần tử rỗng",
                        field.name
                    ),
                    format!("{}: the ';'-list has spaces or empty elements", field.name),
                );
            }
            for entry in &c.checks {
                let bad = if entry.list {
                    trimmed.split(';').find(|p| !check_ok(entry.check, p))
                } else {
                    Some(trimmed).filter(|v| !check_ok(entry.check, v))
                };
                if let Some(bad) = bad {
                    let (vi, en) = describe(entry.check);
                    at.report(
                        sink,
                        entry.rule,
                        entry.level,
                        field.name,
                        format!("{} = '{bad}': {vi}", field.name),
                        format!("{} = '{bad}': {en}", field.name),
                    );
                }
            }
        }
    }
}

/// R-GEN-002/003: unknown, repeated, out-of-order and omitted elements.
fn check_shape(at: At, sink: &mut Sink) {
    for shape in at.row.shape() {
        let (rule, level, field, vi, en) = match shape {
            Shape::Unknown(name) => (
                "R-GEN-002",
                Level::Error,
                None,
                format!("Phần tử <{name}> không có trong bảng"),
                format!("Element <{name}> is not part of the table"),
            ),
            Shape::Duplicate(name) => (
                "R-GEN-003",
                Level::Error,
                Some(name),
                format!("{name} xuất hiện nhiều lần"),
                format!("{name} appears more than once"),
            ),
            Shape::OutOfOrder(name) => (
                "R-GEN-003",
                Level::Error,
                Some(name),
                format!("{name} sai thứ tự phần tử"),
                format!("{name} is out of the regulation's element order"),
            ),
            Shape::Omitted(name) => (
                "R-GEN-003",
                Level::Warning,
                Some(name),
                format!("Thiếu phần tử {name} (phần tử rỗng vẫn phải có)"),
                format!("Element {name} is omitted (empty elements are still written)"),
            ),
        };
        sink.push(rule, level, at.table(), at.index, field, vi, en);
    }
}

fn type_ok(ty: FieldType, value: &str, decimals: usize) -> bool {
    match ty {
        FieldType::String => true,
        FieldType::Number => value.bytes().all(|b| b.is_ascii_digit()),
        FieldType::Decimal => {
            let unsigned = value.strip_prefix('-').unwrap_or(value);
            let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
            !int.is_empty()
                && !frac.is_empty()
                && frac.len() <= decimals
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

fn digits(value: &str, n: usize) -> bool {
    value.len() == n && value.bytes().all(|b| b.is_ascii_digit())
}

/// The number written by the digits `from..to` of a value already checked to be digits.
fn number(value: &str, from: usize, to: usize) -> u32 {
    value.as_bytes()[from..to]
        .iter()
        .try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
        .unwrap_or(u32::MAX)
}

/// A real calendar date `yyyymmdd`; `unknown` allows 00 for month and day.
pub fn is_date(value: &str, unknown: bool) -> bool {
    if !digits(value, 8) {
        return false;
    }
    let (year, month, day) = (
        number(value, 0, 4),
        number(value, 4, 6),
        number(value, 6, 8),
    );
    if unknown && month == 0 && day == 0 {
        return true;
    }
    if unknown && day == 0 {
        return (1..=12).contains(&month);
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// A real `yyyymmddHHMM`.
pub fn is_datetime(value: &str) -> bool {
    digits(value, 12) && is_date(&value[..8], false) && time_ok(value)
}

fn time_ok(value: &str) -> bool {
    number(value, 8, 10) <= 23 && number(value, 10, 12) <= 59
}

fn date_ok(kind: DateKind, value: &str) -> bool {
    match kind {
        DateKind::Datetime => is_datetime(value),
        DateKind::Birth => digits(value, 12) && is_date(&value[..8], true) && time_ok(value),
        DateKind::Date => is_date(value, false),
        DateKind::DateList => value.split(';').all(|d| is_date(d, false)),
        DateKind::DateOrDatetime => is_date(value, false) || is_datetime(value),
        DateKind::YearOrDate => {
            digits(value, 4) || (is_date(value, false) && !value.ends_with("0000"))
        }
        DateKind::Year => digits(value, 4),
    }
}

fn check_ok(check: Check, v: &str) -> bool {
    let b = v.as_bytes();
    let upper = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_uppercase);
    match check {
        Code(list) => codes::list(list).contains(v),
        Values(values) => values.contains(&v),
        Int(lo, hi) => {
            !v.is_empty()
                && v.bytes().all(|c| c.is_ascii_digit())
                && v.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
        }
        Digits(n) => digits(v, n),
        Card => {
            b.len() == 15
                && upper(0..2)
                && digits(&v[2..], 13)
                && codes::list("THE_BHYT_DOI_TUONG")
                    .row(&v[..2])
                    .is_some_and(|row| row.get(3) == Some(&&v[2..3]))
        }
        TempCard => v.len() == 15 && v.starts_with("TE1") && digits(&v[3..], 12),
        Cccd => {
            digits(v, 9)
                || digits(v, 12)
                || (b.len() == 8 && upper(0..1) && digits(&v[1..], 7))
                || (b.len() == 9 && upper(0..2) && digits(&v[2..], 7))
        }
        Bhxh => digits(v, 10) && v != "0000000000",
        // ASCII first: slicing a value with multi-byte characters could split one.
        Facility => b.len() == 5 && b.iter().all(u8::is_ascii_alphanumeric) && digits(&v[..2], 2),
        Registration => check_ok(Facility, v),
        Bed => {
            b.len() == 4
                && v.is_ascii()
                && codes::list("MA_GIUONG_PREFIX").contains(&v[..1])
                && digits(&v[1..], 3)
        }
        SupplyPackage => v
            .strip_prefix('G')
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=999).contains(&n)),
        Machine => {
            // XX(X).n.YYYYY.Z: group letters, kind 1-3, facility, serial.
            let parts: Vec<&str> = v.splitn(4, '.').collect();
            parts.len() == 4
                && (2..=3).contains(&parts[0].chars().count())
                && parts[0].chars().all(char::is_uppercase)
                && matches!(parts[1], "1" | "2" | "3")
                && check_ok(Facility, parts[2])
                && !parts[3].is_empty()
        }
        DrugFacility => v.split_once('.').is_some_and(|(prefix, facility)| {
            matches!(prefix, "C" | "K" | "M" | "HC") && check_ok(Facility, facility)
        }),
        Tender => tender_ok(v, "G", "N"),
    }
}

/// TT_THAU: `decision;Gxx;Nxx;yyyy[;…]`, or the in-house form `letter;yyyy`.
pub fn tender_ok(value: &str, package: &str, group: &str) -> bool {
    let parts: Vec<&str> = value.split(';').collect();
    let numbered = |part: &str, prefix: &str| {
        part.strip_prefix(prefix)
            .is_some_and(|n| (1..=2).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
    };
    match parts.as_slice() {
        [_, year] => digits(year, 4),
        [decision, pkg, grp, year, ..] => {
            !decision.is_empty()
                && numbered(pkg, package)
                && numbered(grp, group)
                && digits(year, 4)
        }
        _ => false,
    }
}

fn describe(check: Check) -> (String, String) {
    match check {
        Code(list) => {
            let codes = codes::list(list).joined();
            (
                format!("không có trong danh mục {list} ({codes})"),
                format!("not in the {list} list ({codes})"),
            )
        }
        Values(values) => {
            let values = values.join(", ");
            (format!("phải là một trong {values}"), format!("must be one of {values}"))
        }
        Int(lo, hi) => (
            format!("phải là số nguyên từ {lo} đến {hi}"),
            format!("must be an integer from {lo} to {hi}"),
        ),
        Digits(n) => (format!("phải gồm {n} chữ số"), format!("must be {n} digits")),
        Card => (
            "mã thẻ BHYT phải gồm 2 chữ cái đối tượng hợp lệ + mức hưởng tương ứng + 2 số tỉnh + 10 số".into(),
            "the card must be a known 2-letter category + its benefit digit + 2-digit province + 10 digits".into(),
        ),
        TempCard => (
            "thẻ tạm phải là TE1 + 2 số tỉnh + 10 số".into(),
            "a temporary card is TE1 + 2-digit province + 10 digits".into(),
        ),
        Cccd => (
            "phải là CCCD 12 số, CMND 9 số hoặc hộ chiếu (chữ in hoa + 7 số)".into(),
            "must be a 12-digit CCCD, a 9-digit CMND or a passport (uppercase letter + 7 digits)".into(),
        ),
        Bhxh => (
            "mã số BHXH phải gồm 10 chữ số, không toàn số 0".into(),
            "a BHXH number is 10 digits, not all zeros".into(),
        ),
        Facility => (
            "mã cơ sở KCB phải gồm 5 ký tự, 2 ký tự đầu là mã tỉnh".into(),
            "a facility code is 5 characters, the first two the province".into(),
        ),
        Registration => (
            "nơi ĐKBĐ phải là mã cơ sở 5 ký tự (thẻ tạm: mã tỉnh + 000)".into(),
            "the registration facility must be a 5-character code (temporary cards: province + 000)".into(),
        ),
        Bed => (
            "mã giường phải là H, T, C hoặc K + 3 chữ số".into(),
            "a bed code is H, T, C or K + 3 digits".into(),
        ),
        SupplyPackage => (
            "gói VTYT phải là G + số từ 1 đến 999".into(),
            "a supply package is G + a number from 1 to 999".into(),
        ),
        Machine => (
            "mã máy phải có dạng XX.n.YYYYY.Z".into(),
            "a machine code has the form XX.n.YYYYY.Z".into(),
        ),
        DrugFacility => (
            "phải có dạng C., K., M. hoặc HC. + mã cơ sở 5 ký tự".into(),
            "must be C., K., M. or HC. + a 5-character facility code".into(),
        ),
        Tender => (
            "thông tin thầu phải là 'quyết định;Gxx;Nxx;năm' (tự bào chế: 'ký hiệu;năm')".into(),
            "tender info must be 'decision;Gxx;Nxx;year' (in-house: 'mark;year')".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_values() {
        assert!(is_datetime("202402292359"));
        assert!(!is_datetime("202302290000"));
        assert!(!is_datetime("202401012400"));
        assert!(date_ok(DateKind::Birth, "199000000000"));
        assert!(!date_ok(DateKind::Datetime, "199000000000"));
        assert!(date_ok(DateKind::YearOrDate, "1990"));
        assert!(!date_ok(DateKind::YearOrDate, "19900000"));
    }

    #[test]
    fn identifiers() {
        assert!(check_ok(Card, "DN4797912345678"));
        assert!(!check_ok(Card, "DN3797912345678"), "DN has benefit digit 4");
        assert!(!check_ok(Card, "ZZ4797912345678"));
        assert!(check_ok(Card, "TE1790123456789"));
        assert!(check_ok(Cccd, "079090001234"));
        assert!(check_ok(Cccd, "B1234567"));
        assert!(!check_ok(Cccd, "07909000123"));
        assert!(!check_ok(Bhxh, "0000000000"));
        assert!(check_ok(Machine, "XQ.1.79001.1234"));
        assert!(check_ok(DrugFacility, "K.79001"));
    }

    #[test]
    fn decimals_and_tender() {
        assert!(type_ok(FieldType::Decimal, "12.50", 2));
        assert!(!type_ok(FieldType::Decimal, "12.505", 2));
        assert!(!type_ok(FieldType::Decimal, "1,200", 2));
        assert!(!type_ok(FieldType::Decimal, "12.", 2));
        assert!(tender_ok("123/QD-BV;G1;N1;2024", "G", "N"));
        assert!(tender_ok("A;2024", "G", "N"));
        assert!(!tender_ok("123;X1;N1;2024", "G", "N"));
    }
}
