//! Whether a move changes what a variable read sees: `cors-first` and `base-first` move one
//! thing above others, and a statement moved over that sets a variable (`<set-variable>`, or an
//! attribute naming an output variable: `remaining-calls-variable-name`,
//! `output-token-variable-name`, `variable-name`, ...) must not be one the moved thing reads.

use crate::policy::{is_base, variable_reads, variables_set};
use crate::repo::Inherited;
use crate::rules::context::Context;
use crate::syntax::ElementRef;
use crate::text::Ranged;

/// What some statements set: names, and whether they may set others (a fragment, or the
/// parents' statements when the repo is not known).
#[derive(Debug, Default)]
pub(crate) struct Sets {
    /// (variable, what sets it), in document order.
    pub(crate) known: Vec<(String, String)>,
    /// What may set variables that cannot be named.
    pub(crate) unknown: Vec<String>,
}

impl Sets {
    /// What `over` (statements of one inbound list of `ctx.doc`) set.
    pub(crate) fn of(ctx: &Context<'_>, over: &[ElementRef<'_>]) -> Sets {
        let mut sets = Sets::default();
        for el in over {
            if is_base(*el) {
                match ctx.facts.inherited_in(crate::policy::Section::Inbound) {
                    Some(parents) => {
                        for p in parents {
                            for v in &p.sets {
                                sets.known.push((
                                    v.clone(),
                                    format!("the parent's `<{}>` ({}:{})", p.name, p.file, p.line),
                                ));
                            }
                        }
                    }
                    None => sets
                        .unknown
                        .push("the parent's policies (the repo is not known)".to_owned()),
                }
                continue;
            }
            for inner in std::iter::once(*el).chain(el.descendants()) {
                if inner.is("include-fragment") {
                    let id = inner.attr("fragment-id").unwrap_or_default();
                    sets.unknown.push(format!("the fragment `{id}`"));
                }
            }
            for v in variables_set(*el) {
                sets.known.push((v, format!("`<{}>`", el.name())));
            }
        }
        sets
    }

    /// Why a reader that reads `reads` (names, and whether it reads others) would see other
    /// values once moved above these statements; `None` when it would not.
    pub(crate) fn conflict(
        &self,
        reader: &str,
        reads: &[String],
        reads_unknown: bool,
    ) -> Option<String> {
        if let Some((v, by)) = self
            .known
            .iter()
            .find(|(v, _)| reads_unknown || reads.iter().any(|r| r == v))
        {
            return Some(format!(
                "{by} sets the variable `{v}`, which {reader} reads"
            ));
        }
        if (reads_unknown || !reads.is_empty())
            && let Some(by) = self.unknown.first()
        {
            return Some(format!("{by} may set variables {reader} reads"));
        }
        None
    }

    /// Why moving the parents' statements (`<base />`) above these statements changes what
    /// one of them reads; `parents` is `None` when the repo is not known.
    pub(crate) fn conflict_with_parents(&self, parents: Option<&[Inherited]>) -> Option<String> {
        let Some(parents) = parents else {
            let (v, by) = self.known.first()?;
            return Some(format!(
                "{by} sets the variable `{v}`, and the parent's policies (the repo is not known) may read it"
            ));
        };
        for p in parents {
            let reader = format!("the parent's `<{}>` ({}:{})", p.name, p.file, p.line);
            if let Some(why) = self.conflict(&reader, &p.reads, p.reads_unknown) {
                return Some(why);
            }
        }
        None
    }
}

/// What the text of `el` reads (see [`variable_reads`]); a fragment's inclusion reads what
/// cannot be known.
pub(crate) fn reads_of(el: ElementRef<'_>) -> (Vec<String>, bool) {
    if el.is("include-fragment") {
        return (Vec::new(), true);
    }
    variable_reads(el.document().slice(el.range()))
}
