//! Synthetic, rule-clean dossiers: the source of `examples/bhyt/`, the base of the failing
//! test corpus (each case breaks one rule of a clean dossier) and the benchmark input.

use rust_decimal::Decimal;

use super::envelope::{Envelope, FileHoso, Header, Hoso};
use super::spec::{spec, Standard};
use super::xml::Table;

pub const FACILITY: &str = "79001";

fn file(standard: Standard, name: &str, rows: &[Vec<(&str, String)>]) -> FileHoso {
    let mut table = Table::new(spec(standard).table(name).expect("table in spec"));
    for row in rows {
        let pairs: Vec<(&str, &str)> = row.iter().map(|(k, v)| (*k, v.as_str())).collect();
        table.push(&pairs).expect("sample fields exist in the spec");
    }
    FileHoso {
        loaihoso: name.to_string(),
        content: table.to_xml().into_bytes(),
    }
}

fn s(value: impl ToString) -> String {
    value.to_string()
}

/// A cost line's split: in-scope, 80 % benefit, no other sources.
struct Line {
    bv: Decimal,
    bh: Decimal,
    bhtt: Decimal,
}

impl Line {
    fn new(amount: Decimal) -> Line {
        let bhtt = (amount * Decimal::new(80, 2)).round_dp(2);
        Line {
            bv: amount,
            bh: amount,
            bhtt,
        }
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("THANH_TIEN_BV", s(self.bv)),
            ("THANH_TIEN_BH", s(self.bh)),
            ("T_NGUONKHAC_NSNN", s(0)),
            ("T_NGUONKHAC_VTNN", s(0)),
            ("T_NGUONKHAC_VTTN", s(0)),
            ("T_NGUONKHAC_CL", s(0)),
            ("T_NGUONKHAC", s(0)),
            ("MUC_HUONG", s(80)),
            ("T_BNTT", s(self.bv - self.bh)),
            ("T_BNCCT", s(self.bh - self.bhtt)),
            ("T_BHTT", s(self.bhtt)),
            ("MA_PTTT", s(1)),
        ]
    }
}

