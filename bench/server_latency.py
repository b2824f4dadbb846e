#!/usr/bin/env python3
"""Time to first diagnostics of `apimfix server` (standard library only).

    cargo build --release
    bench/server_latency.py [--bin target/release/apimfix] [--tree DIR]

Measures, each as the time from `didOpen` (or `didChange`) to the matching
`publishDiagnostics`:

- one generated API policy of about 1 MB (thousands of `<set-header>`, a finding in it):
  open, then a change of one character, then whole-document formatting;
- one generated APIOps repo of 2,400+ policy files (400 APIs of 5 operations each, 10
  products; --apis 3400 makes it 20,000+): an operation's policy, a change to it, then the
  global policy: each check reads the repo's other files from disk and walks every chain
  of the repo;
- with --tree, a file of a tree made by `BENCH_KEEP=1 bench/run.sh` (20,000 files in
  repos of 43): the server checks the open document's repo only, never the workspace.
"""

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty, Queue

ROOT = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, binary, cwd):
        self.proc = subprocess.Popen(
            [binary, "server"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.queue = Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        self.notify("initialized", {})

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.startswith(b"Content-Length:"):
                    length = int(line.split(b":")[1])
            self.queue.put(json.loads(out.read(length)))

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            m = self.queue.get(timeout=600)
            if m.get("id") == rid and "method" not in m:
                return m

    def diagnostics(self, uri):
        while True:
            m = self.queue.get(timeout=600)
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                return m["params"]["diagnostics"]

    def close(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.proc.wait(timeout=30)


def uri(path):
    return Path(path).resolve().as_uri()


def timed_open(server, path, text=None):
    text = Path(path).read_text() if text is None else text
    u = uri(path)
    start = time.perf_counter()
    server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": u, "languageId": "xml", "version": 1, "text": text}},
    )
    found = server.diagnostics(u)
    return time.perf_counter() - start, found


def big_document(work):
    """An API policy of about 1 MB, `<inbound>` without `<base />` (one finding)."""
    lines = ["<policies>", "  <inbound>"]
    i = 0
    size = 0
    while size < 1_000_000:
        line = (
            f'    <set-header name="x-h{i}" exists-action="override">'
            f"<value>@(context.Request.Headers.GetValueOrDefault(\"x-{i}\", \"é\"))</value></set-header>"
        )
        lines.append(line)
        size += len(line.encode()) + 1
        i += 1
    lines += [
        "  </inbound>",
        "  <backend>",
        "    <base />",
        "  </backend>",
        "  <outbound>",
        "    <base />",
        "  </outbound>",
        "  <on-error>",
        "    <base />",
        "  </on-error>",
        "</policies>",
        "",
    ]
    path = work / "big" / "apis" / "big" / "policy.xml"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines))
    return path


def big_repo(work, apis=400, ops=5, products=10):
    sources = sorted(
        p for p in (ROOT / "examples" / "contoso").rglob("policy.xml") if "fragments" not in str(p)
    )
    texts = [p.read_text() for p in sources]
    repo = work / "repo"
    n = 0

    def put(rel):
        nonlocal n
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(texts[n % len(texts)])
        n += 1

    put("policy.xml")
    for a in range(apis):
        put(f"apis/api-{a}/policy.xml")
        for o in range(ops):
            put(f"apis/api-{a}/operations/op-{o}/policy.xml")
    for q in range(products):
        put(f"products/product-{q}/policy.xml")
        members = repo / f"products/product-{q}/apis"
        for a in range(q, apis, products):
            d = members / f"api-{a}"
            d.mkdir(parents=True, exist_ok=True)
            (d / "productApiInformation.json").write_text("{}")
    return repo, n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "apimfix"))
    parser.add_argument("--tree", help="a tree made by BENCH_KEEP=1 bench/run.sh")
    parser.add_argument("--apis", type=int, default=400, help="APIs of the generated repo")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="apimfix-lsp-bench."))
    try:
        doc = big_document(work)
        server = Server(args.bin, work)
        t, found = timed_open(server, doc)
        size = doc.stat().st_size
        print(f"1 MB document ({size} bytes): first diagnostics {t * 1000:.0f} ms ({len(found)} findings)")
        u = uri(doc)
        start = time.perf_counter()
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": u, "version": 2},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 2, "character": 24},
                            "end": {"line": 2, "character": 24},
                        },
                        "text": "x",
                    }
                ],
            },
        )
        server.diagnostics(u)
        print(f"1 MB document: diagnostics after a one-character change {(time.perf_counter() - start) * 1000:.0f} ms")
        start = time.perf_counter()
        server.request(
            "textDocument/formatting",
            {"textDocument": {"uri": u}, "options": {"tabSize": 2, "insertSpaces": True}},
        )
        print(f"1 MB document: formatting {(time.perf_counter() - start) * 1000:.0f} ms")
        server.close()

        repo, n = big_repo(work, apis=args.apis)
        server = Server(args.bin, repo)
        target = repo / "apis/api-7/operations/op-3/policy.xml"
        t, found = timed_open(server, target)
        print(f"one repo of {n} policy files: first diagnostics {t * 1000:.0f} ms ({len(found)} findings)")
        u = uri(target)
        start = time.perf_counter()
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": u, "version": 2},
                "contentChanges": [{"text": target.read_text() + "\n"}],
            },
        )
        server.diagnostics(u)
        print(f"one repo of {n} policy files: diagnostics after a change {(time.perf_counter() - start) * 1000:.0f} ms")
        t, found = timed_open(server, repo / "policy.xml")
        print(f"one repo of {n} policy files: global policy, first diagnostics {t * 1000:.0f} ms ({len(found)} findings)")
        server.close()

        if args.tree:
            tree = Path(args.tree)
            files = sum(1 for _ in tree.rglob("*.xml"))
            target = sorted(tree.glob("repo-*/apis/api-1/operations/op-1/policy.xml"))[0]
            server = Server(args.bin, tree)
            t, found = timed_open(server, target)
            print(f"bench tree of {files} files: first diagnostics {t * 1000:.0f} ms ({len(found)} findings)")
            server.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.pop("APIMFIX_CORPUS", None)
    main()
