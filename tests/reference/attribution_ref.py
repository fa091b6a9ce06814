#!/usr/bin/env python3
"""An independent reference implementation of /work/shared/ATTRIBUTION.md.

It is written from the specification alone (never from src/attribution/), sentence by sentence,
with the section each rule comes from, so that `attribd replay` can be checked against it
(tests/scenarios/run-scenario.sh, tests/integration/test_differential.sh). Clarity over speed:
every decision scans every stored touch. Python 3 standard library only.

Usage (the same options as `attribd replay`):
    attribution_ref.py --config CFG.yaml --input EVENTS.ndjson [--output FILE|-]

Exit status: 0, 1 on a config or I/O error, 2 when at least one input line was rejected
(the results of the valid lines are still written). Where the spec is silent, the choice made
here is listed in docs/attribution-decisions.md (referred to below as "decision N").
"""

import argparse
import ipaddress
import json
import math
import re
import sys

# --------------------------------------------------------------------------------------------
# Text helpers: "Text rules in this file are ASCII" (preamble).
# --------------------------------------------------------------------------------------------

_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = "abcdefghijklmnopqrstuvwxyz"
_TO_LOWER = str.maketrans(_ASCII_UPPER, _ASCII_LOWER)
_TO_UPPER = str.maketrans(_ASCII_LOWER, _ASCII_UPPER)


def ascii_lower(s):
    """"lower-cased" (A-Z only)."""
    return s.translate(_TO_LOWER)


def ascii_upper(s):
    return s.translate(_TO_UPPER)


def trimmed(s):
    """"trimmed" (spaces and tabs at both ends)."""
    return s.strip(" \t")


# --------------------------------------------------------------------------------------------
# Durations (preamble): entirely [0-9]+ followed by one of s m h d, or the string "0".
# --------------------------------------------------------------------------------------------

_UNIT_MS = {"s": 1000, "m": 60 * 1000, "h": 3600 * 1000, "d": 86400 * 1000}
SECOND = 1000
HOUR = 3600 * 1000
DAY = 24 * HOUR


def parse_duration(value):
    """Milliseconds, or None when value is not a duration (a JSON number is not one)."""
    if not isinstance(value, str):
        return None
    if value == "0":
        return 0
    if re.fullmatch(r"[0-9]+[smhd]", value, flags=re.ASCII) is None:
        return None
    return int(value[:-1]) * _UNIT_MS[value[-1]]


# --------------------------------------------------------------------------------------------
# IP addresses (§1 "IP", §2 blocked_ips).
# --------------------------------------------------------------------------------------------


def parse_ip(text):
    """§1: surrounding space trimmed, an IPv4 dotted quad or an IPv6 literal (no brackets, port
    or zone); IPv4-mapped ::ffff:a.b.c.d is the IPv4 address a.b.c.d. Returns an ipaddress
    object (equal objects = equal canonical forms) or None when not valid."""
    if not isinstance(text, str):
        return None
    t = trimmed(text)
    if t == "" or "%" in t or "[" in t or "]" in t or "/" in t:
        return None
    if re.fullmatch(r"[0-9.]+", t):
        try:
            return ipaddress.IPv4Address(t)  # strict dotted quad, no leading zeros
        except ValueError:
            return None
    if re.fullmatch(r"[0-9A-Fa-f:.]+", t) is None:
        return None
    try:
        a = ipaddress.IPv6Address(t)
    except ValueError:
        return None
    if a.ipv4_mapped is not None:
        return a.ipv4_mapped
    return a


def parse_cidr(text):
    """§2 blocked_ips: an address or a CIDR block; host bits ignored; IPv4-mapped entries count
    as IPv4 (prefix reduced by 96). Returns an ip_network or None."""
    if not isinstance(text, str):
        return None
    t = trimmed(text)
    addr_text, slash, prefix_text = t.partition("/")
    addr = parse_ip(addr_text)
    if addr is None:
        return None
    raw_v6 = ":" in addr_text
    if slash:
        if re.fullmatch(r"[0-9]+", prefix_text, flags=re.ASCII) is None:
            return None
        prefix = int(prefix_text)
    else:
        prefix = 32 if addr.version == 4 and not raw_v6 else 128
    if addr.version == 4 and raw_v6:
        # an IPv4-mapped IPv6 entry: its prefix counts over 128 bits
        if prefix > 128 or prefix < 96:
            return None
        prefix -= 96
    if prefix > (32 if addr.version == 4 else 128):
        return None
    return ipaddress.ip_network("%s/%d" % (addr, prefix), strict=False)


