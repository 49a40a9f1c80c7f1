use serde_json::{json, Value};

use super::*;

struct Codes;

impl Terminology for Codes {
    fn member_of(&self, value_set: &str, system: Option<&str>, code: &str) -> Option<bool> {
        match value_set {
            "vs-gender" => {
                Some(system.is_none_or(|s| s == "sys") && (code == "male" || code == "female"))
            }
            _ => None,
        }
    }
}

fn run(expression: &str, resource: &Value) -> Vec<String> {
    let compiled = Expression::compile(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
    let env = Env {
        resource,
        root: resource,
        terminology: &Codes,
    };
    compiled
        .evaluate(resource_node(resource), &env)
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
        .iter()
        .map(|item| match item {
            Item::Bool(b) => b.to_string(),
            Item::Int(i) => i.to_string(),
            Item::Dec(d) => d.to_string(),
            Item::Str(s) => s.to_string(),
            Item::Node(node) => node
                .value
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .unwrap_or_else(|| "(no value)".into()),
        })
        .collect()
}

fn holds(expression: &str, resource: &Value) -> bool {
    let compiled = Expression::compile(expression).unwrap();
    let env = Env {
        resource,
        root: resource,
        terminology: &Codes,
    };
    compiled.holds(resource_node(resource), &env).unwrap()
}

fn patient() -> Value {
    json!({
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"system": "https://fhir.vnfhir.org/sid/cccd", "value": "001090012345"},
            {"system": "https://fhir.vnfhir.org/sid/bhyt-card", "value": "DN4010123456789"},
            {"system": "https://fhir.vnfhir.org/sid/bhxh", "value": "0123456789"}
        ],
        "name": [{"family": "Nguyễn", "given": ["Văn", "Đức"]}],
        "gender": "male",
        "birthDate": "1968-05",
        "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1968-05-12T07:30:00+07:00"}]},
        "multipleBirthInteger": 2,
        "contained": [{"resourceType": "Condition", "id": "dx", "code": {"text": "THA"}}],
        "generalPractitioner": [{"reference": "#dx"}]
    })
}

#[test]
fn paths_flatten_arrays_and_skip_the_type_name() {
    let p = patient();
    assert_eq!(run("name.given", &p), ["Văn", "Đức"]);
    assert_eq!(run("Patient.name.family", &p), ["Nguyễn"]);
    assert_eq!(run("identifier.count()", &p), ["3"]);
    assert_eq!(run("identifier[1].value", &p), ["DN4010123456789"]);
    assert_eq!(run("telecom.value", &p), Vec::<String>::new());
}

#[test]
fn primitive_extensions_and_choice_elements() {
    let p = patient();
    assert_eq!(
        run("birthDate.extension.value", &p),
        ["1968-05-12T07:30:00+07:00"]
    );
    assert_eq!(
        run("birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime').exists()", &p),
        ["true"]
    );
    assert_eq!(run("birthDate.hasValue()", &p), ["true"]);
    assert_eq!(run("multipleBirth", &p), ["2"]);
    assert_eq!(run("multipleBirth is integer", &p), ["true"]);
    assert_eq!(run("multipleBirth.ofType(boolean).exists()", &p), ["false"]);
}

#[test]
fn where_select_all_exists_and_variables() {
    let p = patient();
    assert_eq!(
        run("identifier.where(system.endsWith('/bhxh')).value", &p),
        ["0123456789"]
    );
    assert_eq!(
        run("identifier.select(value.length())", &p),
        ["12", "15", "10"]
    );
    assert_eq!(
        run("identifier.all(value.matches('[A-Z0-9]+'))", &p),
        ["true"]
    );
    assert_eq!(
        run("identifier.exists(value.startsWith('DN'))", &p),
        ["true"]
    );
    assert_eq!(run("name.given.where($this = 'Đức').count()", &p), ["1"]);
    assert_eq!(
        run(
            "identifier.where(value = %resource.identifier[2].value).count()",
            &p
        ),
        ["1"]
    );
}

#[test]
fn the_bhyt_card_carries_the_bhxh_number() {
    let p = patient();
    let rule = "(identifier.where(system.endsWith('/bhyt-card')).value.substring(5) | identifier.where(system.endsWith('/bhxh')).value).count() <= 1";
    assert!(holds(rule, &p));
    let mut other = p.clone();
    other["identifier"][2]["value"] = json!("9999999999");
    assert!(!holds(rule, &other));
}

#[test]
fn three_valued_logic() {
    let p = patient();
    assert_eq!(run("{} and false", &p), ["false"]);
    assert_eq!(run("{} and true", &p), Vec::<String>::new());
    assert_eq!(run("{} or true", &p), ["true"]);
    assert_eq!(run("false implies {}", &p), ["true"]);
    assert_eq!(run("true xor false", &p), ["true"]);
    assert_eq!(run("gender.exists() != birthDate.exists()", &p), ["false"]);
    assert_eq!(run("(1 | 2 | 2).count()", &p), ["2"]);
    assert_eq!(run("'male' in ('female' | 'male')", &p), ["true"]);
    assert_eq!(run("iif(gender = 'male', 'Nam', 'Nữ')", &p), ["Nam"]);
}

