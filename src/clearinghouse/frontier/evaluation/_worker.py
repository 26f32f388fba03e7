"""The evaluation worker: one Inspect eval in its own process.

``python -m clearinghouse.frontier.evaluation._worker PLAN`` reads the plan
(JSON written by the launch job: tasks with their files, epochs and limits,
the model, the log folder, the progress file), runs every task in one
``inspect_ai.eval`` call and keeps ``progress.json`` up to date (samples done
of samples total) as samples finish. It never touches the database: the
collect job reads the logs back. The endpoint's base URL and API key arrive
in this process's environment only (``ENDPOINT_BASE_URL``,
``ENDPOINT_API_KEY``), never in the plan, a log or a command line.

A watchdog thread looks for the plan's stop file four times a second: when
the campaign is stopped (its grant withdrawn or ended) it ends the worker's
whole process group at once, so no request reaches the endpoint after that.
Before the eval, one small request checks the endpoint answers at all: a
closed port or a refused key fails the campaign in seconds, not after every
sample has spent its retries.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import signal
import socket
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai import Epochs, Task, task_with
from inspect_ai import eval as inspect_eval
from inspect_ai.hooks import Hooks, SampleEnd, hooks
from inspect_ai.model import GenerateConfig, Model, get_model

STOP_FILE = "stop"
STOP_POLL_S = 0.25
PREFLIGHT_ATTEMPTS = 3
ENDPOINT_SERVICE = "endpoint"  # inspect's openai-api/<service>/<model>: ENDPOINT_BASE_URL, ENDPOINT_API_KEY


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_progress(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


@dataclass
class Progress:
    """The progress file, rewritten as samples end."""

    path: Path
    total: int
    done: int = 0
    state: str = "running"
    error: str | None = None
    logs: list[dict[str, str]] = field(default_factory=list)
    started_at: str = field(default_factory=now)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self) -> None:
        write_json(
            self.path,
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "state": self.state,
                "samples_total": self.total,
                "samples_done": min(self.done, self.total),
                "started_at": self.started_at,
                "updated_at": now(),
                "logs": self.logs,
                "error": self.error,
            },
        )

    def sample_done(self) -> None:
        with self._lock:
            self.done += 1
            self.write()


_current: Progress | None = None


@hooks(
    name="clearinghouse_progress", description="Counts finished samples into the campaign's progress file."
)
class ProgressHooks(Hooks):
    def enabled(self) -> bool:
        return _current is not None

    async def on_sample_end(self, data: SampleEnd) -> None:
        if _current is not None:
            _current.sample_done()


def stop_requested(plan: dict[str, Any]) -> bool:
    stop = plan.get("stop_file")
    return bool(stop) and Path(str(stop)).exists()


def watch_stop_file(plan: dict[str, Any], poll_s: float = STOP_POLL_S) -> threading.Thread | None:
    """End this process group as soon as the stop file appears (a daemon thread)."""
    if not plan.get("stop_file"):
        return None

    def watch() -> None:  # pragma: no cover - runs in the worker subprocess; ends it by SIGKILL
        while True:
            if stop_requested(plan):
                progress = Path(plan["progress_file"])
                data = read_progress(progress) or {}
                data.update(state="stopped", updated_at=now())
                try:
                    write_json(progress, data)
                finally:
                    os.killpg(os.getpgrp(), signal.SIGKILL)
            threading.Event().wait(poll_s)

    thread = threading.Thread(target=watch, name="stop-watchdog", daemon=True)
    thread.start()
    return thread


def generation_config(plan: dict[str, Any]) -> GenerateConfig:
    gen = plan.get("generation") or {}
    return GenerateConfig(
        temperature=gen.get("temperature"),
        seed=gen.get("seed"),
        max_tokens=gen.get("max_tokens"),
        max_retries=int(plan.get("max_retries", 3)),
        timeout=int(plan.get("request_timeout", 120)),
        attempt_timeout=int(plan.get("request_timeout", 120)),
    )


async def _ping(model: Model) -> None:
    await model.generate(
        "Reply with the single word: ready.",
        config=GenerateConfig(max_tokens=8, max_retries=1, timeout=30, attempt_timeout=30),
    )


def preflight(plan: dict[str, Any]) -> None:
    """One small request: raise (with the endpoint's error) if it cannot answer."""
    import anyio

    model = get_model(plan["model"])
    last: BaseException | None = None
    for attempt in range(PREFLIGHT_ATTEMPTS):
        try:
            anyio.run(_ping, model)
            return
        except Exception as exc:
            last = exc
            threading.Event().wait(1.0 + attempt)
    assert last is not None
    raise RuntimeError(f"the endpoint did not answer: {type(last).__name__}: {last}"[:2000]) from last


def load_task(directory: Path, file: str, function: str, args: dict[str, Any] | None = None) -> Task:
    """Import ``file`` from a suite folder and call its task function (with the manifest's
    ``args``)."""
    path = (directory / file).resolve()
    if directory.resolve() not in path.parents:
        raise ValueError(f"{file} is outside the suite folder")
    name = f"clearinghouse_suite_{abs(hash(str(path)))}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    made = getattr(module, function)(**(args or {}))
    if not isinstance(made, Task):
        raise TypeError(f"{file}:{function} did not return an inspect_ai Task")
    return made


def epochs_of(plan: dict[str, Any], entry: dict[str, Any]) -> int:
    return int(plan.get("epochs") or entry["epochs"])


def samples_of(plan: dict[str, Any], task: Task) -> int:
    limit = plan.get("sample_limit")
    return min(len(task.dataset), int(limit)) if limit else len(task.dataset)


def prepare(entry: dict[str, Any], epochs: int | None = None) -> Task:
    """A plan entry's task with the suite's epochs, limits and identity applied."""
    loaded = load_task(Path(entry["suite_dir"]), entry["file"], entry["function"], entry.get("args"))
    limits = entry.get("limits") or {}
    return task_with(
        loaded,
        epochs=Epochs(int(epochs or entry["epochs"])),
        message_limit=limits.get("messages"),
        token_limit=limits.get("tokens"),
        time_limit=limits.get("time"),
        metadata={**(loaded.metadata or {}), "clearinghouse_task_id": entry["task_id"]},
    )


def run_plan(plan: dict[str, Any], model: str | Model | None = None) -> list[dict[str, str]]:
    """Run the plan's tasks in one eval; returns ``[{task_id, log_file}]``.

    ``model`` overrides the plan's (tests pass a scripted ``mockllm`` model).
    """
    global _current
    log_dir = Path(plan["log_dir"])
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    entries = plan["tasks"]
    progress = Progress(Path(plan["progress_file"]), 0)
    try:
        if stop_requested(plan):
            progress.state = "stopped"
            return []
        tasks = [prepare(entry, epochs_of(plan, entry)) for entry in entries]
        progress.total = sum(
            samples_of(plan, t) * epochs_of(plan, e) for t, e in zip(tasks, entries, strict=True)
        )
        progress.write()
        if model is None:
            preflight(plan)
        _current = progress
        config = generation_config(plan)
        threshold = float(plan.get("max_error_rate", 0.05))
        logs = inspect_eval(
            tasks,
            model=model or plan["model"],
            log_dir=str(log_dir),
            log_format="eval",
            display="none",
            # stop a task once more than the campaign's share of its samples errored
            fail_on_error=threshold if 0.0 < threshold < 1.0 else (threshold == 0.0),
            max_tasks=int(plan.get("max_tasks", 4)),
            max_samples=int(plan.get("max_samples", 8)),
            limit=int(plan["sample_limit"]) if plan.get("sample_limit") else None,
            score_display=False,
            temperature=config.temperature,
            seed=config.seed,
            max_tokens=config.max_tokens,
            max_retries=config.max_retries,
            timeout=config.timeout,
            attempt_timeout=config.attempt_timeout,
        )
        progress.logs = [
            {"task_id": entry["task_id"], "log_file": Path(log.location).name}
            for entry, log in zip(entries, logs, strict=True)
        ]
        # the hook may not have seen the last samples end by now: the logs are the count
        if all(log.samples is not None for log in logs):
            progress.done = sum(len(log.samples or []) for log in logs)
        progress.state = "finished"
    except BaseException as exc:
        progress.state = "failed"
        progress.error = "".join(traceback.format_exception_only(exc)).strip()[-2000:]
        raise
    finally:
        _current = None
        progress.write()
    return progress.logs


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m clearinghouse.frontier.evaluation._worker PLAN.json", file=sys.stderr)
        return 2
    plan = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    watch_stop_file(plan)
    try:
        run_plan(plan)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - the subprocess entry point
    raise SystemExit(main())
