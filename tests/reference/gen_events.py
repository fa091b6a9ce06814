#!/usr/bin/env python3
"""Generates a seeded random config + NDJSON event stream for differential testing of
`attribd replay` against the reference (tests/integration/test_differential.sh).

    gen_events.py --seed N [--events 2000] --config-out CFG.yaml --events-out EVENTS.ndjson

The stream is made for rules to collide: few devices, advertising ids (shared, limited ad
tracking, in varied case and spacing), ips (IPv4, IPv6, IPv4-mapped, blocked), user agents and
SDK fields that do or do not share fingerprints; short windows in the config; many app events
placed exactly at, 1 ms before or 1 ms after a window edge of an earlier touch or event
(lookbacks, probabilistic window, min_ctit, the 24 h click-flood range, re-attribution and
re-engagement windows, inactivity); retargeting clicks; ts not always in log order; and a few
invalid lines. The same seed always gives the same files.
"""

import argparse
import json
import random

GAME, SHOP = "com.example.game", "com.example.shop"
T0 = 1793534400000
S, M, H, D = 1000, 60 * 1000, 3600 * 1000, 86400 * 1000
# Every ts stays within 30 days of T0: the engine keeps 60 days of touches behind the newest ts
# it has seen (docs/attribution.md "Bounds"); what lies beyond that bound is pinned by
# tests/scenarios/pending/late-log-order-61-days and far-future-touch-keeps-history.
SPAN = 30 * D


def dur_ms(text):
    if text == "0":
        return 0
    return int(text[:-1]) * {"s": S, "m": M, "h": H, "d": D}[text[-1]]


# (platform, os_version, device_model) and user agents with the same or a near fingerprint
PHONES = [
    ({"platform": "android", "os_version": "13", "device_model": "Pixel 7"},
     ["Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36",
      "Dalvik/2.1.0 (Linux; U; Android 13.0; en-US; pixel 7 Build/TQ3A)",
      "Mozilla/5.0 (Linux; Android 13;Pixel 7)"]),
    ({"platform": "android", "os_version": "12.1", "device_model": "SM-G991B"},
     ["Mozilla/5.0 (Linux; Android 12.1.0; SM-G991B) AppleWebKit/537.36",
      "Mozilla/5.0 (Linux; Android 12; SM-G991B)",
      "Mozilla/5.0 (Linux; U; Android 12.1; de; SM-G991B Build/SP1A)"]),
    ({"platform": "ios", "os_version": "17.1.2", "device_model": "iPhone14,2"},
     ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17 like Mac OS X)"]),
    ({"platform": "ios", "os_version": "16", "device_model": "iPad13,1"},
     ["Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15",
      "Mozilla/5.0 (iPad; CPU OS 16 like Mac OS X)"]),
]
OTHER_UAS = ["curl/8.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "",
             "Mozilla/5.0 (Linux; Android 13; ) AppleWebKit"]

# each ip group is one address in several spellings
IPS = [
    ["192.0.2.10", " 192.0.2.10", "::ffff:192.0.2.10"],
    ["192.0.2.11"],
    ["2001:db8::7", "2001:DB8:0:0:0:0:0:7"],
    ["10.0.0.3"],                        # blocked in some configs
    ["10.0.1.77", "::FFFF:10.0.1.77"],   # inside a blocked /24 in some configs
    ["2001:db8::2"],                     # inside a blocked /126 in some configs
]
AIDS = [["a1", "A1", " a1 "], ["a2"], ["b3", "B3"], ["c4"], ["e5"], ["f6", "F6\t"], ["g7"],
        ["h8"], ["00000000-0000-0000-0000-000000000000", "0", "-", ""]]
SOURCES = ["netA", "netB", "netC", "netD"]
SITES = [None, "s1", "s2", "s3"]
CAMPAIGNS = [None, "summer", "winter", "retarget"]
EVENT_NAMES = ["purchase", "level_up", "tutorial"]
CURRENCIES = [None, "usd", "EUR", "", "jpy"]


def make_config(rnd):
    game = {
        "click_lookback": rnd.choice(["1h", "2h", "6h", "7d"]),
        "view_lookback": rnd.choice(["1h", "2h", "24h"]),
        "probabilistic_window": rnd.choice(["0", "30m", "1h", "24h"]),
        "reattribution_window": rnd.choice(["1d", "1d", "2d", "3d"]),
        "reengagement_window": rnd.choice(["1d", "2d", "30d"]),
        "inactivity_period": rnd.choice(["0", "0", "1h", "3h"]),
        "min_ctit": rnd.choice(["0", "10s", "1m"]),
        "click_cap": rnd.choice([0, 1, 2, 3]),
        "blocked_ips": rnd.choice([[], ["10.0.0.3"], ["10.0.0.3", "10.0.1.0/24"],
                                   ["2001:db8::/126", "::ffff:10.0.1.0/120"]]),
        "blocked_sites": rnd.choice([[], ["netA/s1"], ["netA/s1", "netC/s2"]]),
    }
    shop = {"click_lookback": "2h", "min_ctit": "10s", "click_cap": 2,
            "reattribution_window": "2d"}
    return {GAME: game, SHOP: shop}


