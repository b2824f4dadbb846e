//! Terraform (`*.tf`): the APIM policy resources of one file, their inline policies (heredocs
//! and quoted strings) and the files they load (`file()`, `templatefile()`).
//!
//! A focused scanner, not a full HCL parser: it reads the body structure (blocks,
//! attributes, object and tuple constructors, strings, heredocs, calls) exactly, with byte
//! offsets for everything, and skips any other expression as balanced tokens. Why not
//! `hcl-edit`: it spans each template element, but a literal element's value is already
//! decoded (escapes, and the `<<-` indent once dedented) with no map from decoded offsets back
//! to the file, which is what diagnostics and edits need; decoding again to rebuild that map
//! is the larger part of this scanner.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::layout::Scope;

use super::{
    Break, Declared, HostError, HostNote, HostScan, InlinePolicy, Literal, Placement,
    PolicyReference,
};

/// Reads one Terraform file. `path` is the file (references resolve from its folder and,
/// for paths Terraform resolves from the root module, the folders above it); `load` reads
/// another file, used here to see whether a referenced file exists.
pub fn scan(
    path: &Path,
    source: &str,
    load: &dyn Fn(&Path) -> Option<String>,
) -> Result<HostScan, HostError> {
    // A UTF-8 byte order mark is no token (Terraform reads such files; editors write them).
    let mut parser = Parser {
        src: source.as_bytes(),
        pos: if source.starts_with('\u{feff}') { 3 } else { 0 },
    };
    let body = parser.body(None)?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut out = HostScan::default();
    let blocks: Vec<&Block> = body.iter().filter_map(Item::as_block).collect();
    let names = Names {
        blocks: &blocks,
        folder,
        path,
        load,
        siblings: std::cell::OnceCell::new(),
    };
    for block in &blocks {
        match (block.kind.as_str(), block.labels.as_slice()) {
            ("resource", [kind, name]) => {
                resource(&names, kind, name, block, source, folder, load, &mut out)
            }
            ("module", [name]) => module(&names, name, block, source, folder, load, &mut out),
            _ => {}
        }
    }
    Ok(out)
}

/// The host text of `replacement` inserted into a literal of `literal`'s kind.
pub fn encode(literal: Literal, replacement: &str) -> Result<String, String> {
    let mut out = String::with_capacity(replacement.len() + 8);
    match literal {
        Literal::TerraformQuoted => {
            let mut chars = replacement.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '$' | '%' if chars.peek() == Some(&'{') => {
                        out.push(c);
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
        }
        Literal::TerraformHeredoc {
            strip_indent,
            indent,
        } => {
            let mut chars = replacement.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '$' | '%' if chars.peek() == Some(&'{') => {
                        out.push(c);
                        out.push(c);
                    }
                    '\n' => {
                        out.push('\n');
                        // A blank line gets no indent: it would be trailing whitespace, and
                        // `<<-` ignores blank lines when it strips the indent.
                        if strip_indent && chars.peek() != Some(&'\n') {
                            out.extend(std::iter::repeat_n(' ', indent));
                        }
                    }
                    c => out.push(c),
                }
            }
        }
        other => return Err(format!("not a Terraform literal: {other:?}")),
    }
    Ok(out)
}

/// The policy resources and what they hold.
struct Kind {
    scope: Scope,
    attribute: &'static str,
}

fn policy_resource(kind: &str) -> Option<Kind> {
    let (scope, attribute) = match kind {
        "azurerm_api_management_policy" => (Scope::Global, "xml_content"),
        "azurerm_api_management_api_policy" => (Scope::Api, "xml_content"),
        "azurerm_api_management_api_operation_policy" => (Scope::Operation, "xml_content"),
        "azurerm_api_management_product_policy" => (Scope::Product, "xml_content"),
        "azurerm_api_management_workspace_policy" => (Scope::Workspace, "xml_content"),
        "azurerm_api_management_policy_fragment" => (Scope::Fragment, "value"),
        _ => return None,
    };
    Some(Kind { scope, attribute })
}

/// The scope of an `azapi_resource` `type` (`Microsoft.ApiManagement/service/apis/policies@...`).
fn azapi_scope(kind: &str) -> Option<Scope> {
    let kind = kind.split('@').next()?.to_ascii_lowercase();
    let rest = kind.strip_prefix("microsoft.apimanagement/service")?;
    let workspaced = rest.starts_with("/workspaces/");
    let rest = if workspaced {
        rest.trim_start_matches("/workspaces")
    } else {
        rest
    };
    Some(match rest {
        "/policies" => Scope::Global,
        "/apis/policies" => Scope::Api,
        "/apis/operations/policies" => Scope::Operation,
        "/products/policies" => Scope::Product,
        "/policyfragments" => Scope::Fragment,
        "s/policies" if workspaced => Scope::Workspace,
        _ => return None,
    })
}

/// Resolves names: a literal string, or a reference to another resource of the file
/// (`azurerm_api_management_api.orders.name`) whose attribute is a literal string.
struct Names<'a> {
    blocks: &'a [&'a Block],
    /// The folder of the file: the other `.tf` files of its module, read when a name is
    /// not found in the file itself.
    folder: &'a Path,
    path: &'a Path,
    load: &'a dyn Fn(&Path) -> Option<String>,
    siblings: std::cell::OnceCell<Vec<Block>>,
}

