//! Generated Vietnamese patients: names with diacritics, CCCD, BHYT cards and addresses.

use serde_json::{json, Value};

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Long", "Mai", "Nam",
    "Phúc", "Quân", "Thảo", "Trang", "Tuấn", "Yến", "Đức", "Ánh",
];
/// (province code as in CCCD, BHYT province code, city name)
const PROVINCES: &[(&str, &str, &str)] = &[
    ("001", "01", "Hà Nội"),
    ("079", "79", "TP. Hồ Chí Minh"),
    ("048", "48", "Đà Nẵng"),
    ("031", "31", "Hải Phòng"),
    ("092", "92", "Cần Thơ"),
    ("046", "46", "Huế"),
];
const CARD_GROUPS: &[&str] = &["DN", "HT", "TE", "GD", "HN", "CN", "BT", "XN"];

/// A small deterministic generator (xorshift64*), so runs are repeatable without a crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// One Patient as a HIS would send it.
pub fn patient(rng: &mut Rng) -> Value {
    let female = rng.below(2) == 0;
    let family = rng.pick(FAMILY);
    let middle = if female { "Thị" } else { rng.pick(MIDDLE) };
    let given = rng.pick(GIVEN);
    let year = 1940 + rng.below(85);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let (cccd_province, card_province, city) =
        PROVINCES[rng.below(PROVINCES.len() as u64) as usize];
    // CCCD: province (3) + century/gender (1) + year (2) + serial (6).
    let century_gender = match (year >= 2000, female) {
        (false, false) => 0,
        (false, true) => 1,
        (true, false) => 2,
        (true, true) => 3,
    };
    let cccd = format!(
        "{cccd_province}{century_gender}{:02}{}",
        year % 100,
        rng.digits(6)
    );
    let bhxh = rng.digits(10);
    let card = format!(
        "{}{}{card_province}{bhxh}",
        rng.pick(CARD_GROUPS),
        1 + rng.below(5)
    );
    json!({
        "resourceType": "Patient",
        "identifier": [
            {"system": "https://fhir.vnfhir.org/sid/cccd", "value": cccd},
            {"system": "https://fhir.vnfhir.org/sid/bhyt-card", "value": card},
            {"system": "https://fhir.vnfhir.org/sid/bhxh", "value": bhxh}
        ],
        "active": true,
        "name": [{
            "use": "official",
            "text": format!("{family} {middle} {given}"),
            "family": family,
            "given": [middle, given]
        }],
        "telecom": [{"system": "phone", "value": format!("09{}", rng.digits(8)), "use": "mobile"}],
        "gender": if female { "female" } else { "male" },
        "birthDate": format!("{year}-{month:02}-{day:02}"),
        "address": [{
            "use": "home",
            "line": [format!("{} đường Lê Lợi", 1 + rng.below(300))],
            "city": city,
            "country": "VN"
        }],
        "extension": [{
            "url": "https://fhir.vnfhir.org/StructureDefinition/dan-toc",
            "valueCoding": {"system": "https://fhir.vnfhir.org/CodeSystem/dan-toc", "code": "01"}
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identifiers_have_the_national_shapes() {
        let mut rng = Rng::new(7);
        for _ in 0..100 {
            let p = patient(&mut rng);
            let cccd = p["identifier"][0]["value"].as_str().unwrap();
            assert_eq!(cccd.len(), 12);
            assert!(cccd.bytes().all(|b| b.is_ascii_digit()));
            let card = p["identifier"][1]["value"].as_str().unwrap();
            assert_eq!(card.len(), 15);
            assert!(card[..2].bytes().all(|b| b.is_ascii_uppercase()));
            assert!(("1"..="5").contains(&&card[2..3]));
            assert_eq!(&card[5..], p["identifier"][2]["value"].as_str().unwrap());
        }
    }

    #[test]
    fn same_seed_same_population() {
        assert_eq!(patient(&mut Rng::new(1)), patient(&mut Rng::new(1)));
    }
}
