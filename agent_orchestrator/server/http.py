"""Serving MCP over streamable HTTP: a bearer token, loopback-only without one, listed browser origins only.

Decisions worth knowing:
- `AO_HTTP_TOKEN` set: every request, whatever its path, must carry `Authorization: Bearer <token>`
  (compared in constant time); anything else gets 401. The check is our own ASGI middleware rather
  than a fastmcp auth provider, so it covers every route, not only the MCP endpoint, and the token
  never becomes part of an access-token object or a middleware's repr (it stays a `SecretStr`).
- Without a token the server binds to loopback only (127.0.0.0/8, ::1, `localhost`) and says on
  stderr that any local process can call the tools; any other bind address refuses to start.
- `Origin`: only origins listed with `--allow-origin`, compared exactly after normalisation
  (scheme and host lower-cased, default port made explicit), get through; every other one is
  refused with 403. fastmcp's own guard treats any loopback `Origin` as same-origin with a
  loopback `Host` (`http://localhost:3000` passed on a server at 127.0.0.1:8765), which lets any
  page served from a local dev server drive the tools. Requests without an `Origin` header
  (non-browser clients) are not browser requests and pass this check.
- `Host`: fastmcp's guard, in strict mode, accepts only the bind address and loopback names.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastmcp import FastMCP
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from agent_orchestrator.config import Settings
from agent_orchestrator.errors import ConfigError, UsageError

TOKEN_VARIABLE = "AO_HTTP_TOKEN"
TOKEN_RECIPE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
MIN_TOKEN_CHARS = 16
# Visible ASCII: what fits an Authorization header unchanged (and what token_urlsafe produces).
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class HttpServing:
    """What `ao mcp serve --transport http` serves with, checked before anything starts."""

    host: str
    port: int
    token: SecretStr | None
    allowed_hosts: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    warning: str | None


def is_loopback(host: str) -> bool:
    """Whether a bind address is loopback: 127.0.0.0/8, ::1 (bracketed or not) or the name `localhost`."""
    name = host.strip().lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def normalize_origin(origin: str) -> str | None:
    """`scheme://host:port` (lower-case, default port explicit), or None when `origin` is no origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or not _valid_host(host):
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port if port is not None else _DEFAULT_PORTS[scheme]}"


def _valid_host(host: str) -> bool:
    """A DNS name or an IP address; no wildcard or other pattern characters (fastmcp would match them)."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    return _HOST_NAME.fullmatch(host) is not None


def http_token(settings: Settings) -> SecretStr | None:
    """The configured bearer token, checked for shape; None when unset or empty."""
    token = settings.ao_http_token
    if token is None or not token.get_secret_value():
        return None
    value = token.get_secret_value()
    if not _TOKEN_CHARS.fullmatch(value):
        raise ConfigError(
            f"{TOKEN_VARIABLE} must be printable ASCII without spaces (it goes in an Authorization header); "
            f"generate one with {TOKEN_RECIPE}"
        )
    if len(value) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"{TOKEN_VARIABLE} is {len(value)} characters; use at least {MIN_TOKEN_CHARS} "
            f"(generate one with {TOKEN_RECIPE})"
        )
    return token


def plan_http(settings: Settings, host: str, port: int, allow_origins: list[str]) -> HttpServing:
    """Check the bind address, the token and the listed origins; raise before anything is served."""
    token = http_token(settings)
    loopback = is_loopback(host)
    if token is None and not loopback:
        raise ConfigError(
            f"refusing to serve MCP over HTTP on {host!r} without authentication: any host that can "
            f"reach it could call the tools. Set {TOKEN_VARIABLE} to a random secret (generate one with "
            f"{TOKEN_RECIPE}) and have clients send 'Authorization: Bearer <token>', or bind to "
            "127.0.0.1 (the default)"
        )
    origins: list[str] = []
    for given in allow_origins:
        origin = normalize_origin(given)
        if origin is None:
            raise UsageError(
                f"--allow-origin {given!r} is not an origin; give scheme, host and optional port, "
                "e.g. http://localhost:3000 (no path, no wildcard)"
            )
        origins.append(origin)
    warning = None
    if token is None:
        warning = (
            f"ao: warning: serving MCP over HTTP on {host}:{port} without {TOKEN_VARIABLE}: any local "
            f"process can call the tools; set {TOKEN_VARIABLE} to require a bearer token"
        )
    return HttpServing(
        host=host,
        port=port,
        token=token,
        allowed_hosts=tuple(sorted({host, *LOOPBACK_NAMES})),
        allowed_origins=tuple(dict.fromkeys(origins)),
        warning=warning,
    )


class OriginGuard:
    """Refuse (403) every request whose `Origin` is not listed; requests without one pass."""

    def __init__(self, app: ASGIApp, allowed_origins: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = Headers(scope=scope).getlist("origin")
            if given and (len(given) > 1 or normalize_origin(given[0]) not in self.allowed):
                response = PlainTextResponse(
                    "Forbidden Origin: this server accepts only origins listed with --allow-origin", 403
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BearerGuard:
    """Refuse (401) every request without `Authorization: Bearer <token>`; compared in constant time."""

    def __init__(self, app: ASGIApp, token: SecretStr) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorized(Headers(scope=scope)):
            response = PlainTextResponse(
                f"Unauthorized: send 'Authorization: Bearer <token>' with the server's {TOKEN_VARIABLE}",
                401,
                headers={"WWW-Authenticate": 'Bearer realm="ao"'},
            )
            await response(scope, receive, send)
            return
        if scope["type"] == "websocket" and not self._authorized(Headers(scope=scope)):
            await send({"type": "websocket.close", "code": 1008})  # policy violation; no websocket routes anyway
            return
        await self.app(scope, receive, send)

    def _authorized(self, headers: Headers) -> bool:
        values = headers.getlist("authorization")
        if len(values) != 1:
            return False
        scheme, _, credentials = values[0].encode("latin-1").strip().partition(b" ")
        expected = self.token.get_secret_value().encode("ascii")
        # Constant time in the credentials' content; the scheme is checked after, so a wrong one costs the same.
        matches = hmac.compare_digest(credentials.strip(), expected)
        return matches and scheme.lower() == b"bearer"


def http_middleware(serving: HttpServing) -> list[Middleware]:
    """Origin first (a foreign page learns nothing else), then the bearer token when one is configured."""
    middleware = [Middleware(OriginGuard, allowed_origins=serving.allowed_origins)]
    if serving.token is not None:
        middleware.append(Middleware(BearerGuard, token=serving.token))
    return middleware


def serve_http(server: FastMCP, serving: HttpServing) -> None:
    """Serve until interrupted; the warning (no token on loopback) goes to stderr first."""
    if serving.warning is not None:
        print(serving.warning, file=sys.stderr, flush=True)
    server.run(
        transport="http",
        show_banner=False,
        host=serving.host,
        port=serving.port,
        middleware=http_middleware(serving),
        host_origin_protection=True,
        allowed_hosts=list(serving.allowed_hosts),
        allowed_origins=list(serving.allowed_origins),
    )