impl Names<'_> {
    fn of(&self, expr: Option<&Expr>) -> Option<String> {
        match expr? {
            Expr::Str(s) => Some(s.text.clone()),
            Expr::Traversal(t, _) => Some(
                self.literal(t, self.blocks.iter().copied())
                    .or_else(|| self.literal(t, self.siblings().iter()))
                    .unwrap_or_else(|| t.clone()),
            ),
            _ => None,
        }
    }

    /// The literal string a reference names among `blocks`: `TYPE.NAME.ATTR` of a resource,
    /// `var.X` (a variable's `default`), `local.X`.
    fn literal<'b>(
        &self,
        t: &str,
        blocks: impl Iterator<Item = &'b Block> + Clone,
    ) -> Option<String> {
        let parts: Vec<&str> = t.split('.').collect();
        let found = match parts.as_slice() {
            ["var", name] => blocks
                .clone()
                .find(|b| b.kind == "variable" && b.labels.len() == 1 && b.labels[0] == *name)
                .and_then(|b| b.attr("default")),
            ["local", name] => blocks
                .clone()
                .filter(|b| b.kind == "locals")
                .find_map(|b| b.attr(name)),
            [kind, name, attr] => blocks
                .clone()
                .find(|b| {
                    b.kind == "resource"
                        && b.labels.len() == 2
                        && b.labels[0] == *kind
                        && b.labels[1] == *name
                })
                .and_then(|b| b.attr(attr)),
            _ => None,
        };
        match found {
            Some(Expr::Str(s)) if s.opaque.is_empty() => Some(s.text.clone()),
            _ => None,
        }
    }

    /// The blocks of the other `.tf` files of the folder.
    fn siblings(&self) -> &[Block] {
        self.siblings.get_or_init(|| {
            let dir = if self.folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                self.folder
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                return Vec::new();
            };
            let mut files: Vec<PathBuf> = entries
                .flatten()
                .map(|e| self.folder.join(e.file_name()))
                .filter(|p| p.extension().is_some_and(|x| x == "tf") && p != self.path)
                .collect();
            files.sort();
            let mut blocks = Vec::new();
            for file in files {
                let Some(text) = (self.load)(&file) else {
                    continue;
                };
                let mut parser = Parser {
                    src: text.as_bytes(),
                    pos: 0,
                };
                if let Ok(body) = parser.body(None) {
                    blocks.extend(body.into_iter().filter_map(|item| match item {
                        Item::Block(b) => Some(b),
                        Item::Attr => None,
                    }));
                }
            }
            blocks
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn resource(
    names: &Names<'_>,
    kind: &str,
    name: &str,
    block: &Block,
    source: &str,
    folder: &Path,
    load: &dyn Fn(&Path) -> Option<String>,
    out: &mut HostScan,
) {
    let address = format!("{kind}.{name}");
    let workspace = names.of(block.attr("workspace_name"));
    match kind {
        "azurerm_api_management_api" => {
            if let Some(api) = names.of(block.attr("name")) {
                let api = match names.of(block.attr("revision")) {
                    Some(rev) if rev != "1" => format!("{api};rev={rev}"),
                    _ => api,
                };
                out.declared.push(Declared::Api { workspace, api });
            }
            return;
        }
        "azurerm_api_management_api_operation" => {
            if let (Some(api), Some(operation)) = (
                names.of(block.attr("api_name")),
                names.of(block.attr("operation_id")),
            ) {
                out.declared.push(Declared::Operation {
                    workspace,
                    api,
                    operation,
                });
            }
            return;
        }
        "azurerm_api_management_product" => {
            if let Some(product) = names.of(block.attr("product_id")) {
                out.declared.push(Declared::Product { workspace, product });
            }
            return;
        }
        "azurerm_api_management_product_api" => {
            if let (Some(product), Some(api)) = (
                names.of(block.attr("product_id")),
                names.of(block.attr("api_name")),
            ) {
                out.declared.push(Declared::ProductApi {
                    workspace,
                    product,
                    api,
                });
            }
            return;
        }
        _ => {}
    }
    if kind == "azapi_resource" {
        let Some(Expr::Str(kind)) = block.attr("type") else {
            return;
        };
        let Some(scope) = azapi_scope(&kind.text) else {
            return;
        };
        let mut placement = Placement::unknown(address);
        placement.scope = scope;
        if scope == Scope::Fragment {
            placement.fragment = names.of(block.attr("name"));
        }
        let body = block.attr("body").map(|b| match b {
            Expr::Call { name, args, .. } if name == "jsonencode" && args.len() == 1 => &args[0],
            other => other,
        });
        let properties = match body {
            Some(Expr::Object(entries)) => find(entries, "properties"),
            _ => None,
        };
        if let Some(Expr::Object(props)) = properties {
            let format = match find(props, "format") {
                Some(Expr::Str(s)) => Some(s.text.clone()),
                _ => None,
            };
            if let Some(value) = find(props, "value") {
                take_value(value, placement, format, source, folder, load, out);
            }
        }
        return;
    }
    let Some(policy) = policy_resource(kind) else {
        return;
    };
    let mut placement = Placement::unknown(address);
    placement.scope = policy.scope;
    placement.workspace = workspace;
    placement.api = names.of(block.attr("api_name"));
    placement.operation = names.of(block.attr("operation_id"));
    placement.product = names.of(block.attr("product_id"));
    if policy.scope == Scope::Fragment {
        placement.fragment = names.of(block.attr("name"));
        if let Some(fragment) = placement.fragment.clone() {
            out.declared.push(Declared::Fragment {
                workspace: placement.workspace.clone(),
                fragment,
            });
        }
    }
    if policy.scope == Scope::Workspace {
        placement.workspace = placement
            .workspace
            .or_else(|| names.of(block.attr("api_management_workspace_id")));
    }
    let format = match block.attr("format") {
        Some(Expr::Str(s)) => Some(s.text.clone()),
        _ => None,
    };
    if let Some(value) = block.attr(policy.attribute) {
        take_value(value, placement, format, source, folder, load, out);
    }
}

/// A module call: `xml_content`, `policy_xml` and the like take the module's scope from its
/// other arguments; `api_operation_policies = [{ operation_id, xml_content }]` gives each
/// entry the operation scope.
fn module(
    names: &Names<'_>,
    name: &str,
    block: &Block,
    source: &str,
    folder: &Path,
    load: &dyn Fn(&Path) -> Option<String>,
    out: &mut HostScan,
) {
    let api = names.of(block.attr("api_name"));
    let product = names.of(block.attr("product_id"));
    let operation = names.of(block.attr("operation_id"));
    let workspace = names.of(block.attr("workspace_name"));
    let scope_of = |operation: bool, api: &Option<String>, product: &Option<String>| {
        if operation {
            Scope::Operation
        } else if api.is_some() {
            Scope::Api
        } else if product.is_some() {
            Scope::Product
        } else {
            Scope::Unknown
        }
    };
    for (key, value) in &block.attrs {
        let key = key.as_str();
        if is_policy_argument(key) {
            let mut placement = Placement::unknown(format!("module.{name}.{key}"));
            placement.scope = match key {
                "global_policy_xml" | "service_policy_xml" => Scope::Global,
                "product_policy_xml" => Scope::Product,
                "api_policy_xml" => Scope::Api,
                "operation_policy_xml" => Scope::Operation,
                _ => scope_of(operation.is_some(), &api, &product),
            };
            placement.workspace = workspace.clone();
            placement.api = api.clone();
            placement.operation = operation.clone();
            placement.product = product.clone();
            take_value(value, placement, None, source, folder, load, out);
        } else if key.ends_with("_policies")
            && let Expr::Tuple(items) = value
        {
            for (i, item) in items.iter().enumerate() {
                let Expr::Object(entries) = item else {
                    continue;
                };
                let Some((field, value)) = entries
                    .iter()
                    .find(|(k, _)| is_policy_argument(k))
                    .map(|(k, v)| (k.as_str(), v))
                else {
                    continue;
                };
                let mut placement = Placement::unknown(format!("module.{name}.{key}[{i}]"));
                let entry_api = names.of(find(entries, "api_name")).or_else(|| api.clone());
                let entry_operation = names.of(find(entries, "operation_id"));
                let entry_product = names.of(find(entries, "product_id")).or(product.clone());
                placement.scope = scope_of(entry_operation.is_some(), &entry_api, &entry_product);
                placement.workspace = workspace.clone();
                placement.api = entry_api;
                placement.operation = entry_operation;
                placement.product = entry_product;
                let _ = field;
                take_value(value, placement, None, source, folder, load, out);
            }
        }
    }
}

/// The module arguments read as a policy.
fn is_policy_argument(key: &str) -> bool {
    key == "xml_content" || key == "policy_xml" || key == "policy" || key.ends_with("_policy_xml")
}

fn find<'a>(entries: &'a [(String, Expr)], key: &str) -> Option<&'a Expr> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A policy value: an inline literal, a loaded file, or a note.
fn take_value(
    value: &Expr,
    placement: Placement,
    format: Option<String>,
    source: &str,
    folder: &Path,
    load: &dyn Fn(&Path) -> Option<String>,
    out: &mut HostScan,
) {
    match value {
        Expr::Str(s) => out.policies.push(s.policy(placement, format)),
        Expr::Heredoc(s) => out.policies.push(s.policy(placement, format)),
        Expr::Call { name, args, range } if name == "replace" && args.len() == 3 => {
            let token = match &args[1] {
                Expr::Str(s) => Some(s.text.clone()),
                _ => None,
            };
            let before = out.references.len();
            take_value(&args[0], placement, format, source, folder, load, out);
            if let Some(token) = token {
                for r in &mut out.references[before..] {
                    r.replaced.push(token.clone());
                }
            }
            if out.references.len() == before {
                out.notes.push(HostNote {
                    site: range.clone(),
                    message: "a policy built with `replace(...)` is not analysed".into(),
                });
            }
        }
        Expr::Call { name, args, range } if name == "file" || name == "templatefile" => {
            let via = if name == "file" {
                "file"
            } else {
                "templatefile"
            };
            match args.first() {
                Some(Expr::Str(s)) => {
                    let path = resolve(folder, &s.text, load);
                    out.references.push(PolicyReference {
                        path,
                        placement,
                        site: range.clone(),
                        via,
                        replaced: Vec::new(),
                    });
                }
                _ => out.notes.push(HostNote {
                    site: range.clone(),
                    message: format!("`{via}(...)` of a computed path is not followed"),
                }),
            }
        }
        other => {
            let site = other.range();
            out.notes.push(HostNote {
                message: format!(
                    "the policy of `{}` is computed (`{}`): not analysed",
                    placement.resource,
                    source.get(site.clone()).unwrap_or("").trim()
                ),
                site,
            })
        }
    }
}

/// Resolves a `file()` path: `${path.module}` is the file's folder; any other relative path
/// Terraform resolves from the root module (the working directory), which is the file's
/// folder or one above it: the nearest where the file exists, else the file's folder.
fn resolve(folder: &Path, written: &str, load: &dyn Fn(&Path) -> Option<String>) -> PathBuf {
    for module in ["${path.module}/", "${path.root}/", "${path.cwd}/"] {
        if let Some(rest) = written.strip_prefix(module) {
            return crate::paths::normalize(&folder.join(rest));
        }
    }
    let written = Path::new(written);
    if written.is_absolute() {
        return written.to_path_buf();
    }
    for dir in folder.ancestors().take(6) {
        let candidate = crate::paths::normalize(&dir.join(written));
        if load(&candidate).is_some() {
            return candidate;
        }
        if dir.as_os_str().is_empty() {
            break;
        }
    }
    crate::paths::normalize(&folder.join(written))
}

// ---- the scanner ----

/// A decoded string or heredoc, with its map back to the file.
#[derive(Debug)]
struct Decoded {
    literal: Literal,
    content: Range<usize>,
    text: String,
    breaks: Vec<Break>,
    opaque: Vec<Range<usize>>,
    /// The whole literal, quotes or heredoc markers included.
    range: Range<usize>,
}

impl Decoded {
    fn policy(&self, placement: Placement, format: Option<String>) -> InlinePolicy {
        InlinePolicy {
            placement,
            literal: self.literal,
            content: self.content.clone(),
            text: self.text.clone(),
            breaks: self.breaks.clone(),
            opaque: self.opaque.clone(),
            format,
        }
    }

    fn push_break(&mut self, host: usize) {
        let b = Break {
            text: self.text.len(),
            host,
        };
        match self.breaks.last() {
            Some(last) if last.text == b.text => {
                *self.breaks.last_mut().expect("checked") = b;
            }
            _ => self.breaks.push(b),
        }
    }
}

#[derive(Debug)]
enum Expr {
    Str(Decoded),
    Heredoc(Decoded),
    Call {
        name: String,
        args: Vec<Expr>,
        range: Range<usize>,
    },
    Tuple(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    /// `a.b.c`, as written.
    Traversal(String, Range<usize>),
    Other(Range<usize>),
}

impl Expr {
    fn range(&self) -> Range<usize> {
        match self {
            Expr::Str(d) | Expr::Heredoc(d) => d.range.clone(),
            Expr::Call { range, .. } | Expr::Other(range) | Expr::Traversal(_, range) => {
                range.clone()
            }
            _ => 0..0,
        }
    }
}

#[derive(Debug)]
struct Block {
    kind: String,
    labels: Vec<String>,
    attrs: Vec<(String, Expr)>,
}

impl Block {
    fn attr(&self, key: &str) -> Option<&Expr> {
        find(&self.attrs, key)
    }
}

#[derive(Debug)]
enum Item {
    Attr,
    Block(Block),
}

impl Item {
    fn as_block(&self) -> Option<&Block> {
        match self {
            Item::Block(b) => Some(b),
            Item::Attr => None,
        }
    }
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
}

type Parsed<T> = Result<T, HostError>;

impl Parser<'_> {
    fn error<T>(&self, at: usize, message: impl Into<String>) -> Parsed<T> {
        Err(HostError {
            at,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn at(&self, s: &str) -> bool {
        self.src[self.pos..].starts_with(s.as_bytes())
    }

    /// Skips spaces and comments; newlines too when `newlines`.
    fn skip(&mut self, newlines: bool) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' if newlines => self.pos += 1,
                b'#' => self.line_comment(),
                b'/' if self.at("//") => self.line_comment(),
                b'/' if self.at("/*") => {
                    let end =
                        find_from(self.src, self.pos + 2, b"*/").map_or(self.src.len(), |e| e + 2);
                    self.pos = end;
                }
                _ => break,
            }
        }
    }

    fn line_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80 {
                self.pos += 1;
            } else {
                break;
            }
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.src[start..self.pos]).into_owned())
    }

    /// A body up to `close` (`}`), or the end of the file.
    fn body(&mut self, close: Option<u8>) -> Parsed<Vec<Item>> {
        let mut items = Vec::new();
        loop {
            self.skip(true);
            match self.peek() {
                None if close.is_none() => return Ok(items),
                None => return self.error(self.pos, "unclosed block: `}` expected"),
                Some(c) if Some(c) == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => {}
            }
            let start = self.pos;
            let Some(name) = self.ident() else {
                return self.error(start, "an attribute or block name expected");
            };
            self.skip(false);
            if self.peek() == Some(b'=') && !self.at("==") {
                self.pos += 1;
                let value = self.expr()?;
                self.end_of_item()?;
                // Blocks keep their attributes; a body's own are not needed.
                let _ = value;
                items.push(Item::Attr);
                continue;
            }
            let mut labels = Vec::new();
            loop {
                self.skip(false);
                match self.peek() {
                    Some(b'"') => labels.push(self.quoted()?.text),
                    Some(b'{') => break,
                    _ => {
                        if self.ident().is_some_and(|l| {
                            labels.push(l);
                            true
                        }) {
                            continue;
                        }
                        return self.error(self.pos, "`=` or `{` expected");
                    }
                }
            }
            self.pos += 1;
            let attrs = self.block_body()?;
            items.push(Item::Block(Block {
                kind: name,
                labels,
                attrs,
            }));
        }
    }

    /// A block's body, keeping its attributes; nested blocks are skipped.
    fn block_body(&mut self) -> Parsed<Vec<(String, Expr)>> {
        let mut attrs = Vec::new();
        loop {
            self.skip(true);
            match self.peek() {
                None => return self.error(self.pos, "unclosed block: `}` expected"),
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(attrs);
                }
                _ => {}
            }
            let start = self.pos;
            let Some(name) = self.ident() else {
                return self.error(start, "an attribute or block name expected");
            };
            self.skip(false);
            if self.peek() == Some(b'=') && !self.at("==") {
                self.pos += 1;
                let value = self.expr()?;
                self.end_of_item()?;
                attrs.push((name, value));
                continue;
            }
            loop {
                self.skip(false);
                match self.peek() {
                    Some(b'"') => {
                        self.quoted()?;
                    }
                    Some(b'{') => break,
                    _ => {
                        if self.ident().is_none() {
                            return self.error(self.pos, "`=` or `{` expected");
                        }
                    }
                }
            }
            self.pos += 1;
            self.block_body()?;
        }
    }

    fn end_of_item(&mut self) -> Parsed<()> {
        self.skip(false);
        match self.peek() {
            None | Some(b'\n') | Some(b'}') => Ok(()),
            _ => self.error(self.pos, "a new line expected after the attribute"),
        }
    }

    /// An expression: a primary one when it stands alone, else the balanced tokens up to the
    /// end of the expression, as [`Expr::Other`].
    fn expr(&mut self) -> Parsed<Expr> {
        self.skip(false);
        let start = self.pos;
        let primary = self.primary()?;
        self.skip(false);
        if self.ends_expr() {
            return Ok(primary);
        }
        // Operators, conditionals, indexes, splats: skip to the end.
        loop {
            self.skip(false);
            if self.ends_expr() {
                break;
            }
            match self.peek() {
                Some(b'?') | Some(b':') => {
                    // Newlines may follow an operator.
                    self.pos += 1;
                    self.skip(true);
                }
                Some(b'"') => {
                    self.quoted()?;
                }
                Some(b'<') if self.at("<<") => {
                    self.heredoc()?;
                }
                Some(open @ (b'(' | b'[' | b'{')) => {
                    self.pos += 1;
                    self.skip_to_close(closer(open))?;
                }
                Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                    self.primary()?;
                }
                Some(_) => {
                    let operator = self.peek().is_some_and(|c| b"+-*/%=!<>&|".contains(&c));
                    self.pos += 1;
                    if operator {
                        self.skip(true);
                    }
                }
                None => break,
            }
        }
        Ok(Expr::Other(start..self.pos))
    }

    fn ends_expr(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(b'\n') | Some(b',') | Some(b'}') | Some(b']') | Some(b')')
        ) || self.at("#")
            || self.at("//")
    }

    fn primary(&mut self) -> Parsed<Expr> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => self.quoted().map(Expr::Str),
            Some(b'<') if self.at("<<") => self.heredoc().map(Expr::Heredoc),
            Some(b'(') => {
                self.pos += 1;
                self.skip_to_close(b')')?;
                Ok(Expr::Other(start..self.pos))
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip(true);
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Expr::Tuple(items));
                        }
                        None => return self.error(start, "unclosed `[`"),
                        _ => {}
                    }
                    if self.at("for ") || self.at("for\t") {
                        self.skip_to_close(b']')?;
                        return Ok(Expr::Other(start..self.pos));
                    }
                    items.push(self.expr()?);
                    self.skip(true);
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip(true);
                    match self.peek() {
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Expr::Object(entries));
                        }
                        None => return self.error(start, "unclosed `{`"),
                        _ => {}
                    }
                    if self.at("for ") || self.at("for\t") {
                        self.skip_to_close(b'}')?;
                        return Ok(Expr::Other(start..self.pos));
                    }
                    let key = self.primary()?;
                    let key = match key {
                        Expr::Str(s) => s.text,
                        Expr::Traversal(t, _) => t,
                        _ => String::new(),
                    };
                    self.skip(false);
                    match self.peek() {
                        Some(b'=') | Some(b':') => self.pos += 1,
                        _ => return self.error(self.pos, "`=` expected in an object"),
                    }
                    let value = self.expr()?;
                    entries.push((key, value));
                    self.skip(false);
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    }
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let mut text = self.ident().unwrap_or_default();
                if self.peek() == Some(b'(') {
                    self.pos += 1;
                    let mut args = Vec::new();
                    loop {
                        self.skip(true);
                        match self.peek() {
                            Some(b')') => {
                                self.pos += 1;
                                return Ok(Expr::Call {
                                    name: text,
                                    args,
                                    range: start..self.pos,
                                });
                            }
                            None => return self.error(start, "unclosed `(`"),
                            _ => {}
                        }
                        if self.at("...") {
                            self.pos += 3;
                            continue;
                        }
                        args.push(self.expr()?);
                        self.skip(true);
                        if self.peek() == Some(b',') {
                            self.pos += 1;
                        }
                    }
                }
                while self.peek() == Some(b'.')
                    && self
                        .src
                        .get(self.pos + 1)
                        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c == b'*')
                {
                    self.pos += 1;
                    if self.peek() == Some(b'*') {
                        self.pos += 1;
                        text.push_str(".*");
                        continue;
                    }
                    text.push('.');
                    text.push_str(&self.ident().unwrap_or_default());
                }
                if self.peek() == Some(b'[') {
                    // An index or a splat (`a[0]`, `a[*].id`): the rest is skipped.
                    self.pos += 1;
                    self.skip_to_close(b']')?;
                    return Ok(Expr::Other(start..self.pos));
                }
                Ok(Expr::Traversal(text, start..self.pos))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'!' => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.')
                {
                    self.pos += 1;
                }
                Ok(Expr::Other(start..self.pos))
            }
            _ => self.error(start, "an expression expected"),
        }
    }

    /// Skips balanced tokens up to and past `close`.
    fn skip_to_close(&mut self, close: u8) -> Parsed<()> {
        let start = self.pos;
        loop {
            self.skip(true);
            match self.peek() {
                None => return self.error(start, "unclosed expression"),
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'"') => {
                    self.quoted()?;
                }
                Some(b'<') if self.at("<<") => {
                    self.heredoc()?;
                }
                Some(open @ (b'(' | b'[' | b'{')) => {
                    self.pos += 1;
                    self.skip_to_close(closer(open))?;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// Past a template sequence's `${` or `%{`: to its closing `}`, over nested strings.
    fn template_sequence(&mut self) -> Parsed<()> {
        let start = self.pos;
        self.pos += 2;
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return self.error(start, "unclosed `${`"),
                Some(b'"') => {
                    self.quoted()?;
                }
                Some(b'{') => {
                    depth += 1;
                    self.pos += 1;
                }
                Some(b'}') if depth == 0 => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'}') => {
                    depth -= 1;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn quoted(&mut self) -> Parsed<Decoded> {
        let open = self.pos;
        self.pos += 1;
        let mut d = Decoded {
            literal: Literal::TerraformQuoted,
            content: self.pos..self.pos,
            text: String::new(),
            breaks: vec![Break {
                text: 0,
                host: self.pos,
            }],
            opaque: Vec::new(),
            range: open..open,
        };
        loop {
            let Some(c) = self.peek() else {
                return self.error(open, "unclosed string");
            };
            match c {
                b'"' => break,
                b'\n' => return self.error(open, "unclosed string: new line in a quoted string"),
                b'\\' => {
                    let at = self.pos;
                    let (decoded, len) = match self.src.get(at + 1) {
                        Some(b'n') => ('\n', 2),
                        Some(b'r') => ('\r', 2),
                        Some(b't') => ('\t', 2),
                        Some(b'"') => ('"', 2),
                        Some(b'\\') => ('\\', 2),
                        Some(b'u') | Some(b'U') => {
                            let n = if self.src[at + 1] == b'u' { 4 } else { 8 };
                            let hex = self.src.get(at + 2..at + 2 + n).unwrap_or(b"");
                            let ch = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .and_then(char::from_u32);
                            match ch {
                                Some(ch) => (ch, 2 + n),
                                None => return self.error(at, "a bad `\\u` escape"),
                            }
                        }
                        _ => return self.error(at, "an unknown escape in a quoted string"),
                    };
                    d.push_break(at);
                    d.text.push(decoded);
                    self.pos += len;
                    d.push_break(self.pos);
                }
                b'$' | b'%'
                    if self.src.get(self.pos + 1) == Some(&c)
                        && self.src.get(self.pos + 2) == Some(&b'{') =>
                {
                    d.push_break(self.pos);
                    d.text.push(c as char);
                    d.text.push('{');
                    self.pos += 3;
                    d.push_break(self.pos);
                }
                b'$' | b'%' if self.src.get(self.pos + 1) == Some(&b'{') => {
                    let start = self.pos;
                    self.template_sequence()?;
                    let from = d.text.len();
                    d.text
                        .push_str(&String::from_utf8_lossy(&self.src[start..self.pos]));
                    d.opaque.push(from..d.text.len());
                }
                _ => {
                    let start = self.pos;
                    let len = utf8_len(c);
                    self.pos += len;
                    d.text.push_str(&String::from_utf8_lossy(
                        &self.src[start..self.pos.min(self.src.len())],
                    ));
                }
            }
        }
        d.content.end = self.pos;
        self.pos += 1;
        d.range.end = self.pos;
        Ok(d)
    }

    fn heredoc(&mut self) -> Parsed<Decoded> {
        let open = self.pos;
        self.pos += 2;
        let strip_indent = self.peek() == Some(b'-');
        if strip_indent {
            self.pos += 1;
        }
        let Some(marker) = self.ident() else {
            return self.error(open, "a heredoc marker expected after `<<`");
        };
        self.skip(false);
        if self.peek() != Some(b'\n') {
            return self.error(self.pos, "a new line expected after the heredoc marker");
        }
        self.pos += 1;
        let body_start = self.pos;
        // The lines up to the closing marker.
        let mut lines: Vec<Range<usize>> = Vec::new();
        let mut at = body_start;
        let close;
        loop {
            if at >= self.src.len() {
                return self.error(open, format!("heredoc `{marker}` never closed"));
            }
            let end = find_from(self.src, at, b"\n").map_or(self.src.len(), |e| e + 1);
            let line = &self.src[at..end];
            let trimmed = std::str::from_utf8(line).unwrap_or("").trim();
            if trimmed == marker {
                close = at;
                self.pos =
                    at + line.iter().position(|b| !b" \t".contains(b)).unwrap_or(0) + marker.len();
                break;
            }
            lines.push(at..end);
            at = end;
        }
        let indent = if strip_indent {
            lines
                .iter()
                .filter(|l| {
                    self.src[l.start..l.end]
                        .iter()
                        .any(|b| !b" \t\r\n".contains(b))
                })
                .map(|l| {
                    self.src[l.start..l.end]
                        .iter()
                        .take_while(|b| b" \t".contains(b))
                        .count()
                })
                .min()
                .unwrap_or(0)
        } else {
            0
        };
        let mut d = Decoded {
            literal: Literal::TerraformHeredoc {
                strip_indent,
                indent,
            },
            content: body_start..close,
            text: String::new(),
            breaks: Vec::new(),
            opaque: Vec::new(),
            range: open..self.pos,
        };
        for line in lines {
            let skip = self.src[line.clone()]
                .iter()
                .take(indent)
                .take_while(|b| b" \t".contains(b))
                .count();
            let mut i = line.start + skip;
            d.push_break(i);
            while i < line.end {
                let c = self.src[i];
                if (c == b'$' || c == b'%')
                    && self.src.get(i + 1) == Some(&c)
                    && self.src.get(i + 2) == Some(&b'{')
                {
                    d.push_break(i);
                    d.text.push(c as char);
                    d.text.push('{');
                    i += 3;
                    d.push_break(i);
                } else if (c == b'$' || c == b'%') && self.src.get(i + 1) == Some(&b'{') {
                    let saved = self.pos;
                    self.pos = i;
                    self.template_sequence()?;
                    let end = self.pos;
                    self.pos = saved;
                    let from = d.text.len();
                    d.text.push_str(&String::from_utf8_lossy(&self.src[i..end]));
                    d.opaque.push(from..d.text.len());
                    if end > line.end {
                        return self.error(i, "a template sequence spans heredoc lines");
                    }
                    i = end;
                } else {
                    let len = utf8_len(c).min(line.end - i);
                    d.text
                        .push_str(&String::from_utf8_lossy(&self.src[i..i + len]));
                    i += len;
                }
            }
        }
        if d.breaks.is_empty() {
            d.breaks.push(Break {
                text: 0,
                host: body_start,
            });
        }
        Ok(d)
    }
}

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_hides_no_resource() {
        let text = "\u{feff}resource \"azurerm_api_management_policy\" \"g\" {\n  xml_content = <<XML\n<policies />\nXML\n}\n";
        let scan = scan(Path::new("main.tf"), text, &|_| None).unwrap();
        assert_eq!(scan.policies.len(), 1);
        assert_eq!(scan.policies[0].placement.scope, Scope::Global);
    }

    fn scan_str(source: &str) -> HostScan {
        scan(Path::new("infra/main.tf"), source, &|_| None).expect("scans")
    }

    /// The host text under each decoded byte, through the break map.
    fn host_at(source: &str, policy: &InlinePolicy, decoded: usize) -> u8 {
        source.as_bytes()[policy.host_offset(decoded)]
    }

    const TF: &str = r#"
# a comment with "quotes" and <<XML
resource "azurerm_api_management_api" "orders" {
  name                = "orders-api"
  api_management_name = var.apim   // trailing comment
  revision            = "1"
}

resource "azurerm_api_management_product_api" "link" {
  product_id = "starter"
  api_name   = azurerm_api_management_api.orders.name
}

resource "azurerm_api_management_api_policy" "orders" {
  api_name            = azurerm_api_management_api.orders.name
  api_management_name = var.apim
  xml_content = <<-XML
    <policies>
      <inbound>
        <base />
        <set-header name="x" exists-action="override"><value>${var.value}</value></set-header>
      </inbound>
    </policies>
  XML
}

resource "azurerm_api_management_api_operation_policy" "get" {
  api_name     = "orders-api"
  operation_id = "get"
  xml_content  = "<policies><inbound><base /><set-variable name=\"a\" value=\"$${b}\" /></inbound>\n</policies>"
}

resource "azurerm_api_management_product_policy" "starter" {
  product_id  = "starter"
  xml_content = file("${path.module}/policies/starter.xml")
}

module "ops" {
  source   = "./modules/ops"
  api_name = "orders-api"
  api_operation_policies = [
    { operation_id = "list", xml_content = templatefile("ops/list.xml.tpl", { a = 1 }) },
  ]
}
"#;

    #[test]
    fn finds_resources_literals_and_references() {
        let scan = scan_str(TF);
        assert_eq!(scan.policies.len(), 2, "{:?}", scan.notes);
        let api = &scan.policies[0];
        assert_eq!(api.placement.scope, Scope::Api);
        assert_eq!(api.placement.api.as_deref(), Some("orders-api"));
        assert!(
            api.text
                .starts_with("<policies>\n  <inbound>\n    <base />")
        );
        assert!(matches!(
            api.literal,
            Literal::TerraformHeredoc {
                strip_indent: true,
                indent: 4
            }
        ));
        let opaque = &api.text[api.opaque[0].clone()];
        assert_eq!(opaque, "${var.value}");
        // Each decoded byte sits on the same byte of the host.
        for (i, b) in api.text.bytes().enumerate() {
            assert_eq!(host_at(TF, api, i), b, "at {i}");
        }
        let op = &scan.policies[1];
        assert_eq!(op.placement.scope, Scope::Operation);
        assert_eq!(op.placement.operation.as_deref(), Some("get"));
        assert!(op.text.contains(r#"name="a" value="${b}""#));
        assert!(op.text.contains("</inbound>\n</policies>"));
        assert!(
            op.opaque.is_empty(),
            "`$${{` is an escape, not a placeholder"
        );
        let quote = op.text.find('"').unwrap();
        assert_eq!(
            &TF[op.host_offset(quote)..op.host_offset(quote) + 2],
            "\\\""
        );
        let newline = op.text.find('\n').unwrap();
        assert_eq!(
            &TF[op.host_offset(newline)..op.host_offset(newline + 1)],
            "\\n"
        );

        assert_eq!(scan.references.len(), 2);
        let starter = &scan.references[0];
        assert_eq!(starter.path, Path::new("infra/policies/starter.xml"));
        assert_eq!(starter.placement.scope, Scope::Product);
        assert_eq!(starter.via, "file");
        let list = &scan.references[1];
        assert_eq!(list.placement.scope, Scope::Operation);
        assert_eq!(list.placement.api.as_deref(), Some("orders-api"));
        assert_eq!(list.placement.operation.as_deref(), Some("list"));
        assert_eq!(list.via, "templatefile");

        assert!(scan.declared.contains(&Declared::Api {
            workspace: None,
            api: "orders-api".into()
        }));
        assert!(scan.declared.contains(&Declared::ProductApi {
            workspace: None,
            product: "starter".into(),
            api: "orders-api".into()
        }));
    }

    #[test]
    fn encoding_escapes_what_the_literal_needs() {
        let quoted = encode(Literal::TerraformQuoted, "<a b=\"${x}\">\\\n").unwrap();
        assert_eq!(quoted, r#"<a b=\"$${x}\">\\\n"#);
        let heredoc = Literal::TerraformHeredoc {
            strip_indent: true,
            indent: 2,
        };
        assert_eq!(encode(heredoc, "<a/>\n<b/>%{").unwrap(), "<a/>\n  <b/>%%{");
        assert!(encode(Literal::BicepMultiline, "x").is_err());
    }

    #[test]
    fn reads_the_rest_of_the_language_without_error() {
        let source = r#"
terraform {
  required_providers {
    azurerm = { source = "hashicorp/azurerm", version = ">= 3.0" }
  }
}
locals {
  ids   = [for b in azapi_resource.backend : b.id if b.name != "x"]
  map   = { for k, v in var.m : k => v... }
  first = azapi_resource.backend[*].id
  pick  = var.a ? "b" :
    "c"
  sum   = (1 + 2) * -3 /* inline */ # trailing
  tpl   = "a ${var.x == "}" ? 1 : 2} %{ if true }b%{ endif } $${raw}"
  neg   = !var.flag
}
dynamic "x" {
  for_each = var.list
  content {
    name = x.value
  }
}
output "o" {
  value = [for i in range(0, length(var.u)) : azapi_resource.b[i].name]
}
"#;
        let scan = scan(Path::new("m.tf"), source, &|_| None).expect("reads");
        assert!(scan.policies.is_empty());
    }

    #[test]
    fn an_unparsable_file_says_where() {
        let source = "resource \"a\" \"b\" {\n  x = \"unclosed\n}\n";
        let e = scan(Path::new("m.tf"), source, &|_| None).unwrap_err();
        assert_eq!(e.at, source.find("\"unclosed").unwrap());
        let e = scan(Path::new("m.tf"), "x = <<EOF\nnever\n", &|_| None).unwrap_err();
        assert!(e.message.contains("never closed"), "{}", e.message);
    }

    #[test]
    fn relative_files_resolve_from_the_root_module_where_they_exist() {
        let source = "resource \"azurerm_api_management_policy_fragment\" \"f\" {\n  name = \"frag\"\n  value = file(\"../policies/f.xml\")\n}\n";
        let scan = scan(Path::new("root/modules/apim/main.tf"), source, &|p| {
            (p == Path::new("root/../policies/f.xml") || p == Path::new("policies/f.xml"))
                .then(String::new)
        })
        .unwrap();
        assert_eq!(scan.references[0].path, Path::new("policies/f.xml"));
        assert_eq!(
            scan.references[0].placement.fragment.as_deref(),
            Some("frag")
        );
    }
}