/// A QĐ 130 dossier: `drugs` drug lines and `services` lab lines; `inpatient` makes it a
/// three-day stay (MA_LOAI_KCB 03) with clinical progress and a discharge paper.
pub fn dossier(ma_lk: &str, drugs: usize, services: usize, inpatient: bool) -> Hoso {
    let std = Standard::Qd130;
    let (vao, ra) = if inpatient {
        ("202407010800", "202407031000")
    } else {
        ("202407010800", "202407010930")
    };
    let order = "202407010830";
    let mut drug_rows = Vec::new();
    let mut service_rows = Vec::new();
    let (mut t_thuoc, mut t_bhtt, mut t_bh) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for i in 0..drugs {
        let price = Decimal::new(150_050 + i as i64 * 100, 2);
        let qty = Decimal::new(2, 0);
        let line = Line::new((qty * price).round_dp(2));
        t_thuoc += line.bv;
        t_bh += line.bh;
        t_bhtt += line.bhtt;
        let mut row = vec![
            ("MA_LK", s(ma_lk)),
            ("STT", s(i + 1)),
            ("MA_THUOC", s("40.150")),
            ("MA_NHOM", s(4)),
            ("TEN_THUOC", s("Paracetamol & Codein")),
            ("DON_VI_TINH", s("Viên")),
            ("HAM_LUONG", s("500mg")),
            ("DUONG_DUNG", s("1.01")),
            ("LIEU_DUNG", s("1 viên x 2 lần/ngày")),
            ("SO_DANG_KY", s("VD-12345-20")),
            ("TT_THAU", s("123/QĐ-SYT;G1;N4;2024")),
            ("PHAM_VI", s(1)),
            ("TYLE_TT_BH", s(100)),
            ("SO_LUONG", s(qty)),
            ("DON_GIA", s(price)),
            ("MA_KHOA", s("K01")),
            ("MA_BAC_SI", s("000123/HCM-CCHN")),
            ("NGAY_YL", s(order)),
            ("NGUON_CTRA", s(1)),
        ];
        row.extend(line.fields());
        drug_rows.push(row);
    }
    let mut t_bv = t_thuoc;
    for i in 0..services {
        let price = Decimal::new(45_000 + i as i64 * 1000, 0);
        let line = Line::new(price);
        t_bv += line.bv;
        t_bh += line.bh;
        t_bhtt += line.bhtt;
        let mut row = vec![
            ("MA_LK", s(ma_lk)),
            ("STT", s(i + 1)),
            ("MA_DICH_VU", s(format!("23.{:04}.1596", i + 1))),
            ("TEN_DICH_VU", s("Định lượng Glucose [Máu]")),
            ("MA_NHOM", s(1)),
            ("DON_VI_TINH", s("Lần")),
            ("PHAM_VI", s(1)),
            ("SO_LUONG", s(1)),
            ("DON_GIA_BV", s(price)),
            ("DON_GIA_BH", s(price)),
            ("TYLE_TT_DV", s(100)),
            ("TYLE_TT_BH", s(100)),
            ("MA_KHOA", s("K01")),
            ("MA_BAC_SI", s("000123/HCM-CCHN")),
            ("NGUOI_THUC_HIEN", s("000456/HCM-CCHN")),
            ("MA_BENH", s("E11")),
            ("MA_MAY", s("XN.1.79001.0001")),
            ("NGAY_YL", s(order)),
            ("NGAY_TH_YL", s("202407010840")),
            ("NGAY_KQ", s("202407010900")),
        ];
        row.extend(line.fields());
        service_rows.push(row);
    }
    let mut xml1 = vec![
        ("MA_LK", s(ma_lk)),
        ("STT", s(1)),
        ("MA_BN", s("BN000123")),
        ("HO_TEN", s("Nguyễn Văn An")),
        ("SO_CCCD", s("079090001234")),
        ("NGAY_SINH", s("199003150000")),
        ("GIOI_TINH", s(1)),
        ("MA_QUOCTICH", s("000")),
        ("MA_DANTOC", s("01")),
        ("MA_NGHE_NGHIEP", s("00000")),
        (
            "DIA_CHI",
            s("12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh"),
        ),
        ("MATINH_CU_TRU", s("79")),
        ("MAHUYEN_CU_TRU", s("760")),
        ("MAXA_CU_TRU", s("26734")),
        ("MA_THE_BHYT", s("DN4797912345678")),
        ("MA_DKBD", s(FACILITY)),
        ("GT_THE_TU", s("20240101")),
        ("GT_THE_DEN", s("20241231")),
        ("LY_DO_VV", s("Mệt mỏi, khát nhiều")),
        ("CHAN_DOAN_VAO", s("Đái tháo đường type 2")),
        ("CHAN_DOAN_RV", s("Đái tháo đường type 2")),
        ("MA_BENH_CHINH", s("E11")),
        ("MA_DOITUONG_KCB", s("1.1")),
        ("NGAY_VAO", s(vao)),
        ("NGAY_RA", s(ra)),
        ("KET_QUA_DTRI", s(if inpatient { 2 } else { 1 })),
        ("MA_LOAI_RV", s(1)),
        ("T_THUOC", s(t_thuoc)),
        ("T_VTYT", s(0)),
        ("T_TONGCHI_BV", s(t_bv)),
        ("T_TONGCHI_BH", s(t_bh)),
        ("T_BNTT", s(t_bv - t_bh)),
        ("T_BNCCT", s(t_bh - t_bhtt)),
        ("T_BHTT", s(t_bhtt)),
        ("T_NGUONKHAC", s(0)),
        ("T_BHTT_GDV", s(t_bhtt)),
        ("NAM_QT", s(2024)),
        ("THANG_QT", s(7)),
        ("MA_KHOA", s("K01")),
        ("MA_CSKCB", s(FACILITY)),
        ("CAN_NANG", s("62.5")),
        ("MA_HSBA", s(format!("HSBA-{ma_lk}"))),
        ("MA_TTDV", s("7912345678")),
    ];
    let mut files = Vec::new();
    if inpatient {
        xml1.extend([
            ("NGAY_VAO_NOI_TRU", s("202407010900")),
            ("LY_DO_VNT", s("Đường huyết cao cần theo dõi")),
            ("MA_LY_DO_VNT", s("1")),
            ("PP_DIEU_TRI", s("Insulin, theo dõi đường huyết")),
            ("SO_NGAY_DTRI", s(3)),
            ("MA_LOAI_KCB", s("03")),
        ]);
    } else {
        xml1.extend([("SO_NGAY_DTRI", s(0)), ("MA_LOAI_KCB", s("01"))]);
    }
    files.push(file(std, "XML1", &[xml1]));
    if drugs > 0 {
        files.push(file(std, "XML2", &drug_rows));
    }
    if services > 0 {
        files.push(file(std, "XML3", &service_rows));
    }
    if inpatient {
        let progress = vec![
            ("MA_LK", s(ma_lk)),
            ("STT", s(1)),
            ("DIEN_BIEN_LS", s("Tỉnh, đường huyết 14 mmol/l")),
            ("THOI_DIEM_DBLS", s("202407011000")),
            ("NGUOI_THUC_HIEN", s("000123/HCM-CCHN")),
        ];
        files.push(file(std, "XML5", &[progress]));
        let discharge = vec![
            ("MA_LK", s(ma_lk)),
            ("SO_LUU_TRU", s("LT-2024-0001")),
            ("MA_YTE", s("BN000123")),
            ("MA_KHOA_RV", s("K01")),
            ("NGAY_VAO", s(vao)),
            ("NGAY_RA", s(ra)),
            ("CHAN_DOAN_RV", s("Đái tháo đường type 2")),
            ("PP_DIEUTRI", s("Insulin")),
            ("MA_TTDV", s("7912345678")),
            ("MA_BS", s("7900000001")),
            ("TEN_BS", s("Trần Thị Bình")),
            ("NGAY_CT", s("20240703")),
        ];
        files.push(file(std, "XML7", &[discharge]));
    }
    Hoso { files }
}

