"""The lab itself, without the database: run a reproducer against one version N times, decide the
verdict, and bisect the released versions for the earliest affected and first fixed ones."""

from __future__ import annotations

import enum
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clearinghouse.intake import RunSpec
from clearinghouse.repro._ecosystems import Ecosystem, EnvironmentError_, Release
from clearinghouse.repro._outbound import FetchError
from clearinghouse.sandbox import Sandbox, SandboxLimits, SandboxResult

OUTPUT_TAIL = 4000


class Verdict(enum.StrEnum):
    RELIABLE = "reliable"
    FLAKY = "flaky"
    NOT_REPRODUCED = "not_reproduced"
    ERROR = "error"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class AttemptResult:
    reproduced: bool
    exit_code: int | None
    signal: int | None
    timed_out: bool
    crashed: bool
    duration_s: float
    stdout: bytes
    stderr: bytes


@dataclass
class VersionRun:
    version: str
    verdict: Verdict
    attempts: int = 0
    successes: int = 0
    reason: str | None = None
    duration_s: float = 0.0
    environment_s: float = 0.0
    artifact_sha256: str | None = None
    results: list[AttemptResult] = field(default_factory=list)

    @property
    def reproduced(self) -> bool | None:
        if self.verdict in (Verdict.ERROR, Verdict.UNSUPPORTED):
            return None
        return self.successes > 0

    def log(self) -> bytes:
        """What the runs printed, kept (encrypted) with the verdict."""
        entries: list[dict[str, Any]] = []
        for i, r in enumerate(self.results, 1):
            entries.append(
                {
                    "attempt": i,
                    "reproduced": r.reproduced,
                    "exit_code": r.exit_code,
                    "signal": r.signal,
                    "timed_out": r.timed_out,
                    "crashed": r.crashed,
                    "duration_s": round(r.duration_s, 4),
                    "stdout_tail": r.stdout[-OUTPUT_TAIL:].decode(errors="replace"),
                    "stderr_tail": r.stderr[-OUTPUT_TAIL:].decode(errors="replace"),
                }
            )
        doc = {
            "version": self.version,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "attempts": entries,
        }
        return json.dumps(doc, indent=1).encode()

    def log_sha256(self) -> str:
        return hashlib.sha256(self.log()).hexdigest()


def verdict_of(successes: int, attempts: int) -> Verdict:
    if successes == attempts and attempts > 0:
        return Verdict.RELIABLE
    if successes > 0:
        return Verdict.FLAKY
    return Verdict.NOT_REPRODUCED


def shows_vulnerability(spec: RunSpec, result: SandboxResult) -> bool:
    expect = spec.expect.model_dump()
    if "timeout" in expect:
        return result.timed_out
    if result.timed_out:
        return False
    if "crash" in expect:
        return result.crashed
    if "exit_code" in expect:
        return result.exit_code == int(expect["exit_code"])
    needle = str(expect["stdout_contains"]).encode()
    return needle in result.stdout


