"""Restricted-party screening against the U.S. Consolidated Screening List and similar lists.

    >>> from carveout.screening import screen
    >>> screen("华为技术有限公司", country="CN").status
    'match'

Names in Chinese characters, Hangul or Cyrillic, and romanised native words (pinyin, Wade-Giles, McCune-
Reischauer, Revised Romanization), are rendered into the Latin forms a list prints (`crossscript.py`): a
sourced native-name table for a few well-known names, and for everything else word glossaries (CC-CEDICT for
Chinese, a Korean organisation-word list) plus romanisation. Aliases are also read from primary names
("... (SMIC)", "a.k.a. ...", "formerly ..."). Thresholds are chosen on eval/screening/dev.csv; test-set figures
are in eval/screening/RESULTS.md.

Every result carries the list's date (`list_date`): a "clear" means "not found on the list as published that
day", nothing more. Status: "match" (score >= T_HIGH: treat as listed), "possible"
(T_LOW <= score < T_HIGH, or a name that cannot be screened: human review), "clear". A party that is
clear by name can still be restricted through ownership (Affiliates rule, 90 FR 47201) when that rule
is in force at `as_of`.

The default list is the packaged CSL snapshot of 2026-07-31; its index is cached in DuckDB at
`default_index_path()` ($CARVEOUT_SCREENING_DB or ~/.cache/carveout/screening.duckdb), rebuilt only when the
list's content hash changes. `configure()` switches list, cache or ownership files for the process.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from .errors import ListFormatError
from .index import default_index_path, index_path_beside
from .loaders import PartyList, load_list, parse_footnote
from .normalize import normalize
from .ownership import rule_status as affiliates_rule_status
from .screener import (
    OUTPUT_COLUMNS,
    T_HIGH,
    T_LOW,
    AffiliateFinding,
    Match,
    MatchFeatures,
    Screener,
    ScreenResult,
)

__all__ = [
    "screen",
    "screen_frame",
    "load_list",
    "configure",
    "get_screener",
    "Screener",
    "PartyList",
    "ScreenResult",
    "Match",
    "MatchFeatures",
    "AffiliateFinding",
    "ListFormatError",
    "T_HIGH",
    "T_LOW",
    "OUTPUT_COLUMNS",
    "normalize",
    "parse_footnote",
    "default_index_path",
    "index_path_beside",
    "affiliates_rule_status",
]

_default: Screener | None = None
_config: dict = {"list_path": None, "index_path": "default", "ownership": "default"}


def configure(
    list_path: str | Path | None = None,
    index_path: str | Path | None = "default",
    ownership: str | Path | list[str | Path] | None = "default",
) -> Screener:
    """Choose the list, the index cache (None = in memory) and ownership files used by `screen`."""
    global _default
    _config.update(list_path=list_path, index_path=index_path, ownership=ownership)
    _default = Screener(list_path, index_path, ownership)
    return _default


def get_screener() -> Screener:
    global _default
    if _default is None:
        _default = Screener(**_config)
    return _default


def screen(name: str, country: str | None = None, as_of: date | None = None, limit: int = 5) -> ScreenResult:
    """Screen one party name (any script) against the configured list."""
    return get_screener().screen(name, country=country, as_of=as_of, limit=limit)


def screen_frame(parties: pl.DataFrame) -> pl.DataFrame:
    """Screen a frame with `name`, `country` (nullable) and optional `as_of`; same rows, same order, plus
    screen_status, screen_score, screen_list, screen_party, screen_party_id, el_footnote, listed_since,
    fr_notice, list_date (and screen_basis: "name" or "affiliate")."""
    return get_screener().screen_frame(parties)
