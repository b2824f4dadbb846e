//! Policies held in Infrastructure-as-Code files ("hosts"): Terraform (`*.tf`), Bicep
//! (`*.bicep`) and ARM JSON templates. A host holds policies two ways:
//!
//! - **inline**: the policy text is a string literal of the host (a Terraform heredoc or quoted
//!   string, a Bicep `'...'` or `'''...'''` string, a JSON string). It is decoded into an
//!   [`InlinePolicy`], analysed as a document of its own, and edits to it are written back
//!   into the literal with the host's own escaping ([`InlinePolicy::encode`]);
//! - **by reference**: `file("x.xml")`, `templatefile(...)`, `loadTextContent('x.xml')`. The
//!   referenced file is an ordinary policy file; the host only tells its [`Placement`].
//!
//! Each host kind is a module that reads one host file into a [`HostScan`]; the resources it
//! declares (APIs, operations, products, product-API links) feed the repo model.
//!
//! Placeholders stay opaque: `${...}` and `%{...}` (Terraform templates, Bicep interpolation)
//! are kept as written in the decoded text, and no edit may fall inside one
//! ([`InlinePolicy::opaque`]).

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::layout::Scope;

pub mod arm;
pub mod bicep;
pub mod terraform;

/// The kinds of host file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostKind {
    Terraform,
    Bicep,
    /// An ARM JSON deployment template.
    Arm,
}

impl HostKind {
    /// The kind a file's name suggests. A `.json` file is an ARM template only when its
    /// content says so; the host reader checks that.
    pub fn of_path(path: &Path) -> Option<HostKind> {
        match path.extension()?.to_str()? {
            "tf" => Some(HostKind::Terraform),
            "bicep" => Some(HostKind::Bicep),
            "json" => Some(HostKind::Arm),
            _ => None,
        }
    }
}

/// Where a host's resource places a policy: its scope and the names that tie it into the
/// repo model. Names are APIM resource names as far as the host gives them literally; a name
/// the host computes (a reference to another resource, a variable) is written as the host
/// spells it, so that two resources naming the same thing the same way still match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// [`Scope::Unknown`] when the resource does not tell.
    pub scope: Scope,
    pub workspace: Option<String>,
    pub api: Option<String>,
    pub operation: Option<String>,
    pub product: Option<String>,
    /// The fragment's `fragment-id` (its resource name).
    pub fragment: Option<String>,
    /// The resource as the host names it, for messages: `azurerm_api_management_api_policy.orders`,
    /// the Bicep symbol `apiPolicy`, the ARM resource's `name` expression.
    pub resource: String,
}

impl Placement {
    /// A placement the host does not tell: unknown scope, no names.
    pub fn unknown(resource: impl Into<String>) -> Placement {
        Placement {
            scope: Scope::Unknown,
            workspace: None,
            api: None,
            operation: None,
            product: None,
            fragment: None,
            resource: resource.into(),
        }
    }
}

/// How a policy's text is written in its host; decides decoding and encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Literal {
    /// `<<XML ... XML` (`strip_indent: false`) or `<<-XML` (`true`: the body's common
    /// leading whitespace, `indent` bytes of it, is not part of the text).
    TerraformHeredoc { strip_indent: bool, indent: usize },
    /// `"..."` with HCL escapes (`\n`, `\"`, `\\`, `\uNNNN`, `$${`, `%%{`).
    TerraformQuoted,
    /// `'''...'''`: no escapes at all.
    BicepMultiline,
    /// `'...'` with Bicep escapes (`\'`, `\\`, `\n`, `\r`, `\t`, `\$`, `\u{...}`).
    BicepQuoted,
    /// A JSON string (`\"`, `\\`, `\n`, `\r`, `\t`, `\uNNNN`, ...).
    JsonString,
}

/// One break in the map from decoded text to host bytes: from `text` on, decoded offsets
/// advance with host offsets from `host`, until the next break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Break {
    pub text: usize,
    pub host: usize,
}

/// A policy written inside a host file.
#[derive(Clone, Debug)]
pub struct InlinePolicy {
    pub placement: Placement,
    pub literal: Literal,
    /// The host bytes holding the literal's content: inside the quotes, or the heredoc body
    /// without its closing delimiter line.
    pub content: Range<usize>,
    /// The decoded policy text, as APIM receives it (placeholders kept as written).
    pub text: String,
    /// Maps offsets of [`InlinePolicy::text`] to host offsets: sorted by `text`, the first
    /// at 0. An escape sequence is a break on each side.
    pub breaks: Vec<Break>,
    /// Ranges of `text` no edit may touch: `${...}`, `%{...}` and the like.
    pub opaque: Vec<Range<usize>>,
    /// The resource's `format` (`rawxml`, `xml`), when written.
    pub format: Option<String>,
}

impl InlinePolicy {
    /// The host offset of the decoded offset `at`; an offset inside an escape maps into
    /// the escape, never past it.
    pub fn host_offset(&self, at: usize) -> usize {
        let i = self.breaks.partition_point(|b| b.text <= at);
        let Some(b) = i.checked_sub(1).map(|i| self.breaks[i]) else {
            return self.content.start;
        };
        let room = self
            .breaks
            .get(i)
            .map_or(usize::MAX, |next| next.host - b.host);
        b.host + (at - b.text).min(room)
    }

