//! CORS origins: the one place apimfix reads, checks and compares them.
//!
//! Browsers send `Origin: scheme://host[:port]`, serialised: no path, no trailing `/`, the
//! default port left out. apimfix compares the entries of a policy with the declared origins
//! literally, as text, ASCII case aside (scheme and host are case-insensitive): an entry
//! `https://x.com/` does not allow the origin `https://x.com` a browser sends, and
//! `https://x.com:443` is not `https://x.com` either. Such an entry is `cors-origin-invalid`'s
//! business, which knows what it should read ([`cleaned`]).

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// Whether two origins are the same text, ASCII case aside.
pub fn same_origin(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Whether an origin entry of a policy is literal text apimfix can compare: named values
/// (`{{x}}`), pipeline token placeholders (`{#[TOKEN]#}`, replaced before publishing), policy expressions (`@(...)`, `@{...}`) and template syntax (`${...}`,
/// `%{...}`, Liquid) are only known when the policy is deployed or run.
pub fn is_literal(origin: &str) -> bool {
    !["{{", "{#", "@(", "@{", "${", "%{", "{%"]
        .iter()
        .any(|m| origin.contains(m))
}

/// What is wrong with an origin entry, as a browser would see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// In quotation marks: `'https://a.com'`.
    Quoted,
    /// No `scheme://`.
    NoScheme,
    /// A `*` in the host (`https://*.contoso.com`).
    Wildcard,
    /// A path (or a query) after the host.
    Path,
    /// A lone `/` after the host.
    TrailingSlash,
}

/// What is wrong with `text` as an origin, if anything. The literal `null` (sandboxed frames,
/// `file:` pages) is an origin browsers send.
pub fn problem(text: &str) -> Option<Problem> {
    if text.eq_ignore_ascii_case("null") {
        return None;
    }
    let quoted = |q: char| text.len() >= 2 && text.starts_with(q) && text.ends_with(q);
    if quoted('"') || quoted('\'') {
        return Some(Problem::Quoted);
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return Some(Problem::NoScheme);
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Some(Problem::NoScheme);
    }
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if authority.contains('*') {
        return Some(Problem::Wildcard);
    }
    match tail {
        "" => None,
        "/" => Some(Problem::TrailingSlash),
        _ => Some(Problem::Path),
    }
}

/// What an entry should read once its quotes and trailing `/` are dropped, when that leaves
/// an origin (`'https://a.com/'` reads `https://a.com`); `None` when nothing is to drop or
/// what is left is still no origin.
pub fn cleaned(text: &str) -> Option<&str> {
    let unquoted = match problem(text)? {
        Problem::Quoted => &text[1..text.len() - 1],
        Problem::TrailingSlash => return Some(&text[..text.len() - 1]),
        _ => return None,
    };
    match problem(unquoted) {
        None if !unquoted.is_empty() => Some(unquoted),
        Some(Problem::TrailingSlash) => Some(&unquoted[..unquoted.len() - 1]),
        _ => None,
    }
}

/// Checks an origin declared in the configuration (`cors-origins.origins`): `*`, or
/// `scheme://host[:port]` with nothing after it. The error says what to write instead.
pub fn check_declared(origin: &str) -> Result<(), String> {
    let text = origin.trim();
    if text == "*" {
        return Ok(());
    }
    if text.is_empty() {
        return Err("an empty origin: write `scheme://host[:port]`".to_owned());
    }
    let why = match problem(text) {
        None => {
            let (scheme, authority) = text.split_once("://").unwrap_or(("", text));
            check_authority(text, authority)?;
            let default = match scheme.to_ascii_lowercase().as_str() {
                "https" => ":443",
                "http" => ":80",
                _ => return Ok(()),
            };
            return match authority.strip_suffix(default) {
                Some(host) => Err(format!(
                    "`{text}` is not an origin as browsers send it: they leave out the default port, write `{scheme}://{host}`"
                )),
                None => Ok(()),
            };
        }
        Some(Problem::Quoted) => format!(
            "is in quotation marks, which the browser's `Origin` never has: write {}",
            cleaned(text).map_or("it without them".to_owned(), |c| format!("`{c}`"))
        ),
        Some(Problem::NoScheme) => {
            format!("has no scheme: write `https://{text}` (or `http://{text}`)")
        }
        Some(Problem::Wildcard) => "has a wildcard in its host: list each origin".to_owned(),
        Some(Problem::Path) => {
            let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
            let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            format!("has a path, which browsers never send: write `{scheme}://{host}`")
        }
        Some(Problem::TrailingSlash) => format!(
            "ends with `/`, which browsers never send: write `{}`",
            &text[..text.len() - 1]
        ),
    };
    Err(format!("`{text}` is not an origin: it {why}"))
}

