"""The reproduction lab on its evaluation set: real vulnerabilities from the advisories in the corpus,
each with a proof of concept written for the lab (``bench/repro_cases/``), run against the affected
and fixed releases fetched from the real registries (PyPI, npm) into a cache.

Prints per case: the verdict on the affected release (N attempts), the reproductions on the fixed
release, the bisected first-fixed release against the advisory's, and the rerun overhead in the
cached environment over the PoC's own time (measured inside the same sandbox), then the totals
against the targets: >= 90 % reliable, 0 reproductions on fixed, rerun overhead <= 2 s.

    uv run --frozen python bench/repro.py [--attempts 5] [--no-bisect] [--cases ID ...]

Needs bubblewrap and the registries (set CLEARINGHOUSE_REPRO_ALLOW_INTERNAL=1 where they resolve to
a private address, e.g. behind a mirror); the cache is CLEARINGHOUSE_REPRO_CACHE (default
/tmp/clearinghouse-repro-bench), so a second run fetches and installs nothing.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from clearinghouse.config import Settings
from clearinghouse.domain.finding import RunSpec
from clearinghouse.repro._ecosystems import adapter_for
from clearinghouse.repro._lab import Lab, Verdict, bisect
from clearinghouse.repro._settings import ReproSettings
from clearinghouse.repro.services import compare
from clearinghouse.sandbox import Sandbox, SandboxLimits

CASES = Path(__file__).parent / "repro_cases"
CORPUS = Path(os.environ.get("CLEARINGHOUSE_CORPUS", "/work/shared/corpus"))
OVERHEAD_TARGET_S = 2.0


def advisory_fixed(path: Path) -> list[str]:
    """The first fixed versions an advisory names (nodejs-security-wg JSON or PyPA OSV YAML)."""
    text = path.read_text()
    if path.suffix == ".json":
        patched = json.loads(text).get("patched_versions") or ""
        return re.findall(r">=\s*([0-9][0-9A-Za-z.+-]*)", patched)
    return [v for v in re.findall(r"- fixed: '?([^'\s]+)'?", text) if not re.fullmatch(r"[0-9a-f]{40}", v)]


def own_time(
    sandbox: Sandbox, argv: list[str], files: dict[str, bytes], view: tuple[Any, Any]
) -> float | None:
    """The PoC's own run time, timed by a shell inside the same sandbox (interpreter start included)."""
    mounts, env = view
    wrapped = [
        "/bin/sh",
        "-c",
        't0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $((t1-t0))',
        "sh",
    ]
    result = sandbox.run([*wrapped, *argv], files=files, mounts=mounts, env=env)
    try:
        return int(result.stdout.strip()) / 1e9
    except ValueError:
        return None


