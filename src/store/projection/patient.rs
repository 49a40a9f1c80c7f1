//! Patient → `patient`, `patient_name`, `patient_address`, `patient_telecom`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use super::extract::{self, code_preferring, extension, items, joined, text};
use super::{identifier_value, insert_rows, Projection, RowMeta, SearchValues};
use crate::fhir::datetime;
use crate::fhir::text::search_form;
use crate::search::params::{Index, ParamType, SearchParam};
use crate::store::db::DbConnection;
use crate::store::schema::{patient, patient_address, patient_name, patient_telecom};

const NATIONALITY_URL: &str = "http://hl7.org/fhir/StructureDefinition/patient-nationality";

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = patient, treat_none_as_default_value = false)]
pub struct PatientRow {
    pub id: String,
    pub version_id: i64,
    pub last_updated: NaiveDateTime,
    pub deleted: bool,
    pub content: Option<String>,
    pub active: Option<bool>,
    pub gender: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub birth_date_end: Option<NaiveDate>,
    pub birth_date_precision: Option<&'static str>,
    pub deceased: Option<bool>,
    pub deceased_at: Option<NaiveDateTime>,
    pub cccd: Option<String>,
    pub bhyt_card: Option<String>,
    pub bhxh_number: Option<String>,
    pub ethnicity_code: Option<String>,
    pub nationality_code: Option<String>,
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = patient_name, treat_none_as_default_value = false)]
pub struct NameRow {
    pub patient_id: String,
    pub ord: i32,
    pub use_code: Option<String>,
    pub text: Option<String>,
    pub family: Option<String>,
    pub given: Option<String>,
    pub search: String,
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = patient_address, treat_none_as_default_value = false)]
pub struct AddressRow {
    pub patient_id: String,
    pub ord: i32,
    pub use_code: Option<String>,
    pub text: Option<String>,
    pub line: Option<String>,
    pub district: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub province_code: Option<String>,
    pub district_code: Option<String>,
    pub ward_code: Option<String>,
}

#[derive(Insertable, Debug, PartialEq)]
#[diesel(table_name = patient_telecom, treat_none_as_default_value = false)]
pub struct TelecomRow {
    pub patient_id: String,
    pub ord: i32,
    pub system: Option<String>,
    pub value: Option<String>,
    pub use_code: Option<String>,
}

#[derive(Debug, PartialEq)]
pub struct PatientRows {
    pub row: PatientRow,
    pub names: Vec<NameRow>,
    pub addresses: Vec<AddressRow>,
    pub telecoms: Vec<TelecomRow>,
}

