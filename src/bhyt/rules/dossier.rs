//! Rules across the tables of one HOSO and against the envelope.

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::record::{minute_number, BEDS};
use super::{decimal as dec, differ, rows, total, At, Level, Sink};
use crate::bhyt::envelope::Header;
use crate::bhyt::spec::Standard;
use crate::bhyt::xml::{trim, Row, Table};

/// Fields copied from XML1 into another table: when present they must be equal.
const COPIED: &[(&str, Level, &str, &[&str])] = &[
    ("R-X-011", Level::Error, "XML6", &["NGAY_SINH"]),
    ("R-X-011", Level::Error, "XML13", &["NGAY_SINH"]),
    ("R-X-011", Level::Error, "XML14", &["NGAY_SINH"]),
    (
        "R-XML6-001",
        Level::Error,
        "XML6",
        &[
            "GIOI_TINH",
            "DIA_CHI",
            "MATINH_CU_TRU",
            "MAHUYEN_CU_TRU",
            "MAXA_CU_TRU",
            "MA_CSKCB",
        ],
    ),
    (
        "R-XML13-002",
        Level::Error,
        "XML13",
        &[
            "MA_CSKCB",
            "MA_NOI_DI",
            "MA_NOI_DEN",
            "HO_TEN",
            "GIOI_TINH",
            "MA_QUOCTICH",
            "MA_DANTOC",
            "MA_NGHE_NGHIEP",
            "DIA_CHI",
            "MA_THE_BHYT",
            "GT_THE_DEN",
            "NGAY_VAO",
            "NGAY_VAO_NOI_TRU",
            "NGAY_RA",
            "CHAN_DOAN_RV",
            "MA_BENH_CHINH",
            "MA_BENH_KT",
            "MA_BENH_YHCT",
            "MA_LOAI_RV",
        ],
    ),
    (
        "R-XML14-004",
        Level::Error,
        "XML14",
        &[
            "GIOI_TINH",
            "DIA_CHI",
            "MA_THE_BHYT",
            "GT_THE_DEN",
            "NGAY_VAO",
            "NGAY_VAO_NOI_TRU",
            "NGAY_RA",
            "CHAN_DOAN_RV",
            "MA_BENH_CHINH",
            "MA_BENH_KT",
            "MA_BENH_YHCT",
            "MA_DOITUONG_KCB",
        ],
    ),
    (
        "R-XML15-002",
        Level::Error,
        "XML15",
        &["HO_TEN", "SO_CCCD", "MA_CSKCB"],
    ),
    (
        "R-XML7-006",
        Level::Warning,
        "XML7",
        &["NGAY_VAO", "NGAY_RA"],
    ),
    ("R-XML8-002", Level::Error, "XML8", &["MA_LOAI_KCB"]),
    ("R-XML8-003", Level::Error, "XML8", &["KET_QUA_DTRI"]),
];

/// Tables allowed only for some MA_LOAI_KCB (QĐ 4750 appendix notes).
const PRESENCE: &[(&str, &str, &[&str])] = &[
    ("R-X-012", "XML8", &["03", "04", "06"]),
    (
        "R-X-013",
        "XML5",
        &["02", "03", "04", "05", "06", "08", "09"],
    ),
];

/// XML1 totals and the XML2/XML3 line amounts they sum (R-X-003 … R-X-008).
const TOTALS: [(&str, &str, &str); 6] = [
    ("R-X-003", "T_TONGCHI_BV", "THANH_TIEN_BV"),
    ("R-X-004", "T_TONGCHI_BH", "THANH_TIEN_BH"),
    ("R-X-005", "T_BNTT", "T_BNTT"),
    ("R-X-006", "T_BNCCT", "T_BNCCT"),
    ("R-X-007", "T_BHTT", "T_BHTT"),
    ("R-X-008", "T_NGUONKHAC", "T_NGUONKHAC"),
];

/// Tables whose STT runs 1, 2, … (R-GEN-011).
const NUMBERED: &[&str] = &["CHECKIN", "XML2", "XML3", "XML4", "XML5", "XML15"];

