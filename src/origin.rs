//! Comparing CORS origins the way APIM documents them: the one place apimfix does it.
//!
//! An origin is `scheme://host[:port]`: scheme and host compare case-insensitively, and an
//! omitted port is 80 for `http` and 443 for `https`. A lone trailing `/` is ignored: real
//! policies write `https://app.example.com/`, and whether APIM matches it against the browser's
//! `https://app.example.com` is undocumented, so apimfix does not call such an origin missing.

/// `origin` in a form where equal origins are equal strings.
pub fn normalize(origin: &str) -> String {
    let origin = origin.trim();
    let Some((scheme, rest)) = origin.split_once("://") else {
        return origin.to_ascii_lowercase();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    let path = if path == "/" { "" } else { path };
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some("80"),
        "https" => Some("443"),
        _ => None,
    };
    // `rsplit_once` keeps an IPv6 literal's colons in the host.
    let authority = match authority.rsplit_once(':') {
        Some((host, port)) if Some(port) == default_port && !host.ends_with(':') => host.to_owned(),
        _ => authority,
    };
    format!("{scheme}://{authority}{path}")
}

/// Whether two origins are the same origin once normalised (see [`normalize`]).
pub fn same_origin(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// Whether an origin entry of a policy is literal text apimfix can compare: named values
/// (`{{x}}`), pipeline token placeholders (`{#[TOKEN]#}`, replaced before publishing) and
/// policy expressions are only known later.
pub fn is_literal(origin: &str) -> bool {
    !(origin.contains("{{")
        || origin.contains("{#")
        || origin.contains("@(")
        || origin.contains("@{"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_host_ignore_case() {
        assert_eq!(
            normalize("HTTPS://App.Example.COM"),
            normalize("https://app.example.com")
        );
    }

    #[test]
    fn default_ports_equal_omitted() {
        assert_eq!(normalize("https://a.com:443"), normalize("https://a.com"));
        assert_eq!(normalize("http://a.com:80"), normalize("http://a.com"));
        assert_ne!(normalize("http://a.com:443"), normalize("http://a.com"));
        assert_ne!(normalize("https://a.com:8443"), normalize("https://a.com"));
        assert_ne!(normalize("http://a.com"), normalize("https://a.com"));
    }

    #[test]
    fn trailing_slash_is_ignored() {
        assert_eq!(normalize(" https://a.com/ "), normalize("https://a.com"));
    }

    #[test]
    fn named_values_and_expressions_are_not_literal() {
        assert!(is_literal("https://a.com"));
        assert!(!is_literal("{{frontend-origin}}"));
        assert!(!is_literal("@(context.Variables[\"o\"])"));
        assert!(!is_literal("{#[FRONTEND_ORIGIN]#}"));
        assert!(!is_literal("https://{#[HOST]#}"));
    }
}
