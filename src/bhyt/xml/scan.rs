//! The usual table file, read without an XML reader.
//!
//! Hospital systems write their tables alike: a declaration, the table's elements in their
//! nesting, values as text, CDATA or with the predefined entities. This scanner reads exactly
//! that shape, several times faster than going through quick-xml events. At anything else
//! (comments, attributes below the root, character references, a signature, stray text, any
//! malformed markup) it gives up and the file is read by [`super::Parser`], which also words
//! the errors; so both always build the same records and layout.

use quick_xml::escape::resolve_predefined_entity;

use super::{find, is_utf8_label, Built, Layout, Parsed, Record, Slot, Span, Value};
use crate::bhyt::spec::{same, TableSpec};

/// Records, layout and built values of `text`, or `None` when it is not the usual shape.
pub(super) fn document(spec: &'static TableSpec, text: &str) -> Option<Parsed> {
    let mut scan = Scan {
        spec,
        text,
        src: text.as_bytes(),
        pos: 0,
        built: Vec::new(),
    };
    let (records, layout) = scan.document()?;
    Some((records, layout, scan.built))
}

struct Scan<'s> {
    spec: &'static TableSpec,
    text: &'s str,
    src: &'s [u8],
    pos: usize,
    built: Built,
}

/// Whitespace inside a tag, as quick-xml reads it.
fn tag_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The position of the first `<` or `&` in `bytes`, eight bytes at a time: a byte equal
/// to one of them turns a lane of `word ^ pattern` to zero, and the lowest zero lane found
/// by the borrow trick is exact.
fn markup(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let zero_lanes = |w: u64| w.wrapping_sub(ONES) & !w & (ONES << 7);
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = chunk.try_into().map(u64::from_le_bytes).ok()?;
        let hits = zero_lanes(word ^ (ONES * u64::from(b'<')))
            | zero_lanes(word ^ (ONES * u64::from(b'&')));
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let tail = bytes[at..].iter().position(|&b| b == b'<' || b == b'&')?;
    Some(at + tail)
}

