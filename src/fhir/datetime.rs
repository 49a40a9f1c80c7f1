//! FHIR date, dateTime and instant values as UTC ranges.
//!
//! A partial value covers a range (`1980` is the whole year). Values without a zone (dates,
//! partial dateTimes) are read in Vietnam's time zone, UTC+07:00, where the data is recorded.

use chrono::{
    DateTime, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc,
};

/// How much of a date a value gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Year,
    Month,
    Day,
    Time,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Year => "year",
            Precision::Month => "month",
            Precision::Day => "day",
            Precision::Time => "time",
        }
    }
}

/// The calendar days a FHIR `date` covers, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateSpan {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub precision: Precision,
}

/// The UTC instants a FHIR `dateTime` covers, both ends inclusive (millisecond resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstantSpan {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub precision: Precision,
}

fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<DateSpan> {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, len: usize| -> Option<u32> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let year = number(parts.first()?, 4)? as i32;
    match parts.len() {
        1 => Some(DateSpan {
            first: NaiveDate::from_ymd_opt(year, 1, 1)?,
            last: NaiveDate::from_ymd_opt(year, 12, 31)?,
            precision: Precision::Year,
        }),
        2 => {
            let first = NaiveDate::from_ymd_opt(year, number(parts[1], 2)?, 1)?;
            let last = first.checked_add_months(Months::new(1))?.pred_opt()?;
            Some(DateSpan {
                first,
                last,
                precision: Precision::Month,
            })
        }
        3 => {
            let day = NaiveDate::from_ymd_opt(year, number(parts[1], 2)?, number(parts[2], 2)?)?;
            Some(DateSpan {
                first: day,
                last: day,
                precision: Precision::Day,
            })
        }
        _ => None,
    }
}

/// Parses a FHIR `dateTime` or `instant` into the UTC range it covers.
pub fn parse_date_time(text: &str) -> Option<InstantSpan> {
    let Some((date_part, _)) = text.split_once('T') else {
        let span = parse_date(text)?;
        let start = local_midnight(span.first)?;
        let end = local_midnight(span.last.succ_opt()?)? - Duration::milliseconds(1);
        return Some(InstantSpan {
            start,
            end,
            precision: span.precision,
        });
    };
    let parsed = DateTime::parse_from_rfc3339(text).ok()?;
    // RFC 3339 accepts lower-case and space separators that FHIR does not.
    if date_part.len() != 10 {
        return None;
    }
    let start = parsed.with_timezone(&Utc).naive_utc();
    let has_fraction = text.contains('.');
    let end = if has_fraction {
        start
    } else {
        start + Duration::milliseconds(999)
    };
    Some(InstantSpan {
        start,
        end,
        precision: Precision::Time,
    })
}

fn local_midnight(day: NaiveDate) -> Option<NaiveDateTime> {
    let local = day.and_time(NaiveTime::MIN);
    Some(
        vietnam()
            .from_local_datetime(&local)
            .single()?
            .with_timezone(&Utc)
            .naive_utc(),
    )
}

/// `meta.lastUpdated` form: UTC with milliseconds.
pub fn format_instant(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `Last-Modified` form (RFC 7231 IMF-fixdate).
pub fn format_http_date(at: NaiveDateTime) -> String {
    at.and_utc().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The current time, truncated to what both databases keep (milliseconds).
pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    let millis = now.and_utc().timestamp_subsec_millis();
    now.with_nanosecond(millis * 1_000_000).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.3f").unwrap()
    }

    #[test]
    fn partial_dates_cover_their_range() {
        let year = parse_date("1980").unwrap();
        assert_eq!(year.first.to_string(), "1980-01-01");
        assert_eq!(year.last.to_string(), "1980-12-31");
        assert_eq!(year.precision, Precision::Year);
        let month = parse_date("2024-02").unwrap();
        assert_eq!(month.last.to_string(), "2024-02-29");
        assert_eq!(month.precision, Precision::Month);
        let day = parse_date("2023-12-31").unwrap();
        assert_eq!((day.first, day.last), (day.first, day.first));
    }

    #[test]
    fn bad_dates_are_rejected() {
        for bad in [
            "1980-13-01",
            "1980-02-30",
            "80",
            "1980-1-01",
            "1980-01-01-01",
            "abcd",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        assert!(parse_date_time("2024-05-01t10:00:00Z").is_none());
        assert!(parse_date_time("2024-05-01T25:00:00Z").is_none());
    }

    #[test]
    fn date_times_are_utc_ranges_read_in_vietnam_time() {
        let day = parse_date_time("2024-05-01").unwrap();
        assert_eq!(day.start, utc("2024-04-30 17:00:00.000"));
        assert_eq!(day.end, utc("2024-05-01 16:59:59.999"));
        let exact = parse_date_time("2024-05-01T10:30:00+07:00").unwrap();
        assert_eq!(exact.start, utc("2024-05-01 03:30:00.000"));
        assert_eq!(exact.end, utc("2024-05-01 03:30:00.999"));
        assert_eq!(exact.precision, Precision::Time);
        let fraction = parse_date_time("2024-05-01T03:30:00.250Z").unwrap();
        assert_eq!(fraction.start, fraction.end);
    }

    #[test]
    fn formats_instants_and_http_dates() {
        let at = utc("2026-11-23 01:02:03.456");
        assert_eq!(format_instant(at), "2026-11-23T01:02:03.456Z");
        assert_eq!(format_http_date(at), "Mon, 23 Nov 2026 01:02:03 GMT");
    }
}
