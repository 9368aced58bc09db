//! What a Subsonic method answers, and how: one tree ([`Node`]) rendered as the XML of the
//! Subsonic schema or as its JSON form (`f=json`, `f=jsonp`), inside the `subsonic-response`
//! envelope.
//!
//! The JSON form follows the convention the Subsonic server set and clients parse
//! (OpenSubsonic's "subsonic-response" and its OpenAPI schemas): an element's attributes are
//! fields with typed values, a child that may repeat is always an array (even of one), a
//! child that may not is an object, and an element with only text is that text (`versions`),
//! with attributes its text is `value`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The Subsonic API version we implement.
pub const API_VERSION: &str = "1.16.1";
/// The server's name in every answer (`type`), as OpenSubsonic asks.
pub const SERVER_TYPE: &str = "anyaudio";
const NAMESPACE: &str = "http://subsonic.org/restapi";

/// An attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn xml(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Int(n) => n.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Scalar::Text(s) => Value::String(s.clone()),
            Scalar::Int(n) => Value::from(*n),
            Scalar::Float(f) => Value::from(*f),
            Scalar::Bool(b) => Value::Bool(*b),
        }
    }
}

macro_rules! scalar_from {
    ($($t:ty => $variant:ident $(as $via:ty)?),*) => {
        $(impl From<$t> for Scalar {
            fn from(v: $t) -> Scalar {
                Scalar::$variant(v $(as $via)?)
            }
        })*
    };
}
scalar_from!(i64 => Int, u32 => Int as i64, u64 => Int as i64, i32 => Int as i64, u8 => Int as i64, u16 => Int as i64, f64 => Float, bool => Bool);

impl From<String> for Scalar {
    fn from(s: String) -> Scalar {
        Scalar::Text(s)
    }
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Scalar {
        Scalar::Text(s.to_owned())
    }
}

