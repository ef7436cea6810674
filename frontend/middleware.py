"""Content-Security-Policy for HTML pages: scripts and styles from this site only, no
inline script, no framing. Every page loads its code (and the JavaScript catalog) as
external files, so the policy needs no nonces."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


def content_security_policy(request: HttpRequest) -> str:
    """Return the policy for a page served to this request.

    The room socket's own origin is named next to 'self': browsers from before CSP
    level 3 (Safari before 15.4, common on old iPhones) do not let 'self' match ws: or
    wss:. The host was checked against ALLOWED_HOSTS when the request came in.
    """
    socket_origin = f"{'wss' if request.is_secure() else 'ws'}://{request.get_host()}"
    return "; ".join(
        f"{directive} {socket_origin}" if directive.startswith("connect-src") else directive
        for directive in DIRECTIVES
    )


def add_policy(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    if response.get("Content-Type", "").startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request))
    return response


@sync_and_async_middleware
def ContentSecurityPolicyMiddleware(
    get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]:
    """Set the Content-Security-Policy header on HTML responses that have none yet."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return add_policy(request, await get_response(request))  # type: ignore[misc]

    else:

        def middleware(request: HttpRequest) -> HttpResponse:  # type: ignore[misc]
            return add_policy(request, get_response(request))  # type: ignore[arg-type]

    return middleware
