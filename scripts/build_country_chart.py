"""Build rules/params/country_chart.yaml from the eCFR snapshots in ../shared/data/ecfr/.

Run by hand when a new snapshot arrives (needs pycountry, a dev-only tool):
    python scripts/build_country_chart.py ../shared/data/ecfr src/carveout/rules/params/country_chart.yaml
The output keeps only what the Country Chart rule needs: which columns are marked X per destination,
and per ECCN every Reason for Control with the scope it states (a column, named destinations, country
groups, worldwide, a dedicated rule, or "unresolved"), for the whole entry or for listed paragraphs.
No stated control is dropped: tests/test_country_chart_build.py checks that.
"""

from __future__ import annotations

import json
import re
import string
import sys
from pathlib import Path

import pycountry
import yaml

SPECIAL = {
    "China": "CN",
    "Korea, South": "KR",
    "Korea, North": "KP",
    "Macau": "MO",
    "Türkiye": "TR",
    "Turkey": "TR",
    "Russia": "RU",
    "Iran": "IR",
    "Syria": "SY",
    "Venezuela": "VE",
    "Vietnam": "VN",
    "Laos": "LA",
    "Moldova": "MD",
    "Burma": "MM",
    "Bolivia": "BO",
    "Taiwan": "TW",
    "Tanzania": "TZ",
    "Brunei": "BN",
    "Congo (Democratic Republic of the)": "CD",
    "Congo (Republic of the)": "CG",
    "Cote d'Ivoire": "CI",
    "Czech Republic": "CZ",
    "Cabo Verde": "CV",
    "Cape Verde": "CV",
    "Vatican City": "VA",
    "Kosovo": "XK",
    "Eswatini": "SZ",
    "Bahamas, The": "BS",
    "Gambia, The": "GM",
    "St. Kitts & Nevis": "KN",
    "St. Lucia": "LC",
    "St. Vincent and the Grenadines": "VC",
    "Sao Tome & Principe": "ST",
    "Micronesia (Federated States of)": "FM",
    "Micronesia (Federated State of)": "FM",
    "United Kingdom": "GB",
    "United States": "US",
    "North Macedonia": "MK",
    "Timor-Leste": "TL",
    "South Sudan": "SS",
    "Palau": "PW",
    "St. Kitts and Nevis": "KN",
    "Seycheles": "SC",
    "Sint Maarten (the Dutch two-fifths of the island of Saint Martin)": "SX",
    "South Sudan, Republic of": "SS",
}
COLUMN = re.compile(r"\b(CB|NP|NS|MT|RS|FC|CC|AT|SL|UN)\s+Column\s+(\d)", re.I)
NAMED = {"North Korea": "KP", "Iraq": "IQ", "Pakistan": "PK"}
MODEL_START = "2020-01-01"  # first day carveout models; see docs/regulatory-facts.md
# 746.1(b) UN controls: the arms-embargo destinations are not listed in the CCL text. The engine cannot
# read them, so the control is unknown (needs_review) in the groups where UN embargoes sit (D:5, E:1,
# E:2) and in Yemen (UN arms embargo on the Houthis; not in D:5) — an inference, see the facts doc.
UN_SCOPE = {"groups": ["D:5", "E:1", "E:2"], "countries": ["YE"]}


Z_ECCNS = ("3A001", "4A003", "4A004", "4A005", "5A002", "5A004", "5A992", "5D002", "5D992")


def dedicated(eccn: str, applies, sc: dict) -> str | None:
    """The part742 rule that evaluates this control for items the classification stage recognises
    (3A090/4A090 and .z paragraphs carry an advanced-computing level; 3B001/3B002 paragraphs are read
    from the SME lists). Those rules also carry the exceptions and authorizations that lift them (NAC,
    ACA, HBM, VEU), so the chart hands such controls over instead of evaluating them twice."""
    paras = applies if isinstance(applies, list) else []
    advanced = eccn in ("3A090", "4A090") or (eccn in Z_ECCNS and paras and all(x.startswith("z") for x in paras))
    if advanced and "D:1" in sc.get("groups", []):
        return "part742.rs.d145"
    if eccn == "3A090" and sc.get("groups") == ["D:5"]:
        return "part742.rs.hbm"
    if eccn in ("3B001", "3B002") and sc.get("groups") == ["D:5"]:
        return "part742.rs.sme.d5"
    if eccn == "3B001" and sc.get("worldwide"):
        return "part742.rs.sme.worldwide"
    return None


