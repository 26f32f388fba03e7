"""Request-scoped dependencies: the runtime, the subject, units of work.

The dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in
the thread pool, one hand-off (and a trip through the interpreter lock) per dependency per
request. Only the token lookup needs the database, and only when a token is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from clearinghouse.access import ANONYMOUS, Subject
from clearinghouse.access.services import authenticate_token
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor, UnitOfWork

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer chs_…`")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _authenticate(runtime: Runtime, secret: str) -> Subject | None:
    with runtime.uow(Actor.system("auth"), write=False) as uow:
        return authenticate_token(uow.session, secret)


async def get_subject(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Subject:
    """The caller: anonymous without a token, 401 with a bad one."""
    if credentials is None:
        return ANONYMOUS
    subject = await run_in_threadpool(_authenticate, runtime, credentials.credentials)
    if subject is None:
        raise HTTPException(
            401,
            "the token is unknown, expired or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return subject


@dataclass(frozen=True)
class Context:
    """What a view needs: who is asking, and where to read and write."""

    runtime: Runtime
    subject: Subject

    @property
    def actor(self) -> Actor:
        if self.subject.user_id is None:
            return Actor.system("anonymous")
        return Actor.user(self.subject.user_id)

    def writing(self) -> UnitOfWork:
        return self.runtime.uow(self.actor, write=True)

    def reading(self) -> UnitOfWork:
        return self.runtime.uow(self.actor, write=False)


async def get_context(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    subject: Annotated[Subject, Depends(get_subject)],
) -> Context:
    return Context(runtime, subject)


async def require_signed_in(context: Annotated[Context, Depends(get_context)]) -> Context:
    if not context.subject.authenticated:
        raise HTTPException(401, "sign in with a Bearer token", headers={"WWW-Authenticate": "Bearer"})
    return context


CurrentContext = Annotated[Context, Depends(get_context)]
SignedIn = Annotated[Context, Depends(require_signed_in)]
