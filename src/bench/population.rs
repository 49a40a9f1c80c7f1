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
/// (province code as in CCCD, BHYT and administrative-unit province code, city name, a ward
/// code for the address's `dvhc`: the national list is not in our sources, only its shape is
/// checked)
const PROVINCES: &[(&str, &str, &str, &str)] = &[
    ("001", "01", "Hà Nội", "00001"),
    ("079", "79", "TP. Hồ Chí Minh", "26734"),
    ("048", "48", "Đà Nẵng", "20194"),
    ("031", "31", "Hải Phòng", "11311"),
    ("092", "92", "Cần Thơ", "31117"),
    ("046", "46", "Huế", "19792"),
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

/// Where the VN Core profiles live; every generated resource claims its own.
const PROFILES: &str = "https://fhir.vnfhir.org/StructureDefinition/";
/// The facility of every generated visit (MA_CSKCB), in Hà Nội.
const FACILITY: &str = "01001";
/// Diagnoses (ICD-10), each with the drug prescribed for it (ATC) and its dosage.
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "I10",
        "Bệnh lý tăng huyết áp vô căn (nguyên phát)",
        "C08CA01",
        "Amlodipin 5 mg",
        "Uống 1 viên/lần x 1 lần/ngày vào buổi sáng",
    ),
    (
        "J06.9",
        "Nhiễm trùng đường hô hấp trên cấp, không đặc hiệu",
        "N02BE01",
        "Paracetamol 500 mg",
        "Uống 1 viên x 3 lần/ngày, sau ăn",
    ),
    (
        "E11.9",
        "Bệnh đái tháo đường không phụ thuộc insulin, không có biến chứng",
        "A10BA02",
        "Metformin 500 mg",
        "Uống 1 viên x 2 lần/ngày, sau ăn sáng và tối",
    ),
    (
        "K29.7",
        "Viêm dạ dày, không đặc hiệu",
        "A02BC01",
        "Omeprazol 20 mg",
        "Uống 1 viên/ngày trước ăn sáng 30 phút",
    ),
    (
        "M54.5",
        "Đau vùng thắt lưng",
        "M01AC06",
        "Meloxicam 7,5 mg",
        "Uống 1 viên/ngày sau ăn",
    ),
];
/// Practising certificates (CCHN) of the facility's doctors and nurses.
const DOCTORS: &[(&str, &str)] = &[
    ("001234/HNO-CCHN", "BS. Lê Minh Tuấn"),
    ("002345/HNO-CCHN", "BS. Phạm Thu Hà"),
    ("003456/HNO-CCHN", "BS. Nguyễn Quốc Bình"),
];
const NURSES: &[(&str, &str)] = &[
    ("004567/HNO-CCHN", "ĐD. Trần Thị Hoa"),
    ("005678/HNO-CCHN", "ĐD. Vũ Thị Lan"),
];

fn meta(profile: &str) -> Value {
    json!({"profile": [format!("{PROFILES}{profile}")]})
}

/// A generated narrative (R4's dom-6 asks for one); the texts hold no markup characters.
fn narrative(text: &str) -> Value {
    json!({
        "status": "generated",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{text}</div>")
    })
}

/// A practitioner named by practising certificate, as VN Core asks of a requester.
fn practitioner((cchn, name): (&str, &str)) -> Value {
    json!({
        "identifier": {"system": "https://fhir.vnfhir.org/sid/cchn", "value": cchn},
        "display": name
    })
}

