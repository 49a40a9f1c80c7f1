-- Every version of every resource; the write path claims (resource_type, id, version_id)
-- here first, so the unique key is the optimistic-concurrency lock.
CREATE TABLE resource_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    version_id BIGINT NOT NULL,
    last_updated TIMESTAMP NOT NULL,
    method TEXT NOT NULL,
    content TEXT,
    UNIQUE (resource_type, id, version_id)
);
CREATE INDEX resource_history_type_seq ON resource_history (resource_type, seq);
CREATE INDEX resource_history_last_updated ON resource_history (last_updated);

-- Identifiers of all resource types (CCCD, BHYT card, MA_LK, prescription number, ...).
CREATE TABLE resource_identifier (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    system TEXT,
    value TEXT,
    type_system TEXT,
    type_code TEXT,
    period_start TIMESTAMP,
    period_end TIMESTAMP,
    PRIMARY KEY (resource_type, resource_id, ord)
);
CREATE INDEX resource_identifier_value ON resource_identifier (resource_type, value, system, resource_id);

-- Token search values by parameter (Encounter type, vaccine-code, MedicationRequest code,
-- _tag, ...); plain `code` elements have no system.
CREATE TABLE resource_coding (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    param TEXT NOT NULL,
    ord INTEGER NOT NULL,
    system TEXT,
    code TEXT,
    display TEXT,
    -- accent-free, lower-cased CodeableConcept.text or display, for the :text modifier
    text TEXT,
    PRIMARY KEY (resource_type, resource_id, param, ord)
);
CREATE INDEX resource_coding_code ON resource_coding (resource_type, param, code, system, resource_id);

-- String search parameters (name, family, address-city, lot-number, ...). `token` holds the
-- accent-free, lower-cased text from each word start to the end ("van duc" and "duc" for
-- "Văn Đức"), so a prefix match on any word is an index range scan; `exact` keeps the
-- whole original string (on the row starting at its first word) for :exact.
CREATE TABLE resource_string (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    param TEXT NOT NULL,
    ord INTEGER NOT NULL,
    token TEXT NOT NULL,
    exact TEXT,
    PRIMARY KEY (resource_type, resource_id, param, ord)
);
CREATE INDEX resource_string_token ON resource_string (resource_type, param, token, resource_id);

-- Reference search values by parameter, as "Type/id" (or the reference as sent when it is
-- not a literal FHIR reference); the source of chaining, _has, _include and _revinclude.
CREATE TABLE resource_reference (
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    param TEXT NOT NULL,
    ord INTEGER NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (resource_type, resource_id, param, ord)
);
CREATE INDEX resource_reference_target ON resource_reference (resource_type, param, target, resource_id);

CREATE TABLE patient (
    id TEXT PRIMARY KEY,
    version_id BIGINT NOT NULL,
    last_updated TIMESTAMP NOT NULL,
    deleted BOOLEAN NOT NULL,
    content TEXT,
    active BOOLEAN,
    gender TEXT,
    birth_date DATE,
    birth_date_end DATE,
    birth_date_precision TEXT,
    deceased BOOLEAN,
    deceased_at TIMESTAMP,
    cccd TEXT,
    bhyt_card TEXT,
    bhxh_number TEXT,
    ethnicity_code TEXT,
    nationality_code TEXT
);
-- Live rows by id: searches find and order ids from indexes alone.
CREATE INDEX patient_live ON patient (id) WHERE NOT deleted;
CREATE INDEX patient_cccd ON patient (cccd);
CREATE INDEX patient_bhyt_card ON patient (bhyt_card);
CREATE INDEX patient_birth_date ON patient (birth_date, birth_date_end);
CREATE INDEX patient_gender_birth_date ON patient (gender, birth_date);
CREATE INDEX patient_last_updated ON patient (last_updated);

CREATE TABLE patient_name (
    patient_id TEXT NOT NULL REFERENCES patient (id),
    ord INTEGER NOT NULL,
    use_code TEXT,
    text TEXT,
    family TEXT,
    given TEXT,
    search TEXT NOT NULL,
    PRIMARY KEY (patient_id, ord)
);
CREATE INDEX patient_name_search ON patient_name (search);

