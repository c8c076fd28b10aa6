"""Property-based run of the OpenAPI schema against a real server: no input may produce a 5xx.

Bounded: a few examples per operation (CARVEOUT_SCHEMATHESIS_EXAMPLES to raise it locally).
"""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from carveout.service.testing import Server, make_key

EXAMPLES = int(os.environ.get("CARVEOUT_SCHEMATHESIS_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    key = make_key(d / "carveout.duckdb")
    srv = Server(d / "carveout.duckdb", "--max-ledger-rows", "1000").start()
    yield srv, key
    srv.stop()


@pytest.fixture(scope="module")
def api_schema(live):
    srv, _ = live
    return schemathesis.openapi.from_url(f"{srv.url}/openapi.json")


def _operations():
    """(method, path) pairs of the OpenAPI document, known without a server (the app builds it offline)."""
    from carveout.service import Settings, create_app

    spec = create_app(Settings(db=None)).openapi()
    return [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops]


# pytest's own parametrization (schemathesis' pytest plugin does not load under pytest 9): one test per operation
@pytest.mark.parametrize("method, path", _operations())
def test_no_input_gives_a_server_error(api_schema, live, method, path):
    srv, key = live
    features = httpx.get(f"{srv.url}/v1/health").json()["features"]
    op = next(r.ok() for r in api_schema.get_all_operations() if r.ok().method.upper() == method
              and r.ok().path == path)

    @given(case=op.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers={"X-API-Key": key}, timeout=30)
        if response.status_code == 503 and not all(features.values()):
            return  # a feature this build lacks (e.g. the frontier) answers 503 by design
        assert response.status_code < 500, (
            f"{case.method} {case.path} -> {response.status_code}: {response.text[:500]}\n{case.as_curl_command()}")
        if response.status_code >= 400:
            body = response.json()
            assert "error" in body and "message" in body and "Traceback" not in response.text

    run()