# Reproductions running at once in this process, at most the cores the lab may use.
_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _slot(workers: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if workers not in _slots:
            _slots[workers] = threading.BoundedSemaphore(workers)
        return _slots[workers]


@dataclass
class Lab:
    sandbox: Sandbox
    workers: int = 1
    on_attempt: Callable[[str, AttemptResult], None] | None = None

    def limits_for(self, spec: RunSpec) -> SandboxLimits:
        base = self.sandbox.limits
        return SandboxLimits(
            cpu_seconds=max(base.cpu_seconds, spec.timeout_s + 1),
            memory_bytes=base.memory_bytes,
            processes=base.processes,
            file_size_bytes=base.file_size_bytes,
            output_bytes=base.output_bytes,
            wall_seconds=float(spec.timeout_s),
            tmpfs_bytes=base.tmpfs_bytes,
        )

    def run_version(
        self,
        ecosystem: Ecosystem,
        package: str,
        version: str,
        spec: RunSpec,
        poc: bytes,
        attempts: int,
    ) -> VersionRun:
        started = time.monotonic()
        if spec.runtime.value not in ecosystem.runtimes:
            return VersionRun(
                version,
                Verdict.UNSUPPORTED,
                reason=f"runtime {spec.runtime.value} does not run {ecosystem.purl_type} packages",
            )
        try:
            env = ecosystem.environment(package, version)
        except (EnvironmentError_, FetchError) as exc:
            return VersionRun(version, Verdict.ERROR, reason=f"cannot install {package} {version}: {exc}")
        env_s = time.monotonic() - started
        mounts, env_vars = ecosystem.sandbox_view(env)
        argv = ecosystem.command(spec.runtime.value, spec.entrypoint)
        sandbox = Sandbox.__new__(Sandbox)
        sandbox.__dict__.update(self.sandbox.__dict__)
        sandbox.limits = self.limits_for(spec)
        run = VersionRun(
            version, Verdict.NOT_REPRODUCED, environment_s=env_s, artifact_sha256=env.artifact_sha256
        )
        with _slot(self.workers):
            smoke = sandbox.run(ecosystem.smoke(env), mounts=mounts, env=env_vars)
        if smoke.exit_code != 0:
            run.verdict = Verdict.ERROR
            tail = (smoke.stderr or smoke.stdout)[-1500:].decode(errors="replace").strip()
            run.reason = f"the installed {package} {version} cannot be loaded: {tail or smoke.exit_code}"
            run.duration_s = time.monotonic() - started
            return run
        for _ in range(attempts):
            with _slot(self.workers):
                result = sandbox.run(argv, files={spec.entrypoint: poc}, mounts=mounts, env=env_vars)
            attempt = AttemptResult(
                reproduced=shows_vulnerability(spec, result),
                exit_code=result.exit_code,
                signal=result.signal,
                timed_out=result.timed_out,
                crashed=result.crashed,
                duration_s=result.duration_s,
                stdout=result.stdout,
                stderr=result.stderr,
            )
            run.results.append(attempt)
            if self.on_attempt is not None:
                self.on_attempt(version, attempt)
        run.attempts = len(run.results)
        run.successes = sum(1 for r in run.results if r.reproduced)
        run.verdict = verdict_of(run.successes, run.attempts)
        run.duration_s = time.monotonic() - started
        return run


@dataclass
class Bisection:
    first_affected: str | None
    first_fixed: str | None
    last_affected: str | None
    first_affected_exact: bool
    probes: dict[str, bool | None]
    releases_considered: int
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_affected": self.first_affected,
            "first_fixed": self.first_fixed,
            "last_affected": self.last_affected,
            "first_affected_exact": self.first_affected_exact,
            "probes": self.probes,
            "releases_considered": self.releases_considered,
            "note": self.note,
        }


def bisect(
    releases: list[Release],
    claimed: str,
    probe: Callable[[str], bool | None],
    *,
    version_key: Callable[[str], Any],
    is_prerelease: Callable[[str], bool],
    known: dict[str, bool | None] | None = None,
) -> Bisection:
    """Binary searches over the released versions (not yanked, no pre-releases, plus the claimed
    one), assuming the bug lives in one contiguous span that includes ``claimed``. A version that
    cannot be installed is skipped for its nearest neighbour."""
    versions = sorted(
        {r.version for r in releases if not r.yanked and not is_prerelease(r.version)} | {claimed},
        key=version_key,
    )
    probes: dict[str, bool | None] = dict(known or {})

    def look(i: int) -> bool | None:
        v = versions[i]
        if v not in probes:
            probes[v] = probe(v)
        return probes[v]

    c = versions.index(claimed)
    if look(c) is not True:
        return Bisection(
            None, None, None, False, probes, len(versions), "the claimed version does not reproduce"
        )

    def search(lo: int, hi: int, affected_low: bool) -> tuple[int, int]:
        """Narrow ``lo``..``hi`` to neighbours; ``affected_low``: ``lo`` reproduces and ``hi`` does
        not (the fix above), else the reverse (the introduction below)."""
        while hi - lo > 1:
            mid = (lo + hi) // 2
            answer = None
            for j in [mid, *range(mid + 1, hi), *range(mid - 1, lo, -1)]:
                answer = look(j)
                if answer is not None:
                    mid = j
                    break
            if answer is None:
                break
            if answer == affected_low:
                lo = mid
            else:
                hi = mid
        return lo, hi

    # First fixed: above the claimed version.
    last = len(versions) - 1
    first_fixed: str | None = None
    last_affected = claimed
    note = ""
    top = last
    while top > c and look(top) is None:
        top -= 1
    if top > c:
        if look(top):
            last_affected = versions[top]
            note = "the newest installable release still reproduces"
        else:
            lo, hi = search(c, top, True)
            first_fixed, last_affected = versions[hi], versions[lo]
    # Earliest affected: below the claimed version.
    bottom = 0
    while bottom < c and look(bottom) is None:
        bottom += 1
    exact = bottom == 0
    if bottom >= c or look(bottom):
        first_affected = versions[bottom if bottom < c else c]
    else:
        _lo, hi = search(bottom, c, False)
        first_affected = versions[hi]
    return Bisection(first_affected, first_fixed, last_affected, exact, probes, len(versions), note)
