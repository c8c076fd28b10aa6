import polars as pl
import pytest

from carveout.batch import evaluate_ledger
from carveout.io.ledger import LedgerError, atomic_write, read_ledger

HEADER = ("date,exporter,ship_from,transaction_type,destination,kind,tpp,die_area_mm2,"
          "marketed_for_datacenter,us_origin,listed,end_use,value_usd\n")


def test_bad_cells_keep_the_row_and_name_line_and_column(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text(HEADER
                 + "2025-01-02,A,US,export,CN,ic,15832,814,true,true,false,datacenter,10\n"
                 + "2025-01-02,A,US,export,China,ic,15832,814,true,true,false,datacenter,10\n"
                 + "2025-13-02,A,US,export,DE,ic,lots,814,maybe,true,false,datacenter,10\n")
    led = read_ledger(p)
    out = evaluate_ledger(led)
    assert out.height == 3
    assert out["license_required"].to_list() == ["yes", "needs_review", "needs_review"]
    errs = out["error"].to_list()
    assert errs[0] is None
    assert "line 3" in errs[1] and "column destination" in errs[1] and "did you mean CN?" in errs[1]
    assert "line 4" in errs[2] and "column date" in errs[2] and "column tpp" in errs[2]


def test_parquet_roundtrip_keeps_every_row(tmp_path):
    from carveout.synth import generate

    src = tmp_path / "l.parquet"
    generate(500, seed=3).write_parquet(src)
    res = evaluate_ledger(read_ledger(src), screen=False)
    assert res.height == 500 and res["row"].to_list() == list(range(500))
    out = atomic_write(res, tmp_path / "out.parquet")
    assert pl.read_parquet(out).height == 500


def test_unreadable_ledger_is_a_clear_error(tmp_path):
    with pytest.raises(LedgerError, match="no such file"):
        read_ledger(tmp_path / "missing.csv")
    with pytest.raises(LedgerError, match="unsupported"):
        read_ledger(tmp_path.joinpath("x.doc")) if (tmp_path / "x.doc").write_text("x") else None


def test_failed_write_leaves_no_partial_file(tmp_path):
    with pytest.raises(LedgerError):
        atomic_write(pl.DataFrame({"a": [1]}), tmp_path / "out.unknown")
    assert list(tmp_path.iterdir()) == []
