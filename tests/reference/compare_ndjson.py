#!/usr/bin/env python3
"""Compares two NDJSON result files semantically, line by line (key order and number spelling
do not matter; true is not 1; null is not a missing key).

    compare_ndjson.py EXPECTED GOT [--label TEXT] [--input EVENTS.ndjson]

Exit 0 when equal; 1 with a readable report of the first differing line otherwise: the paths
that differ and, with --input, the input event behind that result."""

import argparse
import json
import sys


def _kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return type(v).__name__


def differences(a, b, path=""):
    """Yields (path, expected, got) for every place where a and b differ."""
    if _kind(a) != _kind(b):
        yield path or ".", a, b
    elif isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            p = "%s.%s" % (path, k) if path else k
            if k not in b:
                yield p, a[k], "<missing key>"
            elif k not in a:
                yield p, "<missing key>", b[k]
            else:
                yield from differences(a[k], b[k], p)
    elif isinstance(a, list):
        if len(a) != len(b):
            yield path + "[] (length %d vs %d)" % (len(a), len(b)), a, b
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                yield from differences(x, y, "%s[%d]" % (path, i))
    elif a != b:
        yield path or ".", a, b


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip() == "":
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                out.append("<not JSON on line %d: %s: %r>" % (n, e, line[:200]))
    return out


def _key(v):
    return v.strip(" \t").lower() if isinstance(v, str) else None


def input_context(path, results, k, context):
    """The input line of results[k] and up to `context` earlier lines that share its device,
    advertising id or ip. The i-th result belongs to the i-th valid app event, so the lines are
    found in order by (app_id, device_id, ts)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [(n, line.rstrip("\n")) for n, line in enumerate(f, 1)]
    parsed = []
    for n, text in lines:
        try:
            ev = json.loads(text)
        except ValueError:
            ev = None
        parsed.append((n, text, ev if isinstance(ev, dict) else None))
    pos = 0
    for i in range(k + 1):
        r = results[i] if isinstance(results[i], dict) else {}
        while pos < len(parsed):
            ev = parsed[pos][2]
            if ev and ev.get("type") in ("install", "session", "inapp") and \
                    (ev.get("app_id"), ev.get("device_id"), ev.get("ts")) == \
                    (r.get("app_id"), r.get("device_id"), r.get("ts")):
                break
            pos += 1
        if pos >= len(parsed):
            return []
        if i < k:
            pos += 1
    n, text, ev = parsed[pos]
    keys = {("d", ev.get("device_id")), ("a", _key(ev.get("advertising_id"))),
            ("i", _key(ev.get("ip")))} - {("a", None), ("i", None), ("d", None)}
    before = []
    for m, t, e in reversed(parsed[:pos]):
        if len(before) >= context:
            break
        if e and e.get("app_id") == ev.get("app_id") and \
                {("d", e.get("device_id")), ("a", _key(e.get("advertising_id"))),
                 ("i", _key(e.get("ip")))} & keys:
            before.append((m, t))
    return list(reversed(before)) + [(n, text)]


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("expected")
    p.add_argument("got")
    p.add_argument("--label", default="")
    p.add_argument("--input")
    p.add_argument("--context", type=int, default=0,
                   help="with --input: earlier input lines to show (same device, id or ip)")
    args = p.parse_args(argv)
    exp, got = load(args.expected), load(args.got)
    label = (args.label + ": ") if args.label else ""
    for i in range(max(len(exp), len(got))):
        e = exp[i] if i < len(exp) else "<no line>"
        g = got[i] if i < len(got) else "<no line>"
        diffs = list(differences(e, g))
        if not diffs:
            continue
        print("%sresult %d differs (%d expected lines, %d got)" % (label, i + 1, len(exp),
                                                                  len(got)))
        for path, a, b in diffs[:12]:
            print("  %s: expected %s, got %s" % (path, json.dumps(a), json.dumps(b)))
        print("  expected: %s" % json.dumps(e, separators=(",", ":")))
        print("  got:      %s" % json.dumps(g, separators=(",", ":")))
        if args.input:
            ctx = input_context(args.input, exp if isinstance(e, dict) else got, i,
                                args.context)
            if ctx:
                print("  input (line: event), the result's event last:")
            for n, text in ctx:
                print("    %d: %s" % (n, text[:400]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