def scope(scope_text: str, control: str) -> dict:
    """The destinations a Reason for Control names, as data the Country Chart rule evaluates per day.

    Every stated control gets a scope; one the engine cannot evaluate is ``unresolved`` (needs_review),
    never dropped. Group-based scopes stay group names so that they follow the dated country groups.
    """
    s = " ".join(scope_text.split())
    m = COLUMN.search(s)
    if m:
        return {"column": f"{m.group(1).upper()} {m.group(2)}"}
    bare = re.match(r"^Column\s+(\d)", s)
    if bare:  # the reason code sits in the control text ("AT applies ...")
        return {"column": f"{control.split()[0].upper()} {bare.group(1)}"}
    if s.startswith("China, Russia"):
        return {"destinations": ["CN", "HK", "RU", "VE"]}
    if s.startswith("Worldwide control"):  # 742.4(a)(5) / 742.6(a)(10), 89 FR 72926
        return {"worldwide": True}
    if "742.6(a)(6)(iii)(A)" in s:
        # The text says worldwide (AI Diffusion, 90 FR 4544); BIS does not enforce the destinations that
        # rule added (2025-05-13) but still enforces the Nov 2023 scope and the Macau/D:5 headquarters
        # test (BIS guidance 2026-05-31). The enforced scope is evaluated here; part742.rs.worldwide.a
        # reports the unenforced text.
        return {"groups": ["D:1", "D:4", "D:5"], "countries": ["MO"], "exclude_groups": ["A:5", "A:6"], "hq": True}
    if "Country Groups D:1, D:4, and D:5" in s:  # 742.6(a)(6)(iii)(B)
        out = {"groups": ["D:1", "D:4", "D:5"], "countries": ["MO"], "exclude_groups": ["A:5", "A:6"]}
        if "United Arab Emirates" in s:
            out["countries"] = ["AE", "MO"]
        return out
    if "Macau or a destination specified in Country Group D:5" in s:
        return {"groups": ["D:5"], "countries": ["MO"]}
    if "742.6(a)(11)" in s:  # 3B993/3B994 and their D/E: the dedicated rule reads the scope
        return {"handled_by": "part742.rs.sme.3b993"}
    if "746.8" in s:
        return {"destinations": ["RU", "BY"]}
    if "746.1" in s or "764.1(b)" in s:
        return {"unresolved": "UN arms-embargo control (746.1(b)): destinations not modelled", **UN_SCOPE}
    if s.startswith("A license is required for items controlled") or "North Korea" in s:
        named = [code for n, code in NAMED.items() if n in s]
        if named:
            return {"destinations": named}
    if re.search(r"ALL destinations, except Canada", s, re.I):
        return {"worldwide": True, "except": ["CA"]}
    if re.search(r"all destinations, as specified in § 742\.13", s):
        return {"worldwide": True}
    if "742.15" in s:  # EI: licence to all but Canada unless License Exception ENC/mass market applies
        return {"unresolved": "encryption item (742.15): License Exception ENC and mass-market status not modelled",
                "except": ["CA"]}
    if s.rstrip(".") == "N/A":
        return {"none": "no destination stated (N/A)"}
    return {"unresolved": f"scope not read by carveout: {s[:120]}"}


def iso(name: str) -> str | None:
    if name in SPECIAL:
        return SPECIAL[name]
    try:
        return pycountry.countries.lookup(name).alpha_2
    except LookupError:
        try:
            return pycountry.countries.search_fuzzy(name)[0].alpha_2
        except LookupError:
            return None


def expand(token: str) -> list[str]:
    """'a.1 to a.3' -> a.1, a.2, a.3; 'g to j' -> g, h, i, j; 'f.2' -> f.2."""
    m = re.fullmatch(r"([a-z](?:\.\d+)*?)\.?(\d+)?\s+to\s+([a-z](?:\.\d+)*?)\.?(\d+)?", token)
    if m and m.group(2) and m.group(4) and m.group(1) == m.group(3):
        return [f"{m.group(1)}.{i}" for i in range(int(m.group(2)), int(m.group(4)) + 1)]
    m = re.fullmatch(r"([a-z])\s+to\s+([a-z])", token)
    if m:
        a, b = string.ascii_lowercase.index(m.group(1)), string.ascii_lowercase.index(m.group(2))
        return list(string.ascii_lowercase[a : b + 1])
    if re.fullmatch(r"[a-z](\.[a-z0-9]+)*", token):
        return [token]
    return []


