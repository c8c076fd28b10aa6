"""A synthetic but realistic shipment ledger, drawn from the sourced facts in data/ (clearly labelled:
no row is a real shipment). Used by the README's main command, the tests and the benchmarks."""

from __future__ import annotations

import random
from datetime import date, timedelta

import polars as pl

from carveout.catalogue_data import chips

# (exporter, hq, ship_from, us_origin, content %, direct product of U.S. tech)
SHIPPERS = [
    ("NVIDIA Corporation", "US", "US", True, 100.0, True),
    ("Advanced Micro Devices", "US", "US", True, 100.0, True),
    ("Applied Materials", "US", "US", True, 100.0, True),
    ("Lam Research", "US", "US", True, 100.0, True),
    ("KLA Corporation", "US", "US", True, 100.0, True),
    ("ASML Netherlands B.V.", "NL", "NL", False, 20.0, True),
    ("Tokyo Electron Ltd.", "JP", "JP", False, 15.0, True),
    ("SK hynix Inc.", "KR", "KR", False, 5.0, True),
    ("Samsung Electronics Co., Ltd.", "KR", "KR", False, 5.0, True),
    ("SEMES Co., Ltd.", "KR", "KR", False, 30.0, True),
    ("Taiwan Semiconductor Manufacturing Co.", "TW", "TW", False, 10.0, True),
    ("ASE Technology Holding", "TW", "TW", False, 8.0, False),
]
SME = [  # declared ECCN, name, unit value USD (illustrative estimates)
    ("3B001.f.1", "DUV immersion scanner (overlay <= 1.5 nm)", 65_000_000),
    ("3B993.f.1", "DUV immersion scanner (overlay 1.5-2.4 nm)", 45_000_000),
    ("3B001.c", "High aspect-ratio etch system", 6_000_000),
    ("3B001.d", "ALD deposition system", 4_000_000),
    ("3B002.c", "Wafer inspection system", 8_000_000),
    ("3B994", "Ion implanter (300 mm)", 5_000_000),
    ("3B991", "Mature-node CVD tool", 2_500_000),
    ("EAR99", "Spare parts kit", 40_000),
]
# (end user, country, hq, facility id, end use)
FABS = [
    ("Samsung China Semiconductor Co. Ltd.", "CN", "KR", "SAMSUNG-XIAN", "advanced_node_nand_fab"),
    ("SK hynix Semiconductor (China) Ltd.", "CN", "KR", "SKH-WUXI", "advanced_node_dram_fab"),
    # legacy 21 nm DDR3/DDR4 lines at Wuxi (facilities.csv, TrendForce 2023)
    ("SK hynix Semiconductor (China) Ltd.", "CN", "KR", "SKH-WUXI", "mature_node_fab"),
    ("SK hynix Semiconductor (Dalian) Co., Ltd.", "CN", "KR", "SKH-DALIAN", "advanced_node_nand_fab"),
    ("TSMC (Nanjing) Company Limited", "CN", "TW", "TSMC-NANJING", "advanced_node_logic_fab"),
    ("TSMC China Company Limited", "CN", "TW", "TSMC-SONGJIANG", "mature_node_fab"),
    ("Semiconductor Manufacturing International (Beijing) Corporation", "CN", "CN", "SMIC-BEIJING",
     "advanced_node_logic_fab"),
    ("Yangtze Memory Technologies Co., Ltd.", "CN", "CN", "YMTC-WUHAN", "advanced_node_nand_fab"),
    ("ChangXin Memory Technologies, Inc.", "CN", "CN", "CXMT-HEFEI", "advanced_node_dram_fab"),
    ("Hua Hong Semiconductor (Wuxi) Limited", "CN", "CN", "HUAHONG-WUXI-FAB7", "mature_node_fab"),
    ("Samsung Electronics Pyeongtaek Campus", "KR", "KR", None, "advanced_node_dram_fab"),
    ("Micron Technology Taiwan", "TW", "US", None, "advanced_node_dram_fab"),
]
# (end user, country, hq, end use) for chips
BUYERS = [
    ("Alibaba Cloud Computing Ltd.", "CN", "CN", "datacenter"),
    ("Tencent Cloud Computing (Beijing) Co., Ltd.", "CN", "CN", "ai_model_training"),
    ("Inspur Electronic Information Industry Co., Ltd.", "CN", "CN", "datacenter"),
    ("Macau Data Services Ltd.", "MO", "MO", "datacenter"),
    ("Viettel Business Solutions", "VN", "VN", "datacenter"),
    ("Naver Cloud Corp.", "KR", "KR", "datacenter"),
    ("Sakura Internet Inc.", "JP", "JP", "ai_model_training"),
    ("G42 Cloud", "AE", "AE", "datacenter"),
    ("Shenzhen Subsidiary Cloud Pte. Ltd.", "SG", "CN", "datacenter"),  # PRC-headquartered abroad
    ("Deutsche Telekom IoT GmbH", "DE", "DE", "civil_other"),
    ("National Supercomputing Center in Wuxi", "CN", "CN", "supercomputer"),
]


