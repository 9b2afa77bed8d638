#!/usr/bin/env python3
"""Write the posterior medians of codered-2001's calibration into the
built-in scenario, with a comment naming the calibration and each key's
90% credible interval (issue 12). Usage:

    python3 scripts/apply-posterior.py scenario/builtin/posterior/codered-2001/calibration.json

It rewrites scenario/builtin/codered-2001.toml in place: each calibrated
key's value line and the "Calibrated" comment line above it (added the
first time, replaced after)."""
import json, re, sys

SCEN = "scenario/builtin/codered-2001.toml"
CAL = "docs/calibration/codered-2001.toml"

# key -> (regex of its value line, formatter of the new line, whether July figures inform it)
def num(v, nd=4):
    return f"{v:.{nd}g}"

KEYS = {
    "population.hosts": (r"^hosts = .*$", lambda v: f"hosts = {int(round(v))}", True),
    "population.patched": (r"^patched = .*$", lambda v: f"patched = {num(v, 3)}", True),
    "defense.advisory.cert-nipc.rate": (r'^rate = .*# cert-nipc$|^rate = 0\.04$|^rate = .*(?=\n# Assumption: the effect of the first advisory)', lambda v: f"rate = {num(v, 3)}", True),
    "defense.advisory.joint.rate": (r'^rate = .*(?=\n# Assumption: the awareness campaign)', lambda v: f"rate = {num(v, 3)}", True),
    "defense.patch.home_factor": (r"^home_factor = .*$", lambda v: f"home_factor = {num(v, 3)}", True),
    "defense.reboot.mean_interval": (r'^mean_interval = .*$', lambda v: f'mean_interval = "{num(v, 3)}d"', False),
    "worm.crv2.calendar.wake_ramp.mean": (r'^wake_ramp = .*(?=\n\n\[\[worm\]\]\n# Assumption: a short label for Code Red II)', lambda v: f'wake_ramp = {{ kind = "exponential", mean = "{num(v, 3)}h" }}', False),
    "population.arrivals.share": (r"^share = .*(?=\n# Assumption: they come online)", lambda v: f"share = {num(v, 3)}", False),
}

def main():
    cal = json.load(open(sys.argv[1]))
    text = open(SCEN).read()
    for p in cal["parameters"]:
        key = p["key"]
        pat, fmt, informed = KEYS[key]
        unit = p.get("unit", "")
        lo, hi = num(p["p05"], 3) + unit, num(p["p95"], 3) + unit
        how = "fitted to July figures only" if informed else "no July figure informs it: the posterior is about its prior"
        comment = (f"# Calibrated ({CAL}, ABC-SMC, {how}):\n"
                   f"# posterior median; 90% credible interval [{lo}, {hi}]; `replay --posterior builtin` draws it per seed.")
        rx = re.compile(r"(?:^# Calibrated \(.*\n# posterior median.*\n)?(" + pat + ")", re.M)
        m = rx.search(text)
        if not m:
            sys.exit(f"{key}: its line was not found in {SCEN}")
        text = text[:m.start()] + comment + "\n" + fmt(p["p50"]) + text[m.end():]
    open(SCEN, "w").write(text)

main()
