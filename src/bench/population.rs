//! A generated Vietnamese population: patients with names with diacritics, CCCD, BHYT
//! cards and addresses, and their visits, vaccinations and prescriptions. Everything is
//! derived from the person's index, so the search bench can find what the loader wrote.

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

/// Resource ids of person `index`.
pub fn patient_id(index: u64) -> String {
    format!("vn-p-{index}")
}

pub fn encounter_id(index: u64, visit: u64) -> String {
    format!("vn-e-{index}-{visit}")
}

/// Visits per person in the loaded population.
pub const VISITS: u64 = 2;

/// Person `index` of the population, always the same.
pub fn person(index: u64) -> Value {
    patient(&mut Rng::new(index))
}

fn visit_day(index: u64, visit: u64) -> (u32, u32, u32) {
    let mut rng = Rng::new(index ^ (visit << 48) ^ 0x5EED);
    (
        2024 + rng.below(2) as u32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    )
}

/// Everything the loader writes for person `index`: the Patient, [`VISITS`] outpatient
/// Encounters each with a MedicationRequest, and one Immunization.
pub fn household(index: u64) -> Vec<(&'static str, String, Value)> {
    let patient = patient_id(index);
    let subject = json!({"reference": format!("Patient/{patient}")});
    let mut resources = vec![("Patient", patient.clone(), person(index))];
    for visit in 0..VISITS {
        let (year, month, day) = visit_day(index, visit);
        let encounter = encounter_id(index, visit);
        let start = format!("{year}-{month:02}-{day:02}T08:00:00+07:00");
        resources.push((
            "Encounter",
            encounter.clone(),
            json!({
                "resourceType": "Encounter",
                "identifier": [{"system": "https://fhir.vnfhir.org/sid/cskcb/01001/ma-lk", "value": format!("LK{index}-{visit}")}],
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "type": [{"coding": [{"system": "https://fhir.vnfhir.org/CodeSystem/ma-loai-kcb", "code": "01"}]}],
                "subject": subject,
                "period": {"start": start, "end": format!("{year}-{month:02}-{day:02}T10:00:00+07:00")},
                "serviceProvider": {"identifier": {"system": "https://fhir.vnfhir.org/sid/cskcb", "value": "01001"}}
            }),
        ));
        resources.push((
            "MedicationRequest",
            format!("vn-m-{index}-{visit}"),
            json!({
                "resourceType": "MedicationRequest",
                "identifier": [{"system": "https://fhir.vnfhir.org/sid/don-thuoc", "value": format!("DT{index}-{visit}")}],
                "status": "completed",
                "intent": "order",
                "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "N02BE01", "display": "Paracetamol"}]},
                "subject": subject,
                "encounter": {"reference": format!("Encounter/{encounter}")},
                "authoredOn": format!("{year}-{month:02}-{day:02}T09:00:00+07:00"),
                "dosageInstruction": [{"text": "Uống 1 viên x 3 lần/ngày, sau ăn"}],
                "dispenseRequest": {"quantity": {"value": 15, "unit": "viên"}}
            }),
        ));
    }
    let (year, month, day) = visit_day(index, VISITS);
    resources.push((
        "Immunization",
        format!("vn-i-{index}"),
        json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "150"}], "text": "Cúm mùa"},
            "patient": subject,
            "occurrenceDateTime": format!("{year}-{month:02}-{day:02}T09:00:00+07:00"),
            "lotNumber": format!("LOT{}", index % 97)
        }),
    ));
    resources
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
    fn a_household_is_valid_fhir_and_linked() {
        let schemas = crate::fhir::schema::SchemaSet::compile(&[
            "Patient",
            "Encounter",
            "Immunization",
            "MedicationRequest",
        ])
        .unwrap();
        let household = household(42);
        assert_eq!(household.len(), 2 + 2 * VISITS as usize);
        for (resource_type, _, resource) in &household {
            let body = resource.to_string();
            assert!(
                crate::fhir::parse_resource(&schemas, body.as_bytes(), resource_type).is_ok(),
                "{body}"
            );
        }
        assert_eq!(
            household[1].2["subject"]["reference"],
            format!("Patient/{}", patient_id(42))
        );
        assert_eq!(household[0].2, person(42));
    }

    #[test]
    fn same_seed_same_population() {
        assert_eq!(patient(&mut Rng::new(1)), patient(&mut Rng::new(1)));
    }
}
