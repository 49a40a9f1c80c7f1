//! Rules across the fields of one row: date order, line arithmetic and conditional
//! requirements. Values that are empty or malformed are left to the field rules, so each
//! defect is reported once.

use rust_decimal::Decimal;

use super::field::is_date;
use super::{decimal, differ, rounded, rows, total, At, Level, Sink};
use crate::bhyt::spec::Standard;
use crate::bhyt::xml::{Row, Table};

pub fn check_table(table: &Table, xml1: Option<Row>, sink: &mut Sink) {
    let standard = table.spec.standard;
    for at in rows(table) {
        let c = Ctx { at, xml1 };
        match (standard, table.spec.name) {
            (Standard::Qd130, "CHECKIN") => checkin(&c, sink),
            (Standard::Qd130, "XML1") => xml1_rules(&c, sink),
            (Standard::Qd130, "XML2") => xml2(&c, sink),
            (Standard::Qd130, "XML3") => xml3(&c, sink),
            (Standard::Qd130, "XML4") => xml4(&c, sink),
            (Standard::Qd130, "XML5") => c.in_stay(sink, "R-XML5-003", "THOI_DIEM_DBLS"),
            (Standard::Qd130, "XML6") => xml6(&c, sink),
            (Standard::Qd130, "XML7") => xml7(&c, sink),
            (Standard::Qd130, "XML9") => xml9(&c, sink),
            (Standard::Qd130, "XML10") => xml10(&c, sink),
            (Standard::Qd130, "XML11") => xml11(&c, sink),
            (Standard::Qd130, "XML13") => {
                card_lists(&c, sink, "R-XML13-005", &["GT_THE_DEN"]);
            }
            (Standard::Qd130, "XML14") => xml14(&c, sink),
            (Standard::Qd130, "XML15") => c.order(
                sink,
                "R-XML15-004",
                Level::Warning,
                "NGAYBD_DTRI_LAO",
                "NGAYKT_DTRI_LAO",
            ),
            (Standard::Qd4210, "XML1") => xml1_4210(&c, sink),
            (Standard::Qd4210, "XML2") => c.in_stay(sink, "R-4210-006", "NGAY_YL"),
            (Standard::Qd4210, "XML3") => xml3_4210(&c, sink),
            _ => {}
        }
    }
}

/// A column's name and its value as a decimal (`None`: empty or not a number).
#[derive(Clone, Copy)]
struct Amount {
    field: &'static str,
    value: Option<Decimal>,
}

/// The cost columns of an XML2 or XML3 line.
struct Costs {
    /// THANH_TIEN_BV, THANH_TIEN_BH.
    bv: Amount,
    bh: Amount,
    bntt: Amount,
    bncct: Amount,
    bhtt: Amount,
    /// T_NGUONKHAC.
    other: Amount,
}

impl Costs {
    fn read(c: &Ctx) -> Costs {
        Costs {
            bv: c.amount("THANH_TIEN_BV"),
            bh: c.amount("THANH_TIEN_BH"),
            bntt: c.amount("T_BNTT"),
            bncct: c.amount("T_BNCCT"),
            bhtt: c.amount("T_BHTT"),
            other: c.amount("T_NGUONKHAC"),
        }
    }
}

/// A row plus the dossier's XML1 row for rules that compare against the stay.
struct Ctx<'a> {
    at: At<'a>,
    xml1: Option<Row<'a>>,
}

