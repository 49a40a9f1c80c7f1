//! `vnfhir validate FILE… [--profile URL]`.