    /// Whether an edit of `range` of the decoded text reaches into an opaque placeholder:
    /// a replacement that overlaps one, or an insertion strictly inside one.
    pub fn touches_opaque(&self, range: &Range<usize>) -> bool {
        self.opaque.iter().any(|o| {
            if range.is_empty() {
                o.start < range.start && range.start < o.end
            } else {
                range.start < o.end && o.start < range.end
            }
        })
    }
}

impl InlinePolicy {
    /// The host text of `replacement` written into this policy's literal, with the host's
    /// escaping (and a `<<-` heredoc's indent after each new line). `Err` when the literal
    /// cannot hold it.
    pub fn encode(&self, replacement: &str) -> Result<String, String> {
        encode(self.literal, replacement)
    }
}

/// The host text of `replacement` in a literal of kind `literal`: each host's `encode`.
pub fn encode(literal: Literal, replacement: &str) -> Result<String, String> {
    match literal {
        Literal::TerraformHeredoc { .. } | Literal::TerraformQuoted => {
            terraform::encode(literal, replacement)
        }
        Literal::BicepMultiline | Literal::BicepQuoted => bicep::encode(literal, replacement),
        Literal::JsonString => arm::encode(literal, replacement),
    }
}

/// Reads a host file of `kind` (see each host module's `scan`). `None` for a kind this build
/// does not read yet.
pub fn scan(
    kind: HostKind,
    path: &Path,
    source: &str,
    load: &dyn Fn(&Path) -> Option<String>,
) -> Option<Result<HostScan, HostError>> {
    match kind {
        HostKind::Terraform => Some(terraform::scan(path, source, load)),
        HostKind::Bicep => Some(bicep::scan(path, source, load)),
        HostKind::Arm => Some(arm::scan(path, source, load)),
    }
}

/// A policy file a host loads by reference, with the scope its resource gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyReference {
    /// The referenced file, resolved against the folder the host language resolves it from.
    pub path: PathBuf,
    pub placement: Placement,
    /// The host bytes of the call (`loadTextContent('policy.xml')`), for notes.
    pub site: Range<usize>,
    /// `file`, `templatefile`, `loadTextContent`.
    pub via: &'static str,
    /// Tokens a `replace(...)` around the load substitutes (`{origin}`): opaque in the file.
    pub replaced: Vec<String>,
}

/// A link between resources that the repo model needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Declared {
    Api {
        workspace: Option<String>,
        api: String,
    },
    Operation {
        workspace: Option<String>,
        api: String,
        operation: String,
    },
    Product {
        workspace: Option<String>,
        product: String,
    },
    ProductApi {
        workspace: Option<String>,
        product: String,
        api: String,
    },
    Fragment {
        workspace: Option<String>,
        fragment: String,
    },
    /// A policy resource whose value apimfix cannot read (computed, an expression, a link):
    /// the model does not know everything that runs.
    Unread { resource: String },
}

/// Something in a host that apimfix saw but cannot analyse (an ARM expression, a
/// `rawxml-link` URL), reported as a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostNote {
    pub site: Range<usize>,
    pub message: String,
}

/// A literal written in another host file (a Bicep module) that a resource of this file's
/// modules places, with the names this file's module call passes: the module file's own scan
/// knows only its parameter names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModulePlacement {
    /// The module file, as the reader resolved it (lexically, from the caller's folder).
    pub host: PathBuf,
    /// The literal's content in the module file (as its own scan reports it).
    pub content: Range<usize>,
    pub placement: Placement,
}

/// What one host file holds.
#[derive(Clone, Debug, Default)]
pub struct HostScan {
    pub policies: Vec<InlinePolicy>,
    /// Literals of module files that this file's module calls place.
    pub placed_in_modules: Vec<ModulePlacement>,
    pub references: Vec<PolicyReference>,
    pub declared: Vec<Declared>,
    pub notes: Vec<HostNote>,
}

/// A host file that cannot be read as its kind: the byte where reading stopped and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    pub at: usize,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `"a\nb"` at host offset 10: `a` at 11, the escape `\n` at 12..14, `b` at 14.
    fn quoted() -> InlinePolicy {
        InlinePolicy {
            placement: Placement::unknown("test"),
            literal: Literal::TerraformQuoted,
            content: 11..15,
            text: "a\nb".to_owned(),
            breaks: vec![
                Break { text: 0, host: 11 },
                Break { text: 1, host: 12 },
                Break { text: 2, host: 14 },
            ],
            opaque: vec![],
            format: None,
        }
    }

    #[test]
    fn offsets_map_through_escapes() {
        let policy = quoted();
        assert_eq!(policy.host_offset(0), 11);
        assert_eq!(policy.host_offset(1), 12);
        assert_eq!(policy.host_offset(2), 14);
        assert_eq!(policy.host_offset(3), 15);
    }

    #[test]
    fn opaque_ranges_refuse_edits_inside_and_insertions_within() {
        let mut policy = quoted();
        policy.opaque = vec![Range { start: 1, end: 3 }];
        assert!(policy.touches_opaque(&(2..2)));
        assert!(policy.touches_opaque(&(0..2)));
        assert!(!policy.touches_opaque(&(1..1)));
        assert!(!policy.touches_opaque(&(3..3)));
        assert!(!policy.touches_opaque(&(0..1)));
        assert!(!policy.touches_opaque(&(3..4)));
    }
}