def probe(
    lab: Lab, ecosystem: Any, package: str, spec: RunSpec, poc: bytes, attempts: int, version: str
) -> bool | None:
    return lab.run_version(ecosystem, package, version, spec, poc, attempts).reproduced


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument(
        "--reruns", type=int, default=3, help="reruns in the cached environment for the overhead"
    )
    parser.add_argument("--no-bisect", action="store_true")
    parser.add_argument("--cases", nargs="*", default=[])
    args = parser.parse_args()

    manifest = json.loads((CASES / "manifest.json").read_text())
    env = dict(os.environ)
    env.setdefault("CLEARINGHOUSE_REPRO_CACHE", "/tmp/clearinghouse-repro-bench")
    settings = ReproSettings.from_env(Settings.from_env(), env)
    settings.ensure_cache()
    sandbox = Sandbox(SandboxLimits(memory_bytes=4 << 30, processes=128, wall_seconds=600.0, cpu_seconds=600))
    lab = Lab(sandbox)
    rows: list[dict[str, Any]] = []
    overheads: list[float] = []
    rerun_walls: list[float] = []
    started = time.monotonic()
    for case in manifest["cases"]:
        if args.cases and case["id"] not in args.cases:
            continue
        ecosystem = adapter_for(case["ecosystem"], settings)
        assert ecosystem is not None
        spec = RunSpec.model_validate(
            {
                "runtime": case["runtime"],
                "entrypoint": case["poc"],
                "expect": case["expect"],
                "timeout_s": case["timeout_s"],
            }
        )
        poc = (CASES / case["poc"]).read_bytes()
        affected = lab.run_version(ecosystem, case["package"], case["affected"], spec, poc, args.attempts)
        fixed = lab.run_version(ecosystem, case["package"], case["fixed"], spec, poc, args.attempts)
        row: dict[str, Any] = {
            "id": case["id"],
            "affected": f"{case['affected']}: {affected.verdict.value} "
            f"{affected.successes}/{affected.attempts}",
            "fixed": f"{case['fixed']}: {fixed.successes}/{fixed.attempts} reproduced",
            "verdict": affected.verdict.value,
            "fixed_reproductions": fixed.successes,
            "error": affected.reason or fixed.reason,
        }
        advisory = advisory_fixed(CORPUS / case["advisory"])
        row["advisory_first_fixed"] = advisory
        if not args.no_bisect and affected.verdict in (Verdict.RELIABLE, Verdict.FLAKY):
            releases = ecosystem.releases(case["package"])
            known = {affected.version: affected.reproduced, fixed.version: fixed.reproduced}
            found = bisect(
                releases,
                case["affected"],
                functools.partial(
                    probe, lab, ecosystem, case["package"], spec, poc, settings.bisect_attempts
                ),
                version_key=ecosystem.version_key,
                is_prerelease=ecosystem.is_prerelease,
                known=known,
            )
            _comparisons, agrees = compare(
                found,
                None,
                None,
                [{"advisory": case["advisory"], "introduced": [], "fixed": advisory}],
                ecosystem,
            )
            row["bisected_first_fixed"] = found.first_fixed
            row["first_affected"] = found.first_affected
            row["agrees"] = agrees
            row["probes"] = len(found.probes)
        # Rerun overhead in the cached environment: the lab's wall time per attempt minus the PoC's own.
        if "timeout" not in case["expect"] and affected.verdict is not Verdict.ERROR:
            env_obj = ecosystem.environment(case["package"], case["affected"])
            view = ecosystem.sandbox_view(env_obj)
            argv = ecosystem.command(spec.runtime.value, spec.entrypoint)
            per_case = []
            for _ in range(args.reruns):
                t0 = time.monotonic()
                lab.run_version(ecosystem, case["package"], case["affected"], spec, poc, 1)
                wall = time.monotonic() - t0
                own = own_time(lab.sandbox, argv, {spec.entrypoint: poc}, view)
                rerun_walls.append(wall)
                if own is not None:
                    per_case.append(wall - own)
            if per_case:
                row["overhead_s"] = round(statistics.median(per_case), 3)
                overheads.extend(per_case)
        rows.append(row)
        print(json.dumps(row), flush=True)
    total = time.monotonic() - started

    print()
    print(f"{'case':32} {'affected (N runs)':30} {'fixed':26} {'bisected fixed':14} {'advisory':12} overhead")
    for r in rows:
        adv = ",".join(r["advisory_first_fixed"])
        bis = str(r.get("bisected_first_fixed", "-"))
        mark = {True: "agrees", False: "DISAGREES", None: ""}[r.get("agrees")]
        oh = f"{r['overhead_s']:.2f} s" if "overhead_s" in r else "n/a (timeout PoC)"
        print(f"{r['id']:32} {r['affected']:30} {r['fixed']:26} {bis:14} {adv:12} {oh} {mark}")
    n = len(rows)
    reliable = sum(1 for r in rows if r["verdict"] == Verdict.RELIABLE)
    fixed_repro = sum(r["fixed_reproductions"] for r in rows)
    bisected = [r for r in rows if "agrees" in r]
    agree = sum(1 for r in bisected if r["agrees"])
    print()
    print(f"reliable on affected: {reliable}/{n} = {reliable / max(n, 1):.0%} (target >= 90%)")
    print(f"reproductions on fixed releases: {fixed_repro} (target 0)")
    if bisected:
        print(
            f"bisected first-fixed equal to the advisory's: {agree}/{len(bisected)} "
            "(the others are shown above)"
        )
    if overheads:
        median = statistics.median(overheads)
        print(
            f"rerun overhead in a cached environment over the PoC's own time: median {median:.3f} s, "
            f"max {max(overheads):.3f} s; ratio to the 2 s target: {median / OVERHEAD_TARGET_S:.2f}"
        )
    if rerun_walls:
        print(
            "reproductions per minute (cached reruns, one at a time): "
            f"{60 / statistics.mean(rerun_walls):.1f}"
        )
    print(f"whole run: {total:.0f} s")
    return 0 if reliable >= 0.9 * n and fixed_repro == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
