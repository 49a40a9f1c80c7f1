//! OperationOutcome issues with bilingual text.
//!
//! `details.text` carries the Vietnamese message and `diagnostics` the English one, so a HIS
//! screen can show either without parsing.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

/// One OperationOutcome.issue. `code` is from the FHIR IssueType value set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub code: &'static str,
    pub expression: Option<String>,
    pub vi: String,
    pub en: String,
}

impl Issue {
    pub fn error(code: &'static str, vi: impl Into<String>, en: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Error,
            code,
            expression: None,
            vi: vi.into(),
            en: en.into(),
        }
    }

    pub fn information(vi: impl Into<String>, en: impl Into<String>) -> Issue {
        Issue {
            severity: Severity::Information,
            code: "informational",
            expression: None,
            vi: vi.into(),
            en: en.into(),
        }
    }

    /// The FHIRPath expression of the element at fault.
    pub fn at(mut self, expression: impl Into<String>) -> Issue {
        self.expression = Some(expression.into());
        self
    }

    fn to_json(&self) -> Value {
        let mut issue = json!({
            "severity": self.severity.as_str(),
            "code": self.code,
            "details": { "text": self.vi },
            "diagnostics": self.en,
        });
        if let Some(expression) = &self.expression {
            issue["expression"] = json!([expression]);
        }
        issue
    }
}

pub fn operation_outcome(issues: &[Issue]) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": issues.iter().map(Issue::to_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_carries_both_languages_and_expression() {
        let issue =
            Issue::error("invalid", "Sai ngày sinh", "Bad birth date").at("Patient.birthDate");
        let outcome = operation_outcome(&[issue]);
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert_eq!(outcome["issue"][0]["severity"], "error");
        assert_eq!(outcome["issue"][0]["code"], "invalid");
        assert_eq!(outcome["issue"][0]["details"]["text"], "Sai ngày sinh");
        assert_eq!(outcome["issue"][0]["diagnostics"], "Bad birth date");
        assert_eq!(outcome["issue"][0]["expression"][0], "Patient.birthDate");
    }

    #[test]
    fn information_issue_has_no_expression() {
        let outcome = operation_outcome(&[Issue::information("Đã xóa", "Deleted")]);
        assert_eq!(outcome["issue"][0]["severity"], "information");
        assert!(outcome["issue"][0].get("expression").is_none());
    }
}
