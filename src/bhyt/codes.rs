//! The code lists of `regulation/codes/`, loaded with `include_str!`.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::spec::parse_csv;

/// One code list: its rows in file order, each row `code,label_vi,label_en[,extra]`.
pub struct CodeList {
    rows: Vec<Vec<&'static str>>,
}

impl CodeList {
    pub fn row(&self, code: &str) -> Option<&[&'static str]> {
        self.rows
            .iter()
            .find(|r| r.first() == Some(&code))
            .map(Vec::as_slice)
    }

    pub fn contains(&self, code: &str) -> bool {
        self.row(code).is_some()
    }

    /// The codes joined for messages: `1, 2, 3`.
    pub fn joined(&self) -> String {
        self.rows
            .iter()
            .map(|r| r[0])
            .collect::<Vec<_>>()
            .join(", ")
    }
}

macro_rules! lists {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("regulation/codes/", $name, ".csv")))),*]
    };
}

const FILES: &[(&str, &str)] = lists!(
    "GIOI_TINH",
    "KET_QUA_DTRI",
    "KQ_TRA_CUU_THE",
    "MAU_SO",
    "MA_DANTOC",
    "MA_DOITUONG_KCB",
    "MA_GIUONG_PREFIX",
    "MA_KHUVUC",
    "MA_LOAI_KCB",
    "MA_LOAI_KCB_4210",
    "MA_LOAI_RV",
    "MA_LYDO_CT",
    "MA_LYDO_VVIEN",
    "MA_NHOM",
    "MA_PTTT",
    "MA_QUOCTICH",
    "MUC_HUONG",
    "NGUON_CTRA",
    "NHOM_MAU",
    "PHAM_VI",
    "PP_VO_CAM",
    "THE_BHYT_DOI_TUONG",
    "THE_BHYT_MUC_HUONG",
);

/// The list named like its CSV file (`MA_NHOM`); unknown names are a programming error.
pub fn list(name: &str) -> &'static CodeList {
    static LISTS: OnceLock<HashMap<&'static str, CodeList>> = OnceLock::new();
    let lists = LISTS.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, text)| {
                let rows = parse_csv(text).into_iter().skip(1).collect();
                (*name, CodeList { rows })
            })
            .collect()
    });
    lists
        .get(name)
        .unwrap_or_else(|| panic!("no code list {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_load_with_their_codes() {
        assert!(list("MA_LOAI_KCB").contains("01"));
        assert!(list("MA_LOAI_KCB").contains("10"));
        assert!(!list("MA_LOAI_KCB").contains("1"));
        assert_eq!(list("MA_DANTOC").rows.len(), 55);
        assert_eq!(list("THE_BHYT_DOI_TUONG").row("DN").unwrap()[3], "4");
    }
}
