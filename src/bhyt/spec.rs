//! Table and field specifications, loaded from the vendored regulation CSVs.
//!
//! Nothing here names a field: every table, its root/list/record elements and its fields in
//! order come from `regulation/tables-qd130.csv` and `regulation/tables-qd4210.csv`.

use std::sync::OnceLock;

/// Which decision the files follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standard {
    /// QĐ 130/QĐ-BYT as amended by QĐ 4750/QĐ-BYT: check-in table and XML1-XML15.
    Qd130,
    /// QĐ 4210/QĐ-BYT: XML1-XML5 (sending ended on 01/07/2024).
    Qd4210,
}

impl Standard {
    pub fn parse(text: &str) -> Option<Standard> {
        match text {
            "130" | "4750" => Some(Standard::Qd130),
            "4210" => Some(Standard::Qd4210),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Standard::Qd130 => "130",
            Standard::Qd4210 => "4210",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Number,
    Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    Yes,
    No,
    /// Required under a condition that a rule in `rules.md` states.
    Conditional,
}

#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    /// Characters; `None` for `n` (unlimited).
    pub max_len: Option<usize>,
    pub required: Required,
    /// Free-text format hint from the CSV, e.g. `yyyymmddHHMM` or `yyyymmdd; ";"-list`.
    pub format: &'static str,
}

/// Equality of two element names a word at a time: names are short, a library call costs
/// more than the comparison.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let word = |s: &[u8], at: usize| s[at..at + 8].try_into().map_or(0, u64::from_le_bytes);
    let n = a.len();
    n == b.len()
        && match n {
            0..=7 => a.iter().zip(b).all(|(x, y)| x == y),
            8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
            _ => a == b,
        }
}

/// Field positions by name. Rules look fields up by name on every row; the names are few
/// (at most 66 a table), short, ASCII and come from the spec, so a small open-addressing
/// table with a one-multiply hash beats a general map.
#[derive(Debug, Default)]
struct FieldIndex {
    /// Field position + 1 per slot, 0 for an empty slot; the length is a power of two.
    slots: Vec<u16>,
}

impl FieldIndex {
    /// Mixes the length and the first and last eight bytes.
    fn hash(name: &[u8]) -> usize {
        let n = name.len();
        let word = |at: usize| name[at..at + 8].try_into().map_or(0, u64::from_le_bytes);
        let (head, tail) = match n {
            0..=7 => (name.iter().fold(0, |w, &b| w << 8 | u64::from(b)), 0),
            _ => (word(0), word(n - 8)),
        };
        let mixed = u128::from(head ^ tail.rotate_left(31) ^ n as u64) * 0x9e37_79b9_7f4a_7c15;
        ((mixed as u64) ^ (mixed >> 64) as u64) as usize
    }

    fn build(fields: &[FieldSpec]) -> FieldIndex {
        let mut slots = vec![0u16; (fields.len() * 4).next_power_of_two()];
        let mask = slots.len() - 1;
        for (position, field) in fields.iter().enumerate() {
            let mut i = Self::hash(field.name.as_bytes()) & mask;
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = position as u16 + 1;
        }
        FieldIndex { slots }
    }

    #[inline]
    fn get(&self, fields: &[FieldSpec], name: &str) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut i = Self::hash(name.as_bytes()) & mask;
        loop {
            let position = usize::from(self.slots[i]).checked_sub(1)?;
            if same(fields[position].name.as_bytes(), name.as_bytes()) {
                return Some(position);
            }
            i = (i + 1) & mask;
        }
    }
}

#[derive(Debug)]
pub struct TableSpec {
    /// `CHECKIN`, `XML1` … `XML15`: the LOAIHOSO value and the name used in locations.
    pub name: &'static str,
    pub standard: Standard,
    pub root: &'static str,
    /// List and record elements; `None` when the root element is the single record.
    pub list: Option<(&'static str, &'static str)>,
    pub fields: Vec<FieldSpec>,
    index: FieldIndex,
}

impl TableSpec {
    #[inline]
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.index.get(&self.fields, name)
    }

    pub fn record_element(&self) -> &'static str {
        self.list.map_or(self.root, |(_, record)| record)
    }

    /// The check-in and table 12 files carry their own CHUKYDONVI inside the root.
    pub fn has_signature(&self) -> bool {
        self.name == "CHECKIN" || self.name == "XML12"
    }
}

#[derive(Debug)]
pub struct Spec {
    pub standard: Standard,
    pub tables: Vec<TableSpec>,
}

impl Spec {
    pub fn table(&self, name: &str) -> Option<&TableSpec> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn table_by_root(&self, root: &str) -> Option<&TableSpec> {
        self.tables.iter().find(|t| t.root == root)
    }
}

