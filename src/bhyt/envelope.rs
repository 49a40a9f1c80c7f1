//! The GIAMDINHHS envelope (CV 1245): read one HOSO at a time so memory stays flat however many
//! episodes a file holds, and written back in the layout of the BHXH samples.

use std::io::{BufRead, Write};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use quick_xml::events::Event;
use quick_xml::name::QName;
use quick_xml::{Reader, Writer};

use super::spec::Standard;
use super::xml::{find, is_utf8_label};
use super::ReadError;

pub const ROOT: &str = "GIAMDINHHS";
const CHECKIN_ROOT: &str = "CHI_TIEU_TRANG_THAI_KCB";
const XML12_ROOT: &str = "CHI_TIEU_GIAM_DINH_YKHOA";
const NAMESPACES: &str = " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                          xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"";

/// Vendors wrap or drop padding; the gateway itself sends RFC 4648 with padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Whole 4-character groups of `decode_base64`: each character's sextet in place, or
/// [`NOT_BASE64`].
const SEXTETS: [[u32; 256]; 4] = sextets();
const NOT_BASE64: u32 = 1 << 31;

const fn sextets() -> [[u32; 256]; 4] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut tables = [[NOT_BASE64; 256]; 4];
    let mut i = 0;
    while i < alphabet.len() {
        let c = alphabet[i] as usize;
        let mut position = 0;
        while position < 4 {
            tables[position][c] = (i as u32) << (18 - 6 * position);
            position += 1;
        }
        i += 1;
    }
    tables
}

/// Three bytes from four base64 characters, or [`NOT_BASE64`] set.
fn group(chars: &[u8]) -> u32 {
    SEXTETS[0][usize::from(chars[0])]
        | SEXTETS[1][usize::from(chars[1])]
        | SEXTETS[2][usize::from(chars[2])]
        | SEXTETS[3][usize::from(chars[3])]
}

/// NOIDUNGFILE's base64. The groups before the last go through a table, several times
/// cheaper than the general engine; the last group (padding, trailing bits) and any input
/// with other characters go through [`LENIENT`], which also words the errors.
fn decode_base64(text: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    let bulk = text.len().saturating_sub(1) / 4 * 4;
    let mut out = Vec::with_capacity(bulk / 4 * 3 + 3);
    // Written in place, not appended: no capacity check per group.
    out.resize(bulk / 4 * 3, 0);
    let mut seen = 0;
    let blocks = text[..bulk].chunks_exact(16);
    let tail = blocks.remainder();
    let (whole, rest) = out.split_at_mut(bulk / 16 * 12);
    // Four groups at a time: twelve bytes, six from each pair of groups.
    for (block, bytes) in blocks.zip(whole.chunks_exact_mut(12)) {
        let (a, b) = (group(&block[..4]), group(&block[4..8]));
        let (c, d) = (group(&block[8..12]), group(&block[12..16]));
        seen |= a | b | c | d;
        let pair = |x: u32, y: u32| (u64::from(x) << 40 | u64::from(y) << 16).to_be_bytes();
        bytes[..6].copy_from_slice(&pair(a, b)[..6]);
        bytes[6..].copy_from_slice(&pair(c, d)[..6]);
    }
    for (chars, bytes) in tail.chunks_exact(4).zip(rest.chunks_exact_mut(3)) {
        let value = group(chars);
        seen |= value;
        bytes.copy_from_slice(&value.to_be_bytes()[1..]);
    }
    match LENIENT.decode(&text[bulk..]) {
        Ok(last) if seen & NOT_BASE64 == 0 => {
            out.extend_from_slice(&last);
            Ok(out)
        }
        _ => LENIENT.decode(text),
    }
}

/// The three kinds of file the gateway accepts, told apart by their root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    Envelope,
    CheckIn,
    Xml12,
}