def config_yaml(cfg):
    lines = ["apps:"]
    for app, settings in cfg.items():
        lines.append("  %s:" % app)
        for k, v in settings.items():
            if isinstance(v, list):
                v = "[" + ", ".join(json.dumps(x) for x in v) + "]"
            lines.append("    %s: %s" % (k, v))
    return "\n".join(lines) + "\n"


class Gen:
    def __init__(self, rnd, cfg):
        self.rnd, self.cfg = rnd, cfg
        self.clock = T0
        self.touches = []        # (app, ts, kind, aid group, ip group)
        self.devices = {GAME: [], SHOP: []}  # per app: dicts(id, aid group, ip group, phone)
        self.installs = {}       # (app, device_id) -> last install ts generated
        self.activity = {}       # (app, device_id) -> last session/install ts generated
        for app in (GAME, SHOP):
            for _ in range(4):
                self.new_device(app)

    def new_device(self, app):
        rnd = self.rnd
        dev = {"id": "d%d" % len(self.devices[app]),
               "aid": rnd.randrange(len(AIDS)) if rnd.random() < 0.65 else None,
               "ip": rnd.randrange(len(IPS)) if rnd.random() < 0.85 else None,
               "phone": rnd.randrange(len(PHONES))}
        self.devices[app].append(dev)
        return dev

    def device_for(self, app, typ):
        """A device, often one that a recent touch matches (so decisions have candidates)."""
        rnd = self.rnd
        if typ == "install" and rnd.random() < 0.4:
            return self.new_device(app), None
        recent = [t for t in self.touches[-30:] if t[0] == app]
        if recent and rnd.random() < 0.6:
            t = rnd.choice(recent)
            same = [d for d in self.devices[app]
                    if (t[3] is not None and d["aid"] == t[3]) or
                    (t[4] is not None and d["ip"] == t[4])]
            if same:
                return rnd.choice(same), t
        return rnd.choice(self.devices[app]), None

    def edges(self, app, kind=None):
        """Window lengths whose edges are worth hitting (for a touch of this kind)."""
        c = self.cfg[app]
        click = dur_ms(c.get("click_lookback", "7d"))
        view = dur_ms(c.get("view_lookback", "24h"))
        prob = dur_ms(c.get("probabilistic_window", "24h"))
        ctit = dur_ms(c.get("min_ctit", "10s"))
        if kind == "click":
            out = [click, min(prob, click), ctit, ctit, D]
        elif kind == "impression":
            out = [view, min(prob, view)]
        else:
            out = [click, view, prob, ctit, D, H]
        return [x for x in out if x > 0] or [H]

    def pick_ts(self, app, touch):
        r = self.rnd.random()
        self.clock += int(self.rnd.expovariate(1.0 / (4 * M)))
        if r < 0.35 and (touch is not None or self.touches):
            # an exact window edge after an earlier touch, or 1 ms either side
            t = touch or self.rnd.choice(self.touches[-40:])
            return max(0, t[1] + self.rnd.choice(self.edges(app, t[2]))
                       + self.rnd.choice([-1, 0, 0, 1]))
        if r < 0.4:
            return max(0, self.clock - self.rnd.randint(0, 2 * H))  # late arrival
        return self.clock

    def aid_text(self, group):
        if group is None:
            return None
        return self.rnd.choice(AIDS[group])

    def touch(self, app):
        rnd = self.rnd
        kind = "click" if rnd.random() < 0.65 else "impression"
        ts = self.clock + int(rnd.expovariate(1.0 / (3 * M)))
        self.clock = ts
        if rnd.random() < 0.1 and self.touches:
            ts = self.touches[-1][1]  # ties on ts
        dev = rnd.choice(self.devices[app])
        ev = {"type": kind, "ts": ts, "app_id": app, "media_source": rnd.choice(SOURCES)}
        aid_group = ip_group = None
        if rnd.random() < 0.6:
            aid_group = dev["aid"] if rnd.random() < 0.8 else rnd.randrange(len(AIDS))
            ev["advertising_id"] = self.aid_text(aid_group)
        if rnd.random() < 0.75:
            ip_group = dev["ip"] if dev["ip"] is not None and rnd.random() < 0.8 \
                else rnd.randrange(len(IPS))
            ev["ip"] = rnd.choice(IPS[ip_group])
        if rnd.random() < 0.8:
            if rnd.random() < 0.85:
                ev["user_agent"] = rnd.choice(PHONES[dev["phone"]][1])
            else:
                ev["user_agent"] = rnd.choice(OTHER_UAS)
        for k, pool in (("site_id", SITES), ("campaign", CAMPAIGNS)):
            v = rnd.choice(pool)
            if v is not None:
                ev[k] = v
        if rnd.random() < 0.5:
            ev["click_id"] = "ck%d" % rnd.randrange(10 ** 6)
        if kind == "click" and rnd.random() < 0.3:
            ev["is_retargeting"] = True
            known = [k for k in self.installs if k[0] == app and
                     self.devices[app][int(k[1][1:])]["aid"] is not None]
            if known and rnd.random() < 0.5:
                # aimed at a known device: at its install ts (tt > install_ts is strict) or at
                # the inactivity edge after its last activity
                key = rnd.choice(known)
                aid_group = self.devices[app][int(key[1][1:])]["aid"]
                ev["advertising_id"] = self.aid_text(aid_group)
                inactivity = dur_ms(self.cfg[app].get("inactivity_period", "0"))
                base = self.installs[key]
                if inactivity and rnd.random() < 0.6:
                    base = self.activity[key] + inactivity
                ev["ts"] = ts = max(0, base + rnd.choice([-1, 0, 0, 1]))
        elif rnd.random() < 0.1:
            ev["is_retargeting"] = False
        if rnd.random() < 0.08:
            ev["click_lookback"] = rnd.choice(["1h", "30m", "2d", "31d", "3H", 3600])
        if rnd.random() < 0.08:
            ev["view_lookback"] = rnd.choice(["1h", "2h", "25h", "0"])
        self.touches.append((app, ts, kind, aid_group, ip_group))
        return ev

    def app_event(self, app):
        rnd = self.rnd
        r = rnd.random()
        typ = "install" if r < 0.45 else ("session" if r < 0.8 else "inapp")
        dev, touch = self.device_for(app, typ)
        did = dev["id"]
        key = (app, did)
        ts = self.pick_ts(app, touch)
        c = self.cfg[app]
        if typ == "install" and key in self.installs and rnd.random() < 0.4:
            # the re-attribution window edge
            ts = self.installs[key] + dur_ms(c.get("reattribution_window", "90d")) \
                + rnd.choice([-1, 0, 1])
        elif typ != "install" and key in self.activity and rnd.random() < 0.25:
            # the re-engagement window end or the inactivity edge
            w = rnd.choice([c.get("reengagement_window", "30d"),
                            c.get("inactivity_period", "0"), "1h"])
            ts = self.activity[key] + dur_ms(w) + rnd.choice([-1, 0, 1])
        ev = {"type": typ, "ts": ts, "app_id": app, "device_id": did}
        aid = self.aid_text(dev["aid"])
        if aid is not None:
            ev["advertising_id"] = aid
        if dev["ip"] is not None and rnd.random() < 0.9:
            ev["ip"] = rnd.choice(IPS[dev["ip"]])
        fields, uas = PHONES[dev["phone"]]
        style = rnd.random()
        if style < 0.6:
            ev.update(fields)
            if rnd.random() < 0.1:
                del ev["device_model"]
        elif style < 0.9:
            ev["user_agent"] = rnd.choice(uas)
        if typ == "install":
            self.installs.setdefault(key, ts)
            if ts - self.installs[key] > dur_ms(c.get("reattribution_window", "90d")):
                self.installs[key] = ts
        if typ in ("install", "session"):
            self.activity[key] = ts
        if typ == "inapp":
            ev["event_name"] = rnd.choice(EVENT_NAMES)
            if rnd.random() < 0.6:
                ev["revenue"] = rnd.choice([0, 1, 4.99, 19.5, 100])
            cur = rnd.choice(CURRENCIES)
            if cur is not None:
                ev["currency"] = cur
        return ev

    def invalid(self):
        rnd = self.rnd
        return rnd.choice([
            "{not json",
            json.dumps({"type": "click", "ts": self.clock, "app_id": GAME,
                        "advertising_id": "a1"}),
            json.dumps({"type": "install", "ts": self.clock + 0.5, "app_id": GAME,
                        "device_id": "d1", "advertising_id": "a1"}),
            json.dumps({"type": "install", "ts": self.clock, "app_id": "com.nope",
                        "device_id": "d1"}),
            json.dumps({"type": "click", "ts": self.clock, "app_id": GAME,
                        "media_source": "netA", "advertising_id": "a1",
                        "is_retargeting": "true"}),
            json.dumps({"type": "session", "ts": self.clock, "app_id": GAME,
                        "device_id": "d2", "ip": "10.0.0.300"}),
            json.dumps({"type": "inapp", "ts": self.clock, "app_id": GAME,
                        "device_id": "d2", "event_name": "x", "revenue": "12"}),
        ])


def generate(seed, n):
    rnd = random.Random(seed)
    cfg = make_config(rnd)
    g = Gen(rnd, cfg)
    lines = []
    for _ in range(n):
        app = GAME if rnd.random() < 0.85 else SHOP
        r = rnd.random()
        if r < 0.01:
            lines.append(g.invalid())
        else:
            ev = g.touch(app) if r < 0.5 else g.app_event(app)
            if ev["ts"] > T0 + SPAN:
                ev["ts"] = g.clock  # edges after edges drift; keep the stream within SPAN
            lines.append(json.dumps(ev, separators=(",", ":")))
    return config_yaml(cfg), lines


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--config-out", required=True)
    p.add_argument("--events-out", required=True)
    a = p.parse_args()
    cfg, lines = generate(a.seed, a.events)
    with open(a.config_out, "w") as f:
        f.write(cfg)
    with open(a.events_out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