def generate(n: int = 3000, seed: int = 7, start: date = date(2022, 6, 1), end: date = date(2026, 11, 1)
             ) -> pl.DataFrame:
    """``n`` synthetic shipment lines; values are illustrative estimates, not trade data."""
    rng = random.Random(seed)
    cat = chips().filter(pl.col("item_kind").is_in(["ic", "hbm", "computer"]))
    days = (end - start).days
    rows = []
    for _ in range(n):
        d = start + timedelta(days=rng.randrange(days))
        if rng.random() < 0.55:  # equipment to a fab
            ship = SHIPPERS[rng.choice([2, 3, 4, 5, 6, 8, 9, 10])]
            eccn, name, unit = SME[rng.randrange(len(SME))]
            fab = FABS[rng.randrange(len(FABS))]
            qty = rng.randint(1, 3)
            rows.append(dict(date=d, exporter=ship[0], exporter_hq_country=ship[1], ship_from=ship[2],
                             transaction_type="export", item_name=name, item_kind="equipment", eccn=eccn,
                             destination=fab[1], end_user_name=fab[0], end_user_country=fab[1],
                             end_user_hq_country=fab[2], end_use=fab[4], facility_id=fab[3],
                             us_origin=ship[3], us_controlled_content_pct=ship[4],
                             direct_product_of_us_technology=ship[5], produced_by_us_origin_plant=False,
                             contains_us_ic=ship[3] or rng.random() < 0.7, quantity=qty,
                             value_usd=float(unit * qty * rng.uniform(0.8, 1.2))))
        else:  # chips, HBM or servers to a buyer
            chip = cat.row(rng.randrange(cat.height), named=True)
            buyer = BUYERS[rng.randrange(len(BUYERS))]
            korean_hbm = chip["item_kind"] == "hbm"
            ship = SHIPPERS[7] if korean_hbm else SHIPPERS[rng.choice([0, 1])]
            qty = rng.randint(8, 2000)
            unit = 2_500 if korean_hbm else (30_000 if (chip["tpp"] or 0) > 4800 else 12_000)
            rows.append(dict(date=d, exporter=ship[0], exporter_hq_country=ship[1], ship_from=ship[2],
                             transaction_type="export" if rng.random() < 0.85 else "reexport",
                             item_name=chip["item_name"], item_kind=chip["item_kind"], eccn=None,
                             tpp=chip["tpp"], die_area_mm2=chip["die_area_mm2"],
                             marketed_for_datacenter=chip["marketed_for_datacenter"],
                             interconnect_gb_s=chip["interconnect_gb_s"],
                             memory_bandwidth_gb_s=chip["memory_bandwidth_gb_s"],
                             memory_bandwidth_density_gb_s_mm2=chip["memory_bandwidth_density_gb_s_mm2"],
                             destination=buyer[1], end_user_name=buyer[0], end_user_country=buyer[1],
                             end_user_hq_country=buyer[2], end_use=buyer[3], facility_id=None,
                             us_origin=ship[3], us_controlled_content_pct=ship[4],
                             direct_product_of_us_technology=True, produced_by_us_origin_plant=False,
                             contains_us_ic=None, quantity=qty, value_usd=float(unit * qty)))
    # Ownership of the (named, well-known) consignees is taken as known: none is 50 %-owned by listed
    # parties for the Affiliates rule. Screening still decides whether a consignee itself is listed.
    return pl.DataFrame(rows, infer_schema_length=None).sort("date").with_columns(
        end_user_affiliate_of_listed=pl.lit(False))


def scale(base: pl.DataFrame, n: int, seed: int = 11) -> pl.DataFrame:
    """A big ledger for benchmarks: resample the base rows (same signatures, more rows)."""
    rng = random.Random(seed)
    idx = pl.Series([rng.randrange(base.height) for _ in range(n)])
    return base[idx]