impl Document {
    /// Looks at the first element of `bytes`; `None` for anything else.
    pub fn recognise(bytes: &[u8]) -> Result<Document, ReadError> {
        let mut reader = Reader::from_reader(bytes);
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                    return match e.name().as_ref() {
                        b"GIAMDINHHS" => Ok(Document::Envelope),
                        b"CHI_TIEU_TRANG_THAI_KCB" => Ok(Document::CheckIn),
                        b"CHI_TIEU_GIAM_DINH_YKHOA" => Ok(Document::Xml12),
                        other => {
                            let name = String::from_utf8_lossy(other);
                            Err(ReadError::new(
                                "R-GEN-002",
                                "",
                                format!("Phần tử gốc <{name}> không phải {ROOT}, {CHECKIN_ROOT} hay {XML12_ROOT}"),
                                format!("Root <{name}> is not {ROOT}, {CHECKIN_ROOT} or {XML12_ROOT}"),
                            ))
                        }
                    };
                }
                Ok(Event::Eof) => return Err(malformed("", "no root element")),
                Ok(_) => {}
                Err(e) => return Err(malformed("", &e.to_string())),
            }
            buf.clear();
        }
    }
}

/// One table of a HOSO: its LOAIHOSO and the decoded inner XML bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHoso {
    pub loaihoso: String,
    pub content: Vec<u8>,
}

/// One episode (one MA_LK).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hoso {
    pub files: Vec<FileHoso>,
}

impl Hoso {
    pub fn file(&self, loaihoso: &str) -> Option<&FileHoso> {
        self.files.iter().find(|f| f.loaihoso == loaihoso)
    }

    /// QĐ 4210 is recognised by XML1 fields that QĐ 130 dropped (T_TONGCHI, MA_LYDO_VVIEN).
    pub fn standard(&self) -> Standard {
        let is_4210 = self.file("XML1").is_some_and(|f| {
            let has = |needle: &[u8]| find(&f.content, needle).is_some();
            has(b"<T_TONGCHI>") || has(b"<MA_LYDO_VVIEN")
        });
        if is_4210 {
            Standard::Qd4210
        } else {
            Standard::Qd130
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub macskcb: String,
    pub ngaylap: String,
    /// As written, so a non-number is reported by the checker rather than lost here.
    pub soluonghoso: String,
}

/// A whole envelope in memory (for writing, and for small files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    pub header: Header,
    pub hoso: Vec<Hoso>,
    /// The CHUKYDONVI element as re-serialised events; `None` when absent.
    pub signature: Option<String>,
}

impl Envelope {
    pub fn read(bytes: &[u8]) -> Result<Envelope, ReadError> {
        let mut reader = EnvelopeReader::new(bytes)?;
        let mut hoso = Vec::new();
        while let Some(next) = reader.next_hoso()? {
            hoso.push(next);
        }
        let header = reader.header.clone();
        let signature = reader.finish()?;
        Ok(Envelope {
            header,
            hoso,
            signature,
        })
    }

    pub fn to_xml(&self) -> String {
        let mut out = Vec::new();
        let write = |out: &mut Vec<u8>| -> std::io::Result<()> {
            write_start(out, &self.header)?;
            for hoso in &self.hoso {
                write_hoso(out, hoso)?;
            }
            write_end(out, self.signature.as_deref())
        };
        write(&mut out).expect("writing to a Vec cannot fail");
        String::from_utf8(out).expect("the envelope is written from UTF-8 parts")
    }
}

/// Writes the declaration, THONGTINDONVI and the opening of DANHSACHHOSO.
pub fn write_start(out: &mut impl Write, header: &Header) -> std::io::Result<()> {
    let esc = |s: &str| quick_xml::escape::escape(s.to_string()).into_owned();
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<{ROOT}{NAMESPACES}>\n  <THONGTINDONVI>\n    \
         <MACSKCB>{}</MACSKCB>\n  </THONGTINDONVI>\n  <THONGTINHOSO>\n    <NGAYLAP>{}</NGAYLAP>\n    \
         <SOLUONGHOSO>{}</SOLUONGHOSO>\n    <DANHSACHHOSO>\n",
        esc(&header.macskcb),
        esc(&header.ngaylap),
        esc(&header.soluonghoso)
    )
}

pub fn write_hoso(out: &mut impl Write, hoso: &Hoso) -> std::io::Result<()> {
    out.write_all(b"      <HOSO>\n")?;
    for file in &hoso.files {
        write!(
            out,
            "        <FILEHOSO>\n          <LOAIHOSO>{}</LOAIHOSO>\n          <NOIDUNGFILE>{}</NOIDUNGFILE>\n        </FILEHOSO>\n",
            quick_xml::escape::escape(file.loaihoso.as_str()),
            STANDARD.encode(&file.content)
        )?;
    }
    out.write_all(b"      </HOSO>\n")
}

