//! Inner table XML (the content of NOIDUNGFILE, the check-in file, the table 12 file).
//!
//! A [`Table`] keeps the document text in one arena and every field as spans into it: the
//! whitespace before the element, the raw content between its tags (escaped text or CDATA as
//! written) and the decoded value. Writing emits the spans again, fields in the order of the
//! spec, so reading then writing gives the same bytes, and a file with thousands of rows costs
//! two allocations per row.

use quick_xml::errors::{Error, IllFormedError};
use quick_xml::escape::{partial_escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::Reader;

use super::spec::TableSpec;
use super::ReadError;

mod scan;

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
const SIGNATURE: &str = "CHUKYDONVI";
const ABSENT: u16 = u16::MAX;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    fn of(self, text: &str) -> &str {
        &text[self.start as usize..self.end as usize]
    }
}

/// One child element of a record, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    /// Index in the table spec; `None` for an element the spec does not know.
    field: Option<u16>,
    name: Span,
    ws: Span,
    /// Content between the tags as written; `None` for `<X/>`.
    raw: Option<Span>,
    value: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    slots: Vec<Slot>,
    /// Spec index → first slot holding that field.
    by_field: Vec<u16>,
    ws_open: Span,
    ws_close: Span,
}

/// What the checker needs to know about the element structure of a record.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape<'a> {
    Unknown(&'a str),
    Duplicate(&'static str),
    OutOfOrder(&'static str),
    Omitted(&'static str),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Layout {
    bom: bool,
    prolog: Span,
    root_attrs: Span,
    ws_list_open: Span,
    ws_list_close: Span,
    /// The CHUKYDONVI element with the whitespace before it, verbatim.
    signature: Option<Span>,
    ws_root_close: Span,
    epilog: Span,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub spec: &'static TableSpec,
    arena: String,
    records: Vec<Record>,
    layout: Layout,
}

/// A record with access to its table's text.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    pub table: &'a Table,
    record: &'a Record,
}

impl<'a> Row<'a> {
    /// The decoded value at spec index `field`; "" when the element is absent.
    #[inline]
    pub fn at(&self, field: usize) -> &'a str {
        match self.record.by_field.get(field) {
            Some(&slot) if slot != ABSENT => {
                self.record.slots[slot as usize].value.of(&self.table.arena)
            }
            _ => "",
        }
    }

    /// The decoded value of `name`, trimmed; "" when absent or unknown to the spec.
    #[inline]
    pub fn get(&self, name: &str) -> &'a str {
        self.table
            .spec
            .field_index(name)
            .map_or("", |i| trim(self.at(i)))
    }

    /// The raw content of `field` as written, `None` for an absent or `<X/>` element.
    pub fn raw_at(&self, field: usize) -> Option<&'a str> {
        let slot = *self.record.by_field.get(field)?;
        if slot == ABSENT {
            return None;
        }
        self.record.slots[slot as usize]
            .raw
            .map(|raw| raw.of(&self.table.arena))
    }

    /// Unknown, repeated, out-of-order and omitted elements, in document then spec order.
    pub fn shape(&self) -> Vec<Shape<'a>> {
        let slots = &self.record.slots;
        // The usual record has every field once, in order: nothing to report, no allocation.
        if slots.len() == self.record.by_field.len()
            && slots
                .iter()
                .enumerate()
                .all(|(i, slot)| slot.field == Some(i as u16))
        {
            return Vec::new();
        }
        let spec = self.table.spec;
        let mut found = Vec::new();
        let mut last = None;
        for (i, slot) in self.record.slots.iter().enumerate() {
            let Some(field) = slot.field else {
                found.push(Shape::Unknown(slot.name.of(&self.table.arena)));
                continue;
            };
            let name = spec.fields[field as usize].name;
            if self.record.by_field[field as usize] as usize != i {
                found.push(Shape::Duplicate(name));
            } else if last.is_some_and(|l| field < l) {
                found.push(Shape::OutOfOrder(name));
            }
            last = last.max(Some(field));
        }
        for (field, &slot) in self.record.by_field.iter().enumerate() {
            if slot == ABSENT {
                found.push(Shape::Omitted(spec.fields[field].name));
            }
        }
        found
    }
}

