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


def app_event_lines(path):
    """Line numbers (1-based) and texts of the input's app events, in order, best effort: the
    i-th result belongs to the i-th valid app event."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict) and ev.get("type") in ("install", "session", "inapp"):
                out.append((n, line.rstrip("\n")))
    return out


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("expected")
    p.add_argument("got")
    p.add_argument("--label", default="")
    p.add_argument("--input")
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
            evs = app_event_lines(args.input)
            if isinstance(e, dict):
                # the first app event with this device and ts (robust to rejected lines)
                for n, text in evs:
                    ev = json.loads(text)
                    if ev.get("device_id") == e.get("device_id") and ev.get("ts") == e.get("ts"):
                        print("  input line %d: %s" % (n, text[:400]))
                        break
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
