//! A Subsonic call's parameters (the query, and a form body: OpenSubsonic's `formPost`) and
//! the credentials among them.

use super::reply::Failure;
use crate::auth::Credential;

/// Every `name=value` pair of the call, in order; names may repeat (`id=1&id=2`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The pairs of a query string and of an `application/x-www-form-urlencoded` body.
    pub fn parse(query: Option<&str>, form: Option<&[u8]>) -> Params {
        let mut pairs: Vec<(String, String)> = query
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        if let Some(body) = form {
            pairs.extend(url::form_urlencoded::parse(body).into_owned());
        }
        Params(pairs)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn required(&self, name: &str) -> Result<&str, Failure> {
        self.get(name).ok_or_else(|| Failure::missing(name))
    }

    /// A number parameter: absent is `None`, present but not a number an error.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, Failure> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Failure::generic(format!("parameter {name} must be a number, not {v:?}"))),
        }
    }

    /// A count or offset: `default` when absent, at most `max`.
    pub fn bounded(&self, name: &str, default: u32, max: u32) -> Result<u32, Failure> {
        Ok(self.number::<u32>(name)?.unwrap_or(default).min(max))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }
}

/// The credentials of a call, or why they are unusable: the spec's 43 for an API key with
/// anything else, 10 for a half of one, 40 for a `p` whose `enc:` is no hex of UTF-8.
pub fn presented(params: &Params) -> Result<Option<Credential>, Failure> {
    let (u, p, t, s) = (params.get("u"), params.get("p"), params.get("t"), params.get("s"));
    if let Some(key) = params.get("apiKey") {
        if u.is_some() || p.is_some() || t.is_some() || s.is_some() {
            return Err(Failure::new(
                43,
                "multiple conflicting authentication mechanisms provided: apiKey goes alone, without u, p, t or s",
            ));
        }
        return Ok(Some(Credential::ApiKey(key.to_owned())));
    }
    let Some(name) = u else {
        return match (p, t, s) {
            (None, None, None) => Ok(None),
            _ => Err(Failure::missing("u")),
        };
    };
    let name = name.to_owned();
    match (p, t, s) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(Failure::new(
            43,
            "multiple conflicting authentication mechanisms provided: p, or t and s",
        )),
        (Some(p), None, None) => Ok(Some(Credential::Password {
            name,
            password: decode_password(p).ok_or_else(Failure::wrong_credentials)?,
        })),
        (None, Some(token), Some(salt)) => Ok(Some(Credential::Token {
            name,
            token: token.to_owned(),
            salt: salt.to_owned(),
        })),
        (None, Some(_), None) => Err(Failure::missing("s")),
        (None, None, _) => Err(Failure::missing("p")),
    }
}

/// A `p` value: clear text, or `enc:` and the UTF-8 bytes in hex.
fn decode_password(p: &str) -> Option<String> {
    let Some(hex) = p.strip_prefix("enc:") else {
        return Some(p.to_owned());
    };
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn of(query: &str) -> Result<Option<Credential>, Failure> {
        presented(&Params::parse(Some(query), None))
    }

    #[test]
    fn each_mechanism_and_its_conflicts() {
        assert_eq!(
            of("u=joe&p=sesame"),
            Ok(Some(Credential::Password {
                name: "joe".into(),
                password: "sesame".into()
            }))
        );
        // The spec's example: enc:736573616d65 is "sesame".
        assert_eq!(
            of("u=joe&p=enc:736573616d65"),
            Ok(Some(Credential::Password {
                name: "joe".into(),
                password: "sesame".into()
            }))
        );
        assert_eq!(
            of("u=joe&t=26719a1196d2a940705a59634eb18eab&s=c19b2d"),
            Ok(Some(Credential::Token {
                name: "joe".into(),
                token: "26719a1196d2a940705a59634eb18eab".into(),
                salt: "c19b2d".into()
            }))
        );
        assert_eq!(of("apiKey=aa_x"), Ok(Some(Credential::ApiKey("aa_x".into()))));
        assert_eq!(of("c=app&v=1.16.1"), Ok(None));
        for (query, code) in [
            ("apiKey=aa_x&u=joe", 43),
            ("apiKey=aa_x&p=x", 43),
            ("u=joe&p=x&t=y&s=z", 43),
            ("u=joe&t=y", 10),
            ("u=joe", 10),
            ("p=sesame", 10),
            ("u=joe&p=enc:zz", 40),
            ("u=joe&p=enc:abc", 40),
            ("u=joe&p=enc:ff", 40),
        ] {
            assert_eq!(of(query).map_err(|f| f.code), Err(code), "{query}");
        }
    }

    #[test]
    fn form_bodies_add_to_the_query_and_names_repeat() {
        let params = Params::parse(Some("f=json&id=1"), Some(b"id=2&u=j%C3%B6e"));
        assert_eq!(params.all("id"), ["1", "2"]);
        assert_eq!(params.get("u"), Some("jöe"));
        assert_eq!(params.bounded("size", 10, 500), Ok(10));
        assert!(Params::parse(Some("size=x"), None).bounded("size", 10, 500).is_err());
        assert_eq!(Params::parse(Some("size=9000"), None).bounded("size", 10, 500), Ok(500));
    }

    proptest! {
        #[test]
        fn hex_passwords_decode_to_what_was_encoded(password in "\\PC{0,30}") {
            let hex: String = password.bytes().map(|b| format!("{b:02x}")).collect();
            prop_assert_eq!(decode_password(&format!("enc:{hex}")), Some(password));
        }

        #[test]
        fn no_query_panics(query in "[a-zA-Z=&%:0-9]{0,40}") {
            let _ = of(&query);
        }
    }
}