/// The host and optional port of an origin.
fn check_authority(text: &str, authority: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{text}` is not an origin: {why}"));
    if authority.is_empty() {
        return bad("it has no host");
    }
    if authority.contains('@') || authority.chars().any(char::is_whitespace) {
        return bad("its host holds `@` or spaces");
    }
    let (host, port) = match authority.strip_prefix('[') {
        // `[::1]:8080`
        Some(v6) => match v6.split_once(']') {
            Some((_, rest)) => ("[v6]", rest.strip_prefix(':')),
            None => return bad("its IPv6 host lacks `]`"),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return bad("it has no host");
    }
    if let Some(port) = port
        && (port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) || port.len() > 5)
    {
        return bad("its port is not a number");
    }
    Ok(())
}

/// Deserializes `cors-origins.origins`, checking each entry with [`check_declared`] inside
/// the string's own deserialization, so the configuration error points at its line and column.
pub fn de_declared<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Declared(String);

    impl<'de> serde::Deserialize<'de> for Declared {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Declared;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an origin (`scheme://host[:port]`)")
                }

                fn visit_str<E: de::Error>(self, value: &str) -> Result<Declared, E> {
                    check_declared(value)
                        .map(|()| Declared(value.to_owned()))
                        .map_err(E::custom)
                }
            }
            deserializer.deserialize_str(V)
        }
    }

    let list = <Vec<Declared> as serde::Deserialize>::deserialize(deserializer)?;
    Ok(list.into_iter().map(|d| d.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_as_text_ascii_case_aside() {
        assert!(same_origin(
            "HTTPS://App.Example.COM",
            "https://app.example.com"
        ));
        assert!(!same_origin("https://a.com/", "https://a.com"));
        assert!(!same_origin("https://a.com:443", "https://a.com"));
        assert!(!same_origin("'https://a.com'", "https://a.com"));
    }

    #[test]
    fn template_syntax_named_values_and_expressions_are_not_literal() {
        assert!(is_literal("https://a.com"));
        for dynamic in [
            "{{frontend-origin}}",
            "@(context.Variables[\"o\"])",
            "https://${host}",
            "%{ for o in origins ~}",
            "{#[FRONTEND_ORIGIN]#}",
            "https://{#[HOST]#}",
        ] {
            assert!(!is_literal(dynamic), "{dynamic}");
        }
    }

    #[test]
    fn cleaned_drops_quotes_and_a_trailing_slash() {
        assert_eq!(cleaned("'https://q.com'"), Some("https://q.com"));
        assert_eq!(cleaned("\"https://q.com/\""), Some("https://q.com"));
        assert_eq!(cleaned("https://q.com/"), Some("https://q.com"));
        assert_eq!(cleaned("https://q.com"), None);
        assert_eq!(cleaned("'q.com'"), None);
    }

    #[test]
    fn declared_origins_are_scheme_host_and_port_only() {
        for ok in [
            "https://a.com",
            "http://localhost:3000",
            "*",
            "https://[::1]:8443",
        ] {
            assert_eq!(check_declared(ok), Ok(()), "{ok}");
        }
        let err = |o: &str| check_declared(o).unwrap_err();
        assert!(
            err("portal.contoso.com").contains("has no scheme: write `https://portal.contoso.com`")
        );
        assert!(
            err("https://x.com/")
                .contains("ends with `/`, which browsers never send: write `https://x.com`")
        );
        assert!(err("https://x.com/app").contains("has a path"));
        assert!(err("https://x.com:abc").contains("port is not a number"));
        assert!(err("https://*.x.com").contains("wildcard"));
        assert!(err("https://x.com:443").contains("write `https://x.com`"));
    }
}
