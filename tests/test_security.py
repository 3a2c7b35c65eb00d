"""Security: tokens on write endpoints, bounded work, validated input, and a
schemathesis fuzzing run of the OpenAPI schema that must find no 5xx."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import satwatch
from satwatch.web import Limits, Settings, create_app

TOKEN = "sec-token-abc"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SMALL_LIMITS = Limits(max_body_bytes=50_000, max_objects=50, max_samples=2_000,
                      max_track_span_s=86_400.0, max_page=100)
# Bounded fuzzing: a few examples per operation keeps this under ~30 s of CPU.
# Examples per operation; SATWATCH_FUZZ_EXAMPLES=300 for a deeper local run
# (two such runs found nothing after the ids fix of 2026-11-27).
FUZZ_EXAMPLES = int(__import__("os").environ.get("SATWATCH_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def sample(full_catalog_path, tmp_path_factory):
    lines = full_catalog_path.read_text().splitlines()[:300]     # 100 objects
    path = tmp_path_factory.mktemp("sec") / "sample.tle"
    path.write_text("\n".join(lines) + "\n")
    return satwatch.load_catalog(path)


@pytest.fixture(scope="module")
def app(sample, tmp_path_factory):
    db = tmp_path_factory.mktemp("secdb") / "sec.sqlite"
    return create_app(Settings(catalog=sample, db_url=f"sqlite:///{db}", api_tokens=[TOKEN],
                               limits=SMALL_LIMITS))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


WRITES = [("post", "/api/v1/rules", {"json": {"kind": "new_object"}}),
          ("delete", "/api/v1/rules/1", {}),
          ("get", "/api/v1/rules", {}),
          ("post", "/api/v1/ingest", {"content": b"x"})]


@pytest.mark.parametrize("method,url,kwargs", WRITES)
def test_writes_need_a_valid_token(client, method, url, kwargs):
    r = getattr(client, method)(url, **kwargs)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"].startswith("Bearer")
    for header in ({"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                   {"Authorization": f"Bearer {TOKEN}x"}):
        r = getattr(client, method)(url, headers=header, **kwargs)
        assert r.status_code in (401, 403), (header, r.text)
        assert r.json()["error"]["code"] in ("unauthorized", "forbidden")


def test_no_configured_tokens_means_no_writes(sample, tmp_path):
    app = create_app(Settings(catalog=sample, db_url=f"sqlite:///{tmp_path / 'x.sqlite'}"))
    with TestClient(app) as c:
        r = c.post("/api/v1/rules", json={"kind": "new_object"}, headers=AUTH)
        assert r.status_code == 403 and "no tokens are configured" in r.json()["error"]["message"]


def test_reads_are_public(client):
    assert client.get("/api/v1/catalog").status_code == 200
    assert client.get("/api/v1/alerts").status_code == 200


def test_oversized_bodies_are_refused(client):
    big = b"0" * (SMALL_LIMITS.max_body_bytes + 1)
    r = client.post("/api/v1/ingest", content=big, headers=AUTH)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    def chunks():                      # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"1" * 10_000
    r = client.post("/api/v1/ingest", content=chunks(), headers=AUTH)
    assert r.status_code == 413


@pytest.mark.parametrize("ids", ["25544,\u00b2", "\u0663", "1\u2075", "25544,-1"])
def test_non_ascii_digits_in_ids_are_a_422(client, ids):
    """Found by the fuzzing test: '\u00b2' passed str.isdigit() and then broke
    int() with a 500."""
    r = client.get("/api/v1/positions", params={"ids": ids})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_malformed_requests_get_4xx(client):
    r = client.post("/api/v1/rules", content=b"{not json", headers={
        **AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = client.post("/api/v1/rules", json={"kind": "teleport"}, headers=AUTH)
    assert r.status_code == 422 and "kind" in r.json()["error"]["message"]
    r = client.post("/api/v1/rules", json={"kind": "new_object", "sql": "drop table"},
                    headers=AUTH)
    assert r.status_code == 422                       # unknown fields are refused
    r = client.post("/api/v1/rules", json={"kind": "pass", "norad_ids": [25544],
                                           "site_lat_deg": 95, "site_lon_deg": 0,
                                           "radius_km": 100}, headers=AUTH)
    assert r.status_code == 422 and "site_lat_deg" in r.json()["error"]["message"]
    r = client.post("/api/v1/rules", json={"kind": "new_object",
                                           "webhooks": ["file:///etc/passwd"]}, headers=AUTH)
    assert r.status_code == 422
    r = client.post("/api/v1/ingest", content="not an element set\n", headers=AUTH)
    assert r.status_code == 422 and "no element set" in r.json()["error"]["message"]
    r = client.post("/api/v1/ingest", content=b"\xff\xfe\x00bad", headers=AUTH)
    assert r.status_code == 422
    r = client.get("/api/v1/positions", params={"ids": "25544;drop"})
    assert r.status_code == 422 and "NORAD" in r.json()["error"]["message"]


def test_span_times_objects_limits(client, sample):
    ids = ",".join(str(n) for n in sample.norad_ids[:60])
    r = client.get("/api/v1/positions", params={"ids": ids})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "limit_exceeded" and "at most 50" in err["message"]
    ids = ",".join(str(n) for n in sample.norad_ids[:10])
    r = client.get("/api/v1/tracks", params={"ids": ids, "duration_s": 86_400, "step_s": 60})
    err = r.json()["error"]
    assert r.status_code == 422 and err["code"] == "limit_exceeded"
    assert "samples" in err["message"] and err["details"]["max_samples"] == 2_000
    r = client.get("/api/v1/tracks", params={"ids": "5", "duration_s": 10 * 86_400})
    assert r.status_code == 422 and "span" in r.json()["error"]["message"]
    r = client.get("/api/v1/objects", params={"limit": 5000})
    assert r.status_code == 422 and "largest page" in r.json()["error"]["message"]
    huge = ",".join(["5"] * 12_000)           # over the 20,000-character cap
    r = client.get("/api/v1/positions", params={"ids": huge})
    assert 400 <= r.status_code < 500


def test_fuzzing_finds_no_server_errors(app):
    """schemathesis generates requests from /openapi.json (with and without
    the token); none may get a 5xx."""
    import hypothesis
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck),
                             phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
        @hypothesis.given(case=operation.as_strategy())
        def fuzz(case):
            nonlocal ran
            ran += 1
            headers = dict(case.headers or {})
            if ran % 2:
                headers.update(AUTH)
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query,
                                 response.status_code, response.text[:300]))
        fuzz()
    assert ran > 50
    assert not failures, failures
