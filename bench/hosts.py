#!/usr/bin/env python3
"""Turns the APIOps tree of bench/run.sh into the same policies held in IaC hosts.

    bench/hosts.py TREE OUT

For every repo folder of TREE (global `policy.xml`, `apis/<a>/policy.xml`,
`apis/<a>/operations/<o>/policy.xml`, `products/<p>/policy.xml`,
`policy fragments/<f>/policy.xml`, product membership by `products/<p>/apis/<a>/`), writes:

- OUT/terraform/<repo>/main.tf: one azurerm resource per policy, the XML inline as a
  `<<XML` heredoc, plus the API, operation and product-API resources that link them;
- OUT/bicep/<repo>/main.bicep: the same as Bicep resources with `'''` strings.

Byte for byte the same policies as the XML tree, so `apimfix check` over OUT/terraform and
OUT/bicep against TREE measures what reading policies out of hosts costs. Policies that a
host literal cannot hold verbatim (a heredoc delimiter line, `'''`) are left out, and counted.
"""
import os
import sys


def repos(tree):
    for name in sorted(os.listdir(tree)):
        path = os.path.join(tree, name)
        if os.path.isdir(path):
            yield name, path


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def subdirs(path):
    if not os.path.isdir(path):
        return []
    return sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))


def collect(repo):
    """(kind, names, text) per policy of one APIOps repo, and the product-API links."""
    out = []
    glob = os.path.join(repo, "policy.xml")
    if os.path.isfile(glob):
        out.append(("global", {}, read(glob)))
    for api in subdirs(os.path.join(repo, "apis")):
        base = os.path.join(repo, "apis", api)
        out.append(("api-decl", {"api": api}, None))
        if os.path.isfile(os.path.join(base, "policy.xml")):
            out.append(("api", {"api": api}, read(os.path.join(base, "policy.xml"))))
        for op in subdirs(os.path.join(base, "operations")):
            out.append(("op-decl", {"api": api, "op": op}, None))
            p = os.path.join(base, "operations", op, "policy.xml")
            if os.path.isfile(p):
                out.append(("operation", {"api": api, "op": op}, read(p)))
    for product in subdirs(os.path.join(repo, "products")):
        base = os.path.join(repo, "products", product)
        out.append(("product-decl", {"product": product}, None))
        if os.path.isfile(os.path.join(base, "policy.xml")):
            out.append(("product", {"product": product}, read(os.path.join(base, "policy.xml"))))
        for api in subdirs(os.path.join(base, "apis")):
            out.append(("link", {"product": product, "api": api}, None))
    for fragment in subdirs(os.path.join(repo, "policy fragments")):
        p = os.path.join(repo, "policy fragments", fragment, "policy.xml")
        if os.path.isfile(p):
            out.append(("fragment", {"fragment": fragment}, read(p)))
    return out


def ident(*parts):
    return "_".join("".join(c if c.isalnum() else "_" for c in p) for p in parts)


def terraform(items):
    """main.tf text and the number of policies left out."""
    lines = []
    skipped = 0
    common = '  api_management_name = "apim"\n  resource_group_name = "rg"\n'
    types = {
        "global": "azurerm_api_management_policy",
        "api": "azurerm_api_management_api_policy",
        "operation": "azurerm_api_management_api_operation_policy",
        "product": "azurerm_api_management_product_policy",
        "fragment": "azurerm_api_management_policy_fragment",
    }
    for kind, names, text in items:
        if kind == "api-decl":
            lines.append(
                f'resource "azurerm_api_management_api" "{ident(names["api"])}" {{\n'
                f'  name = "{names["api"]}"\n{common}  revision = "1"\n}}\n'
            )
            continue
        if kind == "op-decl":
            lines.append(
                f'resource "azurerm_api_management_api_operation" "{ident(names["api"], names["op"])}" {{\n'
                f'  operation_id = "{names["op"]}"\n  api_name = "{names["api"]}"\n{common}}}\n'
            )
            continue
        if kind == "product-decl":
            lines.append(
                f'resource "azurerm_api_management_product" "{ident(names["product"])}" {{\n'
                f'  product_id = "{names["product"]}"\n{common}}}\n'
            )
            continue
        if kind == "link":
            lines.append(
                f'resource "azurerm_api_management_product_api" "{ident(names["product"], names["api"])}" {{\n'
                f'  product_id = "{names["product"]}"\n  api_name = "{names["api"]}"\n{common}}}\n'
            )
            continue
        body = text if text.endswith("\n") else text + "\n"
        # A heredoc ends at a line holding only its delimiter; `${` and `%{` would be
        # template syntax: such policies are not written verbatim, so they are left out.
        if any(l.strip() == "XML" for l in body.splitlines()) or "${" in body or "%{" in body:
            skipped += 1
            continue
        attrs = {
            "global": '  api_management_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim"\n',
            "api": f'  api_name = "{names.get("api")}"\n{common}',
            "operation": f'  api_name = "{names.get("api")}"\n  operation_id = "{names.get("op")}"\n{common}',
            "product": f'  product_id = "{names.get("product")}"\n{common}',
            "fragment": f'  name = "{names.get("fragment")}"\n  api_management_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim"\n  format = "rawxml"\n',
        }[kind]
        attr = "value" if kind == "fragment" else "xml_content"
        label = ident(kind, *names.values())
        lines.append(f'resource "{types[kind]}" "{label}" {{\n{attrs}  {attr} = <<XML\n{body}XML\n}}\n')
    return "\n".join(lines), skipped