pub fn spec(standard: Standard) -> &'static Spec {
    static QD130: OnceLock<Spec> = OnceLock::new();
    static QD4210: OnceLock<Spec> = OnceLock::new();
    match standard {
        Standard::Qd130 => {
            QD130.get_or_init(|| load(Standard::Qd130, include_str!("regulation/tables-qd130.csv")))
        }
        Standard::Qd4210 => QD4210.get_or_init(|| {
            load(
                Standard::Qd4210,
                include_str!("regulation/tables-qd4210.csv"),
            )
        }),
    }
}

/// Parses the vendored CSV; it is part of the binary, so a malformed row is a build defect.
fn load(standard: Standard, csv: &'static str) -> Spec {
    let mut rows = parse_csv(csv).into_iter();
    let header = rows.next().expect("table CSV has a header");
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("table CSV lacks column {name}"))
    };
    let (c_table, c_root, c_field, c_type, c_len, c_req, c_format) = (
        column("table"),
        column("table_root_element"),
        column("field"),
        column("type"),
        column("max_len"),
        column("required"),
        column("format"),
    );
    let mut tables: Vec<TableSpec> = Vec::new();
    for row in rows {
        let name = row[c_table];
        if tables.last().is_none_or(|t| t.name != name) {
            let mut path = row[c_root].split('>');
            let root = path.next().expect("root element");
            let list = match (path.next(), path.next()) {
                (Some(list), Some(record)) => Some((list, record)),
                _ => None,
            };
            tables.push(TableSpec {
                name,
                standard,
                root,
                list,
                fields: Vec::new(),
                index: FieldIndex::default(),
            });
        }
        let table = tables.last_mut().expect("pushed above");
        let field = FieldSpec {
            name: row[c_field],
            ty: match row[c_type] {
                "number" => FieldType::Number,
                "decimal" => FieldType::Decimal,
                _ => FieldType::String,
            },
            max_len: row[c_len].parse().ok(),
            required: match row[c_req] {
                "yes" => Required::Yes,
                "conditional" => Required::Conditional,
                _ => Required::No,
            },
            format: row[c_format],
        };
        table.fields.push(field);
    }
    for table in &mut tables {
        table.index = FieldIndex::build(&table.fields);
    }
    Spec { standard, tables }
}

/// RFC 4180 CSV: quoted fields with `""` escapes; the vendored files need nothing more.
/// Quoted fields are returned without their quotes; a doubled quote stays doubled, which only
/// occurs in free-text columns this module does not read.
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<&str>> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = Vec::new();
        let mut rest = line;
        loop {
            if let Some(quoted) = rest.strip_prefix('"') {
                let mut end = 0;
                let bytes = quoted.as_bytes();
                while end < bytes.len() {
                    if bytes[end] == b'"' {
                        if bytes.get(end + 1) == Some(&b'"') {
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    end += 1;
                }
                fields.push(&quoted[..end]);
                rest = quoted.get(end + 1..).unwrap_or("");
            } else {
                let end = rest.find(',').unwrap_or(rest.len());
                fields.push(&rest[..end]);
                rest = &rest[end..];
            }
            match rest.strip_prefix(',') {
                Some(next) => rest = next,
                None => break,
            }
        }
        rows.push(fields);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qd130_has_all_tables_and_fields() {
        let spec = spec(Standard::Qd130);
        assert_eq!(spec.tables.len(), 16);
        let total: usize = spec.tables.iter().map(|t| t.fields.len()).sum();
        assert_eq!(total, 481);
        let xml2 = spec.table("XML2").unwrap();
        assert_eq!(xml2.root, "CHITIEU_CHITIET_THUOC");
        assert_eq!(xml2.list, Some(("DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC")));
        assert_eq!(xml2.fields[0].name, "MA_LK");
        let xml1 = spec.table("XML1").unwrap();
        assert_eq!(xml1.list, None);
        assert_eq!(xml1.fields.len(), 66);
        assert_eq!(
            xml1.fields[xml1.field_index("T_THUOC").unwrap()].ty,
            FieldType::Decimal
        );
    }

    #[test]
    fn qd4210_has_five_tables() {
        let spec = spec(Standard::Qd4210);
        let counts: Vec<usize> = spec.tables.iter().map(|t| t.fields.len()).collect();
        assert_eq!(counts, [40, 27, 29, 10, 6]);
    }

    #[test]
    fn csv_handles_quotes_and_empty_fields() {
        let rows = parse_csv("a,\"b,c\",,\"d \"\"x\"\"\"\n");
        assert_eq!(rows, vec![vec!["a", "b,c", "", "d \"\"x\"\""]]);
    }
}
