"""Date Federal Register citations.

Most list entries cite notices as "89 FR 96837" without a date. The volume fixes the year (volume = year -
1935); the day is estimated by interpolating the page between notices whose date *is* known (many CSL
entries carry "84 F.R. 33913 7/16/2019"), plus a few hand anchors from the domain sheet. Estimated dates are
marked as such."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from datetime import date, timedelta

_CITE = re.compile(r"(?<!\d)(\d{2,3})\s*\.?\s*F\.?\s?R\.?\s*(\d{1,6})(?!\d)")
_VOL_ONLY = re.compile(r"Vol\.\s*(\d{2,3})", re.I)
_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?!\d)")

# Publication dates of notices named in docs (ear-semiconductors.md §1, §7 and sources S2/S3).
HAND_ANCHORS: dict[tuple[int, int], date] = {
    (84, 22961): date(2019, 5, 21),  # Huawei listing [memory; §7 gives 2019-05]
    (85, 83416): date(2020, 12, 22),  # SMIC listing rule [memory; §7 gives 2020-12]
    (87, 62186): date(2022, 10, 13),
    (87, 77505): date(2022, 12, 19),  # YMTC/Cambricon rule [memory; §7 gives 2022-12]
    (88, 2821): date(2023, 1, 18),
    (88, 71478): date(2023, 10, 17),
    (88, 73458): date(2023, 10, 25),
    (89, 96790): date(2024, 12, 5),
    (89, 96837): date(2024, 12, 5),
    (90, 4544): date(2025, 1, 15),
    (90, 4617): date(2025, 1, 16),
    (90, 5298): date(2025, 1, 16),
    (90, 42321): date(2025, 9, 2),
    (90, 47201): date(2025, 9, 30),
    (91, 1684): date(2026, 1, 15),
}

PAGES_PER_DAY = 360.0  # rough FR page rate, used only outside the range of known anchors


def _year_of(volume: int) -> int:
    return volume + 1935


def _parse_date(m: re.Match[str]) -> date | None:
    mo, dd, yy = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if yy < 100:
        yy += 2000 if yy < 50 else 1900
    try:
        return date(yy, mo, dd)
    except ValueError:
        return None


def split_notice(text: str) -> list[tuple[int, int, date | None]]:
    """(volume, page, explicit date or None) for each citation, pairing a date with the cite it follows."""
    cites = list(_CITE.finditer(text))
    out: list[tuple[int, int, date | None]] = []
    for i, m in enumerate(cites):
        end = cites[i + 1].start() if i + 1 < len(cites) else len(text)
        dm = _DATE.search(text, m.end(), end)
        d = _parse_date(dm) if dm else None
        vol = int(m.group(1))
        if d is not None and d.year != _year_of(vol):  # a volume is one calendar year
            d = None
        out.append((vol, int(m.group(2)), d))
    return out


class FRDater:
    """Estimates publication dates of FR pages from anchors (volume, page) -> date."""

    def __init__(self, anchors: dict[tuple[int, int], date] | None = None) -> None:
        self._by_vol: dict[int, list[tuple[int, date]]] = {}
        hand = HAND_ANCHORS
        merged = {
            k: d
            for k, d in (anchors or {}).items()
            if not any(hv == k[0] and (hp - k[1]) * (hd - d).days < 0 for (hv, hp), hd in hand.items())
        }
        merged.update(hand)
        for (vol, page), d in merged.items():
            self._by_vol.setdefault(vol, []).append((page, d))
        for vol, pts in self._by_vol.items():
            pts.sort()
            # keep anchors monotone in date; a typo in one source must not fold the curve
            clean: list[tuple[int, date]] = []
            for p, d in pts:
                if not clean or d >= clean[-1][1]:
                    clean.append((p, d))
            self._by_vol[vol] = clean

    @classmethod
    def from_notices(cls, notices: Iterable[str | None]) -> FRDater:
        anchors: dict[tuple[int, int], date] = {}
        for text in notices:
            if not text:
                continue
            for vol, page, d in split_notice(text):
                if d is not None:
                    anchors.setdefault((vol, page), d)
        return cls(anchors)

    def estimate(self, volume: int, page: int) -> date:
        year = _year_of(volume)
        start, end = date(year, 1, 2), date(year, 12, 31)
        pts = [(1, start)] + self._by_vol.get(volume, [])
        pages = [p for p, _ in pts]
        i = bisect.bisect_right(pages, page)
        if i < len(pts) and pages[i - 1] != page:
            (p0, d0), (p1, d1) = pts[i - 1], pts[i]
            frac = (page - p0) / max(p1 - p0, 1)
            est = d0 + timedelta(days=round(frac * (d1 - d0).days))
        else:
            p0, d0 = pts[i - 1]
            est = d0 + timedelta(days=round((page - p0) / PAGES_PER_DAY * 7 / 5))
        return min(max(est, start), end)

    def earliest(self, text: str | None) -> tuple[date | None, str | None]:
        """Earliest date among the notices in a `federal_register_notice` string, and how it was found."""
        if not text:
            return None, None
        best: tuple[date, str] | None = None
        for vol, page, d in split_notice(text):
            cand = (d, "fr_date") if d else (self.estimate(vol, page), "fr_page_estimate")
            if best is None or cand[0] < best[0]:
                best = cand
        if best is None:
            # "Vol. 59, No. 44, 03/07/1994" style: a bare date is still a date
            for dm in _DATE.finditer(text):
                d = _parse_date(dm)
                if d and (best is None or d < best[0]):
                    best = (d, "fr_date")
        if best is None:
            vm = _VOL_ONLY.search(text)
            if vm:
                best = (date(_year_of(int(vm.group(1))), 1, 1), "fr_year")
        return (best[0], best[1]) if best else (None, None)
