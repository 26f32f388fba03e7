"""The reproduction lab's parts that need neither a database nor a sandbox: verdicts, expectations,
bisection, comparisons, version order, outbound checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from clearinghouse.domain.finding import RunSpec
from clearinghouse.repro._ecosystems import Npm, PyPI, Release, semver_key
from clearinghouse.repro._lab import Bisection, Verdict, bisect, shows_vulnerability, verdict_of
from clearinghouse.repro._outbound import FetchError, check_url, fetch_bytes
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.repro.services import compare
from clearinghouse.sandbox import SandboxResult


def result(**kw: object) -> SandboxResult:
    base: dict[str, object] = {
        "exit_code": 0,
        "signal": None,
        "stdout": b"",
        "stderr": b"",
        "timed_out": False,
        "output_truncated": False,
        "duration_s": 0.1,
    }
    base.update(kw)
    return SandboxResult(**base)  # type: ignore[arg-type]


def spec(expect: dict[str, object]) -> RunSpec:
    return RunSpec.model_validate({"runtime": "python3", "entrypoint": "p.py", "expect": expect})


def test_verdicts() -> None:
    assert verdict_of(5, 5) is Verdict.RELIABLE
    assert verdict_of(2, 5) is Verdict.FLAKY
    assert verdict_of(0, 5) is Verdict.NOT_REPRODUCED
    assert verdict_of(0, 0) is Verdict.NOT_REPRODUCED


def test_expectations() -> None:
    assert shows_vulnerability(spec({"stdout_contains": "PWNED"}), result(stdout=b"x PWNED y"))
    assert not shows_vulnerability(spec({"stdout_contains": "PWNED"}), result(stderr=b"PWNED"))
    assert not shows_vulnerability(
        spec({"stdout_contains": "PWNED"}), result(stdout=b"PWNED", timed_out=True)
    )
    assert shows_vulnerability(spec({"exit_code": 3}), result(exit_code=3))
    assert not shows_vulnerability(spec({"exit_code": 3}), result(exit_code=0))
    assert shows_vulnerability(spec({"crash": True}), result(exit_code=None, signal=11))
    assert not shows_vulnerability(spec({"crash": True}), result(exit_code=None, signal=9))
    assert shows_vulnerability(spec({"timeout": True}), result(exit_code=None, signal=9, timed_out=True))
    assert not shows_vulnerability(spec({"timeout": True}), result())


def test_run_spec_validation() -> None:
    with pytest.raises(ValueError):
        RunSpec.model_validate({"runtime": "ruby", "entrypoint": "p.rb", "expect": {"crash": True}})
    with pytest.raises(ValueError):
        RunSpec.model_validate({"runtime": "sh", "entrypoint": "p.sh", "expect": {"crash": False}})
    with pytest.raises(ValueError):
        RunSpec.model_validate({"runtime": "sh", "entrypoint": "p.sh", "expect": {}, "timeout_s": 30})
    with pytest.raises(ValueError):
        RunSpec.model_validate(
            {"runtime": "sh", "entrypoint": "p.sh", "expect": {"timeout": True}, "timeout_s": 0}
        )


def releases(*versions: str) -> list[Release]:
    return [Release(v, dt.datetime(2024, 1, i + 1, tzinfo=dt.UTC)) for i, v in enumerate(versions)]


def run_bisect(
    vulnerable: set[str], versions: list[str], claimed: str, broken: frozenset[str] = frozenset()
) -> Bisection:
    pypi = PyPI(ReproSettings(cache_dir=Path("/nonexistent")))
    asked: list[str] = []

    def probe(v: str) -> bool | None:
        asked.append(v)
        return None if v in broken else v in vulnerable

    found = bisect(
        releases(*versions), claimed, probe, version_key=pypi.version_key, is_prerelease=pypi.is_prerelease
    )
    assert len(asked) == len(set(asked))  # each version once
    return found


def test_bisection_finds_both_ends() -> None:
    versions = [f"1.{i}" for i in range(20)]
    found = run_bisect({f"1.{i}" for i in range(5, 12)}, versions, "1.8")
    assert (found.first_affected, found.first_fixed, found.last_affected) == ("1.5", "1.12", "1.11")
    assert found.first_affected_exact and found.releases_considered == 20
    assert len(found.probes) <= 12  # a binary search, not a scan


def test_bisection_skips_versions_that_do_not_install() -> None:
    versions = [f"1.{i}" for i in range(10)]
    found = run_bisect({"1.3", "1.4", "1.5"}, versions, "1.4", broken=frozenset({"1.6", "1.0"}))
    assert found.first_fixed == "1.7" and found.last_affected == "1.5"
    assert found.first_affected == "1.3" and not found.first_affected_exact


def test_bisection_when_still_affected_or_claim_wrong() -> None:
    versions = ["1.0", "1.1", "1.2", "2.0rc1"]
    still = run_bisect({"1.0", "1.1", "1.2"}, versions, "1.1")
    assert still.first_fixed is None and still.last_affected == "1.2" and "newest" in still.note
    assert "2.0rc1" not in still.probes
    wrong = run_bisect(set(), versions, "1.1")
    assert wrong.first_fixed is None and "does not reproduce" in wrong.note


def test_compare_with_claims_and_advisories() -> None:
    pypi = PyPI(ReproSettings(cache_dir=Path("/nonexistent")))
    found = Bisection("1.0", "1.5", "1.4", True, {}, 10)
    advisories = [
        {"advisory": "A", "introduced": ["0"], "fixed": ["1.5"]},
        {"advisory": "B", "introduced": ["0", "2.0"], "fixed": ["0.9", "2.1"]},
    ]
    comparisons, agrees = compare(found, "vers:pypi/>=1.0|<1.5", None, advisories, pypi)
    assert agrees is False
    assert comparisons[0] == {"source": "finding", "first_fixed": "1.5", "agrees": True}
    assert comparisons[1]["agrees"] is True
    assert comparisons[2]["first_fixed"] == "2.1" and comparisons[2]["agrees"] is False
    assert compare(found, None, None, [], pypi) == ([], None)


def test_version_order() -> None:
    assert sorted(["1.10.0", "1.2.0", "1.2.0-beta.1", "1.2.0-alpha", "0.9.9"], key=semver_key) == [
        "0.9.9",
        "1.2.0-alpha",
        "1.2.0-beta.1",
        "1.2.0",
        "1.10.0",
    ]
    npm = Npm(ReproSettings(cache_dir=Path("/nonexistent")))
    assert npm.is_prerelease("1.0.0-rc.1") and not npm.is_prerelease("1.0.0") and npm.is_prerelease("latest")
    pypi = PyPI(ReproSettings(cache_dir=Path("/nonexistent")))
    assert (
        pypi.is_prerelease("2.0rc1") and not pypi.is_prerelease("2.0") and pypi.is_prerelease("not a version")
    )
    assert pypi.version_key("1.10") > pypi.version_key("1.9") > pypi.version_key("junk")


@pytest.mark.parametrize("rank_of", [("pkg-1.0-py3-none-any.whl", 0), ("pkg-1.0-py2.py3-none-any.whl", 0)])
def test_wheel_choice(rank_of: tuple[str, int]) -> None:
    assert PyPI._wheel_rank(rank_of[0]) == rank_of[1]


def test_wheel_choice_refuses_other_platforms() -> None:
    assert PyPI._wheel_rank("pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl") == 1
    assert PyPI._wheel_rank("pkg-1.0-cp38-abi3-manylinux2014_x86_64.whl") == 2
    assert PyPI._wheel_rank("pkg-1.0-cp311-cp311-win_amd64.whl") == 99
    assert PyPI._wheel_rank("pkg-1.0-cp27-cp27mu-manylinux1_x86_64.whl") == 99
    assert PyPI._wheel_rank("bad.whl") == 99


def test_outbound_refuses_internal_addresses(tmp_path: Path) -> None:
    for url in ("http://127.0.0.1/simple", "http://localhost:8080/x", "http://[::1]/", "http://10.1.2.3/x"):
        with pytest.raises(FetchError, match="internal"):
            check_url(url, allow_internal=False)
    check_url("http://127.0.0.1/simple", allow_internal=True)
    for url in ("ftp://example.org/x", "gopher://x", "http:///nohost"):
        with pytest.raises(FetchError):
            check_url(url, allow_internal=True)
    settings = ReproSettings(cache_dir=tmp_path, max_fetch_bytes=10)
    (tmp_path / "small").write_bytes(b"0123456789")
    (tmp_path / "big").write_bytes(b"0" * 11)
    assert fetch_bytes(f"file://{tmp_path}/small", settings) == b"0123456789"
    with pytest.raises(FetchError, match="larger"):
        fetch_bytes(f"file://{tmp_path}/big", settings)
    with pytest.raises(FetchError, match="cannot read"):
        fetch_bytes(f"file://{tmp_path}/missing", settings)


def test_settings_from_env(tmp_path: Path) -> None:
    from clearinghouse.config import Settings

    settings = Settings.from_env({"CLEARINGHOUSE_HOME": str(tmp_path / "home")})
    repro = ReproSettings.from_env(
        settings,
        {
            "CLEARINGHOUSE_REPRO_ATTEMPTS": "7",
            "CLEARINGHOUSE_REPRO_AUTO_VALIDATE": "1",
            "CLEARINGHOUSE_REPRO_WORKERS": "3",
        },
    )
    assert repro.cache_dir == (tmp_path / "home" / "repro").resolve()
    assert repro.attempts == 7 and repro.auto_validate and repro.workers == 3 and not repro.allow_internal
    assert repro.pypi_json == "https://pypi.org/pypi" and repro.npm_registry == "https://registry.npmjs.org"


def test_fetch_over_http_checks_redirects(tmp_path: Path) -> None:
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/ok":
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"content")
            else:
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        settings = ReproSettings(cache_dir=tmp_path, allow_internal=True, fetch_timeout_s=5)
        assert fetch_bytes(f"{base}/ok", settings) == b"content"
        with pytest.raises(FetchError, match=r"refused|HTTP 302"):  # never followed to file://
            fetch_bytes(f"{base}/redirect", settings)
        with pytest.raises(FetchError, match="internal"):
            fetch_bytes(f"{base}/ok", ReproSettings(cache_dir=tmp_path))
    finally:
        server.shutdown()


def test_fetch_verifies_digests_and_refuses_source_builds(tmp_path: Path) -> None:
    import hashlib
    import json

    from clearinghouse.repro._ecosystems import EnvironmentError_

    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.whl").write_bytes(b"wheel bytes")
    settings = ReproSettings(cache_dir=tmp_path / "cache", pypi_json=f"file://{tmp_path}/pypi")
    pypi = PyPI(settings)
    url = f"file://{tmp_path}/files/a.whl"
    with pytest.raises(EnvironmentError_, match="SHA-256"):
        pypi._blob(url, {"sha256": "0" * 64}, "a.whl")
    with pytest.raises(EnvironmentError_, match="integrity"):
        pypi._blob(url, {"sha512": "AAAA"}, "a.whl")
    with pytest.raises(EnvironmentError_, match="shasum"):
        pypi._blob(url, {"sha1": "0" * 40}, "a.whl")
    path, digest = pypi._blob(url, {}, "a.whl")
    assert digest == hashlib.sha256(b"wheel bytes").hexdigest() and path.read_bytes() == b"wheel bytes"
    assert pypi._blob(url, {"sha256": digest}, "a.whl") == (path, digest)  # from the cache
    # A release with only a source distribution is an error that says why, never a build.
    (tmp_path / "pypi" / "onlysdist").mkdir(parents=True)
    release = {"filename": "onlysdist-1.0.tar.gz", "url": "x", "upload_time_iso_8601": "2024-01-01T00:00:00Z"}
    (tmp_path / "pypi" / "onlysdist" / "json").write_text(
        json.dumps({"releases": {"1.0": [release], "2.0": []}})
    )
    assert [r.version for r in pypi.releases("onlysdist")] == ["1.0"]
    with pytest.raises(EnvironmentError_, match="no wheel"):
        pypi.environment("onlysdist", "1.0")
    with pytest.raises(EnvironmentError_, match=r"no release 3\.0"):
        pypi.environment("onlysdist", "3.0")
    (tmp_path / "pypi" / "bad").mkdir()
    (tmp_path / "pypi" / "bad" / "json").write_text("[]")
    with pytest.raises(EnvironmentError_, match="no project"):
        pypi.releases("bad")
    npm = Npm(ReproSettings(cache_dir=tmp_path / "cache", npm_registry=f"file://{tmp_path}/npm"))
    (tmp_path / "npm").mkdir()
    (tmp_path / "npm" / "nodist").write_text(json.dumps({"versions": {"1.0.0": {}}, "time": {}}))
    with pytest.raises(EnvironmentError_, match="no tarball"):
        npm.environment("nodist", "1.0.0")
    (tmp_path / "npm" / "bad").write_text("{}")
    with pytest.raises(EnvironmentError_, match="no package"):
        npm.releases("bad")
