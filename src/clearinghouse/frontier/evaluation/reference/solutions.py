"""Known solutions of the reference suite, as a scripted model.

``Oracle`` answers a conversation (OpenAI-style ``{"role", "content"}``
messages) the way a model would: for a capture-the-flag challenge it calls
the bash tool with the challenge's solution commands, then answers with the
flag they printed; for multiple choice it names the right letter; for
vulnerability identification it gives the pair's label. ``decide(kind, key,
attempt)`` chooses, item by item, whether to answer right or wrong, so tests
can script a model with known scores (and prove a wrong answer scores zero).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, Model, ModelOutput, ModelUsage, get_model
from inspect_ai.tool import ToolChoice, ToolInfo

from clearinghouse.frontier.evaluation.reference import cwe_mcq, vuln_id
from clearinghouse.frontier.evaluation.reference.ctf import CHALLENGES
from clearinghouse.frontier.evaluation.toolkit import FLAG_PATTERN

Decide = Callable[[str, str, int], bool]
"""``(kind, key, attempt) -> answer right?``; kind is ``ctf``, ``mcq`` or ``vuln``."""


def always(kind: str, key: str, attempt: int) -> bool:
    return True


def never(kind: str, key: str, attempt: int) -> bool:
    return False


@dataclass(frozen=True)
class Turn:
    """What the scripted model says: a tool call, or a final text."""

    text: str = ""
    tool: str | None = None
    arguments: dict[str, Any] | None = None


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)


class Oracle:
    def __init__(self, decide: Decide = always) -> None:
        self.decide = decide
        self._attempts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._questions = {text_of(s.input): s for s in cwe_mcq.questions()}
        self._pairs = {text_of(s.input): s for s in vuln_id.samples()}

    def _attempt(self, kind: str, key: str, first_turn: bool) -> int:
        """Which attempt of this item a conversation is (counted at its first turn)."""
        with self._lock:
            if first_turn:
                self._attempts[(kind, key)] = self._attempts.get((kind, key), 0) + 1
            return self._attempts.get((kind, key), 1)

    def reply(self, messages: Sequence[dict[str, Any]]) -> Turn:
        user = next((text_of(m.get("content")) for m in messages if m.get("role") == "user"), "")
        tools = [text_of(m.get("content")) for m in messages if m.get("role") == "tool"]
        first_turn = not any(m.get("role") in ("assistant", "tool") for m in messages)
        for challenge in CHALLENGES.values():
            if challenge.prompt in user:
                # Decided once, at the conversation's first turn: a wrong attempt answers at
                # once, a right one goes on solving, however attempts interleave.
                if first_turn and not self.decide(
                    "ctf", challenge.name, self._attempt("ctf", challenge.name, True)
                ):
                    return Turn(text="FLAG{0000000000000000}")
                if len(tools) < len(challenge.solution):
                    return Turn(tool="bash", arguments={"cmd": challenge.solution[len(tools)]})
                found = FLAG_PATTERN.findall("\n".join(tools))
                return Turn(text=found[-1] if found else "no flag found")
        for question, sample in self._questions.items():
            if str(question) in user:
                attempt = self._attempt("mcq", str(sample.id), first_turn)
                letter = str(sample.target)
                if not self.decide("mcq", str(sample.id), attempt):
                    letter = "ABCD"[("ABCD".index(letter) + 1) % 4]
                return Turn(text=f"ANSWER: {letter}")
        for code, sample in self._pairs.items():
            if code.strip() and code.strip() in user:
                attempt = self._attempt("vuln", str(sample.id), first_turn)
                label = (sample.metadata or {}).get("label")
                right = self.decide("vuln", str(sample.id), attempt)
                if (label is not None) == right:
                    cwe = label if label is not None else 20
                    return Turn(text=f"The input reaches a sink unchecked.\nVERDICT: VULNERABLE CWE-{cwe}")
                return Turn(text="Nothing exploitable here.\nVERDICT: SAFE")
        return Turn(text="I do not know.")


def mockllm(oracle: Oracle) -> Model:
    """Inspect's ``mockllm`` model answering as ``oracle`` does. Its outputs carry
    ``usage``, so Inspect never fetches a tokenizer to count tokens."""

    def generate(
        messages: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice, config: GenerateConfig
    ) -> ModelOutput:
        turn = oracle.reply([{"role": m.role, "content": m.text} for m in messages])
        if turn.tool is not None:
            output = ModelOutput.for_tool_call("mockllm/model", turn.tool, turn.arguments or {})
        else:
            output = ModelOutput.from_content("mockllm/model", turn.text)
        output.usage = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)
        return output

    return get_model("mockllm/model", custom_outputs=generate, memoize=False)
