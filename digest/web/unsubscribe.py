"""One-click unsubscribe (RFC 8058): GET shows a button and changes nothing; POST unsubscribes.

Mail scanners fetch every link in a mail, so a GET must not act. The POST a mailbox provider
sends carries `List-Unsubscribe=One-Click`, no cookie and no session: the token in the URL
is the only credential (hence no CSRF token: there is no session to ride), it is checked,
the address is suppressed before the reply, and the reply is a 200 page, not a redirect.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from digest.errors import InputError
from digest.pipeline import access, pages
from digest.tokens import Purpose
from digest.web.services import ServicesDep

router = APIRouter()
MAX_BODY_BYTES = 16 * 1024
ONE_CLICK = ("List-Unsubscribe", "One-Click")


@router.get("/unsubscribe/{token}")
def confirm_page(token: str, services: ServicesDep) -> Response:
    """A page with a button that POSTs; nothing changes."""
    subscriber = access.subscriber_for_token(
        services.engine, token, purpose=Purpose.UNSUBSCRIBE, secret=services.secret
    )
    view = pages.unsubscribe_page(subscriber, settings=services.settings)
    return services.page("unsubscribe.html", view=view)


@router.post("/unsubscribe/{token}")
async def unsubscribe(token: str, request: Request, services: ServicesDep) -> Response:
    """Suppress the address, then answer 200 (a repeat answers the same)."""
    # The token first: a forged one is a 404 whatever the body says. The database calls
    # are blocking, so they run in the thread pool, as a plain `def` handler's would.
    await run_in_threadpool(
        access.subscriber_for_token,
        services.engine,
        token,
        purpose=Purpose.UNSUBSCRIBE,
        secret=services.secret,
    )
    if not await _is_one_click(request):
        raise InputError("request", "expected the form field List-Unsubscribe=One-Click")
    subscriber = await run_in_threadpool(
        access.unsubscribe, services.engine, token, secret=services.secret, now=services.clock()
    )
    view = pages.unsubscribe_page(subscriber, settings=services.settings)
    return services.page("unsubscribed.html", view=view)


async def _is_one_click(request: Request) -> bool:
    """Whether the body says List-Unsubscribe=One-Click (urlencoded, multipart, or bare)."""
    name, value = ONE_CLICK
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=0, max_fields=8, max_part_size=1024)
        return form.get(name) == value
    body = await _read_body(request)
    return value in parse_qs(body.decode("latin-1")).get(name, [])


async def _read_body(request: Request) -> bytes:
    """The request body, refusing more than MAX_BODY_BYTES however it is sent."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InputError("request", f"the body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
