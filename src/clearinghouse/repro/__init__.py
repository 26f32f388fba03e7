"""The reproduction lab: run a finding's proof of concept in the sandbox against the claimed, fixed
and bisected versions of its package (see ``docs/reproduction.md``)."""

from clearinghouse.repro._lab import Verdict
from clearinghouse.repro.services import REPRO_JOB, request_reproduction, status_of

__all__ = ["REPRO_JOB", "Verdict", "request_reproduction", "status_of"]