/// See [`Dossier::line_sums`]; `None` where an amount is malformed or the sum overflows.
struct LineSums {
    /// XML2.THANH_TIEN_BV, for T_THUOC.
    drugs: Option<Decimal>,
    /// XML3.THANH_TIEN_BV of MA_NHOM 10/11, for T_VTYT.
    supplies: Option<Decimal>,
    /// Each line column of [`TOTALS`] over both tables.
    columns: [Option<Decimal>; TOTALS.len()],
    /// T_BHTT of MA_PTTT 1, for T_BHTT_GDV.
    capitation: Option<Decimal>,
}

pub struct Dossier<'t> {
    tables: &'t [Table],
    standard: Standard,
}

impl<'t> Dossier<'t> {
    pub fn new(tables: &'t [Table], standard: Standard) -> Dossier<'t> {
        Dossier { tables, standard }
    }

    pub fn table(&self, name: &str) -> Option<&'t Table> {
        self.tables.iter().find(|t| t.spec.name == name)
    }

    pub fn xml1(&self) -> Option<Row<'t>> {
        self.table("XML1").and_then(|t| t.rows().next())
    }

    fn lines(&self, name: &str) -> impl Iterator<Item = At<'t>> {
        self.table(name).into_iter().flat_map(rows)
    }

    pub fn check(&self, header: &Header, seen_ma_lk: &mut HashSet<String>, sink: &mut Sink) {
        for table in self.tables {
            numbering(table, sink);
            if table.is_empty() {
                sink.push(
                    "R-GEN-014",
                    Level::Warning,
                    table.spec.name,
                    None,
                    None,
                    format!("Bảng {} rỗng không nên gửi", table.spec.name),
                    format!("Table {} is empty and should not be sent", table.spec.name),
                );
            }
        }
        let Some(xml1) = self.xml1() else {
            sink.push(
                "R-GEN-009",
                Level::Error,
                "XML1",
                None,
                None,
                "Hồ sơ không có bảng XML1".into(),
                "The HOSO has no XML1 table".into(),
            );
            return;
        };
        let xml1_at = At {
            row: xml1,
            index: None,
        };
        let ma_lk = xml1.get("MA_LK");
        if !ma_lk.is_empty() && !seen_ma_lk.insert(ma_lk.to_string()) {
            xml1_at.report(
                sink,
                "R-GEN-010",
                Level::Error,
                "MA_LK",
                format!("MA_LK {ma_lk} trùng với hồ sơ khác trong tệp"),
                format!("MA_LK {ma_lk} repeats another HOSO of the file"),
            );
        }
        let facility = xml1.get("MA_CSKCB");
        if !header.macskcb.trim().is_empty()
            && !facility.is_empty()
            && facility != header.macskcb.trim()
        {
            xml1_at.report(
                sink,
                "R-X-022",
                Level::Error,
                "MA_CSKCB",
                format!(
                    "MA_CSKCB {facility} khác MACSKCB {} của tệp",
                    header.macskcb.trim()
                ),
                format!(
                    "MA_CSKCB {facility} differs from the envelope's MACSKCB {}",
                    header.macskcb.trim()
                ),
            );
        }
        for table in self.tables.iter().filter(|t| t.spec.name != "XML1") {
            for at in rows(table) {
                let own = at.get("MA_LK");
                if own != ma_lk && table.spec.field_index("MA_LK").is_some() {
                    at.report(
                        sink,
                        "R-GEN-009",
                        Level::Error,
                        "MA_LK",
                        format!("MA_LK '{own}' khác MA_LK '{ma_lk}' của XML1"),
                        format!("MA_LK '{own}' differs from XML1's '{ma_lk}'"),
                    );
                }
            }
        }
        if self.standard == Standard::Qd130 {
            self.presence(xml1, sink);
            self.copied(xml1, sink);
            self.totals(xml1, sink);
            self.services(xml1, sink);
        }
        self.beds(xml1, sink);
    }

    /// R-X-016/017/020 (QĐ 130) and R-4210-005: bed days (XML3 MA_NHOM 14-16) against the
    /// length of the stay.
    fn beds(&self, xml1: Row, sink: &mut Sink) {
        let (inpatient, discharge, excess_rule): (&[&str], _, _) = match self.standard {
            Standard::Qd130 => (&["03", "04", "09"], "MA_LOAI_RV", "R-X-017"),
            Standard::Qd4210 => (&["3"], "TINH_TRANG_RV", "R-4210-005"),
        };
        if !inpatient.contains(&xml1.get("MA_LOAI_KCB")) {
            return;
        }
        let beds: Vec<At> = self
            .lines("XML3")
            .filter(|l| BEDS.contains(&l.get("MA_NHOM")))
            .collect();
        if self.standard == Standard::Qd130 {
            one_bed_at_a_time(&beds, sink);
        }
        let Some(bed_days) = total(
            beds.iter()
                .map(|b| dec(b.get("SO_LUONG")).or(Some(Decimal::ZERO))),
        ) else {
            return;
        };
        let Ok(days) = xml1.get("SO_NGAY_DTRI").parse::<i64>() else {
            return;
        };
        let stay = minute_number(xml1.get("NGAY_VAO"))
            .zip(minute_number(xml1.get("NGAY_RA")))
            .map(|(vao, ra)| ra - vao);
        let at = At {
            row: xml1,
            index: None,
        };
        if self.standard == Standard::Qd130 && days <= 2 {
            // QĐ 3788: under 4 hours no bed day, 4 to 24 hours at most one.
            let limit = match stay {
                Some(m) if m < 240 => Some(Decimal::ZERO),
                Some(m) if m < 1440 => Some(Decimal::ONE),
                _ => None,
            };
            if let Some(limit) = limit.filter(|l| bed_days > *l) {
                at.report(
                    sink,
                    "R-X-016",
                    Level::Error,
                    "NGAY_RA",
                    format!("Nằm viện ngắn: tối đa {limit} ngày giường, có {bed_days}"),
                    format!("Short stay: at most {limit} bed days, {bed_days} billed"),
                );
            }
        }
        // The discharge day is not billed unless the patient got worse, died, was transferred
        // or absconded, or stayed more than 4 hours into the last day.
        let exempt = matches!(xml1.get("KET_QUA_DTRI"), "3" | "4" | "5" | "6")
            || matches!(xml1.get(discharge), "2" | "3" | "4")
            || stay.is_some_and(|m| m % 1440 > 240);
        if days >= 2 && !exempt && bed_days > Decimal::from(days - 1) {
            at.report(
                sink,
                excess_rule,
                Level::Warning,
                "SO_NGAY_DTRI",
                format!(
                    "{bed_days} ngày giường cho {days} ngày điều trị (tối đa {})",
                    days - 1
                ),
                format!(
                    "{bed_days} bed days for {days} treatment days (at most {})",
                    days - 1
                ),
            );
        }
    }

    fn presence(&self, xml1: Row, sink: &mut Sink) {
        let kcb = xml1.get("MA_LOAI_KCB");
        let absent = |table: &'static str, rule, vi: String, en: String, sink: &mut Sink| {
            sink.push(rule, Level::Error, table, None, None, vi, en);
        };
        for (rule, table, allowed) in PRESENCE {
            if self.table(table).is_some() && !allowed.contains(&kcb) {
                absent(
                    table,
                    rule,
                    format!(
                        "Bảng {table} chỉ gửi khi MA_LOAI_KCB thuộc {}",
                        allowed.join(", ")
                    ),
                    format!(
                        "Table {table} is sent only for MA_LOAI_KCB {}",
                        allowed.join(", ")
                    ),
                    sink,
                );
            }
        }
        let transfer = matches!(xml1.get("MA_LOAI_RV"), "2" | "5");
        if transfer != self.table("XML13").is_some() {
            absent(
                "XML13",
                "R-X-014",
                "Bảng XML13 có khi và chỉ khi MA_LOAI_RV là 2 hoặc 5".into(),
                "Table XML13 is present exactly when MA_LOAI_RV is 2 or 5".into(),
                sink,
            );
        }
        let inpatient = matches!(kcb, "03" | "04" | "09");
        if inpatient && xml1.get("MA_LOAI_RV") != "3" && self.table("XML7").is_none() {
            absent(
                "XML7",
                "R-XML7-001",
                "Điều trị nội trú phải có giấy ra viện (XML7)".into(),
                "An inpatient episode needs the discharge paper (XML7)".into(),
                sink,
            );
        }
    }

    fn copied(&self, xml1: Row, sink: &mut Sink) {
        for (rule, level, table, fields) in COPIED {
            for at in self.lines(table) {
                for field in *fields {
                    let (own, theirs) = (at.get(field), xml1.get(field));
                    if !own.is_empty() && own != theirs {
                        at.report(
                            sink,
                            rule,
                            *level,
                            field,
                            format!("{field} = '{own}' khác XML1 ('{theirs}')"),
                            format!("{field} = '{own}' differs from XML1 ('{theirs}')"),
                        );
                    }
                }
            }
        }
        for at in self.lines("XML7") {
            let (own, theirs) = (at.get("MA_YTE"), xml1.get("MA_BN"));
            if !own.is_empty() && own != theirs {
                at.report(
                    sink,
                    "R-XML7-006",
                    Level::Warning,
                    "MA_YTE",
                    format!("MA_YTE '{own}' khác MA_BN '{theirs}' của XML1"),
                    format!("MA_YTE '{own}' differs from XML1.MA_BN '{theirs}'"),
                );
            }
        }
    }

    /// The XML2/XML3 sums the XML1 totals are compared with, in one pass over the lines:
    /// each amount is read once, its column found once per table.
    fn line_sums(&self) -> LineSums {
        let zero = Some(Decimal::ZERO);
        let mut sums = LineSums {
            drugs: zero,
            supplies: zero,
            columns: [zero; TOTALS.len()],
            capitation: zero,
        };
        let add = |sum: &mut Option<Decimal>, amount: Option<Decimal>| {
            *sum = sum.zip(amount).and_then(|(s, a)| s.checked_add(a));
        };
        let column = |line: &str| {
            TOTALS
                .iter()
                .position(|(_, _, l)| *l == line)
                .expect("a column of TOTALS")
        };
        let (bv, bhtt) = (column("THANH_TIEN_BV"), column("T_BHTT"));
        for name in ["XML2", "XML3"] {
            let Some(table) = self.table(name) else {
                continue;
            };
            let spec = table.spec;
            let columns = TOTALS.map(|(_, _, line)| spec.field_index(line));
            let (group, method) = (spec.field_index("MA_NHOM"), spec.field_index("MA_PTTT"));
            for row in table.rows() {
                let get = |field: Option<usize>| field.map_or("", |i| trim(row.at(i)));
                // An empty amount counts as 0; a malformed one leaves the sum undecided.
                let amounts = columns.map(|c| {
                    let value = get(c);
                    dec(value).or(value.is_empty().then_some(Decimal::ZERO))
                });
                for (sum, amount) in sums.columns.iter_mut().zip(amounts) {
                    add(sum, amount);
                }
                if name == "XML2" {
                    add(&mut sums.drugs, amounts[bv]);
                } else if matches!(get(group), "10" | "11") {
                    add(&mut sums.supplies, amounts[bv]);
                }
                if get(method) == "1" {
                    add(&mut sums.capitation, amounts[bhtt]);
                }
            }
        }
        sums
    }

    /// R-X-001 … R-X-010: the XML1 totals against the XML2/XML3 lines.
    fn totals(&self, xml1: Row, sink: &mut Sink) {
        let at = At {
            row: xml1,
            index: None,
        };
        let sums = self.line_sums();
        let mut compare = |rule: &'static str,
                           level: Level,
                           field: &str,
                           expected: Option<Decimal>,
                           how: &str| {
            let (Some(actual), Some(expected)) = (dec(xml1.get(field)), expected) else {
                return;
            };
            let expected = expected.round_dp(2);
            if differ(actual, expected) {
                at.report(
                    sink,
                    rule,
                    level,
                    field,
                    format!("{field} = {actual}, tổng {how} là {expected}"),
                    format!("{field} = {actual}, but the sum of {how} is {expected}"),
                );
            }
        };
        compare(
            "R-X-001",
            Level::Error,
            "T_THUOC",
            sums.drugs,
            "XML2.THANH_TIEN_BV",
        );
        compare(
            "R-X-002",
            Level::Error,
            "T_VTYT",
            sums.supplies,
            "XML3.THANH_TIEN_BV (MA_NHOM 10/11)",
        );
        for ((rule, field, line), sum) in TOTALS.iter().zip(sums.columns) {
            compare(rule, Level::Error, field, sum, &format!("XML2/XML3.{line}"));
        }
        let card = xml1.get("MA_THE_BHYT");
        if !["QN", "CA", "CY"].iter().any(|p| card.starts_with(p)) {
            // Warning: the regulation excludes further costs from capitation that the file cannot show.
            compare(
                "R-X-009",
                Level::Warning,
                "T_BHTT_GDV",
                sums.capitation,
                "T_BHTT (MA_PTTT 1)",
            );
        }
        let parts = total(["T_BNTT", "T_BNCCT", "T_BHTT", "T_NGUONKHAC"].map(|f| dec(xml1.get(f))));
        compare(
            "R-X-010",
            Level::Error,
            "T_TONGCHI_BV",
            parts,
            "T_BNTT + T_BNCCT + T_BHTT + T_NGUONKHAC",
        );
    }

    /// Rules pairing XML3 rows with each other and with XML4.
    fn services(&self, xml1: Row, sink: &mut Sink) {
        let kcb = xml1.get("MA_LOAI_KCB");
        let exams: Vec<At> = self
            .lines("XML3")
            .filter(|l| l.get("MA_NHOM") == "13")
            .collect();
        if matches!(kcb, "03" | "04" | "09") && exams.len() > 1 {
            exams[1].report(
                sink,
                "R-X-015",
                Level::Warning,
                "MA_NHOM",
                "Điều trị nội trú chỉ tính một lần công khám".into(),
                "An inpatient episode bills at most one examination fee".into(),
            );
        }
        // QĐ 4750: the 2nd-4th examinations of a visit pay 30 %, the 5th 10 %, later ones 0 %.
        let expected = ["100", "30", "30", "30", "10"];
        for (i, exam) in exams.iter().enumerate() {
            let want = expected.get(i).copied().unwrap_or("0");
            let got = exam.get("TYLE_TT_DV");
            if !got.is_empty() && dec(got) != dec(want) {
                exam.report(
                    sink,
                    "R-XML3-039",
                    Level::Warning,
                    "TYLE_TT_DV",
                    format!("Lần khám thứ {}: TYLE_TT_DV nên là {want}", i + 1),
                    format!("Examination {}: TYLE_TT_DV should be {want}", i + 1),
                );
            }
        }
        if kcb == "08" {
            let days: HashSet<&str> = self
                .lines("XML3")
                .filter_map(|l| l.get("NGAY_YL").get(..8))
                .collect();
            let declared = xml1.get("SO_NGAY_DTRI").parse::<usize>().ok();
            if declared.is_some_and(|d| d != days.len()) {
                At {
                    row: xml1,
                    index: None,
                }
                .report(
                    sink,
                    "R-XML1-006",
                    Level::Warning,
                    "SO_NGAY_DTRI",
                    format!("SO_NGAY_DTRI khác {} ngày có y lệnh dịch vụ", days.len()),
                    format!(
                        "SO_NGAY_DTRI differs from the {} days with service orders",
                        days.len()
                    ),
                );
            }
        }
        let services: Vec<At> = self
            .lines("XML3")
            .filter(|l| l.get("MA_VAT_TU").is_empty())
            .collect();
        for supply in self
            .lines("XML3")
            .filter(|l| !l.get("MA_VAT_TU").is_empty() && !l.get("MA_DICH_VU").is_empty())
        {
            let day = supply.get("NGAY_YL").get(..8);
            let matched = services.iter().any(|s| {
                s.get("MA_DICH_VU") == supply.get("MA_DICH_VU") && s.get("NGAY_YL").get(..8) == day
            });
            if !matched {
                supply.report(
                    sink,
                    "R-XML3-006",
                    Level::Warning,
                    "MA_DICH_VU",
                    "Vật tư gắn dịch vụ không có dòng dịch vụ cùng mã, cùng ngày y lệnh".into(),
                    "The supply's MA_DICH_VU has no service row with the same code and order date"
                        .into(),
                );
            }
        }
        let results: Vec<At> = self.lines("XML4").collect();
        for result in &results {
            let code = result.get("MA_DICH_VU");
            let service = services.iter().find(|s| s.get("MA_DICH_VU") == code);
            match service {
                None if !code.is_empty() => result.report(
                    sink,
                    "R-X-021",
                    Level::Warning,
                    "MA_DICH_VU",
                    format!("Dịch vụ {code} của XML4 không có trong XML3"),
                    format!("Service {code} of XML4 is not in XML3"),
                ),
                Some(service) => {
                    if service.get("MA_NHOM") == "2" {
                        for field in ["MO_TA", "KET_LUAN"] {
                            if result.get(field).is_empty() {
                                result.report(
                                    sink,
                                    "R-XML4-005",
                                    Level::Warning,
                                    field,
                                    format!("Chẩn đoán hình ảnh cần {field}"),
                                    format!("An imaging result needs {field}"),
                                );
                            }
                        }
                    }
                    let (own, theirs) = (result.get("NGAY_KQ"), service.get("NGAY_KQ"));
                    if !own.is_empty() && !theirs.is_empty() && own != theirs {
                        result.report(
                            sink,
                            "R-XML4-007",
                            Level::Warning,
                            "NGAY_KQ",
                            format!("NGAY_KQ {own} khác XML3 ({theirs})"),
                            format!("NGAY_KQ {own} differs from XML3 ({theirs})"),
                        );
                    }
                }
                None => {}
            }
        }
        for imaging in services.iter().filter(|s| s.get("MA_NHOM") == "2") {
            let code = imaging.get("MA_DICH_VU");
            if !results
                .iter()
                .any(|r| r.get("MA_DICH_VU") == code && !r.get("KET_LUAN").is_empty())
            {
                imaging.report(
                    sink,
                    "R-X-019",
                    Level::Warning,
                    "MA_DICH_VU",
                    format!("Chẩn đoán hình ảnh {code} không có kết luận ở XML4"),
                    format!("Imaging {code} has no XML4 row with a conclusion"),
                );
            }
        }
    }
}