/// The national e-prescription code: facility, 7 characters, then the kind (`c`: ordinary).
fn prescription_code(serial: u64) -> String {
    let mut code = [b'0'; 7];
    let mut n = serial;
    for digit in code.iter_mut().rev() {
        *digit = b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize];
        n /= 36;
    }
    format!("{FACILITY}{}-c", String::from_utf8_lossy(&code))
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
    let (cccd_province, province, city, ward) =
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
        "{}{}{province}{bhxh}",
        rng.pick(CARD_GROUPS),
        1 + rng.below(5)
    );
    let name = format!("{family} {middle} {given}");
    let sex = if female { "nữ" } else { "nam" };
    let dvhc = |part: &str, code: &str| {
        json!({
            "url": part,
            "valueCoding": {"system": "https://fhir.vnfhir.org/CodeSystem/dvhc", "code": code}
        })
    };
    json!({
        "resourceType": "Patient",
        "meta": meta("vn-core-patient"),
        "text": narrative(&format!("{name}, {sex}, sinh ngày {day:02}/{month:02}/{year}, CCCD {cccd}")),
        "identifier": [
            {"system": "https://fhir.vnfhir.org/sid/cccd", "value": cccd},
            {"system": "https://fhir.vnfhir.org/sid/bhyt-card", "value": card},
            {"system": "https://fhir.vnfhir.org/sid/bhxh", "value": bhxh}
        ],
        "active": true,
        "name": [{
            "use": "official",
            "text": name,
            "family": family,
            "given": [middle, given]
        }],
        "telecom": [{"system": "phone", "value": format!("09{}", rng.digits(8)), "use": "mobile"}],
        "gender": if female { "female" } else { "male" },
        "birthDate": format!("{year}-{month:02}-{day:02}"),
        "address": [{
            "extension": [{
                "url": "https://fhir.vnfhir.org/StructureDefinition/dvhc",
                "extension": [dvhc("tinh", province), dvhc("xa", ward)]
            }],
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

/// The day of a visit, and which case, doctor and nurse it has.
fn visit_draw(index: u64, visit: u64) -> ((u32, u32, u32), usize, usize, usize) {
    let mut rng = Rng::new(index ^ (visit << 48) ^ 0x5EED);
    let day = (
        2024 + rng.below(2) as u32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    );
    let mut pick = |n: usize| rng.below(n as u64) as usize;
    (
        day,
        pick(CASES.len()),
        pick(DOCTORS.len()),
        pick(NURSES.len()),
    )
}

/// A finished outpatient visit (one BHYT episode) with its diagnosis held in the Encounter.
fn encounter(index: u64, visit: u64, subject: &Value) -> Value {
    let ((year, month, day), case, _, _) = visit_draw(index, visit);
    let (icd, diagnosis, ..) = CASES[case];
    let date = format!("{year}-{month:02}-{day:02}");
    let coded = |system: &str, code: &str, display: &str| json!({"system": format!("https://fhir.vnfhir.org/CodeSystem/{system}"), "code": code, "display": display});
    json!({
        "resourceType": "Encounter",
        "meta": meta("vn-core-encounter"),
        "text": narrative(&format!("Khám bệnh ngoại trú ngày {day:02}/{month:02}/{year}, chẩn đoán {icd} {diagnosis}")),
        "contained": [{
            "resourceType": "Condition",
            "id": "cd1",
            "text": narrative(&format!("{icd} {diagnosis}")),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]}],
            "code": {"coding": [coded("icd-10-vn", icd, diagnosis)]},
            "subject": subject
        }],
        "extension": [
            {"url": "https://fhir.vnfhir.org/StructureDefinition/ket-qua-dieu-tri", "valueCoding": coded("ket-qua-dtri", "2", "Đỡ")},
            {"url": "https://fhir.vnfhir.org/StructureDefinition/doi-tuong-kcb", "valueCoding": coded("ma-doituong-kcb", "1.1", "Đúng tuyến: KCB đúng cơ sở đăng ký ban đầu")}
        ],
        "identifier": [{"system": format!("https://fhir.vnfhir.org/sid/cskcb/{FACILITY}/ma-lk"), "value": format!("LK{index}-{visit}")}],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [{"coding": [coded("ma-loai-kcb", "01", "Khám bệnh")]}],
        "subject": subject,
        "period": {"start": format!("{date}T08:00:00+07:00"), "end": format!("{date}T10:00:00+07:00")},
        "diagnosis": [{
            "condition": {"reference": "#cd1"},
            "use": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/diagnosis-role", "code": "DD"}]},
            "rank": 1
        }],
        "hospitalization": {"dischargeDisposition": {"coding": [coded("ma-loai-rv", "1", "Ra viện")]}},
        "serviceProvider": {"identifier": {"system": "https://fhir.vnfhir.org/sid/cskcb", "value": FACILITY}}
    })
}

/// The prescription of a visit, for its diagnosis.
fn medication_request(index: u64, visit: u64, subject: &Value) -> Value {
    let ((year, month, day), case, doctor, _) = visit_draw(index, visit);
    let (_, _, atc, drug, dosage) = CASES[case];
    json!({
        "resourceType": "MedicationRequest",
        "meta": meta("vn-core-medication-request"),
        "text": narrative(&format!("Đơn thuốc ngoại trú: {drug}, {dosage}")),
        "identifier": [{"system": "https://fhir.vnfhir.org/sid/don-thuoc", "value": prescription_code(index * VISITS + visit)}],
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": atc}], "text": drug},
        "subject": subject,
        "encounter": {"reference": format!("Encounter/{}", encounter_id(index, visit))},
        "authoredOn": format!("{year}-{month:02}-{day:02}T09:00:00+07:00"),
        "requester": practitioner(DOCTORS[doctor]),
        "dosageInstruction": [{"text": dosage}],
        "dispenseRequest": {"quantity": {"value": 15, "unit": "viên"}}
    })
}

/// The person's flu shot, after the visits.
fn immunization(index: u64, subject: &Value) -> Value {
    let ((year, month, day), _, _, nurse) = visit_draw(index, VISITS);
    json!({
        "resourceType": "Immunization",
        "meta": meta("vn-core-immunization"),
        "text": narrative(&format!("Tiêm vắc xin cúm mùa ngày {day:02}/{month:02}/{year}")),
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "150"}], "text": "Cúm mùa"},
        "patient": subject,
        "occurrenceDateTime": format!("{year}-{month:02}-{day:02}T09:00:00+07:00"),
        "lotNumber": format!("LOT{}", index % 97),
        "performer": [{"actor": practitioner(NURSES[nurse])}]
    })
}