def bicep(items):
    """main.bicep text and the number of policies left out."""
    v = "2023-05-01-preview"
    out = [f"resource apim 'Microsoft.ApiManagement/service@{v}' existing = {{\n  name: 'apim'\n}}\n"]
    skipped = 0
    for kind, names, text in items:
        api = names.get("api")
        if kind == "api-decl":
            out.append(
                f"resource {ident('api', api)} 'Microsoft.ApiManagement/service/apis@{v}' = {{\n"
                f"  parent: apim\n  name: '{api}'\n  properties: {{\n    displayName: '{api}'\n    path: '{api}'\n  }}\n}}\n"
            )
            continue
        if kind == "op-decl":
            out.append(
                f"resource {ident('op', api, names['op'])} 'Microsoft.ApiManagement/service/apis/operations@{v}' = {{\n"
                f"  parent: {ident('api', api)}\n  name: '{names['op']}'\n  properties: {{\n    displayName: '{names['op']}'\n    method: 'GET'\n    urlTemplate: '/'\n  }}\n}}\n"
            )
            continue
        if kind == "product-decl":
            out.append(
                f"resource {ident('product', names['product'])} 'Microsoft.ApiManagement/service/products@{v}' = {{\n"
                f"  parent: apim\n  name: '{names['product']}'\n  properties: {{\n    displayName: '{names['product']}'\n  }}\n}}\n"
            )
            continue
        if kind == "link":
            out.append(
                f"resource {ident('link', names['product'], api)} 'Microsoft.ApiManagement/service/products/apis@{v}' = {{\n"
                f"  parent: {ident('product', names['product'])}\n  name: '{api}'\n}}\n"
            )
            continue
        if "'''" in text:
            skipped += 1
            continue
        parent, rtype, name = {
            "global": ("apim", "service/policies", "policy"),
            "api": (ident("api", api or ""), "service/apis/policies", "policy"),
            "operation": (ident("op", api or "", names.get("op", "")), "service/apis/operations/policies", "policy"),
            "product": (ident("product", names.get("product", "")), "service/products/policies", "policy"),
            "fragment": ("apim", "service/policyFragments", names.get("fragment")),
        }[kind]
        value = "value" if kind != "fragment" else "value"
        out.append(
            f"resource {ident(kind + '_policy', *names.values())} 'Microsoft.ApiManagement/{rtype}@{v}' = {{\n"
            f"  parent: {parent}\n  name: '{name}'\n  properties: {{\n    format: 'rawxml'\n    {value}: '''{text}'''\n  }}\n}}\n"
        )
    return "\n".join(out), skipped


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tree, out = sys.argv[1], sys.argv[2]
    kept = skipped_tf = skipped_bicep = 0
    for name, repo in repos(tree):
        items = collect(repo)
        kept += sum(1 for _, _, t in items if t is not None)
        tf, s1 = terraform(items)
        bc, s2 = bicep(items)
        skipped_tf += s1
        skipped_bicep += s2
        for kind, text, file in (("terraform", tf, "main.tf"), ("bicep", bc, "main.bicep")):
            folder = os.path.join(out, kind, name)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, file), "w", encoding="utf-8", newline="") as f:
                f.write(text)
    print(f"{kept} policies; left out: terraform {skipped_tf}, bicep {skipped_bicep}")


if __name__ == "__main__":
    main()
