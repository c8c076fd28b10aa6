"""Build rules/params/country_chart.yaml from the eCFR snapshots in ../shared/data/ecfr/.

Run by hand when a new snapshot arrives (needs pycountry, a dev-only tool):
    python scripts/build_country_chart.py ../shared/data/ecfr src/carveout/rules/params/country_chart.yaml
The output keeps only what the Country Chart rule needs: which columns are marked X per destination,
and per ECCN which columns its Reasons for Control name, for the whole entry or for listed paragraphs.
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
COLUMN = re.compile(r"^(CB|NP|NS|MT|RS|FC|CC|AT|SL)\s+Column\s+(\d)", re.I)
NAMED = {"North Korea": "KP", "Iraq": "IQ", "Pakistan": "PK"}


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
            scope_text = c["countryChart"].strip()
            m = COLUMN.match(scope_text)
            entry: dict = {"applies": paragraphs(e["eccn"], c["control"])}
            if m:
                entry["column"] = f"{m.group(1).upper()} {m.group(2)}"
            elif scope_text.startswith("China, Russia"):
                entry["destinations"] = ["CN", "HK", "RU", "VE"]
            elif scope_text.startswith("A license is required for items controlled"):
                named = [code for n, code in NAMED.items() if n in scope_text]
                if not named:
                    continue
                entry["destinations"] = named
            else:
                continue  # worldwide / Macau-D:5 / 742.6(a)(11) scopes: dedicated rules in part742
            controls.setdefault(e["eccn"], []).append(entry)
    doc = {
        "country_chart_marks": {
            "description": "Supp. 1 to part 738 — Commerce Country Chart: columns marked X per destination (Hong Kong "
            "follows China; embargoed rows carry no marks, see part 746)",
            "unit": "iso2 -> columns",
            "values": {
                "2022-10-07": {
                    "value": marks,
                    "rule": f"eCFR snapshot {chart['ecfrIssueDate']}",
                    "cite": "15 CFR 738 Supp. 1",
                    "confidence": "uncertain",
                    "note": "one snapshot, assumed unchanged over the modelled period",
                }
            },
        },
        "ccl_column_controls": {
            "description": "Supp. 1 to part 774 — per ECCN, the Country Chart column (or named destinations) each "
            "Reason for Control names, for the entire entry or listed paragraphs",
            "unit": "eccn -> controls",
            "values": {
                "2022-10-07": {
                    "value": controls,
                    "rule": f"eCFR snapshot {ccl['ecfrIssueDate']}",
                    "cite": "15 CFR 774 Supp. 1 (License Requirements)",
                    "confidence": "uncertain",
                    "note": "one snapshot, assumed unchanged over the modelled period",
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