/// Everything the loader writes for person `index`: the Patient, [`VISITS`] outpatient
/// Encounters each with a MedicationRequest, and one Immunization, each claiming (and
/// passing) its VN Core profile.
pub fn household(index: u64) -> Vec<(&'static str, String, Value)> {
    let patient = patient_id(index);
    let subject = json!({"reference": format!("Patient/{patient}")});
    let mut resources = vec![("Patient", patient, person(index))];
    for visit in 0..VISITS {
        resources.push((
            "Encounter",
            encounter_id(index, visit),
            encounter(index, visit, &subject),
        ));
        resources.push((
            "MedicationRequest",
            format!("vn-m-{index}-{visit}"),
            medication_request(index, visit, &subject),
        ));
    }
    resources.push((
        "Immunization",
        format!("vn-i-{index}"),
        immunization(index, &subject),
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

    /// Fails when the generator drifts from VN Core: every resource of a few households,
    /// held to its profile, gives no issue at all (not even a warning).
    #[test]
    fn every_generated_resource_passes_its_vn_core_profile() {
        let validator = crate::validation::Validator::load("https://fhir.vnfhir.org").unwrap();
        for index in [0, 1, 42, 999_999] {
            for (resource_type, _, resource) in household(index) {
                let profile = validator.vn_profile(resource_type).unwrap();
                assert_eq!(resource["meta"]["profile"][0], profile);
                let issues = validator.validate(&resource, &[profile]);
                assert!(issues.is_empty(), "{resource_type} of {index}: {issues:#?}");
            }
        }
    }

    #[test]
    fn same_seed_same_population() {
        assert_eq!(patient(&mut Rng::new(1)), patient(&mut Rng::new(1)));
    }
}
