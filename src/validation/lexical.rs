//! The R4 regexes of the common primitive types, by hand: every primitive value of every
//! resource is checked, and a regex search costs several times a pass over the bytes.
//!
//! Each check accepts exactly the language of its regex (the tests compare them on edge
//! cases and generated strings), and is used only when the definition carries that very
//! regex; any other pattern stays a regex.

/// The hand-written check for a primitive type's regex, when there is one.
pub fn check(type_name: &str, pattern: &str) -> Option<fn(&str) -> bool> {
    let (expected, check): (&str, fn(&str) -> bool) = match type_name {
        "string" | "markdown" => (r"[ \r\n\t\S]+", string),
        "code" => (r"[^\s]+(\s[^\s]+)*", code),
        "uri" | "url" | "canonical" => (r"\S*", uri),
        "id" => (r"[A-Za-z0-9\-\.]{1,64}", id),
        "boolean" => ("true|false", |t| t == "true" || t == "false"),
        "integer" => ("-?([0]|([1-9][0-9]*))", integer),
        "positiveInt" => ("[1-9][0-9]*", positive_int),
        "unsignedInt" => ("[0]|([1-9][0-9]*)", unsigned_int),
        "decimal" => (r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", decimal),
        "date" => (DATE, date),
        "dateTime" => (DATE_TIME, date_time),
        "instant" => (INSTANT, instant),
        "time" => (
            r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?",
            time,
        ),
        _ => return None,
    };
    (pattern == expected).then_some(check)
}

const DATE: &str = "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?";
const DATE_TIME: &str = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?";
const INSTANT: &str = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";

/// `\s` of the regex crate is Unicode's White_Space, as is `char::is_whitespace`.
fn string(text: &str) -> bool {
    let allowed = |c: char| matches!(c, ' ' | '\r' | '\n' | '\t') || !c.is_whitespace();
    !text.is_empty() && (visible_ascii(text, true) || text.chars().all(allowed))
}

/// Visible ASCII (and spaces, if allowed) only, checked without decoding chars: such text
/// has no other whitespace.
fn visible_ascii(text: &str, spaces: bool) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_graphic() || (spaces && b == b' '))
}

/// Words of non-space characters separated by single whitespace characters.
fn code(text: &str) -> bool {
    let mut previous_space = true;
    for c in text.chars() {
        let space = c.is_whitespace();
        if space && previous_space {
            return false;
        }
        previous_space = space;
    }
    !previous_space
}

fn uri(text: &str) -> bool {
    visible_ascii(text, false) || !text.chars().any(char::is_whitespace)
}

fn id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn digits(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_digit)
}

/// `0` or digits without a leading zero.
fn natural(bytes: &[u8]) -> bool {
    matches!(bytes, [b'0'] | [b'1'..=b'9', ..]) && digits(bytes)
}

fn integer(text: &str) -> bool {
    let bytes = text.as_bytes();
    natural(bytes.strip_prefix(b"-").unwrap_or(bytes))
}

fn positive_int(text: &str) -> bool {
    natural(text.as_bytes()) && text != "0"
}

fn unsigned_int(text: &str) -> bool {
    natural(text.as_bytes())
}

fn decimal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let bytes = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let (mantissa, exponent) = match bytes.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
        None => (bytes, None),
    };
    let (whole, fraction) = match mantissa.iter().position(|&b| b == b'.') {
        Some(at) => (&mantissa[..at], Some(&mantissa[at + 1..])),
        None => (mantissa, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(b"+").or(e.strip_prefix(b"-")).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    natural(whole) && fraction.is_none_or(|f| !f.is_empty() && digits(f)) && exponent_ok
}

/// Two digits from `00` to `max`.
fn two_digits(bytes: &[u8], min: u8, max: u8) -> bool {
    match bytes {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            (min..=max).contains(&((a - b'0') * 10 + (b - b'0')))
        }
        _ => false,
    }
}