impl Scan<'_> {
    fn rest(&self) -> &[u8] {
        &self.src[self.pos..]
    }

    fn eat(&mut self, literal: &[u8]) -> bool {
        let found = self.rest().starts_with(literal);
        if found {
            self.pos += literal.len();
        }
        found
    }

    /// Whether `name` stands at `at`.
    fn name_at(&self, at: usize, name: &[u8]) -> bool {
        self.src
            .get(at..at + name.len())
            .is_some_and(|found| same(found, name))
    }

    /// `<name>` (`end`: `</name>`) exactly, consumed only when it is there.
    fn tag(&mut self, end: bool, name: &str) -> bool {
        let p = self.pos;
        let opens = if end {
            self.src.get(p..p + 2) == Some(&b"</"[..])
        } else {
            self.src.get(p) == Some(&b'<')
        };
        let at = p + 1 + usize::from(end);
        let found = opens
            && self.name_at(at, name.as_bytes())
            && self.src.get(at + name.len()) == Some(&b'>');
        if found {
            self.pos = at + name.len() + 1;
        }
        found
    }

    /// The whitespace up to the next markup, as the reader skips it between elements.
    fn ws(&mut self) -> Span {
        let start = self.pos;
        let rest = self.rest();
        self.pos += rest
            .iter()
            .position(|&b| b > b' ' || !b.is_ascii_whitespace())
            .unwrap_or(rest.len());
        Span::new(start, self.pos)
    }

    fn document(&mut self) -> Option<(Vec<Record>, Layout)> {
        let spec = self.spec;
        self.ws();
        if self.rest().starts_with(b"<?xml") {
            self.declaration()?;
            self.ws();
        }
        let mut layout = Layout {
            prolog: Span::new(0, self.pos),
            ..Layout::default()
        };
        if !(self.eat(b"<") && self.eat(spec.root.as_bytes())) {
            return None;
        }
        let attributes = self.pos;
        if tag_space(*self.src.get(self.pos)?) {
            self.attributes()?;
        }
        layout.root_attrs = Span::new(attributes, self.pos);
        if !self.eat(b">") {
            return None;
        }
        let mut records = Vec::new();
        match spec.list {
            None => records.push(self.record(0, Span::default(), spec.root)?),
            Some((list, record)) => {
                layout.ws_list_open = self.ws();
                if !self.tag(false, list) {
                    return None;
                }
                loop {
                    let ws = self.ws();
                    if self.tag(true, list) {
                        layout.ws_list_close = ws;
                        break;
                    }
                    if !self.tag(false, record) {
                        return None;
                    }
                    records.push(self.record(records.len(), ws, record)?);
                }
                layout.ws_root_close = self.ws();
                if !self.tag(true, spec.root) {
                    return None;
                }
            }
        }
        layout.epilog = Span::new(self.pos, self.src.len());
        self.ws();
        (self.pos == self.src.len()).then_some((records, layout))
    }

    /// `<?xml …?>`; every `encoding` in it must name UTF-8 (else the reader's error).
    fn declaration(&mut self) -> Option<()> {
        let body = &self.rest()[5..];
        if !tag_space(*body.first()?) {
            return None;
        }
        let end = find(body, b"?>")?;
        let mut declaration = &body[..end];
        while let Some(at) = find(declaration, b"encoding") {
            let value = declaration[at + 8..].trim_ascii_start();
            let value = value.strip_prefix(b"=")?.trim_ascii_start();
            let (&quote, value) = value.split_first()?;
            let close = value.iter().position(|&b| b == quote)?;
            if !matches!(quote, b'"' | b'\'') || !is_utf8_label(&value[..close]) {
                return None;
            }
            declaration = &value[close..];
        }
        self.pos += 5 + end + 2;
        Some(())
    }

    /// Root attributes (the namespaces) up to its `>`, quotes respected; an empty root
    /// (`/>`) is the reader's error.
    fn attributes(&mut self) -> Option<()> {
        let mut quote = None;
        while let Some(&b) = self.src.get(self.pos) {
            match (quote, b) {
                (None, b'"' | b'\'') => quote = Some(b),
                (Some(q), _) if b == q => quote = None,
                (None, b'>') => return (self.src[self.pos - 1] != b'/').then_some(()),
                (None, b'<') => return None,
                _ => {}
            }
            self.pos += 1;
        }
        None
    }

    /// The fields of record `index` up to `</element>`.
    fn record(&mut self, index: usize, ws_open: Span, element: &str) -> Option<Record> {
        let spec = self.spec;
        let mut record = Record::empty(spec, ws_open, Span::default());
        loop {
            let ws = self.ws();
            if self.src.get(self.pos + 1) == Some(&b'/') {
                if !self.tag(true, element) {
                    return None;
                }
                record.ws_close = ws;
                return Some(record);
            }
            if self.src.get(self.pos) != Some(&b'<') {
                return None;
            }
            self.pos += 1;
            let start = self.pos;
            // Usually the field after the previous one: one comparison, no name lookup.
            let next = record.next_field();
            let expected = spec.fields.get(next).map(|f| f.name.as_bytes());
            let field = match expected {
                Some(name)
                    if self.name_at(start, name)
                        && matches!(self.src.get(start + name.len()), Some(b'>' | b'/')) =>
                {
                    self.pos += name.len();
                    Some(next as u16)
                }
                _ => {
                    let length = self
                        .rest()
                        .iter()
                        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))?;
                    self.pos += length;
                    let name = self.text.get(start..self.pos).filter(|n| !n.is_empty())?;
                    spec.field_index(name).map(|i| i as u16)
                }
            };
            let name = Span::new(start, self.pos);
            let (raw, value) = if self.eat(b"/>") {
                (None, Span::new(self.pos, self.pos))
            } else if self.eat(b">") {
                let (raw, value) = self.content(name, index, record.slots.len())?;
                (Some(raw), value)
            } else {
                return None;
            };
            record.push_read(Slot {
                field,
                name,
                ws,
                raw,
                value,
            });
        }
    }

    /// A field's content up to `</name>`: text, CDATA sections and the five predefined
    /// entities. Returns the raw and value spans.
    fn content(&mut self, name: Span, record: usize, slot: usize) -> Option<(Span, Span)> {
        let start = self.pos;
        let name = name.of(self.text);
        let mut value = Value::default();
        loop {
            let text = markup(self.rest())?;
            let part = Span::new(self.pos, self.pos + text);
            self.pos += text;
            if self.src[self.pos] == b'<' && self.tag(true, name) {
                let end = part.end as usize;
                // The usual value: one text part, which is the raw content too.
                if text > 0 && value.is_empty() {
                    return Some((part, part));
                }
                if text > 0 {
                    value.part(part, self.text);
                }
                let value = value.finish(start, &mut self.built, record, slot);
                return Some((Span::new(start, end), value));
            }
            if text > 0 {
                value.part(part, self.text);
            }
            if self.src[self.pos] == b'&' {
                let length = self.rest().iter().take(8).position(|&b| b == b';')?;
                let entity = self.text.get(self.pos + 1..self.pos + length)?;
                value.resolved(resolve_predefined_entity(entity)?, self.text);
                self.pos += length + 1;
            } else if self.eat(b"<![CDATA[") {
                let length = find(self.rest(), b"]]>")?;
                value.part(Span::new(self.pos, self.pos + length), self.text);
                self.pos += length + 3;
            } else {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn word_helpers_agree_with_plain_loops(
            a in proptest::collection::vec(proptest::sample::select(b"<&;aZ \x80\xff".to_vec()), 0..40),
            flip: usize,
        ) {
            let plain = a.iter().position(|&c| c == b'<' || c == b'&');
            proptest::prop_assert_eq!(markup(&a), plain);
            proptest::prop_assert!(same(&a, &a.clone()));
            if !a.is_empty() {
                let mut b = a.clone();
                b[flip % a.len()] ^= 1;
                proptest::prop_assert!(!same(&a, &b));
                proptest::prop_assert!(!same(&a, &a[1..]));
            }
        }
    }
}
