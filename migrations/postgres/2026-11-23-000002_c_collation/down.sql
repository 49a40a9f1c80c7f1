ALTER TABLE medication_request
    ALTER COLUMN id TYPE TEXT COLLATE "default",
    ALTER COLUMN status TYPE TEXT COLLATE "default",
    ALTER COLUMN intent TYPE TEXT COLLATE "default",
    ALTER COLUMN medication_code TYPE TEXT COLLATE "default",
    ALTER COLUMN subject_ref TYPE TEXT COLLATE "default",
    ALTER COLUMN patient_id TYPE TEXT COLLATE "default",
    ALTER COLUMN encounter_ref TYPE TEXT COLLATE "default",
    ALTER COLUMN requester_ref TYPE TEXT COLLATE "default",
    ALTER COLUMN prescription_id TYPE TEXT COLLATE "default",
    ALTER COLUMN dosage_text TYPE TEXT COLLATE "default",
    ALTER COLUMN dispense_unit TYPE TEXT COLLATE "default";
ALTER TABLE immunization
    ALTER COLUMN id TYPE TEXT COLLATE "default",
    ALTER COLUMN status TYPE TEXT COLLATE "default",
    ALTER COLUMN vaccine_code TYPE TEXT COLLATE "default",
    ALTER COLUMN patient_ref TYPE TEXT COLLATE "default",
    ALTER COLUMN patient_id TYPE TEXT COLLATE "default",
    ALTER COLUMN encounter_ref TYPE TEXT COLLATE "default",
    ALTER COLUMN lot_number TYPE TEXT COLLATE "default",
    ALTER COLUMN dose_number TYPE TEXT COLLATE "default",
    ALTER COLUMN performer_ref TYPE TEXT COLLATE "default";
ALTER TABLE encounter_diagnosis
    ALTER COLUMN encounter_id TYPE TEXT COLLATE "default",
    ALTER COLUMN condition_ref TYPE TEXT COLLATE "default",
    ALTER COLUMN icd_code TYPE TEXT COLLATE "default",
    ALTER COLUMN use_code TYPE TEXT COLLATE "default";
ALTER TABLE encounter
    ALTER COLUMN id TYPE TEXT COLLATE "default",
    ALTER COLUMN ma_lk TYPE TEXT COLLATE "default",
    ALTER COLUMN status TYPE TEXT COLLATE "default",
    ALTER COLUMN class_code TYPE TEXT COLLATE "default",
    ALTER COLUMN ma_loai_kcb TYPE TEXT COLLATE "default",
    ALTER COLUMN subject_ref TYPE TEXT COLLATE "default",
    ALTER COLUMN patient_id TYPE TEXT COLLATE "default",
    ALTER COLUMN facility_code TYPE TEXT COLLATE "default",
    ALTER COLUMN department_code TYPE TEXT COLLATE "default",
    ALTER COLUMN main_icd TYPE TEXT COLLATE "default",
    ALTER COLUMN discharge_disposition TYPE TEXT COLLATE "default",
    ALTER COLUMN outcome_code TYPE TEXT COLLATE "default",
    ALTER COLUMN length_unit TYPE TEXT COLLATE "default";
ALTER TABLE patient_telecom
    ALTER COLUMN patient_id TYPE TEXT COLLATE "default",
    ALTER COLUMN system TYPE TEXT COLLATE "default",
    ALTER COLUMN value TYPE TEXT COLLATE "default",
    ALTER COLUMN use_code TYPE TEXT COLLATE "default";
ALTER TABLE patient_address
    ALTER COLUMN patient_id TYPE TEXT COLLATE "default",
    ALTER COLUMN use_code TYPE TEXT COLLATE "default",
    ALTER COLUMN text TYPE TEXT COLLATE "default",
    ALTER COLUMN line TYPE TEXT COLLATE "default",
    ALTER COLUMN district TYPE TEXT COLLATE "default",
    ALTER COLUMN city TYPE TEXT COLLATE "default",
    ALTER COLUMN country TYPE TEXT COLLATE "default",
    ALTER COLUMN province_code TYPE TEXT COLLATE "default",
    ALTER COLUMN district_code TYPE TEXT COLLATE "default",
    ALTER COLUMN ward_code TYPE TEXT COLLATE "default";
ALTER TABLE patient_name
    ALTER COLUMN patient_id TYPE TEXT COLLATE "default",
    ALTER COLUMN use_code TYPE TEXT COLLATE "default",
    ALTER COLUMN text TYPE TEXT COLLATE "default",
    ALTER COLUMN family TYPE TEXT COLLATE "default",
    ALTER COLUMN given TYPE TEXT COLLATE "default",
    ALTER COLUMN search TYPE TEXT COLLATE "default";
ALTER TABLE patient
    ALTER COLUMN id TYPE TEXT COLLATE "default",
    ALTER COLUMN gender TYPE TEXT COLLATE "default",
    ALTER COLUMN birth_date_precision TYPE TEXT COLLATE "default",
    ALTER COLUMN cccd TYPE TEXT COLLATE "default",
    ALTER COLUMN bhyt_card TYPE TEXT COLLATE "default",
    ALTER COLUMN bhxh_number TYPE TEXT COLLATE "default",
    ALTER COLUMN ethnicity_code TYPE TEXT COLLATE "default",
    ALTER COLUMN nationality_code TYPE TEXT COLLATE "default";
ALTER TABLE resource_reference
    ALTER COLUMN resource_type TYPE TEXT COLLATE "default",
    ALTER COLUMN resource_id TYPE TEXT COLLATE "default",
    ALTER COLUMN param TYPE TEXT COLLATE "default",
    ALTER COLUMN target TYPE TEXT COLLATE "default";
ALTER TABLE resource_string
    ALTER COLUMN resource_type TYPE TEXT COLLATE "default",
    ALTER COLUMN resource_id TYPE TEXT COLLATE "default",
    ALTER COLUMN param TYPE TEXT COLLATE "default",
    ALTER COLUMN token TYPE TEXT COLLATE "default",
    ALTER COLUMN exact TYPE TEXT COLLATE "default";
ALTER TABLE resource_coding
    ALTER COLUMN resource_type TYPE TEXT COLLATE "default",
    ALTER COLUMN resource_id TYPE TEXT COLLATE "default",
    ALTER COLUMN param TYPE TEXT COLLATE "default",
    ALTER COLUMN system TYPE TEXT COLLATE "default",
    ALTER COLUMN code TYPE TEXT COLLATE "default",
    ALTER COLUMN display TYPE TEXT COLLATE "default",
    ALTER COLUMN text TYPE TEXT COLLATE "default";
ALTER TABLE resource_identifier
    ALTER COLUMN resource_type TYPE TEXT COLLATE "default",
    ALTER COLUMN resource_id TYPE TEXT COLLATE "default",
    ALTER COLUMN system TYPE TEXT COLLATE "default",
    ALTER COLUMN value TYPE TEXT COLLATE "default",
    ALTER COLUMN type_system TYPE TEXT COLLATE "default",
    ALTER COLUMN type_code TYPE TEXT COLLATE "default";
ALTER TABLE resource_history
    ALTER COLUMN resource_type TYPE TEXT COLLATE "default",
    ALTER COLUMN id TYPE TEXT COLLATE "default",
    ALTER COLUMN method TYPE TEXT COLLATE "default";