/// R-X-020: the patient is in one bed at a time. A bed row covers [NGAY_TH_YL (else NGAY_YL),
/// NGAY_KQ), as in R-XML3-025; without NGAY_KQ, the rest of its first day. A change of bed
/// within a day (e.g. a transfer billed as two half days) does not overlap.
fn one_bed_at_a_time(beds: &[At], sink: &mut Sink) {
    let span = |bed: &At| {
        let from = Some(bed.get("NGAY_TH_YL"))
            .filter(|d| !d.is_empty())
            .unwrap_or(bed.get("NGAY_YL"));
        let start = minute_number(from)?;
        let end = minute_number(bed.get("NGAY_KQ"))
            .filter(|&end| end > start)
            .unwrap_or(start - start.rem_euclid(1440) + 1440);
        Some((start, end))
    };
    let spans: Vec<_> = beds
        .iter()
        .map(|bed| span(bed).filter(|_| !bed.get("MA_GIUONG").is_empty()))
        .collect();
    for (i, bed) in beds.iter().enumerate() {
        let Some((start, end)) = spans[i] else {
            continue;
        };
        let code = bed.get("MA_GIUONG");
        let clash = beds[..i].iter().zip(&spans).find(|(other, span)| {
            other.get("MA_GIUONG") != code && span.is_some_and(|(s, e)| s < end && start < e)
        });
        if let Some((other, _)) = clash {
            let theirs = other.get("MA_GIUONG");
            bed.report(
                sink,
                "R-X-020",
                Level::Warning,
                "MA_GIUONG",
                format!("Giường {code} trùng thời gian với giường {theirs} của cùng người bệnh"),
                format!("Bed {code} overlaps in time with bed {theirs} of the same patient"),
            );
        }
    }
}