impl From<&String> for Scalar {
    fn from(s: &String) -> Scalar {
        Scalar::Text(s.clone())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Children {
    One(Node),
    Many(Vec<Node>),
}

/// An element: attributes, then named children, or text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    attrs: Vec<(&'static str, Scalar)>,
    children: Vec<(&'static str, Children)>,
    text: Option<Scalar>,
    /// Whether the JSON form is an object even without attributes (the text its `value`).
    object: bool,
}

impl Node {
    pub fn new() -> Node {
        Node::default()
    }

    /// An element whose content is `text` alone: in JSON, that value (`versions`).
    pub fn text(text: impl Into<Scalar>) -> Node {
        Node {
            text: Some(text.into()),
            ..Node::default()
        }
    }

    /// An element with text content that JSON shows as `{"value": text, ...}` with whatever
    /// attributes it has, or none (`lyrics`, a lyrics `line`).
    pub fn valued(text: impl Into<Scalar>) -> Node {
        Node {
            object: true,
            ..Node::text(text)
        }
    }

    pub fn attr(mut self, name: &'static str, value: impl Into<Scalar>) -> Node {
        self.attrs.push((name, value.into()));
        self
    }

    /// The attribute, in place of one of that name if there is one.
    pub fn set(mut self, name: &'static str, value: impl Into<Scalar>) -> Node {
        let value = value.into();
        match self.attrs.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.attrs.push((name, value)),
        }
        self
    }

    /// The attribute if there is a value.
    pub fn maybe<T: Into<Scalar>>(self, name: &'static str, value: Option<T>) -> Node {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// A child that appears once.
    pub fn child(mut self, name: &'static str, node: Node) -> Node {
        self.children.push((name, Children::One(node)));
        self
    }

    /// A child that may repeat: an array in JSON, even when empty or of one.
    pub fn list(mut self, name: &'static str, nodes: Vec<Node>) -> Node {
        self.children.push((name, Children::Many(nodes)));
        self
    }

    fn json(&self) -> Value {
        if self.attrs.is_empty() && self.children.is_empty() && !self.object {
            if let Some(text) = &self.text {
                return text.json();
            }
        }
        let mut object = Map::new();
        for (name, value) in &self.attrs {
            object.insert((*name).to_owned(), value.json());
        }
        if let Some(text) = &self.text {
            object.insert("value".to_owned(), text.json());
        }
        for (name, children) in &self.children {
            let value = match children {
                Children::One(node) => node.json(),
                Children::Many(nodes) => Value::Array(nodes.iter().map(Node::json).collect()),
            };
            object.insert((*name).to_owned(), value);
        }
        Value::Object(object)
    }

    fn write_xml(&self, name: &str, out: &mut String, namespace: Option<&str>) {
        out.push('<');
        out.push_str(name);
        if let Some(ns) = namespace {
            out.push_str(" xmlns=\"");
            out.push_str(ns);
            out.push('"');
        }
        for (attr, value) in &self.attrs {
            out.push(' ');
            out.push_str(attr);
            out.push_str("=\"");
            escape_xml(&value.xml(), out);
            out.push('"');
        }
        let empty = self.text.is_none()
            && self
                .children
                .iter()
                .all(|(_, c)| matches!(c, Children::Many(v) if v.is_empty()));
        if empty {
            out.push_str("/>");
            return;
        }
        out.push('>');
        if let Some(text) = &self.text {
            escape_xml(&text.xml(), out);
        }
        for (child, children) in &self.children {
            match children {
                Children::One(node) => node.write_xml(child, out, None),
                Children::Many(nodes) => nodes.iter().for_each(|node| node.write_xml(child, out, None)),
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

/// Whether XML 1.0 can hold `c` at all (§2.2 `Char`): tags may hold control characters.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` as attribute or element content: markup escaped, whitespace kept as references
/// (a parser would fold a literal newline in an attribute into a space), and what XML can't
/// hold replaced by U+FFFD.
fn escape_xml(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// How the client asked to be answered (`f`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
    /// JSON wrapped in a call of this function.
    Jsonp(String),
}

impl Format {
    /// From `f` and `callback`. Anything unknown is XML, the default; a JSONP callback must be
    /// a plain (dotted) identifier, so an answer can't carry a script of the caller's choosing.
    pub fn of(f: Option<&str>, callback: Option<&str>) -> Format {
        match f {
            Some("json") => Format::Json,
            Some("jsonp") => match callback.filter(|c| is_callback_name(c)) {
                Some(name) => Format::Jsonp(name.to_owned()),
                None => Format::Json,
            },
            _ => Format::Xml,
        }
    }
}

fn is_callback_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
}

/// A Subsonic error: its code and our words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u16,
    pub message: String,
}

impl Failure {
    pub fn new(code: u16, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn generic(message: impl Into<String>) -> Failure {
        Failure::new(0, message)
    }

    pub fn missing(parameter: &str) -> Failure {
        Failure::new(10, format!("required parameter {parameter} is missing"))
    }

    pub fn wrong_credentials() -> Failure {
        Failure::new(40, "wrong username or password")
    }

    pub fn not_authorized(what: &str) -> Failure {
        Failure::new(50, format!("user is not authorized to {what}"))
    }

    pub fn not_found(what: impl std::fmt::Display) -> Failure {
        Failure::new(70, format!("{what} not found"))
    }
}

impl From<crate::error::Error> for Failure {
    /// The JSON API's errors in Subsonic's codes; the message is the same safe text.
    fn from(error: crate::error::Error) -> Failure {
        use crate::error::Error as E;
        let code = match &error {
            E::TrackNotFound(_) | E::PlaylistNotFound(_) | E::ArtworkNotFound(_) | E::MediaGone(_) => 70,
            E::BadCredentials => 40,
            E::AdminRequired | E::AccountRequired => 50,
            _ => 0,
        };
        if let E::Internal(cause) = &error {
            tracing::error!(error = ?cause, "subsonic: internal error");
        }
        Failure::new(code, error.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Failure {
        crate::error::Error::Internal(error).into()
    }
}

/// The envelope around `payload`: `status="ok"`, or `failed` with the error.
fn envelope(outcome: Result<Node, Failure>) -> Node {
    let base = Node::new()
        .attr("status", if outcome.is_ok() { "ok" } else { "failed" })
        .attr("version", API_VERSION)
        .attr("type", SERVER_TYPE)
        .attr("serverVersion", env!("CARGO_PKG_VERSION"))
        .attr("openSubsonic", true);
    match outcome {
        Ok(payload) => Node {
            attrs: base.attrs.into_iter().chain(payload.attrs).collect(),
            children: payload.children,
            ..Node::default()
        },
        Err(failure) => base.child(
            "error",
            Node::new()
                .attr("code", u32::from(failure.code))
                .attr("message", failure.message),
        ),
    }
}

/// The answer's body and Content-Type.
pub fn render(outcome: Result<Node, Failure>, format: &Format) -> (String, &'static str) {
    let root = envelope(outcome);
    let json = || serde_json::json!({ "subsonic-response": root.json() }).to_string();
    match format {
        Format::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            root.write_xml("subsonic-response", &mut out, Some(NAMESPACE));
            (out, "text/xml; charset=utf-8")
        }
        Format::Json => (json(), "application/json"),
        Format::Jsonp(callback) => (format!("{callback}({});", json()), "application/javascript"),
    }
}

/// An answer as an HTTP response. Subsonic errors travel in a 200, as clients expect.
pub fn respond(outcome: Result<Node, Failure>, format: &Format) -> Response {
    let (body, content_type) = render(outcome, format);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Node {
        Node::new().child(
            "artists",
            Node::new().attr("ignoredArticles", "The").list(
                "index",
                vec![Node::new().attr("name", "B").list(
                    "artist",
                    vec![Node::new()
                        .attr("id", "ar-1")
                        .attr("name", "B & \"b\"")
                        .attr("albumCount", 2u32)],
                )],
            ),
        )
    }

    #[test]
    fn json_has_typed_attributes_and_arrays_for_what_repeats() {
        let (body, content_type) = render(Ok(sample()), &Format::Json);
        assert_eq!(content_type, "application/json");
        let json: Value = serde_json::from_str(&body).unwrap();
        let response = &json["subsonic-response"];
        assert_eq!(response["status"], "ok");
        assert_eq!(response["version"], API_VERSION);
        assert_eq!(response["openSubsonic"], true);
        let artist = &response["artists"]["index"][0]["artist"][0];
        assert_eq!(artist["albumCount"], 2);
        assert_eq!(artist["name"], "B & \"b\"");
    }

    #[test]
    fn xml_escapes_and_closes_empty_elements() {
        let (body, _) = render(Ok(sample()), &Format::Xml);
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><subsonic-response xmlns=\"http://subsonic.org/restapi\" status=\"ok\" version=\"1.16.1\""), "{body}");
        assert!(
            body.contains("<artist id=\"ar-1\" name=\"B &amp; &quot;b&quot;\" albumCount=\"2\"/>"),
            "{body}"
        );
        let (body, _) = render(Err(Failure::missing("id")), &Format::Xml);
        assert!(body.contains("status=\"failed\""), "{body}");
        assert!(
            body.contains("<error code=\"10\" message=\"required parameter id is missing\"/>"),
            "{body}"
        );
    }

    #[test]
    fn text_elements_are_bare_values_in_json() {
        let node = Node::new().list(
            "openSubsonicExtensions",
            vec![Node::new()
                .attr("name", "formPost")
                .list("versions", vec![Node::text(1u32)])],
        );
        let (body, _) = render(Ok(node.clone()), &Format::Json);
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            json["subsonic-response"]["openSubsonicExtensions"][0]["versions"],
            serde_json::json!([1])
        );
        let (xml, _) = render(Ok(node), &Format::Xml);
        assert!(
            xml.contains("<openSubsonicExtensions name=\"formPost\"><versions>1</versions></openSubsonicExtensions>"),
            "{xml}"
        );
    }

    #[test]
    fn jsonp_needs_a_plain_callback_name() {
        assert_eq!(
            Format::of(Some("jsonp"), Some("cb.done_1")),
            Format::Jsonp("cb.done_1".into())
        );
        for bad in ["alert(1);x", "a b", "", "1a", "a..b", "x</script>"] {
            assert_eq!(Format::of(Some("jsonp"), Some(bad)), Format::Json, "{bad}");
        }
        assert_eq!(Format::of(None, None), Format::Xml);
        let (body, content_type) = render(Ok(Node::new()), &Format::Jsonp("cb".into()));
        assert!(
            body.starts_with("cb({\"subsonic-response\":") && body.ends_with(");"),
            "{body}"
        );
        assert_eq!(content_type, "application/javascript");
    }

    proptest! {
        /// Whatever text a tag holds, the XML stays one well-formed element with it intact.
        #[test]
        fn any_text_round_trips_through_xml(text in any::<String>()) {
            let (body, _) = render(Ok(Node::new().child("song", Node::new().attr("title", text.as_str()))), &Format::Xml);
            let mut reader = quick_xml::Reader::from_str(&body);
            let mut titles = Vec::new();
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Empty(e)) if e.name().as_ref() == b"song" => {
                        let attr = e.try_get_attribute("title").unwrap().unwrap();
                        titles.push(attr.decoded_and_normalized_value(quick_xml::XmlVersion::Explicit1_0, reader.decoder()).unwrap().into_owned());
                    }
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{e}: {body}"),
                }
            }
            let kept: String = text.chars().map(|c| if xml_char(c) { c } else { '\u{FFFD}' }).collect();
            prop_assert_eq!(titles, vec![kept]);
        }
    }
}
