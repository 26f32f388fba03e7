"""The suite manifest (``suite.yaml``) and a suite's files (pure).

A suite is a folder: ``suite.yaml`` and the Python files that define its
Inspect tasks (plus any data they read). See ``docs/frontier-evaluation.md``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from clearinghouse.access import TLP as Tlp
from clearinghouse.access import Classification, Marking
from clearinghouse.errors import InvalidInput

MANIFEST = "suite.yaml"
MAX_FILES = 500
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_SUITE_BYTES = 20 * 1024 * 1024
# suite.yaml is bounded before it is parsed (issue 14, defect 10): PyYAML's scanner
# is quadratic in nesting and its composer recursive, so a deeply nested manifest
# took seconds and ended in a 500. Nothing a suite needs nests deeper than this.
MAX_MANIFEST_BYTES = 256 * 1024
MAX_MANIFEST_DEPTH = 16
_OPENS = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSES = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
IDENT = r"^[a-z][a-z0-9_]{0,62}$"
SAFE_PATH = re.compile(r"[A-Za-z0-9_.\-/]+")
MetricName = Literal["accuracy", "precision", "recall", "f1"]
_strict = ConfigDict(extra="forbid")


class LimitsSpec(BaseModel):
    model_config = _strict
    messages: Annotated[int, Field(ge=1, le=10_000)] | None = None
    tokens: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    time: Annotated[int, Field(ge=1, le=7 * 24 * 3600, description="seconds per sample")] | None = None

    def merged(self, over: LimitsSpec | None) -> LimitsSpec:
        if over is None:
            return self
        return LimitsSpec(
            messages=over.messages or self.messages,
            tokens=over.tokens or self.tokens,
            time=over.time or self.time,
        )


class MarkingSpec(BaseModel):
    model_config = _strict
    classification: Classification = Classification.UNCLASSIFIED
    compartments: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )

    def to_marking(self, owner_org_id: str) -> Marking:
        # Suites are shared across government evaluators: TLP does not restrict them,
        # classification and compartments do (see access/_policy.py, frontier evaluation).
        return Marking(
            owner_org_id=owner_org_id,
            tlp=Tlp.GREEN,
            classification=self.classification,
            compartments=frozenset(c.strip().upper() for c in self.compartments),
        )


class Defaults(BaseModel):
    model_config = _strict
    epochs: Annotated[int, Field(ge=1, le=100)] = 1
    limits: LimitsSpec = Field(default_factory=LimitsSpec)


# Task arguments a manifest may pass to its task function (``exploit_tier1(packages="real")``).
ArgName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,49}$")]
ArgValue = Annotated[str, Field(max_length=500)] | bool | int | float


class TaskSpec(BaseModel):
    model_config = _strict
    name: Annotated[str, Field(pattern=IDENT)]
    file: Annotated[str, Field(min_length=1, max_length=300)]
    function: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")]
    group: Annotated[str, Field(pattern=IDENT)] | None = None
    tier: Annotated[int, Field(ge=1, le=9)] | None = None
    epochs: Annotated[int, Field(ge=1, le=100)] | None = None
    pass_at: list[Annotated[int, Field(ge=1, le=100)]] = Field(default_factory=list, max_length=10)
    metrics: list[MetricName] = Field(default_factory=lambda: ["accuracy"], min_length=1)  # type: ignore[arg-type]
    limits: LimitsSpec | None = None
    marking: MarkingSpec | None = None
    description: Annotated[str, Field(max_length=2000)] = ""
    args: dict[ArgName, ArgValue] = Field(default_factory=dict, max_length=20)

    @property
    def metric_group(self) -> str:
        return self.group or self.name


class SuiteManifest(BaseModel):
    model_config = _strict
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,99}$")]
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-+_]{0,49}$")]
    description: Annotated[str, Field(max_length=5000)] = ""
    marking: MarkingSpec = Field(default_factory=MarkingSpec)
    defaults: Defaults = Field(default_factory=Defaults)
    tasks: list[TaskSpec] = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> SuiteManifest:
        seen: set[str] = set()
        for i, spec in enumerate(self.tasks):
            if spec.name in seen:
                raise ValueError(f"/tasks/{i}/name: task {spec.name!r} appears twice")
            seen.add(spec.name)
            epochs = spec.epochs or self.defaults.epochs
            for j, k in enumerate(spec.pass_at):
                if k > epochs:
                    raise ValueError(
                        f"/tasks/{i}/pass_at/{j}: pass@{k} needs at least {k} epochs, not {epochs}"
                    )
        groups: dict[str, list[TaskSpec]] = {}
        for spec in self.tasks:
            groups.setdefault(spec.metric_group, []).append(spec)
        for i, spec in enumerate(self.tasks):
            members = groups[spec.metric_group]
            if spec.metric_group != spec.name and spec.metric_group in seen:
                raise ValueError(f"/tasks/{i}/group: {spec.metric_group!r} is also a task's name")
            if len(members) > 1 and spec.name.startswith("tier") and spec.name[4:].isdigit():
                raise ValueError(f"/tasks/{i}/name: a grouped task may not be named like a tier")
        return self

    def epochs_of(self, spec: TaskSpec) -> int:
        return spec.epochs or self.defaults.epochs

    def limits_of(self, spec: TaskSpec) -> LimitsSpec:
        return self.defaults.limits.merged(spec.limits)


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(part) for part in loc) if loc else "/"


def _check_shape(text: str, pointer: str) -> None:
    """Refuse an oversized, deeply nested or alias-using manifest before parsing it.
    The tokens are read lazily and the scan stops at the first level too deep, so
    the check itself costs no more than a manifest of the allowed depth."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MANIFEST_BYTES:
        raise InvalidInput(f"{MANIFEST} is larger than {MAX_MANIFEST_BYTES} bytes", pointer)
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, _OPENS):
                depth += 1
                if depth > MAX_MANIFEST_DEPTH:
                    line = token.start_mark.line + 1
                    raise InvalidInput(
                        f"{MANIFEST} is nested deeper than {MAX_MANIFEST_DEPTH} levels (line {line})", pointer
                    )
            elif isinstance(token, _CLOSES):
                depth -= 1
            elif isinstance(token, (yaml.AliasToken, yaml.AnchorToken)):
                line = token.start_mark.line + 1
                raise InvalidInput(f"{MANIFEST} may not use anchors or aliases (line {line})", pointer)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"suite.yaml is not valid YAML: {exc}", pointer) from None