pub fn write_end(out: &mut impl Write, signature: Option<&str>) -> std::io::Result<()> {
    write!(
        out,
        "    </DANHSACHHOSO>\n  </THONGTINHOSO>\n  {}\n</{ROOT}>\n",
        signature.unwrap_or("<CHUKYDONVI/>")
    )
}

fn location_of(count: usize) -> String {
    if count == 0 {
        ROOT.to_string()
    } else {
        format!("HOSO[{count}]")
    }
}

fn malformed(location: &str, detail: &str) -> ReadError {
    ReadError::new(
        "R-GEN-001",
        location,
        format!("XML không hợp lệ: {detail}"),
        format!("Malformed XML: {detail}"),
    )
}

fn structure(location: &str, expected: &str, found: &str) -> ReadError {
    ReadError::new(
        "R-GEN-002",
        location,
        format!("Cần <{expected}>, gặp {found}"),
        format!("Expected <{expected}>, found {found}"),
    )
}

/// Streams a GIAMDINHHS file: the header on construction, then one HOSO per call.
pub struct EnvelopeReader<R: BufRead> {
    reader: Reader<R>,
    buf: Vec<u8>,
    /// The text of the leaf being read (kept to reuse its capacity: NOIDUNGFILE is large).
    text: Vec<u8>,
    pub header: Header,
    /// HOSO read so far (1-based index of the last one).
    pub count: usize,
    done: bool,
}

enum Next {
    Open(Vec<u8>),
    Empty(Vec<u8>),
    Close,
    /// Text, appended to the reader's `text`.
    Text,
}

impl<R: BufRead> EnvelopeReader<R> {
    pub fn new(input: R) -> Result<EnvelopeReader<R>, ReadError> {
        let mut this = EnvelopeReader {
            reader: Reader::from_reader(input),
            buf: Vec::new(),
            text: Vec::new(),
            header: Header::default(),
            count: 0,
            done: false,
        };
        this.open(ROOT, ROOT)?;
        this.open("THONGTINDONVI", ROOT)?;
        this.header.macskcb = this.leaf("MACSKCB", "THONGTINDONVI")?;
        this.close("THONGTINDONVI")?;
        this.open("THONGTINHOSO", ROOT)?;
        this.header.ngaylap = this.leaf("NGAYLAP", "THONGTINHOSO")?;
        this.header.soluonghoso = this.leaf("SOLUONGHOSO", "THONGTINHOSO")?;
        if !this.open("DANHSACHHOSO", "THONGTINHOSO")? {
            this.done = true;
        }
        Ok(this)
    }

    fn location(&self) -> String {
        location_of(self.count)
    }

    /// The next element boundary or text, skipping comments and blank text.
    fn next(&mut self) -> Result<Next, ReadError> {
        let count = self.count;
        loop {
            self.buf.clear();
            let event = self
                .reader
                .read_event_into(&mut self.buf)
                .map_err(|e| malformed(&location_of(count), &format!("{e}")))?;
            return Ok(match event {
                Event::Start(e) => Next::Open(e.name().as_ref().to_vec()),
                Event::Empty(e) => Next::Empty(e.name().as_ref().to_vec()),
                Event::End(_) | Event::Eof => Next::Close,
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => continue,
                Event::Text(t) => {
                    self.text.extend_from_slice(&t);
                    Next::Text
                }
                Event::CData(t) => {
                    self.text.extend_from_slice(&t);
                    Next::Text
                }
                Event::GeneralRef(r) => {
                    let name = String::from_utf8_lossy(&r).into_owned();
                    let text = r
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .map(String::from)
                        .or_else(|| {
                            quick_xml::escape::resolve_predefined_entity(&name).map(String::from)
                        })
                        .ok_or_else(|| {
                            malformed(&location_of(count), &format!("unknown entity &{name};"))
                        })?;
                    self.text.extend_from_slice(text.as_bytes());
                    Next::Text
                }
                Event::Decl(decl) => {
                    let encoding = decl.encoding().and_then(Result::ok);
                    if let Some(name) = encoding.filter(|e| !is_utf8_label(e)) {
                        let name = String::from_utf8_lossy(&name).into_owned();
                        return Err(ReadError::new(
                            "R-GEN-001",
                            ROOT,
                            format!("Khai báo mã hóa {name}; tệp phải là UTF-8"),
                            format!("Declared encoding {name}; the file must be UTF-8"),
                        ));
                    }
                    continue;
                }
                Event::Comment(_) | Event::PI(_) | Event::DocType(_) => continue,
            });
        }
    }