/// R-GEN-011: STT is 1, 2, … within a table.
pub fn numbering(table: &Table, sink: &mut Sink) {
    if !NUMBERED.contains(&table.spec.name) {
        return;
    }
    for (i, at) in rows(table).enumerate() {
        let stt = at.get("STT");
        if !stt.is_empty() && stt.parse::<usize>().ok() != Some(i + 1) {
            at.report(
                sink,
                "R-GEN-011",
                Level::Warning,
                "STT",
                format!("STT = {stt}, dòng thứ {} nên có STT {}", i + 1, i + 1),
                format!("STT = {stt}; row {} should have STT {}", i + 1, i + 1),
            );
        }
    }
}

/// R-X-022: SOLUONGHOSO counts the HOSO elements.
pub fn check_count(header: &Header, count: usize, sink: &mut Sink) {
    if header.soluonghoso.trim().parse::<usize>().ok() != Some(count) {
        sink.push(
            "R-X-022",
            Level::Error,
            crate::bhyt::envelope::ROOT,
            None,
            Some("SOLUONGHOSO"),
            format!(
                "SOLUONGHOSO = '{}' nhưng tệp có {count} HOSO",
                header.soluonghoso
            ),
            format!(
                "SOLUONGHOSO = '{}' but the file holds {count} HOSO",
                header.soluonghoso
            ),
        );
    }
}