/// A QĐ 4210 examination with one drug and one lab test.
pub fn dossier_4210(ma_lk: &str) -> Hoso {
    let std = Standard::Qd4210;
    let common = |stt: usize| {
        vec![
            ("MA_LK", s(ma_lk)),
            ("STT", s(stt)),
            ("PHAM_VI", s(1)),
            ("MUC_HUONG", s(80)),
            ("MA_KHOA", s("K01")),
            ("MA_BAC_SI", s("000123/HCM-CCHN")),
            ("MA_BENH", s("J00")),
            ("NGAY_YL", s("201906010830")),
            ("MA_PTTT", s(1)),
        ]
    };
    let mut drug = common(1);
    drug.extend([
        ("MA_THUOC", s("40.150")),
        ("MA_NHOM", s(4)),
        ("TEN_THUOC", s("Paracetamol")),
        ("DON_VI_TINH", s("Viên")),
        ("HAM_LUONG", s("500mg")),
        ("DUONG_DUNG", s("1.01")),
        ("LIEU_DUNG", s("1 viên x 2 lần/ngày")),
        ("TT_THAU", s("123/QĐ-SYT;G1;N4;2019")),
        ("TYLE_TT", s(100)),
        ("SO_LUONG", s(10)),
        ("DON_GIA", s(500)),
        ("THANH_TIEN", s(5000)),
        ("T_BHTT", s(4000)),
    ]);
    let mut lab = common(1);
    lab.extend([
        ("MA_DICH_VU", s("23.0075.1596")),
        ("MA_NHOM", s(1)),
        ("DON_VI_TINH", s("Lần")),
        ("SO_LUONG", s(1)),
        ("DON_GIA", s(20000)),
        ("TYLE_TT", s(100)),
        ("THANH_TIEN", s(20000)),
        ("T_BHTT", s(16000)),
    ]);
    let xml1 = vec![
        ("MA_LK", s(ma_lk)),
        ("STT", s(1)),
        ("MA_BN", s("BN000777")),
        ("HO_TEN", s("Lê Thị Cúc")),
        ("NGAY_SINH", s("19850720")),
        ("GIOI_TINH", s(2)),
        ("DIA_CHI", s("5 Trần Hưng Đạo, Quận 5, TP Hồ Chí Minh")),
        ("MA_THE", s("HC4797900001234")),
        ("MA_DKBD", s(FACILITY)),
        ("GT_THE_TU", s("20190101")),
        ("GT_THE_DEN", s("20191231")),
        ("TEN_BENH", s("Viêm mũi họng cấp")),
        ("MA_BENH", s("J00")),
        ("MA_LYDO_VVIEN", s(1)),
        ("NGAY_VAO", s("201906010800")),
        ("NGAY_RA", s("201906010930")),
        ("SO_NGAY_DTRI", s(0)),
        ("KET_QUA_DTRI", s(1)),
        ("TINH_TRANG_RV", s(1)),
        ("T_TONGCHI", s(25000)),
        ("T_THUOC", s(5000)),
        ("T_VTYT", s(0)),
        ("T_BNTT", s(0)),
        ("T_BHTT", s(20000)),
        ("NAM_QT", s(2019)),
        ("THANG_QT", s(6)),
        ("MA_LOAI_KCB", s(1)),
        ("MA_KHOA", s("K01")),
        ("MA_CSKCB", s(FACILITY)),
        ("CAN_NANG", s("55")),
    ];
    Hoso {
        files: vec![
            file(std, "XML1", &[xml1]),
            file(std, "XML2", &[drug]),
            file(std, "XML3", &[lab]),
        ],
    }
}

/// The envelope header of the sample facility for `count` HOSO.
pub fn header(count: usize) -> Header {
    Header {
        macskcb: FACILITY.into(),
        ngaylap: "20240704".into(),
        soluonghoso: count.to_string(),
    }
}

/// An envelope around `hoso`, with the header filled to match.
pub fn envelope(hoso: Vec<Hoso>) -> Envelope {
    Envelope {
        header: header(hoso.len()),
        hoso,
        signature: None,
    }
}