CREATE TABLE patient_address (
    patient_id TEXT NOT NULL REFERENCES patient (id),
    ord INTEGER NOT NULL,
    use_code TEXT,
    text TEXT,
    line TEXT,
    district TEXT,
    city TEXT,
    country TEXT,
    province_code TEXT,
    district_code TEXT,
    ward_code TEXT,
    PRIMARY KEY (patient_id, ord)
);
CREATE INDEX patient_address_codes ON patient_address (province_code, district_code, ward_code);

CREATE TABLE patient_telecom (
    patient_id TEXT NOT NULL REFERENCES patient (id),
    ord INTEGER NOT NULL,
    system TEXT,
    value TEXT,
    use_code TEXT,
    PRIMARY KEY (patient_id, ord)
);
CREATE INDEX patient_telecom_value ON patient_telecom (value);

CREATE TABLE encounter (
    id TEXT PRIMARY KEY,
    version_id BIGINT NOT NULL,
    last_updated TIMESTAMP NOT NULL,
    deleted BOOLEAN NOT NULL,
    content TEXT,
    ma_lk TEXT,
    status TEXT,
    class_code TEXT,
    ma_loai_kcb TEXT,
    subject_ref TEXT,
    patient_id TEXT,
    period_start TIMESTAMP,
    period_end TIMESTAMP,
    facility_code TEXT,
    department_code TEXT,
    main_icd TEXT,
    discharge_disposition TEXT,
    outcome_code TEXT,
    length_value DOUBLE,
    length_unit TEXT
);
CREATE INDEX encounter_live ON encounter (id) WHERE NOT deleted;
CREATE INDEX encounter_ma_lk ON encounter (ma_lk);
CREATE INDEX encounter_patient_period ON encounter (patient_id, period_start);
CREATE INDEX encounter_subject_period ON encounter (subject_ref, period_start);
CREATE INDEX encounter_period ON encounter (period_start);
CREATE INDEX encounter_facility_period ON encounter (facility_code, period_start);

CREATE TABLE encounter_diagnosis (
    encounter_id TEXT NOT NULL REFERENCES encounter (id),
    ord INTEGER NOT NULL,
    condition_ref TEXT,
    icd_code TEXT,
    use_code TEXT,
    rank INTEGER,
    PRIMARY KEY (encounter_id, ord)
);
CREATE INDEX encounter_diagnosis_icd ON encounter_diagnosis (icd_code);

CREATE TABLE immunization (
    id TEXT PRIMARY KEY,
    version_id BIGINT NOT NULL,
    last_updated TIMESTAMP NOT NULL,
    deleted BOOLEAN NOT NULL,
    content TEXT,
    status TEXT,
    vaccine_code TEXT,
    patient_ref TEXT,
    patient_id TEXT,
    encounter_ref TEXT,
    occurrence_start TIMESTAMP,
    occurrence_end TIMESTAMP,
    lot_number TEXT,
    dose_number TEXT,
    performer_ref TEXT
);
CREATE INDEX immunization_live ON immunization (id) WHERE NOT deleted;
CREATE INDEX immunization_patient ON immunization (patient_id, occurrence_start);
CREATE INDEX immunization_patient_ref ON immunization (patient_ref, occurrence_start);
CREATE INDEX immunization_encounter ON immunization (encounter_ref);

CREATE TABLE medication_request (
    id TEXT PRIMARY KEY,
    version_id BIGINT NOT NULL,
    last_updated TIMESTAMP NOT NULL,
    deleted BOOLEAN NOT NULL,
    content TEXT,
    status TEXT,
    intent TEXT,
    medication_code TEXT,
    subject_ref TEXT,
    patient_id TEXT,
    encounter_ref TEXT,
    authored_on_start TIMESTAMP,
    authored_on_end TIMESTAMP,
    requester_ref TEXT,
    prescription_id TEXT,
    dosage_text TEXT,
    dispense_quantity DOUBLE,
    dispense_unit TEXT
);
CREATE INDEX medication_request_live ON medication_request (id) WHERE NOT deleted;
CREATE INDEX medication_request_patient ON medication_request (patient_id, authored_on_start);
CREATE INDEX medication_request_subject ON medication_request (subject_ref, authored_on_start);
CREATE INDEX medication_request_encounter ON medication_request (encounter_ref);
CREATE INDEX medication_request_prescription ON medication_request (prescription_id);