    fn describe(next: &Next) -> String {
        match next {
            Next::Open(n) | Next::Empty(n) => format!("<{}>", String::from_utf8_lossy(n)),
            Next::Close => "an end tag".into(),
            Next::Text => "text".into(),
        }
    }

    /// Expects `<name>`; returns false for `<name/>`.
    fn open(&mut self, name: &str, parent: &str) -> Result<bool, ReadError> {
        match self.next()? {
            Next::Open(n) if n == name.as_bytes() => Ok(true),
            Next::Empty(n) if n == name.as_bytes() => Ok(false),
            other => Err(structure(parent, name, &Self::describe(&other))),
        }
    }

    fn close(&mut self, parent: &str) -> Result<(), ReadError> {
        match self.next()? {
            Next::Close => Ok(()),
            other => Err(structure(
                parent,
                &format!("/{parent}"),
                &Self::describe(&other),
            )),
        }
    }

    /// `<name>text</name>` or `<name/>`; the text may be split by entities.
    fn leaf(&mut self, name: &str, parent: &str) -> Result<String, ReadError> {
        self.leaf_text(name, parent)?;
        String::from_utf8(self.text.clone()).map_err(|_| {
            ReadError::new(
                "R-GEN-001",
                &self.location(),
                format!("<{name}> không phải UTF-8"),
                format!("<{name}> is not UTF-8"),
            )
        })
    }

    /// Reads a leaf into `self.text`; NOIDUNGFILE is base64, so it needs no UTF-8 check.
    fn leaf_text(&mut self, name: &str, parent: &str) -> Result<(), ReadError> {
        self.text.clear();
        if !self.open(name, parent)? {
            return Ok(());
        }
        loop {
            match self.next()? {
                Next::Text => {}
                Next::Close => return Ok(()),
                other => {
                    return Err(structure(
                        name,
                        &format!("/{name}"),
                        &Self::describe(&other),
                    ))
                }
            }
        }
    }

    /// The next HOSO, or `None` after the last one.
    pub fn next_hoso(&mut self) -> Result<Option<Hoso>, ReadError> {
        if self.done {
            return Ok(None);
        }
        let has_files = match self.next()? {
            Next::Close => {
                self.done = true;
                return Ok(None);
            }
            Next::Open(n) if n == b"HOSO" => true,
            Next::Empty(n) if n == b"HOSO" => false,
            other => return Err(structure("DANHSACHHOSO", "HOSO", &Self::describe(&other))),
        };
        self.count += 1;
        let location = self.location();
        let mut hoso = Hoso::default();
        if has_files {
            loop {
                match self.next()? {
                    Next::Close => return Ok(Some(hoso)),
                    Next::Open(n) if n == b"FILEHOSO" => {}
                    other => return Err(structure(&location, "FILEHOSO", &Self::describe(&other))),
                }
                let loaihoso = self.leaf("LOAIHOSO", "FILEHOSO")?.trim().to_string();
                self.leaf_text("NOIDUNGFILE", "FILEHOSO")?;
                self.close("FILEHOSO")?;
                // Vendors wrap base64 in lines; most send one line, which decodes at once.
                let content = decode_base64(&self.text).or_else(|_| {
                    self.text.retain(|b| !b.is_ascii_whitespace());
                    decode_base64(&self.text)
                });
                let content = content.map_err(|e| {
                    ReadError::new(
                        "R-GEN-001",
                        &format!("{location}.{loaihoso}"),
                        format!("NOIDUNGFILE của {loaihoso} không phải base64 hợp lệ: {e}"),
                        format!("NOIDUNGFILE of {loaihoso} is not valid base64: {e}"),
                    )
                })?;
                hoso.files.push(FileHoso { loaihoso, content });
            }
        }
        Ok(Some(hoso))
    }

