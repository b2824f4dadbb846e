//! `cors-shadowed`

pub const DOC: &str = r#"## What it does
Flags a `<cors>` that never applies because an earlier `<cors>` in the same effective
inbound section wins: for example an API's own `<cors>` placed after `<base />` while the global
policy has one, so the global one runs first.

This is a cross-scope finding: it needs the whole repo (`apimfix check REPO`), which composes
the effective policy of every chain (global, workspace, product, API, operation).

## Why is this bad?
"Generally, only the first `cors` policy is applied": the later one's origins and headers are
dead configuration, and whoever edits it sees no effect.

## Example
```xml
<!-- apis/orders/policy.xml; the global policy has its own <cors> -->
<inbound>
    <base />
    <cors>...</cors>
</inbound>
```
Use instead: one `<cors>` per chain, or put the narrower one above `<base />` when it must win.

## Fix
None: report only (which one should win is a decision).

## References
- https://learn.microsoft.com/azure/api-management/cors-policy
"#;