def parse_manifest(text: str, pointer: str = "/manifest") -> SuiteManifest:
    """The manifest in ``text`` (YAML); :class:`InvalidInput` naming the field otherwise."""
    _check_shape(text, pointer)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"suite.yaml is not valid YAML: {exc}", pointer) from None
    if not isinstance(data, dict):
        raise InvalidInput("suite.yaml must be a mapping", pointer)
    try:
        return SuiteManifest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"])
        where = _pointer(tuple(error["loc"]))
        if message.startswith("Value error, /"):
            where, _, message = message.removeprefix("Value error, ").partition(": ")
        raise InvalidInput(message, pointer + (where if where != "/" else "")) from None


def check_path(name: str, pointer: str) -> str:
    """A relative POSIX path inside the suite (no ``..``, not absolute, no hidden parts)."""
    path = PurePosixPath(name)
    if (
        not name
        or len(name) > 300
        or not SAFE_PATH.fullmatch(name)
        or path.is_absolute()
        or any(part in ("", ".", "..") or part.startswith(".") for part in path.parts)
    ):
        raise InvalidInput(f"{name!r} is not a relative path inside the suite", pointer)
    return path.as_posix()


def check_files(files: dict[str, bytes]) -> SuiteManifest:
    """Validate a suite's files (sizes, paths, the manifest and the task files it names)."""
    if len(files) > MAX_FILES:
        raise InvalidInput(f"a suite holds at most {MAX_FILES} files", "/files")
    total = 0
    for name, content in files.items():
        check_path(name, f"/files/{name}")
        if len(content) > MAX_FILE_BYTES:
            raise InvalidInput(f"{name} is larger than {MAX_FILE_BYTES} bytes", f"/files/{name}")
        total += len(content)
    if total > MAX_SUITE_BYTES:
        raise InvalidInput(f"the suite is larger than {MAX_SUITE_BYTES} bytes", "/files")
    if MANIFEST not in files:
        raise InvalidInput(f"a suite needs a {MANIFEST}", f"/files/{MANIFEST}")
    try:
        text = files[MANIFEST].decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{MANIFEST} is not UTF-8", f"/files/{MANIFEST}") from None
    _check_shape(text, f"/files/{MANIFEST}")
    manifest = parse_manifest(text)
    for i, spec in enumerate(manifest.tasks):
        name = check_path(spec.file, f"/manifest/tasks/{i}/file")
        if name not in files or not name.endswith(".py"):
            raise InvalidInput(
                f"the task file {spec.file!r} is not a .py file of the suite", f"/manifest/tasks/{i}/file"
            )
    return manifest


def read_suite_dir(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (hidden files and ``__pycache__`` left out)."""
    if not (root / MANIFEST).is_file():
        raise InvalidInput(f"{root} has no {MANIFEST}", "/path")
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            if len(files) >= MAX_FILES:
                raise InvalidInput(f"a suite holds at most {MAX_FILES} files", "/path")
            files[rel.as_posix()] = path.read_bytes()
    return files


def digest(files: dict[str, bytes]) -> str:
    """SHA-256 over the sorted (path, SHA-256 of content) pairs: the suite's content version."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).hexdigest().encode() + b"\n")
    return h.hexdigest()


def file_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
