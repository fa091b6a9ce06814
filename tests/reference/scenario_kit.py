"""A small kit for writing attribution scenarios by hand (used by scenario_book.py).

A scenario is a list of events and, for each app event, a verdict written by hand from
ATTRIBUTION.md: the result type, which event was the device's install, which touch won and how
it matched, the retargeting touch, contributors and fraud. The kit only does the mechanical
part: it copies app_id/device_id/ts from the event and the touch fields from the touch a
verdict names, and fills every other §7 key with null. It decides nothing.
"""

import json
import os

GAME = "com.example.game"
SHOP = "com.example.shop"
T0 = 1793534400000  # 2026-11-01T12:00:00Z
S = 1000
M = 60 * S
H = 60 * M
D = 24 * H

# A phone seen two ways: as a touch's user agent and as an install's SDK fields.
UA_ANDROID = ("Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) "
              "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0 Mobile Safari/537.36")
ANDROID = {"platform": "android", "os_version": "13", "device_model": "Pixel 7"}
UA_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148")
IPHONE = {"platform": "ios", "os_version": "17.1.2", "device_model": "iPhone14,2"}

ALIASES = {"aid": "advertising_id", "ua": "user_agent", "rt": "is_retargeting"}
NOTHING = object()


def _event(type_, ts, app=GAME, **kw):
    ev = {"type": type_, "ts": ts, "app_id": app}
    for k, v in kw.items():
        ev[ALIASES.get(k, k)] = v
    return ev


def click(ts, ms, **kw):
    return _event("click", ts, media_source=ms, **kw)


def imp(ts, ms, **kw):
    return _event("impression", ts, media_source=ms, **kw)


def install(ts, dev, **kw):
    return _event("install", ts, device_id=dev, **kw)


def session(ts, dev, **kw):
    return _event("session", ts, device_id=dev, **kw)


def inapp(ts, dev, name, **kw):
    return _event("inapp", ts, device_id=dev, event_name=name, **kw)


def raw(text):
    """A line written verbatim (for invalid input)."""
    return text


class R:
    """The hand-made verdict for events[i].

    etype    the §7 event_type
    inst     index of the event whose ts is the device's install_ts (None: null)
    attr     "organic" | "unknown" | touch index | (touch index, "probabilistic")
    rt       touch index of the open re-engagement window, or None
    contrib  list of touch index | (touch index, "probabilistic")
    fraud    (reason, touch index) or None
    currency, revenue: for inapp results (both must be given)
    """

    def __init__(self, i, etype, inst=None, attr="unknown", rt=None, contrib=(), fraud=None,
                 currency=None, revenue=NOTHING):
        self.__dict__.update(i=i, etype=etype, inst=inst, attr=attr, rt=rt,
                             contrib=list(contrib), fraud=fraud, currency=currency,
                             revenue=revenue)


TOUCH_KEYS = ("media_source", "campaign", "campaign_id", "adset", "ad", "site_id", "channel",
              "click_id")


def _str_field(ev, k):
    v = ev.get(k)
    return v if isinstance(v, str) else None


def _touch(events, ref):
    idx, mt = (ref, "id") if isinstance(ref, int) else ref
    ev = events[idx]
    assert ev["type"] in ("click", "impression"), "verdict names a non-touch %d" % idx
    return ev, mt


def _attribution(events, ref):
    if ref in ("organic", "unknown"):
        out = {"status": ref}
        out.update({k: None for k in TOUCH_KEYS})
        out.update({"touch_type": None, "touch_ts": None, "match_type": None})
        return out
    ev, mt = _touch(events, ref)
    out = {"status": "non_organic"}
    out.update({k: _str_field(ev, k) for k in TOUCH_KEYS})
    out.update({"touch_type": ev["type"], "touch_ts": ev["ts"], "match_type": mt})
    return out


def expand(events, r):
    ev = events[r.i]
    assert isinstance(ev, dict) and ev["type"] in ("install", "session", "inapp"), r.i
    out = {"event_type": r.etype, "app_id": ev["app_id"], "device_id": ev["device_id"],
           "ts": ev["ts"],
           "install_ts": None if r.inst is None else events[r.inst]["ts"],
           "attribution": _attribution(events, r.attr),
           "retargeting": None if r.rt is None else _attribution(events, r.rt),
           "contributors": [], "fraud": None}
    for ref in r.contrib:
        cev, mt = _touch(events, ref)
        out["contributors"].append({"media_source": cev["media_source"],
                                    "campaign": _str_field(cev, "campaign"),
                                    "touch_type": cev["type"], "touch_ts": cev["ts"],
                                    "match_type": mt})
    if r.fraud is not None:
        reason, idx = r.fraud
        out["fraud"] = {"reason": reason, "media_source": events[idx]["media_source"],
                        "touch_ts": events[idx]["ts"]}
    if ev["type"] == "inapp":
        assert r.currency is not None and r.revenue is not NOTHING, "inapp verdict %d" % r.i
        out["event_name"] = ev["event_name"]
        out["revenue"] = r.revenue
        out["currency"] = r.currency
    else:
        assert r.currency is None and r.revenue is NOTHING
    return out


def app_config(**settings):
    """A config whose game app has the given settings (the shop app keeps the defaults)."""
    lines = ["apps:", "  %s:" % GAME]
    if not settings:
        settings = {"click_lookback": "7d"}
    for k, v in settings.items():
        if isinstance(v, list):
            v = "[" + ", ".join(json.dumps(x) for x in v) + "]"
        lines.append("    %s: %s" % (k, v))
    lines += ["  %s:" % SHOP, "    click_lookback: 7d"]
    return "\n".join(lines) + "\n"


class Scenario:
    def __init__(self, name, events, verdicts, config=None, exit=0):
        self.name, self.events, self.verdicts = name, events, verdicts
        self.config, self.exit = config, exit

    def write(self, folder):
        base = os.path.join(folder, self.name)
        with open(base + ".in.ndjson", "w") as f:
            for ev in self.events:
                f.write((ev if isinstance(ev, str) else json.dumps(ev, separators=(",", ":")))
                        + "\n")
        with open(base + ".out.ndjson", "w") as f:
            for r in self.verdicts:
                f.write(json.dumps(expand(self.events, r), separators=(",", ":")) + "\n")
        for suffix, content in ((".yaml", self.config),
                                (".exit", None if self.exit == 0 else "%d\n" % self.exit)):
            path = base + suffix
            if content is None:
                if os.path.exists(path):
                    os.remove(path)
            else:
                with open(path, "w") as f:
                    f.write(content)
