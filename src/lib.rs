//! vnfhir: a FHIR R4 (4.0.1) server for Vietnamese health-data exchange.
//!
//! Data flows one way through a request: [`rest`] parses and negotiates, [`fhir`] checks the
//! resource (JSON syntax, the official R4 JSON schema, the fhir-sdk R4B model), and [`store`]
//! writes history and the relational projection in one database transaction. Reads return
//! the stored JSON as it was written.
//!
//! - [`fhir`]: parsing and structural checks, FHIR dates, Vietnamese text folding,
//!   OperationOutcome.
//! - [`store`]: diesel over SQLite or PostgreSQL (one `MultiConnection` code path), the
//!   history table, and one projection module per resource type.
//! - [`search`]: the search parameter registry (official R4 definitions), query parsing,
//!   SQL over the projection's indexed columns and child tables, paging and includes.
//! - [`rest`]: the actix-web application and the CapabilityStatement.
//! - [`bench`]: the HTTP load tool behind `vnfhir bench`.
//! - [`bhyt`]: BHYT claim XML (QĐ 130/4750, QĐ 4210): tables, envelope, checker.
//! - [`validation`]: the StructureDefinition-driven profile engine (R4 and VN Core profiles).

pub mod bench;
pub mod bhyt;
pub mod config;
pub mod fhir;
pub mod rest;
pub mod search;
pub mod store;
pub mod validation;
