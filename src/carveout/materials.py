"""The closed vocabulary of materials the PRC export-control rules can read (``item.material``).

A material outside this list is an input error at the edges (Pydantic) and needs review inside the
engine: the PRC rules never read an unknown name as "not controlled". ``other`` is a valid value for a
material the vocabulary does not name; it always needs review. Which announcement lists which material,
and from when, is data in ``rules/params/prc_controls.yaml``, not here.
"""

from __future__ import annotations

# name -> what it covers (in the words of the announcement that lists it, summarised)
MATERIALS: dict[str, str] = {
    # gallium and germanium (2023 No. 23; Dual-Use List from 2024-12-01)
    "gallium": "metallic gallium (unwrought, powders, waste and scrap)",
    "gallium_nitride": "gallium nitride (wafers, powders, fragments)",
    "gallium_oxide": "gallium oxide",
    "gallium_phosphide": "gallium phosphide",
    "gallium_arsenide": "gallium arsenide",
    "indium_gallium_arsenide": "indium gallium arsenide",
    "gallium_selenide": "gallium selenide",
    "gallium_antimonide": "gallium antimonide",
    "germanium": "metallic germanium and zone-refined germanium ingots",
    "zinc_germanium_phosphide": "zinc germanium phosphide",
    "germanium_epitaxial_substrate": "germanium epitaxial growth substrates",
    "germanium_dioxide": "germanium dioxide",
    "germanium_tetrachloride": "germanium tetrachloride",
    # graphite (2023 No. 39)
    "natural_flake_graphite": "natural flake graphite and its products (spheroidised, expanded)",
    "artificial_graphite": "artificial graphite; listed only above purity/strength/density thresholds",
    # antimony and superhard materials (2024 No. 33; superhard list also 2025 No. 55)
    "antimony": "antimony ores, raw materials, metal and products",
    "antimony_compound": "antimony oxides and organic/hydride compounds (listed only above purity thresholds)",
    "indium_antimonide": "indium antimonide (listed only for some crystal specifications)",
    "superhard_material": "superhard material of an unstated kind (2024 No. 33 list not retrieved)",
    "synthetic_diamond_micropowder": "synthetic diamond micropowder",
    "synthetic_diamond_single_crystal": "synthetic diamond single crystals",
    "diamond_wire_saw": "diamond wire saws",
    "diamond_grinding_wheel": "diamond grinding wheels",
    # tungsten, tellurium, bismuth, molybdenum, indium (2025 No. 10)
    "ammonium_paratungstate": "ammonium paratungstate",
    "tungsten_oxide": "tungsten oxides",
    "tungsten_carbide": "tungsten carbide (outside 1C226)",
    "tungsten": "tungsten metal, alloys or compounds not named above (listed only in part)",
    "tungsten_hexafluoride": "WF6 deposition precursor (not shown in the No. 10 text retrieved)",
    "tellurium": "tellurium items (No. 10 details not retrieved)",
    "bismuth": "bismuth items (No. 10 details not retrieved)",
    "molybdenum": "molybdenum items (No. 10 details not retrieved)",
    "indium": "indium items (No. 10 details not retrieved)",
    # medium and heavy rare earths (2025 No. 18): metals, alloys, targets, oxides, compounds
    "samarium": "samarium and its alloys, targets, oxides and compounds",
    "gadolinium": "gadolinium and its alloys, targets, oxides and compounds",
    "terbium": "terbium and its alloys, targets, oxides and compounds",
    "dysprosium": "dysprosium and its alloys, targets, oxides and compounds",
    "lutetium": "lutetium and its alloys, targets, oxides and compounds",
    "scandium": "scandium and its alloys, targets, oxides and compounds",
    "yttrium": "yttrium and its alloys, targets, oxides and compounds",
    "samarium_cobalt_magnet": "samarium-cobalt permanent-magnet material",
    # 2025 No. 57 (suspended by No. 70)
    "holmium": "holmium items",
    "erbium": "erbium items",
    "thulium": "thulium items",
    "europium": "europium items",
    "ytterbium": "ytterbium items",
    # 2025 No. 61 Annex 1 Part 2: foreign-made items that can carry China-origin rare earths
    "rare_earth_permanent_magnet": "rare-earth permanent-magnet material (e.g. NdFeB) not named above",
    "rare_earth_sputtering_target": "rare-earth sputtering target material not named above",
    "other": "a material this vocabulary does not name (always needs review)",
}

RARE_EARTHS = ("samarium", "gadolinium", "terbium", "dysprosium", "lutetium", "scandium", "yttrium",
               "holmium", "erbium", "thulium", "europium", "ytterbium", "samarium_cobalt_magnet")
# 2025 No. 61 Annex 1 Part 2 (per CM Trade Law: permanent-magnet and target materials)
RE_PART2 = ("samarium_cobalt_magnet", "rare_earth_permanent_magnet", "rare_earth_sputtering_target")
