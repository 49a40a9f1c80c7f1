//! Validation of resources against StructureDefinitions: the base R4 definitions and the VN
//! Core profiles.

pub mod fhirpath;