pub fn project(meta: &RowMeta, resource: &Value) -> PatientRows {
    let id = meta.id.to_string();
    let birth = resource
        .get("birthDate")
        .and_then(Value::as_str)
        .and_then(datetime::parse_date);
    let deceased_at = extract::start_of(extract::date_time(resource, "deceasedDateTime"));
    let deceased = resource
        .get("deceasedBoolean")
        .and_then(Value::as_bool)
        .or(deceased_at.map(|_| true));
    let nationality = extension(resource, NATIONALITY_URL)
        .and_then(|n| items(n, "extension").find(|e| e["url"] == "code"))
        .and_then(|code| code.get("valueCodeableConcept"))
        .and_then(|concept| code_preferring(concept, "/quoc-tich"));
    let row = PatientRow {
        id: id.clone(),
        version_id: meta.version_id,
        last_updated: meta.last_updated,
        deleted: meta.content.is_none(),
        content: meta.content.map(str::to_string),
        active: resource.get("active").and_then(Value::as_bool),
        gender: text(resource, "gender"),
        birth_date: birth.map(|b| b.first),
        birth_date_end: birth.map(|b| b.last),
        birth_date_precision: birth.map(|b| b.precision.as_str()),
        deceased,
        deceased_at,
        cccd: identifier_value(resource, "/sid/cccd"),
        bhyt_card: identifier_value(resource, "/sid/bhyt-card"),
        bhxh_number: identifier_value(resource, "/sid/bhxh"),
        ethnicity_code: extension(resource, "/StructureDefinition/dan-toc")
            .and_then(|e| e.get("valueCoding"))
            .and_then(|c| text(c, "code")),
        nationality_code: nationality,
    };
    let names = items(resource, "name")
        .enumerate()
        .map(|(ord, name)| {
            let family = text(name, "family");
            let given = joined(name, "given", " ");
            let full = text(name, "text").unwrap_or_else(|| {
                [family.as_deref(), given.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            NameRow {
                patient_id: id.clone(),
                ord: ord as i32,
                use_code: text(name, "use"),
                text: text(name, "text"),
                family,
                given,
                search: search_form(&full),
            }
        })
        .collect();
    let addresses = items(resource, "address")
        .enumerate()
        .map(|(ord, address)| {
            let units = extension(address, "/StructureDefinition/dvhc");
            let unit = |part: &str| {
                units
                    .and_then(|u| items(u, "extension").find(|e| e["url"] == part))
                    .and_then(|e| e.get("valueCoding"))
                    .and_then(|c| text(c, "code"))
            };
            AddressRow {
                patient_id: id.clone(),
                ord: ord as i32,
                use_code: text(address, "use"),
                text: text(address, "text"),
                line: joined(address, "line", ", "),
                district: text(address, "district"),
                city: text(address, "city"),
                country: text(address, "country"),
                province_code: unit("tinh"),
                district_code: unit("huyen"),
                ward_code: unit("xa"),
            }
        })
        .collect();
    let telecoms = items(resource, "telecom")
        .enumerate()
        .map(|(ord, telecom)| TelecomRow {
            patient_id: id.clone(),
            ord: ord as i32,
            system: text(telecom, "system"),
            value: text(telecom, "value"),
            use_code: text(telecom, "use"),
        })
        .collect();
    PatientRows {
        row,
        names,
        addresses,
        telecoms,
    }
}

pub struct PatientProjection;

impl Projection for PatientProjection {
    fn resource_type(&self) -> &'static str {
        "Patient"
    }

    fn table(&self) -> &'static str {
        "patient"
    }

    fn search_params(&self) -> &'static [SearchParam] {
        use Index::*;
        use ParamType::{Date, Reference, String, Token};
        // `name` and `address` match any part; the parts keep their own rows only.
        const NAME_ROWS: &[&str] = &["name", "family", "given"];
        const ADDRESS_ROWS: &[&str] = &[
            "address",
            "address-city",
            "address-state",
            "address-country",
            "address-postalcode",
        ];
        const PARAMS: &[SearchParam] = &[
            SearchParam::new("identifier", Token, Identifier),
            SearchParam::new("name", String, WholeOf(NAME_ROWS)),
            SearchParam::new("family", String, Strings),
            SearchParam::new("given", String, Strings),
            SearchParam::new("phonetic", String, WholeOf(NAME_ROWS)),
            SearchParam::new("address", String, StringsOf(ADDRESS_ROWS)),
            SearchParam::new("address-city", String, Strings),
            SearchParam::new("address-country", String, Strings),
            SearchParam::new("address-postalcode", String, Strings),
            SearchParam::new("address-state", String, Strings),
            SearchParam::new("address-use", Token, Coding),
            SearchParam::new(
                "gender",
                Token,
                Code {
                    column: "gender",
                    system: Some("http://hl7.org/fhir/administrative-gender"),
                },
            ),
            SearchParam::new(
                "birthdate",
                Date,
                Dates {
                    start: "birth_date",
                    end: "birth_date_end",
                },
            ),
            SearchParam::new("active", Token, Flag("active")),
            SearchParam::new("deceased", Token, Flag("deceased")),
            SearchParam::new(
                "death-date",
                Date,
                Instants {
                    start: "deceased_at",
                    end: "deceased_at",
                },
            ),
            SearchParam::new("telecom", Token, Telecom(None)),
            SearchParam::new("phone", Token, Telecom(Some("phone"))),
            SearchParam::new("email", Token, Telecom(Some("email"))),
            SearchParam::new("language", Token, Coding),
            SearchParam::new("general-practitioner", Reference, References),
            SearchParam::new("organization", Reference, References),
            SearchParam::new("link", Reference, References),
        ];
        PARAMS
    }

    fn search_values(&self, resource: &Value, values: &mut SearchValues) {
        for name in items(resource, "name") {
            // The whole name in Vietnamese order, so "van duc" finds "Nguyễn Văn Đức"; from
            // the parts as well when `text` says otherwise, so that the whole-name rows begin
            // with every family and given prefix (`Index::WholeOf`).
            let parts: Vec<&str> = name
                .get("family")
                .into_iter()
                .chain(items(name, "given"))
                .filter_map(Value::as_str)
                .collect();
            let parts = (!parts.is_empty()).then(|| parts.join(" "));
            let written = text(name, "text");
            let from_parts = parts.filter(|p| {
                written
                    .as_deref()
                    .is_none_or(|w| search_form(w) != search_form(p))
            });
            for whole in written.into_iter().chain(from_parts) {
                values.string("name", Some(&Value::String(whole)));
            }
            for part in ["prefix", "suffix"] {
                values.strings_of("name", std::iter::once(name), part);
            }
            values.string("family", name.get("family"));
            values.strings_of("given", std::iter::once(name), "given");
        }
        for address in items(resource, "address") {
            for part in ["text", "line", "district"] {
                values.strings_of("address", std::iter::once(address), part);
            }
            values.string("address-city", address.get("city"));
            values.string("address-country", address.get("country"));
            values.string("address-postalcode", address.get("postalCode"));
            values.string("address-state", address.get("state"));
            if let Some(use_code) = address.get("use") {
                values.token("address-use", use_code);
            }
        }
        values.tokens_of(
            "language",
            items(resource, "communication").filter_map(|c| c.get("language")),
        );
        for practitioner in items(resource, "generalPractitioner") {
            values.reference("general-practitioner", Some(practitioner));
        }
        values.reference("organization", resource.get("managingOrganization"));
        for link in items(resource, "link") {
            values.reference("link", link.get("other"));
        }
    }

    fn clear(&self, conn: &mut DbConnection, ids: &[&str]) -> QueryResult<()> {
        diesel::delete(patient_name::table.filter(patient_name::patient_id.eq_any(ids)))
            .execute(conn)?;
        diesel::delete(patient_address::table.filter(patient_address::patient_id.eq_any(ids)))
            .execute(conn)?;
        diesel::delete(patient_telecom::table.filter(patient_telecom::patient_id.eq_any(ids)))
            .execute(conn)?;
        diesel::delete(patient::table.filter(patient::id.eq_any(ids))).execute(conn)?;
        Ok(())
    }

    fn insert(&self, conn: &mut DbConnection, rows: &[(RowMeta, &Value)]) -> QueryResult<()> {
        let (mut mains, mut names, mut addresses, mut telecoms) = (vec![], vec![], vec![], vec![]);
        for (meta, resource) in rows {
            let projected = project(meta, resource);
            mains.push(projected.row);
            names.extend(projected.names);
            addresses.extend(projected.addresses);
            telecoms.extend(projected.telecoms);
        }
        insert_rows!(conn, patient::table, &mains)?;
        insert_rows!(conn, patient_name::table, &names)?;
        insert_rows!(conn, patient_address::table, &addresses)?;
        insert_rows!(conn, patient_telecom::table, &telecoms)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(content: Option<&str>) -> RowMeta<'_> {
        RowMeta {
            id: "p1",
            version_id: 3,
            last_updated: NaiveDateTime::parse_from_str("2026-11-23 01:00:00", "%F %T").unwrap(),
            content,
        }
    }

    fn sample() -> Value {
        json!({
            "resourceType": "Patient",
            "identifier": [
                {"system": "https://fhir.vnfhir.org/sid/cccd", "value": "001090012345"},
                {"system": "https://fhir.vnfhir.org/sid/bhyt-card", "value": "DN4010123456789"},
                {"system": "https://fhir.vnfhir.org/sid/bhxh", "value": "0123456789"}
            ],
            "active": true,
            "name": [{"use": "official", "family": "Nguyễn", "given": ["Văn", "Đức"]},
                     {"text": "Đặng Thị Thủy"}],
            "gender": "male",
            "birthDate": "1980-05",
            "deceasedDateTime": "2024-01-02T03:04:05+07:00",
            "telecom": [{"system": "phone", "value": "0912345678", "use": "mobile"}],
            "address": [{
                "use": "home", "text": "12 Lê Lợi, Hà Nội", "line": ["12 Lê Lợi"],
                "district": "Hoàn Kiếm", "city": "Hà Nội", "country": "VN",
                "extension": [{"url": "https://fhir.vnfhir.org/StructureDefinition/dvhc", "extension": [
                    {"url": "tinh", "valueCoding": {"code": "01"}},
                    {"url": "huyen", "valueCoding": {"code": "002"}},
                    {"url": "xa", "valueCoding": {"code": "00037"}}
                ]}]
            }],
            "extension": [
                {"url": "https://fhir.vnfhir.org/StructureDefinition/dan-toc", "valueCoding": {"code": "01"}},
                {"url": NATIONALITY_URL, "extension": [{"url": "code", "valueCodeableConcept": {"coding": [
                    {"system": "urn:iso:std:iso:3166", "code": "VN"},
                    {"system": "https://fhir.vnfhir.org/CodeSystem/quoc-tich", "code": "000"}
                ]}}]}
            ]
        })
    }

    #[test]
    fn columns_match_the_resource() {
        let rows = project(&meta(Some("{}")), &sample());
        let row = &rows.row;
        assert_eq!(
            (row.id.as_str(), row.version_id, row.deleted),
            ("p1", 3, false)
        );
        assert_eq!(row.content.as_deref(), Some("{}"));
        assert_eq!(row.active, Some(true));
        assert_eq!(row.gender.as_deref(), Some("male"));
        assert_eq!(row.birth_date.unwrap().to_string(), "1980-05-01");
        assert_eq!(row.birth_date_end.unwrap().to_string(), "1980-05-31");
        assert_eq!(row.birth_date_precision, Some("month"));
        assert_eq!(row.deceased, Some(true));
        assert_eq!(row.deceased_at.unwrap().to_string(), "2024-01-01 20:04:05");
        assert_eq!(row.cccd.as_deref(), Some("001090012345"));
        assert_eq!(row.bhyt_card.as_deref(), Some("DN4010123456789"));
        assert_eq!(row.bhxh_number.as_deref(), Some("0123456789"));
        assert_eq!(row.ethnicity_code.as_deref(), Some("01"));
        assert_eq!(row.nationality_code.as_deref(), Some("000"));
    }

    #[test]
    fn names_get_an_accent_free_search_form() {
        let rows = project(&meta(Some("{}")), &sample());
        assert_eq!(rows.names.len(), 2);
        assert_eq!(rows.names[0].family.as_deref(), Some("Nguyễn"));
        assert_eq!(rows.names[0].given.as_deref(), Some("Văn Đức"));
        assert_eq!(rows.names[0].use_code.as_deref(), Some("official"));
        assert_eq!(rows.names[0].search, "nguyen van duc");
        assert_eq!(rows.names[1].search, "dang thi thuy");
    }

    #[test]
    fn address_and_telecom_rows() {
        let rows = project(&meta(Some("{}")), &sample());
        let address = &rows.addresses[0];
        assert_eq!(address.line.as_deref(), Some("12 Lê Lợi"));
        assert_eq!(address.city.as_deref(), Some("Hà Nội"));
        assert_eq!(address.district.as_deref(), Some("Hoàn Kiếm"));
        assert_eq!(address.text.as_deref(), Some("12 Lê Lợi, Hà Nội"));
        assert_eq!(
            (
                address.province_code.as_deref(),
                address.district_code.as_deref(),
                address.ward_code.as_deref()
            ),
            (Some("01"), Some("002"), Some("00037"))
        );
        assert_eq!(rows.telecoms[0].value.as_deref(), Some("0912345678"));
        assert_eq!(rows.telecoms[0].system.as_deref(), Some("phone"));
    }

    #[test]
    fn tombstone_has_only_the_version() {
        let rows = project(&meta(None), &Value::Null);
        assert!(rows.row.deleted);
        assert_eq!(rows.row.content, None);
        assert_eq!(rows.row.gender, None);
        assert!(rows.names.is_empty() && rows.addresses.is_empty() && rows.telecoms.is_empty());
    }
}
