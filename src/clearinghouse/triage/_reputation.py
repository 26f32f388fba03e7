"""Finder-pipeline reputation: a Beta posterior on each pipeline's validity rate,
and intake budgets that grow as its findings are validated.

A pipeline starts at the prior Beta(1, 1) (validity 0.5, nothing known). Each
analyst decision updates it: validated adds to alpha, rejected to beta. A
pipeline's daily budget for the main queue is ``BASE_BUDGET + PER_VALIDATED *
validated``; findings beyond it, or from a pipeline whose validity has fallen
below ``LOW_SIGNAL`` after ``MIN_DECISIONS`` decisions, go to the cold queue.
Cold findings are stored and checked like any other and analysts can open
them; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from clearinghouse.storage import utcnow
from clearinghouse.triage.models import PipelineReputation

PRIOR_ALPHA = 1.0
PRIOR_BETA = 1.0
BASE_BUDGET = 50
PER_VALIDATED = 20
LOW_SIGNAL = 0.2
MIN_DECISIONS = 10

MAIN = "main"
COLD = "cold"


@dataclass(frozen=True)
class Standing:
    generator_key: str
    validated: int
    rejected: int
    received: int
    validity: float  # posterior mean
    lower_bound: float  # 5th percentile of the posterior, by normal approximation
    daily_budget: int
    received_today: int
    low_signal: bool


def posterior(validated: int, rejected: int) -> tuple[float, float]:
    return PRIOR_ALPHA + validated, PRIOR_BETA + rejected


def standing(rep: PipelineReputation) -> Standing:
    alpha, beta = posterior(rep.validated, rep.rejected)
    n = alpha + beta
    mean = alpha / n
    variance = alpha * beta / (n * n * (n + 1))
    decisions = rep.validated + rep.rejected
    today = utcnow().date()
    return Standing(
        generator_key=rep.generator_key,
        validated=rep.validated,
        rejected=rep.rejected,
        received=rep.received,
        validity=mean,
        lower_bound=max(0.0, mean - 1.645 * variance**0.5),
        daily_budget=BASE_BUDGET + PER_VALIDATED * rep.validated,
        received_today=rep.received_today if rep.day == today else 0,
        low_signal=decisions >= MIN_DECISIONS and mean < LOW_SIGNAL,
    )


def reputation_for(session: Session, generator_key: str) -> PipelineReputation:
    rep = session.get(PipelineReputation, generator_key, with_for_update=True)
    if rep is None:
        rep = PipelineReputation(
            generator_key=generator_key,
            validated=0,
            rejected=0,
            received=0,
            day=utcnow().date(),
            received_today=0,
            cold_today=0,
        )
        session.add(rep)
    return rep


def admit(session: Session, generator_key: str, cache: dict[str, PipelineReputation] | None = None) -> str:
    """Count one new finding from a pipeline and say which queue it joins. ``cache`` keeps each
    pipeline's row (read once, locked) across the findings of one transaction."""
    rep = cache.get(generator_key) if cache is not None else None
    if rep is None:
        rep = reputation_for(session, generator_key)
        if cache is not None:
            cache[generator_key] = rep
    today = utcnow().date()
    if rep.day != today:
        rep.day, rep.received_today, rep.cold_today = today, 0, 0
    now = standing(rep)
    rep.received += 1
    rep.received_today += 1
    if now.low_signal or now.received_today >= now.daily_budget:
        rep.cold_today += 1
        return COLD
    return MAIN


def record_decision(session: Session, generator_key: str, *, validated: bool) -> None:
    rep = reputation_for(session, generator_key)
    if validated:
        rep.validated += 1
    else:
        rep.rejected += 1