impl Table {
    /// An empty table in the layout vendors emit: declaration, one element per line.
    pub fn new(spec: &'static TableSpec) -> Table {
        let mut arena = String::from(DECLARATION);
        arena.push('\n');
        let mut layout = Layout {
            prolog: Span::new(0, arena.len()),
            ..Layout::default()
        };
        let mut push = |text: &str| {
            let start = arena.len();
            arena.push_str(text);
            Span::new(start, arena.len())
        };
        if spec.list.is_some() {
            layout.ws_list_open = push("\n  ");
            layout.ws_list_close = push("\n  ");
            layout.ws_root_close = push("\n");
        }
        if spec.has_signature() {
            layout.signature = Some(push("\n  <CHUKYDONVI/>"));
        }
        let records = if spec.list.is_none() {
            // The single-record tables always have their one record.
            vec![Record::empty(spec, Span::default(), push("\n"))]
        } else {
            Vec::new()
        };
        Table {
            spec,
            arena,
            records,
            layout,
        }
    }

    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> {
        self.records.iter().map(move |record| Row {
            table: self,
            record,
        })
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The CHUKYDONVI element as written (check-in and table 12 files).
    pub fn signature(&self) -> Option<&str> {
        self.layout
            .signature
            .map(|s| s.of(&self.arena).trim_start())
    }

    /// Appends a record for list tables, or fills the single record of XML1-type tables.
    /// Fields not given are written empty; names must belong to the table.
    pub fn push(&mut self, values: &[(&str, &str)]) -> Result<(), String> {
        let spec = self.spec;
        let single = spec.list.is_none();
        let (indent, close) = if single {
            ("\n  ", "\n")
        } else {
            ("\n      ", "\n    ")
        };
        let mut by_name = vec![None; spec.fields.len()];
        for (name, value) in values {
            let field = spec
                .field_index(name)
                .ok_or_else(|| format!("{} has no field {name}", spec.name))?;
            by_name[field] = Some(*value);
        }
        let ws_open = if single {
            Span::default()
        } else {
            self.put("\n    ")
        };
        let mut record = Record::empty(spec, ws_open, Span::default());
        record.by_field.iter_mut().for_each(|slot| *slot = ABSENT);
        for (field, value) in by_name.into_iter().enumerate() {
            let ws = self.put(indent);
            let name = self.put(spec.fields[field].name);
            let (raw, value) = match value.filter(|v| !v.is_empty()) {
                None => (None, Span::new(name.end as usize, name.end as usize)),
                Some(value) => {
                    let escaped = partial_escape(value);
                    let raw = self.put(&escaped);
                    let decoded = if escaped == value {
                        raw
                    } else {
                        self.put(value)
                    };
                    (Some(raw), decoded)
                }
            };
            record.by_field[field] = record.slots.len() as u16;
            record.slots.push(Slot {
                field: Some(field as u16),
                name,
                ws,
                raw,
                value,
            });
        }
        record.ws_close = self.put(close);
        if single {
            self.records.clear();
        }
        self.records.push(record);
        Ok(())
    }

    fn put(&mut self, text: &str) -> Span {
        let start = self.arena.len();
        self.arena.push_str(text);
        Span::new(start, self.arena.len())
    }

    /// Reads one table file. `location` names it in errors (e.g. `HOSO[1].XML2`). The bytes
    /// become the table's text: given as a `Vec`, they are not copied.
    pub fn parse(
        spec: &'static TableSpec,
        bytes: impl Into<Vec<u8>>,
        location: &str,
    ) -> Result<Table, ReadError> {
        let mut text = String::from_utf8(bytes.into()).map_err(|e| {
            let e = e.utf8_error();
            ReadError::new(
                "R-GEN-001",
                location,
                format!(
                    "Tệp {} không phải UTF-8 hợp lệ (byte {})",
                    spec.name,
                    e.valid_up_to()
                ),
                format!(
                    "{} is not valid UTF-8 (byte {})",
                    spec.name,
                    e.valid_up_to()
                ),
            )
        })?;
        let bom = text.starts_with('\u{feff}');
        if bom {
            text.drain(..'\u{feff}'.len_utf8());
        }
        if text.len() > u32::MAX as usize / 2 {
            return Err(ReadError::new(
                "R-GEN-001",
                location,
                "Tệp quá lớn",
                "The file is too large",
            ));
        }
        let (records, mut layout, built) =
            scan::document(spec, &text).map_or_else(|| read(spec, &text, location), Ok)?;
        layout.bom = bom;
        let mut table = Table {
            spec,
            arena: text,
            records,
            layout,
        };
        for (record, slot, value) in built {
            let span = table.put(&value);
            table.records[record].slots[slot].value = span;
        }
        Ok(table)
    }

    /// The file as bytes to put in NOIDUNGFILE (or to send as the check-in/table 12 file).
    pub fn to_xml(&self) -> String {
        let spec = self.spec;
        let a = &self.arena;
        let l = &self.layout;
        let mut out = String::with_capacity(a.len() + 64);
        if l.bom {
            out.push('\u{feff}');
        }
        out.push_str(l.prolog.of(a));
        out.push('<');
        out.push_str(spec.root);
        out.push_str(l.root_attrs.of(a));
        out.push('>');
        match spec.list {
            Some((list, record)) => {
                out.push_str(l.ws_list_open.of(a));
                tag(&mut out, "<", list, ">");
                for rec in &self.records {
                    out.push_str(rec.ws_open.of(a));
                    tag(&mut out, "<", record, ">");
                    self.write_fields(&mut out, rec);
                    out.push_str(rec.ws_close.of(a));
                    tag(&mut out, "</", record, ">");
                }
                out.push_str(l.ws_list_close.of(a));
                tag(&mut out, "</", list, ">");
            }
            None => {
                if let Some(rec) = self.records.first() {
                    self.write_fields(&mut out, rec);
                    out.push_str(rec.ws_close.of(a));
                }
            }
        }
        if let Some(signature) = l.signature {
            out.push_str(signature.of(a));
        }
        out.push_str(l.ws_root_close.of(a));
        tag(&mut out, "</", spec.root, ">");
        out.push_str(l.epilog.of(a));
        out
    }

    fn write_fields(&self, out: &mut String, rec: &Record) {
        let a = &self.arena;
        let mut ws = "";
        for (field, &slot) in rec.by_field.iter().enumerate() {
            let name = self.spec.fields[field].name;
            if slot == ABSENT {
                // An omitted element is written empty, indented like its predecessor.
                out.push_str(ws);
                tag(out, "<", name, "/>");
                continue;
            }
            let slot = &rec.slots[slot as usize];
            ws = slot.ws.of(a);
            out.push_str(ws);
            match slot.raw {
                None => tag(out, "<", name, "/>"),
                Some(raw) => {
                    tag(out, "<", name, ">");
                    out.push_str(raw.of(a));
                    tag(out, "</", name, ">");
                }
            }
        }
    }
}

pub(crate) fn is_utf8_label(label: &[u8]) -> bool {
    label.eq_ignore_ascii_case(b"utf-8") || label.eq_ignore_ascii_case(b"utf8")
}

/// `value.trim()`, without decoding characters when both ends are visible ASCII, as almost
/// every value's are.
pub(crate) fn trim(value: &str) -> &str {
    match (value.as_bytes().first(), value.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => value,
        _ => value.trim(),
    }
}

/// The first position of `needle` in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = haystack[from..].iter().position(|&b| b == first) {
        let at = from + i;
        if haystack[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn tag(out: &mut String, open: &str, name: &str, close: &str) {
    out.push_str(open);
    out.push_str(name);
    out.push_str(close);
}

impl Record {
    fn empty(spec: &TableSpec, ws_open: Span, ws_close: Span) -> Record {
        Record {
            slots: Vec::with_capacity(spec.fields.len()),
            by_field: vec![ABSENT; spec.fields.len()],
            ws_open,
            ws_close,
        }
    }

    /// The field expected next: files follow the spec's order, so the one after the previous
    /// element's is tried before the name index.
    fn next_field(&self) -> usize {
        self.slots
            .last()
            .and_then(|s| s.field)
            .map_or(0, |f| f as usize + 1)
    }

    /// The field an element read from a file holds, `None` for a name the spec lacks.
    fn resolve(&self, spec: &TableSpec, name: &str) -> Option<u16> {
        let next = self.next_field();
        match spec.fields.get(next) {
            Some(field) if field.name == name => Some(next as u16),
            _ => spec.field_index(name).map(|i| i as u16),
        }
    }

    /// Appends an element read from a file (`slot.field` resolved).
    fn push_read(&mut self, slot: Slot) {
        if let Some(field) = slot.field {
            let first = &mut self.by_field[field as usize];
            if *first == ABSENT {
                *first = self.slots.len() as u16;
            }
        }
        self.slots.push(slot);
    }
}

/// Reads `text` through quick-xml: any file the scanner does not take, and its errors.
fn read(spec: &'static TableSpec, text: &str, location: &str) -> Result<Parsed, ReadError> {
    let mut parser = Parser {
        spec,
        src: text,
        reader: Reader::from_str(text),
        location,
        built: Vec::new(),
        last_end: 0,
    };
    let (records, layout) = parser.document()?;
    Ok((records, layout, parser.built))
}

/// What reading a table file gives, before its arena is built.
type Parsed = (Vec<Record>, Layout, Built);

/// Values that are not a plain slice of the source (entities, mixed CDATA) by record and
/// slot, put in the arena after the source text.
type Built = Vec<(usize, usize, String)>;

/// A field's value as its parts are read: one text or CDATA part stays a span of the source;
/// several parts or an entity reference build a string.
#[derive(Default)]
struct Value {
    single: Option<Span>,
    built: Option<String>,
}

impl Value {
    fn is_empty(&self) -> bool {
        self.single.is_none() && self.built.is_none()
    }

    fn part(&mut self, part: Span, src: &str) {
        match (&mut self.built, self.single.take()) {
            (Some(text), _) => text.push_str(part.of(src)),
            (None, None) => self.single = Some(part),
            (None, Some(first)) => self.built = Some([first.of(src), part.of(src)].concat()),
        }
    }

    fn resolved(&mut self, text: &str, src: &str) {
        let single = &mut self.single;
        self.built
            .get_or_insert_with(|| {
                single
                    .take()
                    .map_or_else(String::new, |p| p.of(src).to_string())
            })
            .push_str(text);
    }

    /// The value's span for slot `slot` of record `record`; content starting at `start`.
    fn finish(self, start: usize, built: &mut Built, record: usize, slot: usize) -> Span {
        match (self.built, self.single) {
            (Some(text), _) => {
                built.push((record, slot, text));
                Span::default()
            }
            (None, None) => Span::new(start, start),
            (None, Some(one)) => one,
        }
    }
}

struct Parser<'s> {
    spec: &'static TableSpec,
    src: &'s str,
    reader: Reader<&'s [u8]>,
    location: &'s str,
    built: Built,
    /// End of the last element handled; the text up to the next element is its whitespace.
    last_end: usize,
}

/// One event with its byte range in the source.
struct Located<'s> {
    event: Event<'s>,
    start: usize,
    end: usize,
}

