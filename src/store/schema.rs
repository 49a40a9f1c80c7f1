//! Diesel table definitions; the SQL lives in `migrations/{postgres,sqlite}`.

diesel::table! {
    resource_history (seq) {
        seq -> BigInt,
        resource_type -> Text,
        id -> Text,
        version_id -> BigInt,
        last_updated -> Timestamp,
        method -> Text,
        content -> Nullable<Text>,
    }
}

diesel::table! {
    resource_identifier (resource_type, resource_id, ord) {
        resource_type -> Text,
        resource_id -> Text,
        ord -> Integer,
        system -> Nullable<Text>,
        value -> Nullable<Text>,
        type_system -> Nullable<Text>,
        type_code -> Nullable<Text>,
        period_start -> Nullable<Timestamp>,
        period_end -> Nullable<Timestamp>,
    }
}

diesel::table! {
    resource_coding (resource_type, resource_id, param, ord) {
        resource_type -> Text,
        resource_id -> Text,
        param -> Text,
        ord -> Integer,
        system -> Nullable<Text>,
        code -> Nullable<Text>,
        display -> Nullable<Text>,
        text -> Nullable<Text>,
    }
}

diesel::table! {
    resource_string (resource_type, resource_id, param, ord) {
        resource_type -> Text,
        resource_id -> Text,
        param -> Text,
        ord -> Integer,
        token -> Text,
        exact -> Nullable<Text>,
    }
}

diesel::table! {
    resource_reference (resource_type, resource_id, param, ord) {
        resource_type -> Text,
        resource_id -> Text,
        param -> Text,
        ord -> Integer,
        target -> Text,
    }
}

diesel::table! {
    patient (id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> Timestamp,
        deleted -> Bool,
        content -> Nullable<Text>,
        active -> Nullable<Bool>,
        gender -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        birth_date_end -> Nullable<Date>,
        birth_date_precision -> Nullable<Text>,
        deceased -> Nullable<Bool>,
        deceased_at -> Nullable<Timestamp>,
        cccd -> Nullable<Text>,
        bhyt_card -> Nullable<Text>,
        bhxh_number -> Nullable<Text>,
        ethnicity_code -> Nullable<Text>,
        nationality_code -> Nullable<Text>,
    }
}

diesel::table! {
    patient_name (patient_id, ord) {
        patient_id -> Text,
        ord -> Integer,
        use_code -> Nullable<Text>,
        text -> Nullable<Text>,
        family -> Nullable<Text>,
        given -> Nullable<Text>,
        search -> Text,
    }
}

diesel::table! {
    patient_address (patient_id, ord) {
        patient_id -> Text,
        ord -> Integer,
        use_code -> Nullable<Text>,
        text -> Nullable<Text>,
        line -> Nullable<Text>,
        district -> Nullable<Text>,
        city -> Nullable<Text>,
        country -> Nullable<Text>,
        province_code -> Nullable<Text>,
        district_code -> Nullable<Text>,
        ward_code -> Nullable<Text>,
    }
}

diesel::table! {
    patient_telecom (patient_id, ord) {
        patient_id -> Text,
        ord -> Integer,
        system -> Nullable<Text>,
        value -> Nullable<Text>,
        use_code -> Nullable<Text>,
    }
}

diesel::table! {
    encounter (id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> Timestamp,
        deleted -> Bool,
        content -> Nullable<Text>,
        ma_lk -> Nullable<Text>,
        status -> Nullable<Text>,
        class_code -> Nullable<Text>,
        ma_loai_kcb -> Nullable<Text>,
        subject_ref -> Nullable<Text>,
        patient_id -> Nullable<Text>,
        period_start -> Nullable<Timestamp>,
        period_end -> Nullable<Timestamp>,
        facility_code -> Nullable<Text>,
        department_code -> Nullable<Text>,
        main_icd -> Nullable<Text>,
        discharge_disposition -> Nullable<Text>,
        outcome_code -> Nullable<Text>,
        length_value -> Nullable<Double>,
        length_unit -> Nullable<Text>,
    }
}

diesel::table! {
    encounter_diagnosis (encounter_id, ord) {
        encounter_id -> Text,
        ord -> Integer,
        condition_ref -> Nullable<Text>,
        icd_code -> Nullable<Text>,
        use_code -> Nullable<Text>,
        rank -> Nullable<Integer>,
    }
}

diesel::table! {
    immunization (id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> Timestamp,
        deleted -> Bool,
        content -> Nullable<Text>,
        status -> Nullable<Text>,
        vaccine_code -> Nullable<Text>,
        patient_ref -> Nullable<Text>,
        patient_id -> Nullable<Text>,
        encounter_ref -> Nullable<Text>,
        occurrence_start -> Nullable<Timestamp>,
        occurrence_end -> Nullable<Timestamp>,
        lot_number -> Nullable<Text>,
        dose_number -> Nullable<Text>,
        performer_ref -> Nullable<Text>,
    }
}

diesel::table! {
    medication_request (id) {
        id -> Text,
        version_id -> BigInt,
        last_updated -> Timestamp,
        deleted -> Bool,
        content -> Nullable<Text>,
        status -> Nullable<Text>,
        intent -> Nullable<Text>,
        medication_code -> Nullable<Text>,
        subject_ref -> Nullable<Text>,
        patient_id -> Nullable<Text>,
        encounter_ref -> Nullable<Text>,
        authored_on_start -> Nullable<Timestamp>,
        authored_on_end -> Nullable<Timestamp>,
        requester_ref -> Nullable<Text>,
        prescription_id -> Nullable<Text>,
        dosage_text -> Nullable<Text>,
        dispense_quantity -> Nullable<Double>,
        dispense_unit -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    resource_history,
    resource_identifier,
    resource_coding,
    resource_string,
    resource_reference,
    patient,
    patient_name,
    patient_address,
    patient_telecom,
    encounter,
    encounter_diagnosis,
    immunization,
    medication_request,
);
