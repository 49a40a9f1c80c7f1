-- Search finds references, identifiers and names through the shared index tables, so these
-- type-table indexes served no query; every write paid for them.
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
-- Date indexes cover the date range and the id of live rows, so a date search (with gender
-- for Patient) finds and orders a page's ids from the index alone.
DROP INDEX patient_birth_date;
DROP INDEX patient_gender_birth_date;
DROP INDEX encounter_period;
CREATE INDEX patient_birth_date ON patient (birth_date, birth_date_end, id) WHERE NOT deleted;
CREATE INDEX patient_gender_birth_date ON patient (gender, birth_date, birth_date_end, id)
    WHERE NOT deleted;
CREATE INDEX encounter_period ON encounter (period_start, period_end, id) WHERE NOT deleted;
CREATE INDEX immunization_occurrence ON immunization (occurrence_start, occurrence_end, id)
    WHERE NOT deleted;
CREATE INDEX medication_request_authored_on
    ON medication_request (authored_on_start, authored_on_end, id) WHERE NOT deleted;