impl<'s> Parser<'s> {
    fn error(&self, vi: String, en: String) -> ReadError {
        ReadError::new("R-GEN-001", self.location, vi, en)
    }

    fn structure(&self, vi: String, en: String) -> ReadError {
        ReadError::new("R-GEN-002", self.location, vi, en)
    }

    fn next(&mut self) -> Result<Located<'s>, ReadError> {
        self.next_raw().map_err(|e| self.malformed(&e))
    }

    fn next_raw(&mut self) -> Result<Located<'s>, quick_xml::Error> {
        let start = self.reader.buffer_position() as usize;
        let event = self.reader.read_event()?;
        Ok(Located {
            event,
            start,
            end: self.reader.buffer_position() as usize,
        })
    }

    fn malformed(&self, e: &quick_xml::Error) -> ReadError {
        let at = self.reader.error_position();
        self.error(
            format!("XML không hợp lệ tại byte {at}: {e}"),
            format!("Malformed XML at byte {at}: {e}"),
        )
    }

    /// Skips whitespace, comments and processing instructions up to the next element or end
    /// tag; other text there is a structure error.
    fn markup(&mut self) -> Result<Located<'s>, ReadError> {
        loop {
            let located = self.next()?;
            match &located.event {
                Event::Text(text) if text.iter().all(u8::is_ascii_whitespace) => {}
                Event::Decl(decl) => {
                    let encoding = decl.encoding().and_then(Result::ok);
                    if let Some(name) = encoding.filter(|e| !is_utf8_label(e)) {
                        let name = String::from_utf8_lossy(&name).into_owned();
                        return Err(self.error(
                            format!("Khai báo mã hóa {name}; tệp phải là UTF-8"),
                            format!("Declared encoding {name}; the file must be UTF-8"),
                        ));
                    }
                }
                Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(self.structure(
                        format!("Có văn bản ngoài phần tử tại byte {}", located.start),
                        format!("Text outside any element at byte {}", located.start),
                    ))
                }
                _ => return Ok(located),
            }
        }
    }

    fn ws(&mut self, located: &Located) -> Span {
        let span = Span::new(self.last_end, located.start);
        self.last_end = located.end;
        span
    }

    fn expect_start(&mut self, name: &str) -> Result<(Located<'s>, bool), ReadError> {
        let located = self.markup()?;
        let (found, empty) = match &located.event {
            Event::Start(e) => (e.name().as_ref().to_vec(), false),
            Event::Empty(e) => (e.name().as_ref().to_vec(), true),
            Event::Eof => (b"end of file".to_vec(), false),
            Event::End(e) => ([b"/", e.name().as_ref()].concat(), false),
            _ => (Vec::new(), false),
        };
        if found != name.as_bytes() {
            let found = String::from_utf8_lossy(&found).into_owned();
            return Err(self.structure(
                format!("{}: cần phần tử <{name}>, gặp <{found}>", self.spec.name),
                format!("{}: expected <{name}>, found <{found}>", self.spec.name),
            ));
        }
        Ok((located, empty))
    }

    fn document(&mut self) -> Result<(Vec<Record>, Layout), ReadError> {
        let root = self.spec.root;
        let (start, empty) = self.expect_start(root)?;
        let close = if empty { 2 } else { 1 };
        let mut layout = Layout {
            prolog: Span::new(0, start.start),
            root_attrs: Span::new(start.start + 1 + root.len(), start.end - close),
            ..Layout::default()
        };
        self.last_end = start.end;
        let mut records = Vec::new();
        if empty {
            return Err(self.structure(
                format!("{}: phần tử gốc rỗng", self.spec.name),
                format!("{}: the root element is empty", self.spec.name),
            ));
        }
        match self.spec.list {
            None => records.push(self.record(0, Span::default(), root)?),
            Some((list, record)) => {
                let (open, empty) = self.expect_start(list)?;
                layout.ws_list_open = self.ws(&open);
                if !empty {
                    loop {
                        let located = self.markup()?;
                        match &located.event {
                            Event::Start(e) if e.name().as_ref() == record.as_bytes() => {
                                let ws = self.ws(&located);
                                records.push(self.record(records.len(), ws, record)?);
                            }
                            Event::End(_) => {
                                layout.ws_list_close = self.ws(&located);
                                break;
                            }
                            _ => return Err(self.unexpected(&located, record)),
                        }
                    }
                }
            }
        }
        while self.spec.list.is_some() {
            let located = self.markup()?;
            match &located.event {
                Event::Start(e) | Event::Empty(e)
                    if e.name().as_ref() == SIGNATURE.as_bytes() && layout.signature.is_none() =>
                {
                    let start = self.last_end;
                    if matches!(located.event, Event::Start(_)) {
                        self.skip_element(SIGNATURE)?;
                    } else {
                        self.last_end = located.end;
                    }
                    let end = self.reader.buffer_position() as usize;
                    layout.signature = Some(Span::new(start, end));
                    self.last_end = end;
                }
                Event::End(_) => {
                    layout.ws_root_close = self.ws(&located);
                    break;
                }
                _ => return Err(self.unexpected(&located, root)),
            }
        }
        let located = self.markup()?;
        if !matches!(located.event, Event::Eof) {
            return Err(self.unexpected(&located, root));
        }
        layout.epilog = Span::new(self.last_end, self.src.len());
        Ok((records, layout))
    }

    fn skip_element(&mut self, name: &str) -> Result<(), ReadError> {
        self.reader
            .read_to_end(quick_xml::name::QName(name.as_bytes()))
            .map(|_| ())
            .map_err(|e| {
                self.error(
                    format!("XML không hợp lệ trong <{name}>: {e}"),
                    format!("Malformed XML inside <{name}>: {e}"),
                )
            })
    }

    fn unexpected(&self, located: &Located, parent: &str) -> ReadError {
        let what = match &located.event {
            Event::Start(e) | Event::Empty(e) => {
                format!("<{}>", String::from_utf8_lossy(e.name().as_ref()))
            }
            Event::End(e) => format!("</{}>", String::from_utf8_lossy(e.name().as_ref())),
            Event::Eof => "end of file".into(),
            _ => "markup".into(),
        };
        self.structure(
            format!(
                "{}: {what} không được phép trong <{parent}>",
                self.spec.name
            ),
            format!("{}: {what} is not allowed in <{parent}>", self.spec.name),
        )
    }

    /// Reads the fields of one record up to its end tag (`element`).
    fn record(&mut self, index: usize, ws_open: Span, element: &str) -> Result<Record, ReadError> {
        let mut record = Record::empty(self.spec, ws_open, Span::default());
        loop {
            let located = self.markup()?;
            let (name_len, empty) = match &located.event {
                Event::Start(e) => (e.name().as_ref().len(), false),
                Event::Empty(e) => (e.name().as_ref().len(), true),
                Event::End(_) => {
                    record.ws_close = self.ws(&located);
                    return Ok(record);
                }
                _ => return Err(self.unexpected(&located, element)),
            };
            let ws = self.ws(&located);
            let name_start = located.start + 1;
            let name_span = Span::new(name_start, name_start + name_len);
            // Element names are ASCII in every spec, so the span is a str slice of the source.
            let name = self
                .src
                .get(name_start..name_start + name_len)
                .unwrap_or("");
            let (raw, value) = if empty {
                (None, Span::new(located.end, located.end))
            } else {
                let (raw, value) = self.content(name.as_bytes(), index, record.slots.len())?;
                (Some(raw), value)
            };
            record.push_read(Slot {
                field: record.resolve(self.spec, name),
                name: name_span,
                ws,
                raw,
                value,
            });
        }
    }

    /// The content of a field element up to its end tag: raw span and decoded value span.
    fn content(
        &mut self,
        name: &[u8],
        record: usize,
        slot: usize,
    ) -> Result<(Span, Span), ReadError> {
        let start = self.reader.buffer_position() as usize;
        let mut value = Value::default();
        loop {
            let located = match self.next_raw() {
                Ok(located) => located,
                Err(Error::IllFormed(IllFormedError::UnclosedReference)) => {
                    return Err(self.unescaped(name, "'&'"))
                }
                Err(e) => return Err(self.malformed(&e)),
            };
            let part = match &located.event {
                Event::Text(_) => Span::new(located.start, located.end),
                Event::CData(_) => Span::new(located.start + 9, located.end - 3),
                Event::GeneralRef(r) => {
                    let resolved = self.entity(r).map_err(|e| self.unescaped(name, &e.en))?;
                    value.resolved(&resolved, self.src);
                    continue;
                }
                Event::Comment(_) | Event::PI(_) => continue,
                Event::End(e) if e.name().as_ref() == name => {
                    self.last_end = located.end;
                    let raw = Span::new(start, located.start);
                    return Ok((raw, value.finish(start, &mut self.built, record, slot)));
                }
                Event::Start(e) | Event::Empty(e) if e.name().as_ref().is_empty() => {
                    return Err(self.unescaped(name, "'<'"));
                }
                _ => {
                    let field = String::from_utf8_lossy(name).into_owned();
                    return Err(self.structure(
                        format!("{}: trường {field} chứa phần tử con", self.spec.name),
                        format!("{}: field {field} contains child elements", self.spec.name),
                    ));
                }
            };
            value.part(part, self.src);
        }
    }

    /// R-GEN-008: markup characters in a value that is neither CDATA-wrapped nor escaped.
    fn unescaped(&self, field: &[u8], detail: &str) -> ReadError {
        let field = String::from_utf8_lossy(field);
        ReadError::new(
            "R-GEN-008",
            self.location,
            format!(
                "{}: giá trị {field} có ký tự đặc biệt chưa escape hoặc bọc CDATA ({detail})",
                self.spec.name
            ),
            format!(
                "{}: the value of {field} has markup characters neither escaped nor wrapped in CDATA ({detail})",
                self.spec.name
            ),
        )
    }

    fn entity(&self, reference: &quick_xml::events::BytesRef) -> Result<String, ReadError> {
        let bad = || {
            let name = String::from_utf8_lossy(reference).into_owned();
            self.error(
                format!("Tham chiếu thực thể không hợp lệ: &{name};"),
                format!("Invalid entity reference: &{name};"),
            )
        };
        if let Ok(Some(c)) = reference.resolve_char_ref() {
            return Ok(c.to_string());
        }
        let name = std::str::from_utf8(reference).map_err(|_| bad())?;
        resolve_predefined_entity(name)
            .map(str::to_string)
            .ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bhyt::spec::{spec, Standard};

    fn xml2() -> &'static TableSpec {
        spec(Standard::Qd130).table("XML2").unwrap()
    }

    #[test]
    fn written_table_reads_back_identically() {
        let mut table = Table::new(xml2());
        table
            .push(&[("MA_LK", "LK1"), ("STT", "1"), ("TEN_THUOC", "A & B <x>")])
            .unwrap();
        table.push(&[("MA_LK", "LK1"), ("STT", "2")]).unwrap();
        let xml = table.to_xml();
        assert!(xml.starts_with(DECLARATION));
        assert!(xml.contains("<TEN_THUOC>A &amp; B &lt;x&gt;</TEN_THUOC>"));
        let back = Table::parse(xml2(), xml.as_bytes(), "XML2").unwrap();
        assert_eq!(back.to_xml(), xml);
        let rows: Vec<_> = back.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get("TEN_THUOC"), "A & B <x>");
        assert_eq!(rows[1].get("STT"), "2");
        assert!(rows[0].shape().is_empty());
    }

    #[test]
    fn foreign_layout_cdata_and_comments_survive() {
        let fields: String = xml2()
            .fields
            .iter()
            .map(|f| match f.name {
                "TEN_THUOC" => "<TEN_THUOC><![CDATA[Para <500>]]> &#273;</TEN_THUOC>".into(),
                "STT" => "<STT></STT>".into(),
                name => format!("<{name}/>"),
            })
            .collect::<Vec<_>>()
            .join("\r\n\t\t");
        let xml = format!(
            "\u{feff}<?xml version='1.0'?>\n<!-- x --><CHITIEU_CHITIET_THUOC a=\"1\">\
             <DSACH_CHI_TIET_THUOC>\t<CHI_TIET_THUOC>{fields}</CHI_TIET_THUOC>\
             </DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>\n"
        );
        let table = Table::parse(xml2(), xml.as_bytes(), "XML2").unwrap();
        assert_eq!(table.to_xml(), xml);
        let row = table.rows().next().unwrap();
        assert_eq!(row.get("TEN_THUOC"), "Para <500> đ");
        assert_eq!(row.raw_at(1), Some(""));
    }

    #[test]
    fn shape_reports_unknown_duplicate_order_and_omitted() {
        let xml = "<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC>\
                   <STT>1</STT><MA_LK>a</MA_LK><STT>2</STT><FOO/></CHI_TIET_THUOC>\
                   </DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>";
        let table = Table::parse(xml2(), xml.as_bytes(), "XML2").unwrap();
        let shape = table.rows().next().unwrap().shape();
        assert_eq!(shape[0], Shape::OutOfOrder("MA_LK"));
        assert_eq!(shape[1], Shape::Duplicate("STT"));
        assert_eq!(shape[2], Shape::Unknown("FOO"));
        assert_eq!(shape.len(), 3 + xml2().fields.len() - 2);
    }

    /// The scanner's parts for `text`, checked against the quick-xml reader's.
    fn scanned(spec: &'static TableSpec, text: &str) -> Option<Parsed> {
        let fast = scan::document(spec, text);
        if let Some(fast) = &fast {
            assert_eq!(Ok(fast), read(spec, text, "t").as_ref(), "{text}");
        }
        fast
    }

    #[test]
    fn sample_files_take_the_scanner_and_read_alike() {
        let hoso = [
            crate::bhyt::sample::dossier("LK1", 3, 3, true),
            crate::bhyt::sample::dossier_4210("LK2"),
        ];
        for (file, standard) in hoso[0]
            .files
            .iter()
            .map(|f| (f, Standard::Qd130))
            .chain(hoso[1].files.iter().map(|f| (f, Standard::Qd4210)))
        {
            let table = spec(standard).table(&file.loaihoso).unwrap();
            let text = std::str::from_utf8(&file.content).unwrap();
            assert!(scanned(table, text).is_some(), "{text}");
        }
    }

    #[test]
    fn the_scanner_takes_the_usual_shape_and_leaves_the_rest() {
        let fields = |inner: &str| {
            format!(
                "<CHITIEU_CHITIET_THUOC xmlns:a=\"x>\"><DSACH_CHI_TIET_THUOC>\r\n\t<CHI_TIET_THUOC>{inner}\
                 </CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>\n"
            )
        };
        let usual = [
            "<MA_LK>1</MA_LK><STT></STT><FOO/>",
            "<TEN_THUOC>a &amp; b &lt;c&gt; &quot;&apos;</TEN_THUOC>",
            "<TEN_THUOC><![CDATA[a <b>]]> c<![CDATA[]]></TEN_THUOC>",
            "<STT>2</STT><MA_LK>1</MA_LK><STT>3</STT>",
        ];
        for inner in usual {
            let text = format!(
                "\n<?xml version='1.0' encoding='UTF-8' ?>\n{}",
                fields(inner)
            );
            assert!(scanned(xml2(), &text).is_some(), "{text}");
        }
        let unusual = [
            fields("<!-- x --><MA_LK>1</MA_LK>"),
            fields("<TEN_THUOC>&#273;</TEN_THUOC>"),
            fields("<TEN_THUOC>&nbsp;</TEN_THUOC>"),
            fields("<MA_LK a=\"1\">1</MA_LK>"),
            fields("<MA_LK>1</MA_LK >"),
            fields("<MA_LK>1 & 2</MA_LK>"),
            fields("<MA_LK>1</STT>"),
            format!(
                "<?xml version=\"1.0\" encoding=\"windows-1258\"?>{}",
                fields("")
            ),
            format!(
                "<?xml version=\"1.0\" a=\"encoding='utf-8'\" encoding=\"latin1\"?>{}",
                fields("")
            ),
            fields("").replace("</CHITIEU", "<CHUKYDONVI/></CHITIEU"),
            fields("").replace(
                "<CHITIEU_CHITIET_THUOC xmlns:a=\"x>\">",
                "<CHITIEU_CHITIET_THUOC\x0c>",
            ),
            fields("") + "<!-- after -->",
        ];
        for text in unusual {
            assert!(scanned(xml2(), &text).is_none(), "{text}");
        }
    }

    proptest::proptest! {
        /// Wherever the scanner takes a damaged file, the reader reads it the same way.
        #[test]
        fn scanner_and_reader_agree(cut in 0usize..3000, noise in "[<>/&;!?A-Z_\\[\\]\r\n \"'=-]{0,12}") {
            let file = &crate::bhyt::sample::dossier("LK1", 2, 0, false).files[1];
            let text = std::str::from_utf8(&file.content).unwrap();
            let cut = (0..=cut.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            scanned(xml2(), &format!("{}{noise}{}", &text[..cut], &text[cut..]));
        }
    }

    #[test]
    fn malformed_input_is_an_error() {
        for (bad, rule) in [
            (&b"<CHITIEU_CHITIET_THUOC><DSACH"[..], "R-GEN-001"),
            (b"\xff\xfe<a/>", "R-GEN-001"),
            (b"<TONG_HOP/>", "R-GEN-002"),
            (b"<CHITIEU_CHITIET_THUOC>x</CHITIEU_CHITIET_THUOC>", "R-GEN-002"),
            (b"<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><A><B/></A></CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>", "R-GEN-002"),
            (b"<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><STT>&bogus;</STT></CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>", "R-GEN-008"),
            (b"<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><STT>1 & 2</STT></CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>", "R-GEN-008"),
        ] {
            let error = Table::parse(xml2(), bad, "XML2").unwrap_err();
            assert_eq!(error.rule, rule, "{error:?}");
        }
    }
}
