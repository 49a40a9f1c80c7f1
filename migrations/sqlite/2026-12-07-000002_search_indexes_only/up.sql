-- Search finds references, identifiers and names through the shared index tables, so these
-- type-table indexes served no query; every write paid for them. Date-only searches of
-- Immunization and MedicationRequest get the index they lacked.
DROP INDEX patient_cccd;
DROP INDEX patient_bhyt_card;
DROP INDEX patient_name_search;
DROP INDEX patient_address_codes;
DROP INDEX encounter_ma_lk;
DROP INDEX encounter_patient_period;
DROP INDEX encounter_subject_period;
DROP INDEX encounter_facility_period;
DROP INDEX encounter_diagnosis_icd;
DROP INDEX immunization_patient;
DROP INDEX immunization_patient_ref;
DROP INDEX immunization_encounter;
DROP INDEX medication_request_patient;
DROP INDEX medication_request_subject;
DROP INDEX medication_request_encounter;
DROP INDEX medication_request_prescription;
CREATE INDEX immunization_occurrence ON immunization (occurrence_start);
CREATE INDEX medication_request_authored_on ON medication_request (authored_on_start);