/// Days since 1970-01-01 of a `yyyymmdd…` value (civil calendar).
pub fn day_number(value: &str) -> Option<i64> {
    let date = value.get(..8)?;
    if !is_date(date, false) {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (
        date[..4].parse().ok()?,
        date[4..6].parse().ok()?,
        date[6..8].parse().ok()?,
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Minutes since 1970-01-01 00:00 of a `yyyymmddHHMM` value.
pub fn minute_number(value: &str) -> Option<i64> {
    if value.len() != 12 {
        return None;
    }
    let (h, m): (i64, i64) = (
        value.get(8..10)?.parse().ok()?,
        value.get(10..12)?.parse().ok()?,
    );
    Some(day_number(value)? * 1440 + h * 60 + m)
}

/// Compares two date or date-time values; mixed lengths compare on the date part.
fn not_after(a: &str, b: &str) -> Option<bool> {
    let ok = |v: &str| (v.len() == 8 || v.len() == 12) && v.bytes().all(|c| c.is_ascii_digit());
    if !ok(a) || !ok(b) {
        return None;
    }
    Some(if a.len() == b.len() {
        a <= b
    } else {
        a[..8] <= b[..8]
    })
}

impl<'a> Ctx<'a> {
    fn get(&self, field: &str) -> &'a str {
        self.at.get(field)
    }

    fn has(&self, field: &str) -> bool {
        !self.get(field).is_empty()
    }

    fn dec(&self, field: &str) -> Option<Decimal> {
        decimal(self.get(field))
    }

    fn report(
        &self,
        sink: &mut Sink,
        rule: &'static str,
        level: Level,
        field: &str,
        vi: String,
        en: String,
    ) {
        self.at.report(sink, rule, level, field, vi, en);
    }

    fn require(
        &self,
        sink: &mut Sink,
        rule: &'static str,
        level: Level,
        field: &str,
        because: (&str, &str),
    ) {
        if !self.has(field) {
            self.report(
                sink,
                rule,
                level,
                field,
                format!("{field} bắt buộc khi {}", because.0),
                format!("{field} is required when {}", because.1),
            );
        }
    }

    /// `earlier` ≤ `later` within this row.
    fn order(&self, sink: &mut Sink, rule: &'static str, level: Level, earlier: &str, later: &str) {
        let (a, b) = (self.get(earlier), self.get(later));
        if not_after(a, b) == Some(false) {
            self.report(
                sink,
                rule,
                level,
                later,
                format!("{later} ({b}) trước {earlier} ({a})"),
                format!("{later} ({b}) is before {earlier} ({a})"),
            );
        }
    }

    /// XML1.NGAY_VAO ≤ `field` ≤ XML1.NGAY_RA.
    fn in_stay(&self, sink: &mut Sink, rule: &'static str, field: &str) {
        let Some(xml1) = self.xml1 else { return };
        let value = self.get(field);
        let (vao, ra) = (xml1.get("NGAY_VAO"), xml1.get("NGAY_RA"));
        if not_after(vao, value) == Some(false) || not_after(value, ra) == Some(false) {
            self.report(
                sink,
                rule,
                Level::Error,
                field,
                format!("{field} ({value}) nằm ngoài thời gian điều trị {vao}–{ra}"),
                format!("{field} ({value}) is outside the stay {vao}–{ra}"),
            );
        }
    }

    /// A money or quantity column of this row, read once for the rules that use it.
    fn amount(&self, field: &'static str) -> Amount {
        Amount {
            field,
            value: self.dec(field),
        }
    }

    /// `amount` equals the `expected` result of formula `how`; `None` (an overflowing
    /// formula) decides nothing.
    fn equals(
        &self,
        sink: &mut Sink,
        rule: &'static str,
        amount: Amount,
        expected: Option<Decimal>,
        how: &str,
    ) {
        let Amount { field, value } = amount;
        let (Some(actual), Some(expected)) = (value, expected) else {
            return;
        };
        if differ(actual, expected) {
            self.report(
                sink,
                rule,
                Level::Error,
                field,
                format!("{field} = {actual}, theo công thức {how} phải là {expected}"),
                format!("{field} = {actual}, but {how} gives {expected}"),
            );
        }
    }

    fn kcb_in(&self, codes: &[&str]) -> bool {
        codes.contains(&self.get("MA_LOAI_KCB"))
    }
}

fn checkin(c: &Ctx, sink: &mut Sink) {
    let items = ["MA_DICH_VU", "MA_THUOC", "MA_VAT_TU"];
    if items.iter().all(|f| !c.has(f)) {
        c.report(
            sink,
            "R-CHK-004",
            Level::Error,
            "MA_DICH_VU",
            "Phải ghi một trong MA_DICH_VU, MA_THUOC, MA_VAT_TU của chi phí đầu tiên".into(),
            "One of MA_DICH_VU, MA_THUOC, MA_VAT_TU (the first cost) is required".into(),
        );
    }
    for (code, name) in [
        ("MA_DICH_VU", "TEN_DICH_VU"),
        ("MA_THUOC", "TEN_THUOC"),
        ("MA_VAT_TU", "TEN_VAT_TU"),
    ] {
        if c.has(code) {
            c.require(
                sink,
                "R-CHK-005",
                Level::Error,
                name,
                ("có mã", "its code is present"),
            );
        }
    }
    if c.get("MA_THUOC") == "00.0000" {
        c.report(
            sink,
            "R-CHK-011",
            Level::Warning,
            "MA_THUOC",
            "Thuốc ngoài danh mục BHYT (00.0000)".into(),
            "Drug outside the BHYT list (00.0000)".into(),
        );
    }
    c.order(
        sink,
        "R-CHK-006",
        Level::Error,
        "NGAY_VAO",
        "NGAY_VAO_NOI_TRU",
    );
    if c.has("NGAY_VAO_NOI_TRU") {
        c.require(
            sink,
            "R-CHK-007",
            Level::Error,
            "LY_DO_VNT",
            ("có NGAY_VAO_NOI_TRU", "NGAY_VAO_NOI_TRU is present"),
        );
    }
}

fn xml1_rules(c: &Ctx, sink: &mut Sink) {
    c.order(sink, "R-XML1-001", Level::Error, "NGAY_VAO", "NGAY_RA");
    c.order(
        sink,
        "R-XML1-002",
        Level::Error,
        "NGAY_VAO",
        "NGAY_VAO_NOI_TRU",
    );
    c.order(
        sink,
        "R-XML1-002",
        Level::Error,
        "NGAY_VAO_NOI_TRU",
        "NGAY_RA",
    );
    c.order(sink, "R-XML1-008", Level::Error, "NGAY_SINH", "NGAY_VAO");
    c.order(sink, "R-XML1-045", Level::Warning, "NGAY_VAO", "NGAY_TTOAN");
    let (vao, ra) = (c.get("NGAY_VAO"), c.get("NGAY_RA"));
    if c.kcb_in(&["02", "05", "07"]) && ra.len() == 12 && !ra.ends_with("2359") {
        c.report(
            sink,
            "R-XML1-003",
            Level::Warning,
            "NGAY_RA",
            "Điều trị ngoại trú/kê đơn theo đợt: giờ ra phải là 2359".into(),
            "Outpatient course: the time part of NGAY_RA should be 2359".into(),
        );
    }
    let days = c.get("SO_NGAY_DTRI").parse::<i64>().ok();
    let span = day_number(vao).zip(day_number(ra)).map(|(a, b)| b - a);
    if let Some(days) = days {
        if c.kcb_in(&["01", "07", "09"]) && days != 0 {
            c.report(
                sink,
                "R-XML1-004",
                Level::Error,
                "SO_NGAY_DTRI",
                format!(
                    "MA_LOAI_KCB {} không tính ngày điều trị: SO_NGAY_DTRI phải là 0",
                    c.get("MA_LOAI_KCB")
                ),
                format!(
                    "MA_LOAI_KCB {} counts no treatment days: SO_NGAY_DTRI must be 0",
                    c.get("MA_LOAI_KCB")
                ),
            );
        }
        if let Some(span) = span.filter(|_| c.kcb_in(&["02", "03", "04", "06"])) {
            if days != span + 1 {
                c.report(
                    sink,
                    "R-XML1-005",
                    Level::Error,
                    "SO_NGAY_DTRI",
                    format!(
                        "SO_NGAY_DTRI = {days}, theo NGAY_VAO/NGAY_RA phải là {}",
                        span + 1
                    ),
                    format!("SO_NGAY_DTRI = {days}, NGAY_VAO/NGAY_RA give {}", span + 1),
                );
            }
        }
    }
    if c.kcb_in(&["01"]) && span.is_some_and(|s| s > 1) {
        c.report(
            sink,
            "R-XML1-042",
            Level::Warning,
            "NGAY_RA",
            "Khám bệnh kéo dài hơn 1 ngày".into(),
            "An examination lasting more than one day".into(),
        );
    }
    if let Some(weight) = c.dec("CAN_NANG") {
        if weight <= Decimal::ZERO || weight > Decimal::from(200) {
            c.report(
                sink,
                "R-XML1-017",
                Level::Warning,
                "CAN_NANG",
                format!("Cân nặng {weight} kg ngoài khoảng (0, 200]"),
                format!("Weight {weight} kg is outside (0, 200]"),
            );
        }
    }
    xml1_cards(c, sink);
    if c.has("MA_NOI_DI") {
        c.require(
            sink,
            "R-XML1-035",
            Level::Error,
            "GIAY_CHUYEN_TUYEN",
            ("có MA_NOI_DI", "MA_NOI_DI is present"),
        );
    }
    let transfer = matches!(c.get("MA_LOAI_RV"), "2" | "5");
    if transfer != c.has("MA_NOI_DEN") && c.has("MA_LOAI_RV") {
        c.report(
            sink,
            "R-XML1-036",
            Level::Error,
            "MA_NOI_DEN",
            "MA_NOI_DEN chỉ và phải có khi MA_LOAI_RV là 2 hoặc 5 (chuyển tuyến)".into(),
            "MA_NOI_DEN is required exactly when MA_LOAI_RV is 2 or 5 (transfer)".into(),
        );
    }
    if c.kcb_in(&["03", "04", "09"]) {
        let why = (
            "điều trị nội trú (MA_LOAI_KCB 03/04/09)",
            "the episode is inpatient (MA_LOAI_KCB 03/04/09)",
        );
        for field in ["NGAY_VAO_NOI_TRU", "LY_DO_VNT", "PP_DIEU_TRI"] {
            c.require(sink, "R-XML1-043", Level::Error, field, why);
        }
        c.require(sink, "R-XML1-043", Level::Warning, "MA_LY_DO_VNT", why);
    }
    let number = |text: Option<&str>| text.and_then(|t| t.parse::<u32>().ok());
    let period = (
        number(Some(c.get("NAM_QT"))),
        number(Some(c.get("THANG_QT"))),
    );
    let discharged = (number(ra.get(..4)), number(ra.get(4..6)));
    if let ((Some(year), Some(month)), (Some(..), Some(..))) = (period, discharged) {
        if period < discharged {
            c.report(
                sink,
                "R-XML1-044",
                Level::Warning,
                "THANG_QT",
                format!("Kỳ quyết toán {month}/{year} trước tháng ra viện"),
                format!("Settlement period {month}/{year} is before the discharge month"),
            );
        }
    }
    if !c.has("MA_TTDV") {
        c.report(
            sink,
            "R-XML1-047",
            Level::Warning,
            "MA_TTDV",
            "Chưa ghi MA_TTDV (thủ trưởng đơn vị)".into(),
            "MA_TTDV (head of the facility) is empty".into(),
        );
    }
    let grams = c.get("CAN_NANG_CON");
    if !grams.is_empty()
        && grams
            .split(';')
            .any(|g| g.parse::<u32>().map_or(true, |g| g == 0))
    {
        c.report(
            sink,
            "R-XML1-049",
            Level::Warning,
            "CAN_NANG_CON",
            "CAN_NANG_CON phải là danh sách số gam nguyên dương".into(),
            "CAN_NANG_CON must be a ';'-list of positive grams".into(),
        );
    }
    let revisit = c.get("NGAY_TAI_KHAM");
    let ra_day = ra.get(..8);
    if !revisit.is_empty()
        && ra_day.is_some_and(|ra| revisit.split(';').any(|d| d.len() != 8 || d <= ra))
    {
        c.report(
            sink,
            "R-XML1-050",
            Level::Warning,
            "NGAY_TAI_KHAM",
            "Ngày tái khám phải sau ngày ra viện".into(),
            "Re-visit dates must be after the discharge date".into(),
        );
    }
    for field in
        c.at.row
            .table
            .spec
            .fields
            .iter()
            .filter(|f| f.name.starts_with("T_"))
    {
        if c.dec(field.name).is_some_and(|v| v < Decimal::ZERO) {
            c.report(
                sink,
                "R-XML1-051",
                Level::Error,
                field.name,
                format!("{} âm", field.name),
                format!("{} is negative", field.name),
            );
        }
    }
    if let (Some(bh), Some(bncct)) = (c.dec("T_TONGCHI_BH"), c.dec("T_BNCCT")) {
        c.equals(
            sink,
            "R-XML1-052",
            c.amount("T_BHTT"),
            bh.checked_sub(bncct),
            "T_TONGCHI_BH - T_BNCCT",
        );
    }
    let codes = [c.get("MA_BENH_CHINH"), c.get("MA_BENH_KT")].join(";");
    if codes
        .split(';')
        .any(|code| code.starts_with("Z00") || code.starts_with("R53"))
    {
        c.report(
            sink,
            "R-XML1-029",
            Level::Warning,
            "MA_BENH_CHINH",
            "Mã bệnh không đặc hiệu (Z00/R53)".into(),
            "Non-specific diagnosis code (Z00/R53)".into(),
        );
    }
    if c.get("MA_BENH_KT").split(';').count() > 12 {
        c.report(
            sink,
            "R-XML1-027",
            Level::Error,
            "MA_BENH_KT",
            "Tối đa 12 mã bệnh kèm theo".into(),
            "At most 12 secondary diagnosis codes".into(),
        );
    }
    let dkbd = c.get("MA_DKBD");
    if !dkbd.is_empty()
        && dkbd == c.get("MA_CSKCB")
        && c.has("MA_DOITUONG_KCB")
        && c.get("MA_DOITUONG_KCB") != "1.1"
    {
        c.report(
            sink,
            "R-XML1-033",
            Level::Warning,
            "MA_DOITUONG_KCB",
            "Nơi ĐKBĐ là chính cơ sở nhưng đối tượng KCB không phải 1.1".into(),
            "The patient is registered at this facility but MA_DOITUONG_KCB is not 1.1".into(),
        );
    }
}

/// R-XML1-018 and R-XML13-005: with a card, each of `lists` is given and has one element per
/// card.
fn card_lists(c: &Ctx, sink: &mut Sink, rule: &'static str, lists: &[&str]) {
    let card = c.get("MA_THE_BHYT");
    if card.is_empty() {
        return;
    }
    for field in lists {
        c.require(
            sink,
            rule,
            Level::Error,
            field,
            ("có MA_THE_BHYT", "MA_THE_BHYT is present"),
        );
    }
    let cards = card.split(';').count();
    for field in lists.iter().filter(|f| c.has(f)) {
        let n = c.get(field).split(';').count();
        if n != cards {
            c.report(
                sink,
                rule,
                Level::Error,
                field,
                format!("{field} có {n} phần tử, MA_THE_BHYT có {cards}"),
                format!("{field} has {n} elements, MA_THE_BHYT has {cards}"),
            );
        }
    }
}

/// R-XML1-018 and R-XML1-020: the card lists agree and cover the stay.
fn xml1_cards(c: &Ctx, sink: &mut Sink) {
    let card = c.get("MA_THE_BHYT");
    if card.is_empty() {
        return;
    }
    card_lists(
        c,
        sink,
        "R-XML1-018",
        &["MA_DKBD", "GT_THE_TU", "GT_THE_DEN"],
    );
    let (from, to): (Vec<&str>, Vec<&str>) = (
        c.get("GT_THE_TU").split(';').collect(),
        c.get("GT_THE_DEN").split(';').collect(),
    );
    let exempt =
        ["QN", "CA", "CY"].iter().any(|p| card.starts_with(p)) && c.get("GT_THE_DEN").is_empty();
    let (vao, ra) = (c.get("NGAY_VAO"), c.get("NGAY_RA"));
    let uncovered = from
        .iter()
        .zip(&to)
        .any(|(f, t)| not_after(f, t) == Some(false))
        || (!exempt
            && (from.first().and_then(|f| not_after(f, vao)) == Some(false)
                || to.last().and_then(|t| not_after(ra, t)) == Some(false)));
    if uncovered {
        c.report(
            sink,
            "R-XML1-020",
            Level::Warning,
            "GT_THE_DEN",
            "Thời hạn thẻ không bao trùm thời gian điều trị".into(),
            "The card validity does not cover the stay".into(),
        );
    }
}

/// R-XML2-012/013 and R-XML3-020: how a line's cost is split between payers.
fn split(
    c: &Ctx,
    sink: &mut Sink,
    costs: &Costs,
    rule_sources: &'static str,
    rule_split: &'static str,
) {
    let parts = [
        "T_NGUONKHAC_NSNN",
        "T_NGUONKHAC_VTNN",
        "T_NGUONKHAC_VTTN",
        "T_NGUONKHAC_CL",
    ];
    let sum = total(
        parts
            .iter()
            .map(|p| c.dec(p).or(c.get(p).is_empty().then_some(Decimal::ZERO))),
    );
    c.equals(
        sink,
        rule_sources,
        costs.other,
        sum,
        "T_NGUONKHAC_NSNN + _VTNN + _VTTN + _CL",
    );
    let (Some(bv), Some(bh)) = (costs.bv.value, costs.bh.value) else {
        return;
    };
    let (Some(bntt), Some(bncct), Some(bhtt), Some(other)) = (
        costs.bntt.value,
        costs.bncct.value,
        costs.bhtt.value,
        costs.other.value,
    ) else {
        return;
    };
    c.equals(
        sink,
        rule_split,
        costs.bv,
        total([bntt, bncct, bhtt, other].map(Some)),
        "T_BNTT + T_BNCCT + T_BHTT + T_NGUONKHAC",
    );
    if other.is_zero() {
        if let Some(rate) = c.dec("MUC_HUONG") {
            let expected = rounded(&[bh, rate], 100);
            c.equals(
                sink,
                rule_split,
                costs.bhtt,
                expected,
                "THANH_TIEN_BH × MUC_HUONG / 100",
            );
            c.equals(
                sink,
                rule_split,
                costs.bncct,
                expected.and_then(|e| bh.checked_sub(e)),
                "THANH_TIEN_BH - T_BHTT",
            );
        }
        c.equals(
            sink,
            rule_split,
            costs.bntt,
            bv.checked_sub(bh),
            "THANH_TIEN_BV - THANH_TIEN_BH",
        );
    }
}

fn xml2(c: &Ctx, sink: &mut Sink) {
    let costs = Costs::read(c);
    let (qty, price, ratio) = (c.dec("SO_LUONG"), c.dec("DON_GIA"), c.dec("TYLE_TT_BH"));
    if let (Some(q), Some(p)) = (qty, price) {
        c.equals(
            sink,
            "R-XML2-010",
            costs.bv,
            rounded(&[q, p], 1),
            "SO_LUONG × DON_GIA",
        );
        if let Some(r) = ratio {
            c.equals(
                sink,
                "R-XML2-011",
                costs.bh,
                rounded(&[q, p, r], 100),
                "SO_LUONG × DON_GIA × TYLE_TT_BH / 100",
            );
        }
    }
    if qty.is_some_and(|q| q <= Decimal::ZERO) {
        c.report(
            sink,
            "R-XML2-025",
            Level::Error,
            "SO_LUONG",
            "SO_LUONG phải lớn hơn 0".into(),
            "SO_LUONG must be greater than 0".into(),
        );
    }
    if c.get("PHAM_VI") == "2" && ratio.is_some_and(|r| !r.is_zero()) {
        c.report(
            sink,
            "R-XML2-009",
            Level::Error,
            "TYLE_TT_BH",
            "Thuốc ngoài phạm vi (PHAM_VI 2): TYLE_TT_BH phải là 0".into(),
            "Out-of-scope drug (PHAM_VI 2): TYLE_TT_BH must be 0".into(),
        );
    }
    split(c, sink, &costs, "R-XML2-012", "R-XML2-013");
    let blood = matches!(c.get("MA_NHOM"), "7" | "17");
    if !blood {
        c.require(
            sink,
            "R-XML2-006",
            Level::Error,
            "TT_THAU",
            (
                "thuốc không phải máu/chế phẩm máu",
                "the line is not blood (MA_NHOM 7/17)",
            ),
        );
        if !matches!(c.get("MA_THUOC"), "40.17" | "40.573") {
            c.require(
                sink,
                "R-XML2-005",
                Level::Error,
                "SO_DANG_KY",
                ("thuốc có số đăng ký", "the drug has a registration"),
            );
        }
    }
    if c.get("SO_DANG_KY").contains(' ') {
        c.report(
            sink,
            "R-XML2-005",
            Level::Error,
            "SO_DANG_KY",
            "SO_DANG_KY có khoảng trắng".into(),
            "SO_DANG_KY contains spaces".into(),
        );
    }
    // The spec marks it conditional; the validator keeps the QĐ 4210 requirement.
    c.require(
        sink,
        "R-XML2-016",
        Level::Error,
        "MA_BAC_SI",
        ("thuốc được kê", "a drug is prescribed"),
    );
    c.in_stay(sink, "R-XML2-017", "NGAY_YL");
    c.order(sink, "R-XML2-018", Level::Error, "NGAY_YL", "NGAY_TH_YL");
}

/// MA_NHOM of bed days.
pub const BEDS: [&str; 3] = ["14", "15", "16"];

fn xml3(c: &Ctx, sink: &mut Sink) {
    let costs = Costs::read(c);
    let group = c.get("MA_NHOM");
    if !c.has("MA_DICH_VU") && !c.has("MA_VAT_TU") {
        c.report(
            sink,
            "R-XML3-001",
            Level::Error,
            "MA_DICH_VU",
            "Phải có MA_DICH_VU hoặc MA_VAT_TU".into(),
            "MA_DICH_VU or MA_VAT_TU is required".into(),
        );
    }
    let because = |what: &'static str| (what, what);
    if matches!(group, "10" | "11") {
        for field in ["MA_VAT_TU", "TEN_VAT_TU"] {
            c.require(
                sink,
                "R-XML3-002",
                Level::Error,
                field,
                because("MA_NHOM 10/11"),
            );
        }
    }
    if group == "10" {
        c.require(
            sink,
            "R-XML3-003",
            Level::Error,
            "TT_THAU",
            because("MA_NHOM 10"),
        );
        let tender = c.get("TT_THAU");
        if !tender.is_empty() && !super::field::tender_ok(tender, "G", "N") {
            c.report(
                sink,
                "R-XML3-003",
                Level::Error,
                "TT_THAU",
                format!("TT_THAU '{tender}' sai định dạng"),
                format!("TT_THAU '{tender}' is malformed"),
            );
        }
    }
    if group == "12" {
        c.require(
            sink,
            "R-XML3-009",
            Level::Error,
            "MA_XANG_DAU",
            because("MA_NHOM 12"),
        );
    }
    if matches!(group, "1" | "2" | "3" | "8" | "18") {
        for field in ["NGUOI_THUC_HIEN", "NGAY_TH_YL"] {
            c.require(
                sink,
                "R-XML3-010",
                Level::Error,
                field,
                because("MA_NHOM 1/2/3/8/18"),
            );
        }
    }
    if matches!(group, "1" | "2" | "3") {
        c.require(
            sink,
            "R-XML3-011",
            Level::Warning,
            "MA_MAY",
            because("MA_NHOM 1/2/3"),
        );
    }
    let qty = c.dec("SO_LUONG");
    if group == "8" {
        c.require(
            sink,
            "R-XML3-014",
            Level::Error,
            "PP_VO_CAM",
            because("MA_NHOM 8"),
        );
        if qty.is_some_and(|q| q > Decimal::ONE) {
            c.report(
                sink,
                "R-XML3-014",
                Level::Error,
                "SO_LUONG",
                "Phẫu thuật: SO_LUONG tối đa 1".into(),
                "Surgery: SO_LUONG at most 1".into(),
            );
        }
    }
    if BEDS.contains(&group) {
        if qty.is_some_and(|q| q > Decimal::ONE) {
            c.report(
                sink,
                "R-XML3-023",
                Level::Error,
                "SO_LUONG",
                "Ngày giường: SO_LUONG tối đa 1 mỗi dòng".into(),
                "Bed day: SO_LUONG at most 1 per row".into(),
            );
        }
        c.require(
            sink,
            "R-XML3-024",
            Level::Error,
            "MA_GIUONG",
            because("MA_NHOM 14/15/16"),
        );
        if c.xml1
            .is_some_and(|x| matches!(x.get("MA_LOAI_KCB"), "01" | "02"))
        {
            c.report(
                sink,
                "R-XML3-022",
                Level::Error,
                "MA_NHOM",
                "Không tính ngày giường cho khám bệnh/điều trị ngoại trú (MA_LOAI_KCB 01/02)"
                    .into(),
                "No bed days for examinations or outpatient treatment (MA_LOAI_KCB 01/02)".into(),
            );
        }
    }
    if qty.is_some_and(|q| q < Decimal::ZERO) {
        c.report(
            sink,
            "R-XML3-040",
            Level::Error,
            "SO_LUONG",
            "SO_LUONG âm".into(),
            "SO_LUONG is negative".into(),
        );
    }
    let (ratio_dv, ratio_bh) = (c.dec("TYLE_TT_DV"), c.dec("TYLE_TT_BH"));
    if let (Some(q), Some(r)) = (qty, ratio_dv) {
        if let Some(p) = c.dec("DON_GIA_BV") {
            c.equals(
                sink,
                "R-XML3-018",
                costs.bv,
                rounded(&[q, p, r], 100),
                "SO_LUONG × DON_GIA_BV × TYLE_TT_DV / 100",
            );
        }
        if let (Some(p), Some(b)) = (c.dec("DON_GIA_BH"), ratio_bh) {
            let expected = rounded(&[q, p, r, b], 10_000);
            c.equals(
                sink,
                "R-XML3-019",
                costs.bh,
                expected,
                "SO_LUONG × DON_GIA_BH × TYLE_TT_DV × TYLE_TT_BH / 10000",
            );
        }
    }
    split(c, sink, &costs, "R-XML3-020", "R-XML3-020");
    if let (Some(paid), Some(ceiling)) = (costs.bhtt.value, c.dec("T_TRANTT")) {
        if paid > ceiling {
            c.report(
                sink,
                "R-XML3-021",
                Level::Error,
                "T_BHTT",
                format!("T_BHTT {paid} vượt trần T_TRANTT {ceiling}"),
                format!("T_BHTT {paid} exceeds the ceiling T_TRANTT {ceiling}"),
            );
        }
    }
    if c.get("TAI_SU_DUNG") == "1" && c.dec("DON_GIA_BV") != c.dec("DON_GIA_BH") {
        c.report(
            sink,
            "R-XML3-036",
            Level::Error,
            "DON_GIA_BH",
            "Vật tư tái sử dụng: DON_GIA_BV phải bằng DON_GIA_BH".into(),
            "Reused supply: DON_GIA_BV must equal DON_GIA_BH".into(),
        );
    }
    let took = minute_number(c.get("NGAY_TH_YL"))
        .zip(minute_number(c.get("NGAY_KQ")))
        .map(|(start, end)| end - start);
    if matches!(group, "2" | "3" | "8" | "18") && took.is_some_and(|m| m == 0 || m > 70) {
        c.report(
            sink,
            "R-XML3-031",
            Level::Warning,
            "NGAY_KQ",
            "Thời gian thực hiện (NGAY_TH_YL → NGAY_KQ) bằng 0 hoặc quá 70 phút: cần xem lại"
                .into(),
            "The time from NGAY_TH_YL to NGAY_KQ is zero or over 70 minutes: review it".into(),
        );
    }
    c.in_stay(sink, "R-XML3-027", "NGAY_YL");
    c.order(sink, "R-XML3-028", Level::Error, "NGAY_YL", "NGAY_TH_YL");
    c.order(sink, "R-XML3-029", Level::Error, "NGAY_YL", "NGAY_KQ");
    c.order(sink, "R-XML3-029", Level::Error, "NGAY_TH_YL", "NGAY_KQ");
    if c.has("NGAY_KQ") {
        c.in_stay(sink, "R-XML3-029", "NGAY_KQ");
    }
}

fn xml6(c: &Ctx, sink: &mut Sink) {
    if c.has("LOAI_DTRI_LAO") && c.get("LOAI_DTRI_LAO") != "0" {
        for field in ["PHACDO_DTRI_LAO", "NGAYBD_DTRI_LAO", "NGAYKT_DTRI_LAO"] {
            c.require(
                sink,
                "R-XML6-002",
                Level::Error,
                field,
                ("LOAI_DTRI_LAO khác 0", "LOAI_DTRI_LAO is not 0"),
            );
        }
    }
    if c.get("MA_TINH_TRANG_DK").split(';').any(|v| v == "1") {
        for field in [
            "LAN_XN_PCR",
            "NGAY_XN_PCR",
            "NGAY_KQ_XN_PCR",
            "MA_KQ_XN_PCR",
        ] {
            c.require(
                sink,
                "R-XML6-003",
                Level::Error,
                field,
                ("MA_TINH_TRANG_DK có 1", "MA_TINH_TRANG_DK contains 1"),
            );
        }
        c.order(
            sink,
            "R-XML6-003",
            Level::Error,
            "NGAY_XN_PCR",
            "NGAY_KQ_XN_PCR",
        );
    }
    if c.get("MA_XU_TRI").split(';').any(|v| v == "1") {
        for field in [
            "NGAY_BAT_DAU_XU_TRI",
            "NGAY_KET_THUC_XU_TRI",
            "SO_NGAY_CAP_THUOC_ARV",
        ] {
            c.require(
                sink,
                "R-XML6-004",
                Level::Error,
                field,
                ("MA_XU_TRI có 1 (ARV)", "MA_XU_TRI contains 1 (ARV)"),
            );
        }
        let span = day_number(c.get("NGAY_BAT_DAU_XU_TRI"))
            .zip(day_number(c.get("NGAY_KET_THUC_XU_TRI")))
            .map(|(a, b)| b - a);
        if let (Some(span), Ok(days)) = (span, c.get("SO_NGAY_CAP_THUOC_ARV").parse::<i64>()) {
            if days > span {
                c.report(
                    sink,
                    "R-XML6-004",
                    Level::Error,
                    "SO_NGAY_CAP_THUOC_ARV",
                    format!("Số ngày cấp ARV {days} vượt {span} ngày xử trí"),
                    format!("{days} ARV days exceed the {span}-day treatment"),
                );
            }
        }
    }
}

/// R-XML7-002 and R-XML11-003: a pregnancy termination needs its cause and age.
fn termination(c: &Ctx, sink: &mut Sink, rule: &'static str, fields: &[&str]) {
    if c.get("MA_DINH_CHI_THAI") == "1" {
        for field in fields {
            c.require(
                sink,
                rule,
                Level::Error,
                field,
                ("MA_DINH_CHI_THAI = 1", "MA_DINH_CHI_THAI = 1"),
            );
        }
        let weeks = c.get("TUOI_THAI");
        if !weeks.is_empty() && !weeks.parse::<u32>().is_ok_and(|w| (1..=42).contains(&w)) {
            c.report(
                sink,
                rule,
                Level::Error,
                "TUOI_THAI",
                "TUOI_THAI phải từ 1 đến 42 tuần".into(),
                "TUOI_THAI must be 1 to 42 weeks".into(),
            );
        }
    }
}

fn xml7(c: &Ctx, sink: &mut Sink) {
    termination(
        c,
        sink,
        "R-XML7-002",
        &["NGUYENNHAN_DINHCHI", "THOIGIAN_DINHCHI", "TUOI_THAI"],
    );
    let leave = ["SO_NGAY_NGHI", "NGOAITRU_TUNGAY", "NGOAITRU_DENNGAY"];
    let filled = leave.iter().filter(|f| c.has(f)).count();
    if filled != 0 && filled != leave.len() {
        c.report(
            sink,
            "R-XML7-003",
            Level::Error,
            "SO_NGAY_NGHI",
            "SO_NGAY_NGHI, NGOAITRU_TUNGAY, NGOAITRU_DENNGAY phải cùng có hoặc cùng trống".into(),
            "SO_NGAY_NGHI, NGOAITRU_TUNGAY and NGOAITRU_DENNGAY go together".into(),
        );
    }
    let (ct, ra) = (c.get("NGAY_CT"), c.get("NGAY_RA"));
    if ct.len() == 8 && ra.get(..8).is_some_and(|day| day != ct) {
        c.report(
            sink,
            "R-XML7-004",
            Level::Warning,
            "NGAY_CT",
            "NGAY_CT khác ngày ra viện".into(),
            "NGAY_CT differs from the discharge date".into(),
        );
    }
}

fn xml9(c: &Ctx, sink: &mut Sink) {
    let (card, province) = (c.get("MA_THE_TAM"), c.get("MATINH_CU_TRU"));
    if card.len() == 15 && province.len() == 2 && card.get(3..5) != Some(province) {
        c.report(
            sink,
            "R-XML9-006",
            Level::Error,
            "MA_THE_TAM",
            "Mã tỉnh trong thẻ tạm khác MATINH_CU_TRU của mẹ".into(),
            "The temporary card's province differs from the mother's MATINH_CU_TRU".into(),
        );
    }
    for (flag, wording) in [
        ("SINHCON_PHAUTHUAT", "phẫu thuật"),
        ("SINHCON_DUOI32TUAN", "32 tuần"),
    ] {
        if c.get(flag) == "1" && !c.get("GHI_CHU").to_lowercase().contains(wording) {
            c.report(
                sink,
                "R-XML9-008",
                Level::Warning,
                "GHI_CHU",
                format!("{flag} = 1 nhưng GHI_CHU không ghi '{wording}'"),
                format!("{flag} = 1 but GHI_CHU does not say '{wording}'"),
            );
        }
    }
}

fn xml4(c: &Ctx, sink: &mut Sink) {
    if c.has("GIA_TRI") {
        c.require(
            sink,
            "R-XML4-004",
            Level::Error,
            "NGAY_KQ",
            ("có GIA_TRI", "GIA_TRI is present"),
        );
    }
    // An outsourced test (XX.YYYY.ZZZZ.K.xxxxx, R-XML3-008) is read at the other facility.
    if c.get("MA_DICH_VU").split('.').nth(3) != Some("K") {
        c.require(
            sink,
            "R-XML4-006",
            Level::Warning,
            "MA_BS_DOC_KQ",
            (
                "xét nghiệm không gửi cơ sở khác",
                "the test is not outsourced",
            ),
        );
    }
}

fn xml10(c: &Ctx, sink: &mut Sink) {
    // PL: the leave starts on the day the patient came for the examination, i.e. the date of
    // NGAY_VAO, not any later day of the episode.
    let tu = c.get("TU_NGAY");
    let came = c.xml1.and_then(|x| x.get("NGAY_VAO").get(..8));
    if let Some(came) = came.filter(|came| tu.len() == 8 && *came != tu) {
        c.report(
            sink,
            "R-XML10-002",
            Level::Warning,
            "TU_NGAY",
            format!("TU_NGAY {tu} khác ngày người bệnh đến khám ({came})"),
            format!("TU_NGAY {tu} is not the day the patient came for the examination ({came})"),
        );
    }
    let span = day_number(c.get("TU_NGAY"))
        .zip(day_number(c.get("DEN_NGAY")))
        .map(|(a, b)| b - a);
    if let (Some(span), Ok(days)) = (span, c.get("SO_NGAY").parse::<i64>()) {
        if days != span {
            c.report(
                sink,
                "R-XML10-001",
                Level::Error,
                "SO_NGAY",
                format!("SO_NGAY = {days}, DEN_NGAY - TU_NGAY = {span}"),
                format!("SO_NGAY = {days}, DEN_NGAY - TU_NGAY = {span}"),
            );
        } else if days > 180 {
            c.report(
                sink,
                "R-XML10-001",
                Level::Warning,
                "SO_NGAY",
                "Nghỉ dưỡng thai quá 180 ngày".into(),
                "More than 180 days of pregnancy leave".into(),
            );
        }
    }
}

fn xml11(c: &Ctx, sink: &mut Sink) {
    termination(c, sink, "R-XML11-003", &["NGUYENNHAN_DINHCHI", "TUOI_THAI"]);
    let days = c.get("SO_NGAY_NGHI");
    if !days.is_empty() && !days.parse::<u32>().is_ok_and(|d| (1..=180).contains(&d)) {
        c.report(
            sink,
            "R-XML11-004",
            Level::Error,
            "SO_NGAY_NGHI",
            "SO_NGAY_NGHI phải là số nguyên dương, tối đa 180".into(),
            "SO_NGAY_NGHI must be a positive integer, at most 180".into(),
        );
    }
    c.order(sink, "R-XML11-005", Level::Error, "TU_NGAY", "DEN_NGAY");
    let Some(xml1) = c.xml1 else { return };
    let (tu, den) = (c.get("TU_NGAY"), c.get("DEN_NGAY"));
    let late = not_after(tu, xml1.get("NGAY_RA")) == Some(false);
    let early = not_after(xml1.get("NGAY_VAO"), den) == Some(false);
    if late || early {
        c.report(
            sink,
            "R-XML11-005",
            Level::Error,
            "TU_NGAY",
            "Thời gian nghỉ phải giao với đợt điều trị".into(),
            "The leave period must overlap the episode".into(),
        );
    }
    // Under 7 at admission: yyyymmdd of the seventh birthday is after the admission day.
    let (birth, vao) = (xml1.get("NGAY_SINH"), xml1.get("NGAY_VAO"));
    let birth_day = birth.get(..8).and_then(|d| d.parse::<u32>().ok());
    let vao_day = vao.get(..8).and_then(|d| d.parse::<u32>().ok());
    let under_7 = birth_day.zip(vao_day).is_some_and(|(b, v)| b + 70_000 > v);
    if under_7 && !c.has("HO_TEN_CHA") && !c.has("HO_TEN_ME") {
        c.report(
            sink,
            "R-XML11-009",
            Level::Warning,
            "HO_TEN_ME",
            "Người bệnh dưới 7 tuổi: cần ghi HO_TEN_CHA hoặc HO_TEN_ME".into(),
            "The patient is under 7: HO_TEN_CHA or HO_TEN_ME is expected".into(),
        );
    }
}

fn xml14(c: &Ctx, sink: &mut Sink) {
    let Some(xml1) = c.xml1 else { return };
    let (hen, ra) = (c.get("NGAY_HEN_KL"), xml1.get("NGAY_RA"));
    if hen
        .get(..8)
        .zip(ra.get(..8))
        .is_some_and(|(hen, ra)| hen <= ra)
    {
        c.report(
            sink,
            "R-XML14-002",
            Level::Error,
            "NGAY_HEN_KL",
            "Ngày hẹn khám lại phải sau ngày ra viện".into(),
            "The re-visit date must be after discharge".into(),
        );
    }
    if not_after(xml1.get("NGAY_VAO"), c.get("NGAY_CT")) == Some(false) {
        c.report(
            sink,
            "R-XML14-003",
            Level::Error,
            "NGAY_CT",
            "NGAY_CT trước ngày vào".into(),
            "NGAY_CT is before admission".into(),
        );
    }
}

fn xml1_4210(c: &Ctx, sink: &mut Sink) {
    if let Some(weight) = c.dec("CAN_NANG").filter(|w| *w > Decimal::from(200)) {
        c.report(
            sink,
            "R-4210-002",
            Level::Warning,
            "CAN_NANG",
            format!("Cân nặng {weight} kg quá 200"),
            format!("Weight {weight} kg exceeds 200"),
        );
    }
    // R-4210-003 from the file alone: "local" is registration at this facility (MA_DKBD =
    // MA_CSKCB); the vendor's per-facility correct-route list is a catalogue.
    let (reason, dkbd) = (c.get("MA_LYDO_VVIEN"), c.get("MA_DKBD"));
    let local = !dkbd.is_empty() && dkbd == c.get("MA_CSKCB");
    let inconsistent = match reason {
        "3" | "4" => local,
        "1" => !dkbd.is_empty() && !local && !c.has("MA_NOI_CHUYEN"),
        _ => false,
    };
    if inconsistent {
        c.report(
            sink,
            "R-4210-003",
            Level::Warning,
            "MA_LYDO_VVIEN",
            format!("MA_LYDO_VVIEN {reason} không khớp nơi ĐKBĐ {dkbd} / nơi chuyển đến"),
            format!("MA_LYDO_VVIEN {reason} is inconsistent with MA_DKBD {dkbd} and the referral"),
        );
    }
    let span = day_number(c.get("NGAY_VAO"))
        .zip(day_number(c.get("NGAY_RA")))
        .map(|(a, b)| b - a);
    if c.get("MA_LOAI_KCB") == "1" && span.is_some_and(|s| s > 1) {
        c.report(
            sink,
            "R-4210-004",
            Level::Warning,
            "NGAY_RA",
            "Khám bệnh kéo dài hơn 1 ngày".into(),
            "An examination lasting more than one day".into(),
        );
    }
}

fn xml3_4210(c: &Ctx, sink: &mut Sink) {
    c.in_stay(sink, "R-4210-007", "NGAY_YL");
    if BEDS.contains(&c.get("MA_NHOM"))
        && c.xml1
            .is_some_and(|x| matches!(x.get("MA_LOAI_KCB"), "1" | "2"))
    {
        c.report(
            sink,
            "R-4210-007",
            Level::Error,
            "MA_NHOM",
            "Không tính ngày giường cho khám/ngoại trú".into(),
            "No bed days for examinations or outpatient treatment".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_and_order() {
        assert_eq!(day_number("19700101"), Some(0));
        assert_eq!(
            day_number("202403010800")
                .zip(day_number("20240228"))
                .map(|(a, b)| a - b),
            Some(2)
        );
        assert_eq!(not_after("202401010800", "20240101"), Some(true));
        assert_eq!(not_after("20240102", "202401010800"), Some(false));
        assert_eq!(not_after("", "20240101"), None);
    }
}