def ip_in_network(ip, net):
    return ip.version == net.version and ip in net


# --------------------------------------------------------------------------------------------
# Config: a tiny YAML subset (block mappings, block and flow sequences, quoted and plain
# scalars, comments) - enough for the scenario configs and DESIGN.md's shape.
# --------------------------------------------------------------------------------------------


class ConfigError(Exception):
    pass


def _strip_comment(line):
    out, quote = [], None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        out.append(ch)
    return "".join(out).rstrip()


class Quoted(str):
    """A quoted YAML scalar: text like a plain one, but never an integer (decision 1)."""


def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        if text[0] == '"':
            return Quoted(json.loads(text))
        return Quoted(text[1:-1].replace("''", "'"))
    if text in ("null", "~", ""):
        return None
    return text  # plain scalars stay text: "0", "7d", "5" (decision 1)


def _split_flow(text):
    items, depth, cur, quote = [], 0, [], None
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        items.append("".join(cur))
    return items


def _value(text):
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [_value(x) for x in _split_flow(text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        out = {}
        for item in _split_flow(text[1:-1]):
            k, _, v = item.partition(":")
            out[_scalar(k)] = _value(v)
        return out
    return _scalar(text)


def parse_yaml(text):
    lines = []
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if line.strip() == "" or line.strip() == "---":
            continue
        lines.append((len(line) - len(line.lstrip(" ")), line.strip()))

    def block(i, indent):
        if lines[i][1].startswith("- ") or lines[i][1] == "-":
            out = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("-"):
                rest = lines[i][1][1:].strip()
                i += 1
                if rest == "":
                    if i < len(lines) and lines[i][0] > indent:
                        v, i = block(i, lines[i][0])
                    else:
                        v = None
                    out.append(v)
                else:
                    out.append(_value(rest))
            return out, i
        out = {}
        while i < len(lines) and lines[i][0] == indent:
            key, colon, rest = lines[i][1].partition(":")
            if not colon:
                raise ConfigError("line '%s': expected 'key: value'" % lines[i][1])
            key = _scalar(key)
            i += 1
            if rest.strip() == "":
                if i < len(lines) and lines[i][0] > indent:
                    v, i = block(i, lines[i][0])
                else:
                    v = None
            else:
                v = _value(rest)
            out[key] = v
        return out, i

    if not lines:
        return {}
    doc, i = block(0, lines[0][0])
    if i != len(lines):
        raise ConfigError("line '%s': unexpected indentation" % lines[i][1])
    return doc


# §2: setting -> (default, min, max); durations in ms.
DURATION_SETTINGS = {
    "click_lookback": (7 * DAY, 1 * HOUR, 30 * DAY),
    "view_lookback": (24 * HOUR, 1 * HOUR, 24 * HOUR),
    "probabilistic_window": (24 * HOUR, 0, 24 * HOUR),
    "reattribution_window": (90 * DAY, 1 * DAY, 730 * DAY),
    "reengagement_window": (30 * DAY, 1 * DAY, 90 * DAY),
    "inactivity_period": (0, 0, 30 * DAY),
    "min_ctit": (10 * SECOND, 0, 1 * HOUR),
}


class App:
    def __init__(self, app_id):
        self.app_id = app_id
        for k, (default, _lo, _hi) in DURATION_SETTINGS.items():
            setattr(self, k, default)
        self.click_cap = 0
        self.blocked_ips = []
        self.blocked_sites = set()


def load_config(path):
    """Returns {app_id: App}. §2: a setting that is not a duration (or integer, or list) of its
    range is a config error naming the file, app and key."""
    with open(path, encoding="utf-8") as f:
        try:
            doc = parse_yaml(f.read())
        except (ConfigError, ValueError) as e:
            raise ConfigError("%s: %s" % (path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("apps"), dict) or not doc["apps"]:
        raise ConfigError("%s: apps: a mapping of at least one app is required" % path)
    apps = {}
    for app_id, settings in doc["apps"].items():
        if not isinstance(app_id, str) or app_id == "":
            raise ConfigError("%s: apps: an app id must be a non-empty string" % path)
        app = App(app_id)
        settings = settings or {}
        if not isinstance(settings, dict):
            raise ConfigError("%s: apps.%s: expected a mapping" % (path, app_id))

        def bad(key, why):
            return ConfigError("%s: app %s: %s: %s" % (path, app_id, key, why))

        for key, value in settings.items():
            if key in DURATION_SETTINGS:
                _d, lo, hi = DURATION_SETTINGS[key]
                ms = parse_duration(value)
                if ms is None or not lo <= ms <= hi:
                    raise bad(key, "%r is not a duration in its range" % (value,))
                setattr(app, key, ms)
            elif key == "click_cap":
                # decision 1: a plain YAML integer (not quoted), decimal, an optional sign, no
                # leading zeros (010 is 8 in YAML 1.1 and 10 in YAML 1.2)
                if not isinstance(value, str) or isinstance(value, Quoted) \
                        or re.fullmatch(r"[+-]?(0|[1-9][0-9]*)", value) is None \
                        or not 0 <= int(value) <= 1000:
                    raise bad(key, "%r is not an integer in 0..1000" % (value,))
                app.click_cap = int(value)
            elif key == "blocked_ips":
                if value is None:
                    value = []
                if not isinstance(value, list):
                    raise bad(key, "expected a list")
                for entry in value:
                    net = parse_cidr(entry)
                    if net is None:
                        raise bad(key, "%r is not an address or CIDR block" % (entry,))
                    app.blocked_ips.append(net)
            elif key == "blocked_sites":
                if value is None:
                    value = []
                # decision 1: each entry has a media_source and a site_id around its first "/"
                if not isinstance(value, list) or not all(
                        isinstance(x, str) and 0 < x.find("/") < len(x) - 1 for x in value):
                    raise bad(key, "expected a list of media_source/site_id strings")
                app.blocked_sites.update(value)
            # other keys (store_url, sdk_key, postbacks, ...) do not affect attribution
        apps[app_id] = app
    return apps


# --------------------------------------------------------------------------------------------
# §1 Events in: parsing and validation.
# --------------------------------------------------------------------------------------------

TOUCH_TYPES = ("click", "impression")
APP_TYPES = ("install", "session", "inapp")
TOUCH_STRING_FIELDS = ("campaign", "campaign_id", "adset", "adset_id", "ad", "ad_id", "site_id",
                       "channel", "click_id", "deep_link_value", "cost_value", "cost_currency")
APP_STRING_FIELDS = ("device_model", "app_version", "customer_user_id", "event_id")


class Invalid(Exception):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def _reject_constant(name):
    raise ValueError("not JSON: " + name)  # NaN, Infinity are not JSON


def normal_advertising_id(value):
    """§1 "Advertising id normal form": trimmed, lower-case; empty or only 0 and - is absent."""
    if not isinstance(value, str):
        return None  # "Other fields of an unexpected type are ignored."
    v = ascii_lower(trimmed(value))
    if v == "" or set(v) <= set("0-"):
        return None
    return v


class Event:
    """A valid event with normalized fields; absent fields are None."""


def _has_lone_surrogate(v):
    """Decision 25: a string anywhere in the event (a key too) with a \\u escape that is an
    unpaired UTF-16 surrogate is not text: the line is invalid (Python's json accepts it)."""
    if isinstance(v, str):
        return any("\ud800" <= ch <= "\udfff" for ch in v)
    if isinstance(v, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(x) for k, x in v.items())
    if isinstance(v, list):
        return any(_has_lone_surrogate(x) for x in v)
    return False


def parse_event(line, apps):
    try:
        obj = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise Invalid("body", "not a JSON object (%s)" % e)
    if not isinstance(obj, dict):
        raise Invalid("body", "not a JSON object")
    if _has_lone_surrogate(obj):
        raise Invalid("body", "a \\u escape is a lone surrogate (not Unicode text)")
    obj = {k: v for k, v in obj.items() if v is not None}  # "JSON null counts as absent"

    def no_nul(name):
        # decision 24: U+0000 in a string field the event keeps makes it invalid
        v = obj.get(name)
        if isinstance(v, str) and "\x00" in v:
            raise Invalid(name, "must not contain U+0000")

    def string(name):
        no_nul(name)
        v = obj.get(name)
        return v if isinstance(v, str) else None  # other types are ignored

    def required(name):
        no_nul(name)
        v = obj.get(name)
        if v is None:
            raise Invalid(name, "required")
        if not isinstance(v, str):
            raise Invalid(name, "must be a string")
        if v == "":
            raise Invalid(name, "must not be empty")
        return v

    ev = Event()
    typ = obj.get("type")
    if not isinstance(typ, str) or typ not in TOUCH_TYPES + APP_TYPES:
        raise Invalid("type", "must be one of click, impression, install, session, inapp")
    ev.type = typ
    ts = obj.get("ts")
    # a JSON integer (no fraction or exponent): Python parses those, and only those, as int
    if type(ts) is not int or not 0 <= ts <= 2 ** 53 - 1:
        raise Invalid("ts", "must be an integer in [0, 2^53-1]")
    ev.ts = ts
    ev.app_id = required("app_id")
    if ev.app_id not in apps:
        raise Invalid("app_id", "unknown app")

    # common optional fields
    ev.ip = None
    if "ip" in obj:
        ev.ip = parse_ip(obj["ip"])
        if ev.ip is None:
            raise Invalid("ip", "not a valid IPv4 or IPv6 address")
    ev.user_agent = string("user_agent")
    no_nul("advertising_id")
    ev.advertising_id = normal_advertising_id(obj.get("advertising_id"))

    if typ in TOUCH_TYPES:
        ev.media_source = required("media_source")
        for f in TOUCH_STRING_FIELDS:
            setattr(ev, f, string(f))
        rt = obj.get("is_retargeting", False)
        if not isinstance(rt, bool):
            raise Invalid("is_retargeting", "must be a boolean")
        ev.is_retargeting = rt
        # kept raw; judged against the app's ranges when used (§2 last paragraph)
        no_nul("click_lookback")
        no_nul("view_lookback")
        ev.click_lookback_raw = obj.get("click_lookback")
        ev.view_lookback_raw = obj.get("view_lookback")
    else:
        ev.device_id = required("device_id")
        ev.platform = None
        if "platform" in obj:
            if obj["platform"] not in ("android", "ios"):
                raise Invalid("platform", "must be android or ios")
            ev.platform = obj["platform"]
        ev.os_version = None
        if "os_version" in obj:
            if not isinstance(obj["os_version"], str):
                raise Invalid("os_version", "must be a string")
            no_nul("os_version")
            ev.os_version = obj["os_version"]
        for f in APP_STRING_FIELDS:
            setattr(ev, f, string(f))
        if typ == "inapp":
            ev.event_name = required("event_name")
            ev.revenue = None
            if "revenue" in obj:
                r = obj["revenue"]
                if isinstance(r, bool) or not isinstance(r, (int, float)):
                    raise Invalid("revenue", "must be a finite number")
                try:
                    finite = math.isfinite(float(r))
                except OverflowError:  # an integer beyond any double
                    finite = False
                if not finite:
                    raise Invalid("revenue", "must be a finite number")
                ev.revenue = r
            ev.currency = string("currency")
    return ev


# --------------------------------------------------------------------------------------------
# §3 Fingerprints.
# --------------------------------------------------------------------------------------------

ANDROID_RE = re.compile(r"Android (\d+)(\.(\d+))?(\.\d+)*", re.ASCII)
# "." matches any character but a newline, as regex engines do by default (decision 11)
IOS_RE = re.compile(r"(iPhone|iPad|iPod).*? OS (\d+)(_(\d+))?", re.ASCII)
LOCALE_RE = re.compile(r"[A-Za-z]{2}([-_][A-Za-z]{2})?", re.ASCII)


def version_text(major, minor):
    """"major.minor (decimal, leading zeros dropped; minor 0 when missing)"."""
    return "%d.%d" % (int(major), int(minor) if minor is not None else 0)


def fingerprint_from_user_agent(ua):
    if ua is None:
        return None
    m = ANDROID_RE.search(ua)  # case-sensitive; the first match
    if m is not None:
        # "When the Android pattern matches, the iOS rule is not tried, whatever follows."
        version = version_text(m.group(1), m.group(3))
        rest = ua[m.end():]
        if not rest.startswith("; "):
            return None  # "it must be followed by `; `"
        rest = rest[2:]
        k = rest.find("; ")
        if k >= 0 and LOCALE_RE.fullmatch(rest[:k]):
            rest = rest[k + 2:]  # a locale is skipped with its "; "
        end = len(rest)
        for stop in (" Build/", ")", ";"):
            j = rest.find(stop)
            if 0 <= j < end:
                end = j
        model = ascii_lower(trimmed(rest[:end]))
        if model == "":
            return None
        return ("android", version, model)
    m = IOS_RE.search(ua)
    if m is not None:
        return ("ios", version_text(m.group(2), m.group(4)), ascii_lower(m.group(1)))
    return None


def fingerprint_from_fields(platform, os_version, device_model):
    runs = re.findall(r"[0-9]+", os_version, flags=re.ASCII)
    if not runs:
        return None  # "no digits: no fingerprint"
    version = version_text(runs[0], runs[1] if len(runs) > 1 else None)
    if device_model is None:
        return None
    model = ascii_lower(trimmed(device_model))
    if platform == "ios":
        model = re.match(r"[a-z]*", model).group(0)  # "only its leading letters"
    if model == "":
        return None  # decision 9: an iOS model with no leading letters is empty too
    return (platform, version, model)


def app_event_fingerprint(ev):
    """From E's fields when it has both platform and os_version, else from its user agent."""
    if ev.platform is not None and ev.os_version is not None:
        return fingerprint_from_fields(ev.platform, ev.os_version, ev.device_model)
    return fingerprint_from_user_agent(ev.user_agent)


# --------------------------------------------------------------------------------------------
# The engine: §3-§6.
# --------------------------------------------------------------------------------------------


class Touch:
    pass


class Device:
    pass


class Engine:
    def __init__(self, apps):
        self.apps = apps
        self.touches = []   # every valid touch so far, in log order
        self.devices = {}   # (app_id, device_id) -> Device
        self.won = set()    # seq of touches that won an install (§4 last sentence)
        self.used = set()   # seq of touches used by a re-engagement or re-attribution (§6)
        self.clicks_by_key = {}  # (app_id, media_source, advertising_id) -> clicks, for §4.4

    # ---- §2 last paragraph and §4: windows

    def lookback(self, app, touch):
        """The touch's own override when it is a duration within the setting's range,
        otherwise the app's value."""
        if touch.type == "click":
            key, raw = "click_lookback", touch.click_lookback_raw
        else:
            key, raw = "view_lookback", touch.view_lookback_raw
        _d, lo, hi = DURATION_SETTINGS[key]
        ms = parse_duration(raw)
        if ms is not None and lo <= ms <= hi:
            return ms
        return getattr(app, key)

    def match_type(self, touch, ev):
        """§3: "id", "probabilistic" or None."""
        if touch.advertising_id is not None and ev.advertising_id is not None:
            return "id" if touch.advertising_id == ev.advertising_id else None
        # at least one of the two has no advertising id
        if touch.ip is None or ev.ip is None or touch.ip != ev.ip:
            return None
        fp_t = touch.fingerprint  # always from the UA for a touch (computed when stored)
        fp_e = ev.fingerprint     # computed once per app event, in process()
        if fp_t is None or fp_e is None or fp_t != fp_e:
            return None
        return "probabilistic"

    def in_window(self, app, touch, mt, t):
        """§4: 0 <= t - tt <= W."""
        lb = self.lookback(app, touch)
        if mt == "id":
            w = lb
        else:
            if app.probabilistic_window == 0:
                return False  # "never when probabilistic_window is 0"
            w = min(app.probabilistic_window, lb)
        return 0 <= t - touch.ts <= w

    # ---- §4 blocking

    def block_reason(self, app, touch, ev):
        t = ev.ts
        if touch.ip is not None and any(ip_in_network(touch.ip, n) for n in app.blocked_ips):
            return "ip_blocked"
        if touch.site_id is not None and \
                "%s/%s" % (touch.media_source, touch.site_id) in app.blocked_sites:
            return "site_blocked"
        if touch.type == "click" and ev.type == "install" and app.min_ctit != 0 \
                and t - touch.ts < app.min_ctit:
            return "ctit_anomaly"
        if touch.type == "click" and app.click_cap > 0 and touch.advertising_id is not None:
            # "clicks of this app in the log so far" with the same media_source and advertising
            # id (every click stored before E; self.clicks_by_key indexes them by that key)
            same = self.clicks_by_key.get((app.app_id, touch.media_source,
                                           touch.advertising_id), [])
            n = sum(1 for c in same if t - DAY <= c.ts <= t)
            if n > app.click_cap:
                return "click_flood"
        return None

    # ---- §5 choosing the winner of an install

    @staticmethod
    def group(touch, mt):
        return {("click", "id"): 1, ("click", "probabilistic"): 2,
                ("impression", "id"): 3, ("impression", "probabilistic"): 4}[(touch.type, mt)]

    def install_candidates(self, app, ev, blocking):
        out = []
        for touch in self.touches:
            if touch.app_id != app.app_id or touch.is_retargeting or touch.seq in self.won:
                continue
            mt = self.match_type(touch, ev)
            if mt is None or not self.in_window(app, touch, mt, ev.ts):
                continue
            if blocking and self.block_reason(app, touch, ev) is not None:
                continue
            out.append((touch, mt))
        return out

    def pick(self, cands):
        """The first non-empty group; within it the greatest ts, then later in the log."""
        best = None
        for touch, mt in cands:
            key = (-self.group(touch, mt), touch.ts, touch.seq)
            if best is None or key > best[0]:
                best = (key, touch, mt)
        return None if best is None else (best[1], best[2])

    def choose_install(self, app, ev):
        """Returns (attribution, contributors, fraud) as §7 JSON values; marks the winner won."""
        cands = self.install_candidates(app, ev, blocking=True)
        win = self.pick(cands)
        if win is None:
            attribution, contributors = organic(), []
        else:
            wt, wmt = win
            attribution = touch_object(wt, wmt)
            # Contributors: the other candidates, not of the winner's media_source; per media
            # source its latest touch; by ts descending (later log position first); first 3.
            per_source = {}
            for touch, mt in cands:
                if touch is wt or touch.media_source == wt.media_source:
                    continue
                cur = per_source.get(touch.media_source)
                if cur is None or (touch.ts, touch.seq) > (cur[0].ts, cur[0].seq):
                    per_source[touch.media_source] = (touch, mt)
            ordered = sorted(per_source.values(), key=lambda x: (x[0].ts, x[0].seq),
                             reverse=True)
            contributors = [contributor_object(t, mt) for t, mt in ordered[:3]]
        # Fraud record: choose again with blocking switched off (won touches still excluded).
        fraud = None
        alt = self.pick(self.install_candidates(app, ev, blocking=False))
        if alt is not None and (win is None or alt[0] is not win[0]):
            reason = self.block_reason(app, alt[0], ev)
            if reason is not None:
                fraud = {"reason": reason, "media_source": alt[0].media_source,
                         "touch_ts": alt[0].ts}
        if win is not None:
            self.won.add(win[0].seq)
        return attribution, contributors, fraud

    # ---- §6 retargeting

    def retargeting_candidates(self, app, ev, dev, inactivity):
        out = []
        for touch in self.touches:
            if touch.app_id != app.app_id or touch.type != "click" or not touch.is_retargeting:
                continue
            if self.match_type(touch, ev) != "id":
                continue
            if not self.in_window(app, touch, "id", ev.ts):  # "in window (click lookback)"
                continue
            if self.block_reason(app, touch, ev) is not None:
                continue
            if not touch.ts > dev.install_ts or touch.seq in self.used:
                continue
            if inactivity and app.inactivity_period > 0:
                lo, hi = touch.ts - app.inactivity_period, touch.ts
                if any(lo <= a < hi for a in dev.activity):
                    continue
            out.append(touch)
        return out

    def pick_retargeting(self, cands):
        best = None
        for touch in cands:
            if best is None or (touch.ts, touch.seq) > (best.ts, best.seq):
                best = touch
        return best

    def open_retargeting(self, app, dev, t):
        """§6: the touch of the re-engagement window when it is open at t, else None."""
        if dev.window is None:
            return None
        start, touch = dev.window
        if start <= t <= start + app.reengagement_window:
            return touch_object(touch, "id")
        return None

    # ---- one event

    def process(self, ev, seq):
        app = self.apps[ev.app_id]
        if ev.type in TOUCH_TYPES:
            touch = ev
            touch.seq = seq
            touch.fingerprint = fingerprint_from_user_agent(touch.user_agent)
            self.touches.append(touch)  # "touches produce no result but are stored"
            if touch.type == "click" and touch.advertising_id is not None:
                key = (touch.app_id, touch.media_source, touch.advertising_id)
                self.clicks_by_key.setdefault(key, []).append(touch)
            return None
        ev.fingerprint = app_event_fingerprint(ev)
        t = ev.ts
        key = (ev.app_id, ev.device_id)
        dev = self.devices.get(key)
        contributors, fraud = [], None

        if ev.type == "install":
            if dev is not None and t - dev.install_ts > app.reattribution_window:
                dev = None  # a new install: "the device state starts over"
            if dev is None:
                attribution, contributors, fraud = self.choose_install(app, ev)
                dev = Device()
                dev.install_ts = t
                dev.attribution = attribution
                dev.window = None
                dev.activity = [t]
                self.devices[key] = dev
                event_type = "install"
            else:
                cands = self.retargeting_candidates(app, ev, dev, inactivity=False)
                rt = self.pick_retargeting(cands)
                if rt is not None:
                    self.used.add(rt.seq)
                    dev.window = (t, rt)  # replacing any open one
                    event_type = "re-attribution"
                else:
                    event_type = "reinstall"
                dev.activity.append(t)
        elif dev is None:
            # a session or in-app event of an unknown device: no state
            return result(ev, ev.type, None, unknown(), None, [], None)
        elif ev.type == "session":
            cands = self.retargeting_candidates(app, ev, dev, inactivity=True)
            rt = self.pick_retargeting(cands)
            if rt is not None:
                self.used.add(rt.seq)
                dev.window = (t, rt)
                event_type = "re-engagement"
            else:
                event_type = "session"
            dev.activity.append(t)
        else:
            event_type = "inapp"  # in-app events are not activity
        return result(ev, event_type, dev.install_ts, dev.attribution,
                      self.open_retargeting(app, dev, t), contributors, fraud)


# --------------------------------------------------------------------------------------------
# §7 Results out.
# --------------------------------------------------------------------------------------------

ATTR_TOUCH_FIELDS = ("media_source", "campaign", "campaign_id", "adset", "ad", "site_id",
                     "channel", "click_id")


def _status_only(status):
    out = {"status": status}
    for f in ATTR_TOUCH_FIELDS:
        out[f] = None
    out.update({"touch_type": None, "touch_ts": None, "match_type": None})
    return out


def organic():
    return _status_only("organic")


def unknown():
    return _status_only("unknown")


def touch_object(touch, mt):
    out = {"status": "non_organic"}
    for f in ATTR_TOUCH_FIELDS:
        out[f] = getattr(touch, f)
    out.update({"touch_type": touch.type, "touch_ts": touch.ts, "match_type": mt})
    return out


def contributor_object(touch, mt):
    return {"media_source": touch.media_source, "campaign": touch.campaign,
            "touch_type": touch.type, "touch_ts": touch.ts, "match_type": mt}


def result(ev, event_type, install_ts, attribution, retargeting, contributors, fraud):
    out = {"event_type": event_type, "app_id": ev.app_id, "device_id": ev.device_id,
           "ts": ev.ts, "install_ts": install_ts, "attribution": attribution,
           "retargeting": retargeting, "contributors": contributors, "fraud": fraud}
    if ev.type == "inapp":
        out["event_name"] = ev.event_name
        out["revenue"] = ev.revenue
        out["currency"] = ascii_upper(ev.currency) if ev.currency else "USD"
    return out


# --------------------------------------------------------------------------------------------
# The replay driver.
# --------------------------------------------------------------------------------------------


def replay(apps, infile, outfile, errfile):
    """Returns the number of rejected lines."""
    engine = Engine(apps)
    rejected = 0
    seq = 0
    for lineno, raw in enumerate(infile, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            errfile.write("line %d: body: not UTF-8\n" % lineno)
            rejected += 1
            continue
        if line.strip(" \t\r\n") == "":
            continue  # decision 2: blank lines are not events
        try:
            ev = parse_event(line, apps)
        except Invalid as e:
            errfile.write("line %d: %s: %s\n" % (lineno, e.field, e.message))
            rejected += 1
            continue
        seq += 1
        res = engine.process(ev, seq)
        if res is not None:
            outfile.write(json.dumps(res, separators=(",", ":")) + "\n")
    return rejected


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True)
    p.add_argument("--input", default="-")
    p.add_argument("--output", default="-")
    args = p.parse_args(argv)
    try:
        apps = load_config(args.config)
    except (ConfigError, OSError) as e:
        sys.stderr.write("attribution_ref: config: %s\n" % e)
        return 1
    infile = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")
    outfile = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    rejected = replay(apps, infile, outfile, sys.stderr)
    outfile.flush()
    if rejected:
        sys.stderr.write("attribution_ref: %d line(s) rejected\n" % rejected)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
