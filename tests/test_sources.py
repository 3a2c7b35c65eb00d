"""Catalog sources: files, directories, URLs, standard input, and
`satwatch update` against a real HTTP server on loopback serving recorded
CelesTrak and Space-Track responses (these machines have no internet)."""
import json

import pytest
from typer.testing import CliRunner

import satwatch
from satwatch.cli import app
from satwatch.errors import SourceError
from satwatch.sources import Cache, fetch_celestrak

runner = CliRunner()


@pytest.fixture
def recorded_gp(http_server, reference_data):
    """The server answers CelesTrak's gp.php like CelesTrak: 3LE for FORMAT=tle."""
    text = (reference_data / "catalogs" / "active-2023-11-19.txt").read_text()

    def gp(path):
        if "GROUP=active" in path and "FORMAT=tle" in path:
            return 200, text, "text/plain"
        return 200, "No GP data found", "text/plain"
    http_server.routes["/NORAD/elements/gp.php"] = gp
    return http_server


def test_update_downloads_once_in_two_hours_then_every_command_uses_it(recorded_gp, tmp_path):
    env = {"SATWATCH_CACHE_DIR": str(tmp_path / "cache"),
           "SATWATCH_CELESTRAK_URL": recorded_gp.url + "/NORAD/elements/gp.php"}
    first = runner.invoke(app, ["update", "--format", "json"], env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["objects"] == 8854
    again = runner.invoke(app, ["update", "--format", "json"], env=env)
    assert again.exit_code == 0
    assert len(recorded_gp.requests) == 1          # the cache answered the second time
    where = runner.invoke(app, ["where", "25544", "--at", "2023-11-19T12:00:00Z",
                                "--format", "json"], env=env)
    assert where.exit_code == 0, where.output
    assert json.loads(where.stdout)[0]["name"] == "ISS (ZARYA)"


def test_cache_refetches_after_two_hours(recorded_gp, tmp_path):
    now = [1_700_000_000.0]
    cache = Cache(tmp_path, clock=lambda: now[0])
    url = recorded_gp.url + "/NORAD/elements/gp.php"
    fetch_celestrak("active", cache=cache, base_url=url)
    now[0] += 2 * 3600 - 1
    fetch_celestrak("active", cache=cache, base_url=url)
    assert len(recorded_gp.requests) == 1
    now[0] += 2
    fetch_celestrak("active", cache=cache, base_url=url)
    assert len(recorded_gp.requests) == 2


def test_unknown_group_is_a_clear_error(recorded_gp, tmp_path):
    with pytest.raises(SourceError, match="no element sets"):
        fetch_celestrak("nosuchgroup", base_url=recorded_gp.url + "/NORAD/elements/gp.php")


def test_http_error_names_the_url(http_server):
    with pytest.raises(SourceError, match="404"):
        satwatch.load_catalog(http_server.url + "/missing.txt")


def test_catalog_from_url_directory_stream_and_stdin(http_server, reference_data, tmp_path):
    text = (reference_data / "history" / "malligyong1_58400_2026-03_to_2026-08.tle").read_text()
    (http_server.root / "kms.tle").write_text(text)
    by_url = satwatch.load_catalog(http_server.url + "/kms.tle", keep_history=True)
    assert len(by_url) == 440
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "a.tle").write_text(text)
    (folder / "b.json").write_text(satwatch.write_omm(list(by_url)[:5], "json"))
    both = satwatch.load_catalog(folder, keep_history=True)
    assert len(both) == 445
    import io
    assert len(satwatch.load_catalog(io.StringIO(text))) == 1   # newest set per object
    result = runner.invoke(app, ["catalog", "-", "--format", "json"], input=text)
    assert json.loads(result.stdout)["objects"] == 1


def test_missing_file_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["catalog", str(tmp_path / "nope.tle")])
    assert result.exit_code == 2
    assert "no such file" in result.output and "Traceback" not in result.output


def test_spacetrack_login_and_query(http_server, reference_data, tmp_path):
    text = (reference_data / "catalogs" / "active-2023-08-22.txt").read_text()
    http_server.routes["/ajaxauth/login"] = lambda p: (200, '""', "application/json")
    http_server.routes["/basicspacedata/query/class/gp/decay_date/null-val/epoch/%3Enow-30/"
                       "orderby/norad_cat_id/format/3le"] = lambda p: (200, text, "text/plain")
    env = {"SATWATCH_CACHE_DIR": str(tmp_path / "c"), "SATWATCH_SPACETRACK_URL": http_server.url,
           "SPACETRACK_USER": "analyst@example.org", "SPACETRACK_PASSWORD": "pw"}
    result = runner.invoke(app, ["update", "--spacetrack", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["objects"] == 8405
    missing = runner.invoke(app, ["update", "--spacetrack"],
                            env={"SATWATCH_CACHE_DIR": str(tmp_path / "d"),
                                 "SPACETRACK_USER": "", "SPACETRACK_PASSWORD": ""})
    assert missing.exit_code == 2 and "SPACETRACK_USER" in missing.output
