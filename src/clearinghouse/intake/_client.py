"""Submitting files to a Clearinghouse over its HTTP API, resumably.

The command line's ``submit`` runs here, on the finder's machine: each file is
turned into native findings by the same importers the API's own
``/findings:import`` uses, and sent in NDJSON batches. A journal beside the
files records each file that was fully accepted, so an interrupted run picks up
where it stopped; files sent again are harmless, because the server stores
each finding once (idempotency by key or content hash).
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearinghouse.domain.finding import PackageRef

BATCH_ITEMS = 2000
NDJSON_SUFFIXES = (".ndjson", ".jsonl")


class SubmitError(Exception):
    """The server refused a request or could not be reached."""


@dataclass
class FileOutcome:
    path: Path
    findings: int = 0
    created: int = 0
    existing: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Journal:
    """Files already accepted, by path and content digest."""

    path: Path
    done: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Journal:
        if path.is_file():
            return cls(path, json.loads(path.read_text()).get("done", {}))
        return cls(path)

    def is_done(self, file: Path, digest: str) -> bool:
        return self.done.get(str(file.resolve())) == digest

    def mark(self, file: Path, digest: str) -> None:
        self.done[str(file.resolve())] = digest
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"done": self.done}, indent=1))
        tmp.replace(self.path)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Client:
    def __init__(self, base_url: str, token: str, timeout: float = 600) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def post_batch(self, lines: list[bytes]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/findings:batch",
            data=b"\n".join(lines) + b"\n",
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/x-ndjson"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: dict[str, Any] = json.loads(response.read())
                return body
        except urllib.error.HTTPError as exc:
            raise SubmitError(http_advice(exc.code, exc.read().decode(errors="replace"))) from exc
        except urllib.error.URLError as exc:
            raise SubmitError(unreachable_advice(self.base_url, exc.reason)) from exc
        except OSError as exc:  # a timeout or a reset connection mid-request
            raise SubmitError(unreachable_advice(self.base_url, exc)) from exc


def http_advice(status: int, body: str) -> str:
    """What an error answer means for whoever runs ``submit``, and what to do about it."""
    try:
        detail = str(json.loads(body).get("detail") or body)
    except (ValueError, AttributeError):
        detail = body
    detail = detail.strip()[:500]
    if status == 401:
        return (
            f"the server refused the token (401: {detail}). Check --token or CLEARINGHOUSE_TOKEN; an "
            "administrator issues one with: clearinghouse token create --user NAME --scope write"
        )
    if status == 403:
        return (
            f"the token may not submit findings (403: {detail}). It needs the write scope: "
            "clearinghouse token create --user NAME --scope read --scope write"
        )
    if status == 413:
        return f"the server refused the request as too large (413: {detail}); submit fewer findings at once"
    return f"the server answered {status}: {detail}"


def unreachable_advice(base_url: str, reason: object) -> str:
    """What to do when no server answers at ``base_url``."""
    return (
        f"cannot reach a Clearinghouse at {base_url} ({reason}). Is the server running? Start it with "
        "`clearinghouse serve` (or scripts/serve), or pass the right address with --url"
    )


def _native_lines(path: Path) -> Iterator[tuple[bytes | None, str | None]]:
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield line.rstrip(b"\r\n"), None


def _imported_lines(path: Path, package: PackageRef | None) -> Iterator[tuple[bytes | None, str | None]]:
    from clearinghouse.intake.importers import ItemError, UnsupportedDocument, parse_document

    try:
        for item in parse_document(path.read_bytes(), path.name, package=package):
            if isinstance(item, ItemError):
                yield None, f"item {item.index} at {item.pointer or '/'}: {item.detail}"
            else:
                yield item.submission.model_dump_json(exclude_none=True).encode(), None
    except UnsupportedDocument as exc:
        yield None, str(exc)


def submit_file(
    client: Client,
    path: Path,
    *,
    package: PackageRef | None = None,
    on_findings: Callable[[int], None] | None = None,
) -> FileOutcome:
    outcome = FileOutcome(path)
    lines = _native_lines(path) if path.suffix in NDJSON_SUFFIXES else _imported_lines(path, package)
    batch: list[bytes] = []

    def send() -> None:
        if not batch:
            return
        report = client.post_batch(batch)
        outcome.created += report["created"]
        outcome.existing += report["existing"]
        base = outcome.findings
        outcome.problems.extend(
            f"item {base + p['index']} at {p['pointer'] or '/'}: {p['detail']}" for p in report["problems"]
        )
        outcome.findings += len(batch)
        if on_findings is not None:
            on_findings(len(batch))
        batch.clear()

    for line, problem in lines:
        if problem is not None:
            outcome.problems.append(problem)
            continue
        assert line is not None
        batch.append(line)
        if len(batch) >= BATCH_ITEMS:
            send()
    send()
    return outcome


def package_option(purl: str | None) -> PackageRef | None:
    """The ``--package`` option: the affected package for formats that lack one (SARIF)."""
    return PackageRef(purl=purl) if purl else None


@dataclass
class _Pending:
    outcome: FileOutcome
    lines: int = 0
    sent: int = 0


def submit_files(
    client: Client,
    paths: list[Path],
    *,
    package: PackageRef | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_report: Callable[[list[Path], dict[str, Any]], None] | None = None,
    batch_items: int = BATCH_ITEMS,
) -> list[FileOutcome]:
    """Submit many files, packing the findings of small files (one OSV document each) into shared
    NDJSON batches instead of one request per file. ``on_file`` is called with each file's outcome
    once every batch holding its findings was accepted (mark it done in the journal then);
    ``on_report`` gets each batch's report and the file of each line (in order)."""
    batch: list[bytes] = []
    owners: list[Path] = []
    pending: dict[Path, _Pending] = {}
    done: list[FileOutcome] = []

    def finish(path: Path) -> None:
        entry = pending[path]
        if entry.sent == entry.lines:
            del pending[path]
            done.append(entry.outcome)
            if on_file is not None:
                on_file(entry.outcome)

    def send() -> None:
        if not batch:
            return
        report = client.post_batch(batch)
        if on_report is not None:
            on_report(list(owners), report)
        items = {item["index"]: item for item in report.get("items", [])}
        by_index = {p["index"]: p for p in report["problems"]}
        touched: list[Path] = []
        for k, path in enumerate(owners):
            entry = pending[path]
            item = items.get(k)
            if item is not None:
                if item["created"]:
                    entry.outcome.created += 1
                else:
                    entry.outcome.existing += 1
            if k in by_index:
                p = by_index[k]
                entry.outcome.problems.append(f"item {entry.sent} at {p['pointer'] or '/'}: {p['detail']}")
            entry.sent += 1
            entry.outcome.findings += 1
            if not touched or touched[-1] != path:
                touched.append(path)
        batch.clear()
        owners.clear()
        for path in touched:
            if pending[path].lines != -1:
                finish(path)

    for path in paths:
        entry = pending[path] = _Pending(FileOutcome(path))
        entry.lines = -1  # still reading
        count = 0
        lines = _native_lines(path) if path.suffix in NDJSON_SUFFIXES else _imported_lines(path, package)
        for line, problem in lines:
            if problem is not None:
                entry.outcome.problems.append(problem)
                continue
            assert line is not None
            batch.append(line)
            owners.append(path)
            count += 1
            if len(batch) >= batch_items:
                send()
        entry.lines = count
        finish(path)
    send()
    return done