/// `YYYY` (not `0000`), `YYYY-MM` or `YYYY-MM-DD`, the day of month up to 31.
fn date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let year_ok = bytes.len() >= 4 && digits(&bytes[..4]) && &bytes[..4] != b"0000";
    year_ok
        && match bytes.len() {
            4 => true,
            7 => bytes[4] == b'-' && two_digits(&bytes[5..7], 1, 12),
            10 => {
                bytes[4] == b'-'
                    && two_digits(&bytes[5..7], 1, 12)
                    && bytes[7] == b'-'
                    && two_digits(&bytes[8..10], 1, 31)
            }
            _ => false,
        }
}

/// `hh:mm:ss` with an optional fraction.
fn time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 8
        && two_digits(&bytes[0..2], 0, 23)
        && bytes[2] == b':'
        && two_digits(&bytes[3..5], 0, 59)
        && bytes[5] == b':'
        && two_digits(&bytes[6..8], 0, 60)
        && match &bytes[8..] {
            [] => true,
            [b'.', fraction @ ..] => !fraction.is_empty() && digits(fraction),
            _ => false,
        }
}

/// A full date, `T`, a time and a zone (`Z`, or `±hh:mm` up to `14:00`).
fn instant(text: &str) -> bool {
    let Some((day, rest)) = text.split_at_checked(10) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('T') else {
        return false;
    };
    let (clock, zone) = match rest.strip_suffix('Z') {
        Some(clock) => (clock, None),
        None => match rest
            .len()
            .checked_sub(6)
            .and_then(|at| rest.split_at_checked(at))
        {
            Some((clock, zone)) => (clock, Some(zone.as_bytes())),
            None => return false,
        },
    };
    let zone_ok = zone.is_none_or(|zone| match zone {
        [b'+' | b'-', hh @ .., b':', m1, m2] if hh.len() == 2 => {
            (two_digits(hh, 0, 13) && two_digits(&[*m1, *m2], 0, 59)) || zone[1..] == *b"14:00"
        }
        _ => false,
    });
    date(day) && time(clock) && zone_ok
}

