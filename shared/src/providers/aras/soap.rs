//! SOAP 1.1 envelopes for Aras Kargo: written as text with every value
//! escaped by quick-xml, read back with quick-xml's pull parser into a small
//! element tree (local names only: Aras answers with default namespaces, and
//! prefixes carry no meaning we need).

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

pub const SOAP_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The order service's and the query service's XML namespace (docs/aras-wire.md).
pub const TEMPURI_NS: &str = "http://tempuri.org/";

/// Deepest nesting we read; Aras answers are a handful of levels deep.
const MAX_DEPTH: usize = 64;

/// `value` made safe for XML text: `<>&'"` and `\r` escaped, and the control
/// characters XML 1.0 cannot carry at all (U+0000–U+001F except tab and
/// newline) replaced by a space, so no user input can break the envelope.
pub fn escape_text(value: &str) -> Cow<'_, str> {
    let clean: Cow<'_, str> = if value
        .chars()
        .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
    {
        Cow::Owned(
            value
                .chars()
                .map(|c| {
                    if c < ' ' && !matches!(c, '\t' | '\n' | '\r') {
                        ' '
                    } else {
                        c
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(value)
    };
    match quick_xml::escape::escape(clean.as_ref()) {
        Cow::Borrowed(_) => clean,
        Cow::Owned(escaped) => Cow::Owned(escaped),
    }
}

/// Appends `<name>escaped value</name>`. `name` is always one of our own
/// constants, never input.
pub fn push_element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape_text(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// A whole SOAP 1.1 request: `<operation xmlns="http://tempuri.org/">` with
/// `parameters` (already-escaped XML) inside.
pub fn envelope(operation: &str, parameters: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <soap:Envelope xmlns:soap=\"{SOAP_ENVELOPE_NS}\">\
         <soap:Body><{operation} xmlns=\"{TEMPURI_NS}\">{parameters}</{operation}></soap:Body>\
         </soap:Envelope>"
    )
}

/// One element of a parsed document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XmlNode {
    /// Local name (prefix dropped).
    pub name: String,
    /// The element's own text (entities resolved), untrimmed.
    pub text: String,
    pub children: Vec<XmlNode>,
}

impl XmlNode {
    pub fn child(&self, name: &str) -> Option<&XmlNode> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a XmlNode> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first element named `name` here or below (depth first).
    pub fn find(&self, name: &str) -> Option<&XmlNode> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// Trimmed text of the child `name`, `None` when absent or empty.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }
}

/// Parses a whole document into its root element.
pub fn parse(bytes: &[u8]) -> Result<XmlNode, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the answer is not UTF-8".to_string())?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<XmlNode> = Vec::new();
    let mut root: Option<XmlNode> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("XML nested too deeply".into());
                }
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                stack.push(XmlNode {
                    name: start.local_name().as_ref().to_string(),
                    ..XmlNode::default()
                });
            }
            Event::Empty(start) => {
                let node = XmlNode {
                    name: start.local_name().as_ref().to_string(),
                    ..XmlNode::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err("content after the root element".into()),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start.
                let node = stack.pop().ok_or("unbalanced end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Event::CData(c) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let reference = format!("&{};", r.xml10_content());
                let resolved = quick_xml::escape::unescape(&reference)
                    .map_err(|e| format!("unknown entity {reference}: {e}"))?;
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err("DOCTYPE is not accepted".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "empty document".to_string())
}

/// What a SOAP answer carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapAnswer {
    /// The first element inside `Body` (e.g. `SetOrderResponse`).
    Response(XmlNode),
    Fault {
        code: String,
        message: String,
    },
}

/// Reads an envelope: its fault, or the response element of its body.
pub fn read_answer(bytes: &[u8]) -> Result<SoapAnswer, String> {
    let root = parse(bytes)?;
    if root.name != "Envelope" {
        return Err(format!("expected a SOAP Envelope, got <{}>", root.name));
    }
    let body = root.child("Body").ok_or("the envelope has no Body")?;
    let first = body.children.first().ok_or("the SOAP Body is empty")?;
    if first.name == "Fault" {
        // SOAP 1.1 faultcode/faultstring; SOAP 1.2 Code/Value and Reason/Text.
        let code = first
            .child_text("faultcode")
            .or_else(|| first.child("Code").and_then(|c| c.child_text("Value")))
            .unwrap_or_default()
            .to_string();
        let message = first
            .child_text("faultstring")
            .or_else(|| first.child("Reason").and_then(|r| r.child_text("Text")))
            .unwrap_or("SOAP fault without a message")
            .to_string();
        return Ok(SoapAnswer::Fault { code, message });
    }
    Ok(SoapAnswer::Response(first.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            escape_text(r#"Ayşe <"Kaya"> & 'Oğul'"#),
            "Ayşe &lt;&quot;Kaya&quot;&gt; &amp; &apos;Oğul&apos;"
        );
        assert_eq!(escape_text("a\u{1}b\r\nc"), "a b&#13;\nc");
        assert!(matches!(escape_text("plain"), Cow::Borrowed(_)));
        let mut out = String::new();
        push_element(&mut out, "ReceiverName", "A&B");
        assert_eq!(out, "<ReceiverName>A&amp;B</ReceiverName>");
    }

    #[test]
    fn parses_prefixed_envelopes_and_resolves_entities() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">
              <s:Body><XResponse xmlns="http://tempuri.org/">
                <XResult>a &amp; b &lt;c&gt; &#351;<![CDATA[<raw>]]></XResult><Empty/>
              </XResponse></s:Body></s:Envelope>"#;
        let SoapAnswer::Response(response) = read_answer(xml).unwrap() else {
            panic!("expected a response");
        };
        assert_eq!(response.name, "XResponse");
        assert_eq!(response.child_text("XResult"), Some("a & b <c> ş<raw>"));
        assert!(response.child("Empty").is_some());
        assert_eq!(response.child_text("Empty"), None);
    }

    #[test]
    fn reads_soap_faults() {
        let xml = br#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
            <soap:Fault><faultcode>soap:Client</faultcode><faultstring>Server was unable to read request.</faultstring></soap:Fault>
            </soap:Body></soap:Envelope>"#;
        assert_eq!(
            read_answer(xml).unwrap(),
            SoapAnswer::Fault {
                code: "soap:Client".into(),
                message: "Server was unable to read request.".into()
            }
        );
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"<a><b></a>",
            b"<a>",
            b"<a/><b/>",
            b"not xml",
            b"<a>&unknown;</a>",
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            b"\xff\xfe<a/>",
            b"<Envelope><Head/></Envelope>",
            b"<Envelope><Body/></Envelope>",
            b"<html><body>502 Bad Gateway</body></html>",
        ] {
            assert!(
                read_answer(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