def paragraphs(eccn: str, control: str) -> list[str] | str:
    """'entire' or the paragraph tokens the control names; 'partial' when they cannot be read."""
    text = control.lower()
    if "entire entry" in text:
        # "entire entry, except ..." counts as the whole entry: it can only over-include, and the excepted
        # items are controlled under other reasons (e.g. RS for 4A090 technology) anyway.
        return "entire"
    m = re.search(r"applies\s+(?:to\s+)?(.*)$", control)
    if not m:
        return "partial"
    # Prose around the references ("... except those for civil telecommunications"): take every explicit
    # paragraph reference; the qualifiers are ignored, which can only over-include.
    refs = re.findall(rf"{eccn}\.([a-z](?:\.[a-z0-9]+)*)", control)
    if refs and re.search(r"[A-Za-z]{4,}", re.sub(rf"{eccn}\.[a-z0-9.]+|applies to|and|or|to", "", m.group(1))):
        return sorted(set(refs))
    body = m.group(1).rstrip(".")
    body = re.sub(rf"\b{eccn}\.", "", body)  # "3B001.c.1.a" -> "c.1.a"
    body = body.replace(" and ", ", ").replace(" or ", ", ")
    out: list[str] = []
    for tok in [t.strip() for t in body.split(",") if t.strip()]:
        tok = re.sub(r"^(items controlled by|paragraphs?|para\.?)\s+", "", tok)
        tok = re.sub(rf"^{eccn[:5]}\.?", "", tok).lstrip(".")
        got = expand(tok)
        if not got:
            return "partial"
        out += got
    return out or "partial"


def main(src: Path, dest: Path) -> None:
    chart = json.loads((src / "country-chart.json").read_text())
    ccl = json.loads((src / "ccl.json").read_text())
    marks: dict[str, list[str]] = {}
    for name, row in chart["countries"].items():
        code = iso(name)
        if code is None:
            raise SystemExit(f"no ISO code for {name!r}")
        marks[code] = sorted(row["marks"])
    marks["HK"] = marks["CN"]  # 85 FR 83788: Hong Kong follows the China row
    controls: dict[str, list[dict]] = {}
    for e in ccl["entries"]:
        for c in e.get("countryChart") or []:
            reason = c["control"].split()[0].upper()
            entry: dict = {"reason": reason, "applies": paragraphs(e["eccn"], c["control"])}
            sc = scope(c["countryChart"].strip(), c["control"])
            rule_id = dedicated(e["eccn"], entry["applies"], sc)
            entry.update({"handled_by": rule_id} if rule_id else sc)
            controls.setdefault(e["eccn"], []).append(entry)
    doc = {
        "country_chart_marks": {
            "description": "Supp. 1 to part 738 — Commerce Country Chart: columns marked X per destination (Hong Kong "
            "follows China; embargoed rows carry no marks, see part 746)",
            "unit": "iso2 -> columns",
            "values": {
                MODEL_START: {
                    "value": marks,
                    "rule": f"eCFR snapshot {chart['ecfrIssueDate']}",
                    "cite": "15 CFR 738 Supp. 1",
                    "confidence": "uncertain",
                    "note": f"one snapshot, projected back to {MODEL_START}; no change to the rows of the "
                    "destinations the semiconductor rules reach was found for 2020-2026",
                }
            },
        },
        "ccl_column_controls": {
            "description": "Supp. 1 to part 774 — per ECCN, every Reason for Control with its scope: a Country Chart "
            "column, named destinations, country groups (read on the day), worldwide, a dedicated rule, or "
            "unresolved (needs_review)",
            "unit": "eccn -> controls",
            "values": {
                MODEL_START: {
                    "value": controls,
                    "rule": f"eCFR snapshot {ccl['ecfrIssueDate']}",
                    "cite": "15 CFR 774 Supp. 1 (License Requirements)",
                    "confidence": "uncertain",
                    "note": "the latest text; for the entries in ccl_history.yaml the dated versions there "
                    "replace it, the others are projected back",
                }
            },
        },
    }
    header = (
        "# GENERATED by scripts/build_country_chart.py from the eCFR snapshots (2026-07-23) in\n"
        "# ../shared/data/ecfr/ — do not edit by hand.\n"
    )
    dest.write_text(header + yaml.safe_dump(doc, sort_keys=True, width=200, allow_unicode=True))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