#[test]
fn arithmetic_and_strings() {
    let p = patient();
    assert_eq!(run("1 + 2 * 3", &p), ["7"]);
    assert_eq!(run("7 div 2", &p), ["3"]);
    assert_eq!(run("7 mod 2", &p), ["1"]);
    assert_eq!(run("1.5 + 1", &p), ["2.5"]);
    assert_eq!(run("'#' + id", &p), ["#p1"]);
    assert_eq!(run("'a' & {} & 'b'", &p), ["ab"]);
    assert_eq!(run("'DN4010123456789'.substring(0, 2)", &p), ["DN"]);
    assert_eq!(run("'DN4010123456789'.substring(5)", &p), ["0123456789"]);
    assert_eq!(run("-(3)", &p), ["-3"]);
    assert_eq!(run("telecom.value.startsWith('09')", &p), ["false"]);
    assert_eq!(run("name.family.startsWith({})", &p), Vec::<String>::new());
    assert_eq!(run("'7'.toInteger() > 5", &p), ["true"]);
}

#[test]
fn dates_compare_with_time_zones_and_precision() {
    let p = patient();
    assert_eq!(
        run("'2024-03-15T08:00:00+07:00' < '2024-03-15T02:00:00Z'", &p),
        ["true"]
    );
    assert_eq!(
        run("'2024-03-15T10:00:00+07:00' <= '2024-03-15T02:00:00Z'", &p),
        ["false"]
    );
    assert_eq!(run("'2024' < '2025-01-01'", &p), ["true"]);
    assert_eq!(run("'2024' <= '2024-06-01'", &p), ["true"]);
    assert_eq!(run("'2024' < '2024-06-01'", &p), Vec::<String>::new());
    assert_eq!(run("'2024-02-30' <= '2025'", &p), Vec::<String>::new());
    assert_eq!(
        run("'2024-03-15T08:00:00+07:00' = '2024-03-15T01:00:00Z'", &p),
        ["true"]
    );
}

#[test]
fn quantities_compare_in_the_same_unit() {
    let range = json!({"low": {"value": 5, "code": "mg"}, "high": {"value": 10.5, "code": "mg"}});
    assert_eq!(run("low <= high", &range), ["true"]);
    let mixed = json!({"low": {"value": 5, "code": "g"}, "high": {"value": 10, "code": "mg"}});
    assert_eq!(run("low <= high", &mixed), Vec::<String>::new());
}

#[test]
fn children_descendants_and_resolve() {
    let p = patient();
    assert_eq!(run("name.children().count()", &p), ["3"]);
    assert!(run("descendants().where($this = 'THA').exists()", &p) == ["true"]);
    assert_eq!(run("generalPractitioner.resolve().code.text", &p), ["THA"]);
    assert_eq!(
        run(
            "contained.where(('#' + id) in %resource.descendants().reference).count()",
            &p
        ),
        ["1"]
    );
}

#[test]
fn member_of_uses_the_terminology() {
    let p = patient();
    assert_eq!(run("gender.memberOf('vs-gender')", &p), ["true"]);
    assert_eq!(run("'nam'.memberOf('vs-gender')", &p), ["false"]);
    assert_eq!(
        run("gender.memberOf('vs-unknown')", &p),
        Vec::<String>::new()
    );
}

#[test]
fn the_r4_core_invariants_behave() {
    let period_ok =
        json!({"start": "2024-03-15T08:05:00+07:00", "end": "2024-03-15T10:40:00+07:00"});
    let period_bad =
        json!({"start": "2024-03-15T10:40:00+07:00", "end": "2024-03-15T08:05:00+07:00"});
    let per_1 = "start.hasValue().not() or end.hasValue().not() or (start <= end)";
    assert!(holds(per_1, &period_ok));
    assert!(!holds(per_1, &period_bad));
    let ext_1 = "extension.exists() != value.exists()";
    assert!(holds(ext_1, &json!({"url": "x", "valueString": "a"})));
    assert!(!holds(ext_1, &json!({"url": "x"})));
    assert!(!holds(
        ext_1,
        &json!({"url": "x", "valueString": "a", "extension": [{"url": "y", "valueString": "b"}]})
    ));
    let ele_1 = "hasValue() or (children().count() > id.count())";
    assert!(holds(ele_1, &json!({"id": "a", "text": "x"})));
    assert!(!holds(ele_1, &json!({"id": "a"})));
    let txt = "htmlChecks()";
    let narrative = |div: &str| json!({"status": "generated", "div": div});
    assert!(holds(
        &format!("div.{txt}"),
        &narrative("<div xmlns=\"http://www.w3.org/1999/xhtml\">Nguyễn Văn Đức</div>")
    ));
    assert!(!holds(
        &format!("div.{txt}"),
        &narrative("<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script>a</div>")
    ));
    assert!(!holds(
        &format!("div.{txt}"),
        &narrative("<div xmlns=\"http://www.w3.org/1999/xhtml\"> </div>")
    ));
}

#[test]
fn matches_is_a_whole_string_match() {
    let p = patient();
    assert_eq!(
        run("identifier[0].value.matches('[0-9]{12}')", &p),
        ["true"]
    );
    assert_eq!(
        run("identifier[0].value.matches('[0-9]{11}')", &p),
        ["false"]
    );
    assert_eq!(run("'a-b'.replaceMatches('-', '.')", &p), ["a.b"]);
}