    /// Reads past the last HOSO to the end; returns the CHUKYDONVI element if present.
    pub fn finish(mut self) -> Result<Option<String>, ReadError> {
        while self.next_hoso()?.is_some() {}
        self.close("THONGTINHOSO")?;
        let mut signature = None;
        loop {
            self.buf.clear();
            let event = self
                .reader
                .read_event_into(&mut self.buf)
                .map_err(|e| malformed(ROOT, &e.to_string()))?;
            match event {
                Event::Start(e) if e.name().as_ref() == b"CHUKYDONVI" => {
                    let mut writer = Writer::new(Vec::new());
                    let mut depth = 0usize;
                    let mut event = Event::Start(e.into_owned());
                    let mut inner = Vec::new();
                    loop {
                        match &event {
                            Event::Start(_) => depth += 1,
                            Event::End(_) => depth -= 1,
                            Event::Eof => return Err(malformed(ROOT, "unclosed CHUKYDONVI")),
                            _ => {}
                        }
                        writer
                            .write_event(event.borrow())
                            .map_err(|e| malformed(ROOT, &e.to_string()))?;
                        if depth == 0 {
                            break;
                        }
                        inner.clear();
                        event = self
                            .reader
                            .read_event_into(&mut inner)
                            .map_err(|e| malformed(ROOT, &e.to_string()))?
                            .into_owned();
                    }
                    signature = Some(String::from_utf8_lossy(&writer.into_inner()).into_owned());
                }
                Event::Empty(e) if e.name().as_ref() == b"CHUKYDONVI" => {
                    signature = Some("<CHUKYDONVI/>".to_string());
                }
                Event::End(e) if e.name() == QName(ROOT.as_bytes()) => break,
                Event::Text(t) if t.iter().all(u8::is_ascii_whitespace) => {}
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => return Err(malformed(ROOT, "unexpected end of file")),
                _ => return Err(structure(ROOT, "CHUKYDONVI", "other content")),
            }
        }
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        Envelope {
            header: Header {
                macskcb: "79001".into(),
                ngaylap: "20240801".into(),
                soluonghoso: "2".into(),
            },
            hoso: vec![
                Hoso {
                    files: vec![FileHoso {
                        loaihoso: "XML1".into(),
                        content: "<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>".into(),
                    }],
                },
                Hoso::default(),
            ],
            signature: Some(
                "<CHUKYDONVI><ds:Signature xmlns:ds=\"x\"><ds:Value>ab==</ds:Value></ds:Signature></CHUKYDONVI>"
                    .into(),
            ),
        }
    }

    #[test]
    fn envelope_round_trips_with_signature() {
        let envelope = sample();
        let xml = envelope.to_xml();
        let back = Envelope::read(xml.as_bytes()).unwrap();
        assert_eq!(back, envelope);
        assert_eq!(back.to_xml(), xml);
        assert_eq!(
            Document::recognise(xml.as_bytes()).unwrap(),
            Document::Envelope
        );
    }

    #[test]
    fn base64_decodes_as_the_engine_does() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for n in 0..40 {
            let encoded = STANDARD.encode(&bytes[..n]);
            let unpadded = encoded.trim_end_matches('=');
            for text in [encoded.as_str(), unpadded] {
                assert_eq!(
                    decode_base64(text.as_bytes()).unwrap(),
                    &bytes[..n],
                    "{text}"
                );
            }
        }
        for bad in [
            "QUJD!EVG",
            "QUJDREV=R0g=",
            "QUJD\nREVG",
            "QR==",
            "QUJDR",
            "QUJDREVGR",
        ] {
            assert_eq!(
                decode_base64(bad.as_bytes()),
                LENIENT.decode(bad.as_bytes()),
                "{bad}"
            );
            assert!(decode_base64(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn base64_agrees_with_the_engine(text in "[A-Za-z0-9+/]{0,40}[=]{0,2}|[A-Za-z0-9+/=!\n]{0,40}") {
            proptest::prop_assert_eq!(decode_base64(text.as_bytes()), LENIENT.decode(text.as_bytes()));
        }
    }

    #[test]
    fn bad_base64_and_wrong_root_are_errors() {
        let xml = sample()
            .to_xml()
            .replace("PFRPTkdfSE9QPjxNQV9MSz4xPC9NQV9MSz48L1RPTkdfSE9QPg==", "!!");
        assert_eq!(
            Envelope::read(xml.as_bytes()).unwrap_err().location,
            "HOSO[1].XML1"
        );
        assert_eq!(Envelope::read(b"<X/>").unwrap_err().rule, "R-GEN-002");
        assert_eq!(
            Envelope::read(b"<GIAMDINHHS>").unwrap_err().rule,
            "R-GEN-002"
        );
        let latin = b"<?xml version=\"1.0\" encoding=\"windows-1258\"?><GIAMDINHHS/>";
        assert_eq!(Envelope::read(latin).unwrap_err().rule, "R-GEN-001");
    }
}
