//! Vietnamese-aware text folding for name search.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// The accent-free, lower-cased form used for string search:
/// "Nguyễn Văn Đức" becomes "nguyen van duc". Runs of white space fold to one space.
pub fn search_form(text: &str) -> String {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::search_form;

    #[test]
    fn folds_vietnamese_diacritics_and_case() {
        assert_eq!(search_form("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(search_form("Đặng  Thị\tThủy"), "dang thi thuy");
        assert_eq!(search_form("TRẦN ƯỚC ƠN"), "tran uoc on");
        assert_eq!(search_form("Lê Hoàng Yến"), "le hoang yen");
    }

    #[test]
    fn leaves_plain_ascii_lower_cased() {
        assert_eq!(search_form("John SMITH"), "john smith");
        assert_eq!(search_form(""), "");
    }
}