fn date_time(text: &str) -> bool {
    if text.len() <= 10 {
        date(text)
    } else {
        instant(text)
    }
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;

    /// A small generator, so the comparison is the same on every run.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    /// Strings near each type's edge: the type's own pieces mixed, mutated and cut.
    fn samples(seeds: &[&str], alphabet: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
        let mut rng = Lcg(42);
        for seed in seeds {
            let chars: Vec<char> = seed.chars().collect();
            for at in 0..=chars.len() {
                out.push(chars[..at].iter().collect());
                out.push(chars[at..].iter().collect());
                for piece in alphabet {
                    let mut changed: String = chars[..at].iter().collect();
                    changed.push_str(piece);
                    changed.extend(chars.get(at + 1..).into_iter().flatten());
                    out.push(changed.clone());
                    let mut inserted: String = chars[..at].iter().collect();
                    inserted.push_str(piece);
                    inserted.extend(&chars[at..]);
                    out.push(inserted);
                }
            }
        }
        for _ in 0..20_000 {
            let length = rng.below(30);
            out.push(
                (0..length)
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect(),
            );
        }
        out
    }

    fn agree(type_name: &str, pattern: &str, seeds: &[&str], alphabet: &[&str]) {
        let regex = Regex::new(&format!("^(?:{pattern})$")).unwrap();
        let check = check(type_name, pattern).unwrap();
        for sample in samples(seeds, alphabet) {
            assert_eq!(
                check(&sample),
                regex.is_match(&sample),
                "{type_name} on {sample:?}"
            );
        }
    }

    const SPACES: &[&str] = &[
        " ", "\t", "\n", "\r", "\u{a0}", "\u{2003}", "\u{3000}", "\u{b}", "\u{c}", "\u{85}",
        "\u{2028}", "\u{200b}", "\u{feff}",
    ];

    /// Whitespace as the regex crate and as `char::is_whitespace` see it, over every char.
    #[test]
    fn whitespace_is_the_same_for_every_char() {
        let regex = Regex::new(r"^\s$").unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(
                c.is_whitespace(),
                regex.is_match(c.encode_utf8(&mut [0; 4])),
                "{c:?}"
            );
        }
    }

    #[test]
    fn text_types_agree_with_their_regexes() {
        let mut alphabet = vec!["a", "Z", "0", "-", ".", "ệ", "_", "/", ":", "€"];
        alphabet.extend(SPACES);
        let seeds = [
            "Nguyễn Văn A",
            " lead",
            "trail ",
            "two  spaces",
            "tab\tsep",
            "line\r\nbreak",
            "",
            "x",
            "vn-p-12.3",
            &"a".repeat(64),
            &"a".repeat(65),
            "http://example.org/a b",
        ];
        for (type_name, pattern) in [
            ("string", r"[ \r\n\t\S]+"),
            ("code", r"[^\s]+(\s[^\s]+)*"),
            ("uri", r"\S*"),
            ("id", r"[A-Za-z0-9\-\.]{1,64}"),
            ("boolean", "true|false"),
        ] {
            agree(type_name, pattern, &seeds, &alphabet);
        }
        agree(
            "boolean",
            "true|false",
            &["true", "false", "True"],
            &["t", "e"],
        );
    }

    #[test]
    fn number_types_agree_with_their_regexes() {
        let alphabet = ["0", "1", "9", "-", "+", ".", "e", "E", " ", "a"];
        let seeds = [
            "0",
            "-0",
            "00",
            "01",
            "10",
            "-12",
            "3.14",
            "0.5",
            "1e10",
            "1E-5",
            "1.5e+3",
            ".5",
            "5.",
            "1e",
            "--1",
            "",
            "2147483648",
        ];
        for (type_name, pattern) in [
            ("integer", "-?([0]|([1-9][0-9]*))"),
            ("positiveInt", "[1-9][0-9]*"),
            ("unsignedInt", "[0]|([1-9][0-9]*)"),
            ("decimal", r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"),
        ] {
            agree(type_name, pattern, &seeds, &alphabet);
        }
    }

    #[test]
    fn date_and_time_types_agree_with_their_regexes() {
        let alphabet = [
            "0", "1", "2", "3", "4", "5", "6", "9", "-", ":", "T", "Z", "+", ".", " ", "t",
        ];
        let seeds = [
            "2024",
            "0000",
            "0001",
            "1000",
            "2024-02",
            "2024-13",
            "2024-00",
            "2024-02-30",
            "2024-02-31",
            "2024-02-32",
            "2024-12-00",
            "2024-06-01T08:00:00+07:00",
            "2024-06-01T23:59:60Z",
            "2024-06-01T24:00:00Z",
            "2024-06-01T08:00:00.123-14:00",
            "2024-06-01T08:00:00+14:00",
            "2024-06-01T08:00:00+14:01",
            "2024-06-01T08:00:00+13:59",
            "2024-06-01T08:00:00",
            "2024-06-01T08:00Z",
            "2024-06-01T08:00:00.Z",
            "2024-06-01T08:00:00+0700",
            "08:00:00",
            "23:59:60.5",
            "24:00:00",
            "8:00:00",
        ];
        for (type_name, pattern) in [
            ("date", DATE),
            ("dateTime", DATE_TIME),
            ("instant", INSTANT),
            (
                "time",
                r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?",
            ),
        ] {
            agree(type_name, pattern, &seeds, &alphabet);
        }
    }

    /// Each check is used for the regex the vendored R4 definitions carry.
    #[test]
    fn the_r4_definitions_carry_the_regexes_checked_by_hand() {
        let validator = crate::validation::Validator::from_resources(
            crate::validation::definitions::r4().unwrap(),
        )
        .unwrap();
        for type_name in [
            "string",
            "markdown",
            "code",
            "uri",
            "url",
            "canonical",
            "id",
            "boolean",
            "integer",
            "positiveInt",
            "unsignedInt",
            "decimal",
            "date",
            "dateTime",
            "instant",
            "time",
        ] {
            assert!(
                validator.primitives[type_name].lexical.is_some(),
                "{type_name}"
            );
        }
    }
}
