"""Endpoint URLs: checked, normalised and shown without credentials.

Low in the dependency order because settings validate base URLs when they are read (a port of
99999 is a configuration error, not a failure at the first model call) and providers compare
endpoints to decide which key may go where.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidURLError(ValueError):
    """A base URL that cannot name an HTTP endpoint; the message never contains credentials."""


def split_http_url(url: str) -> SplitResult:
    """Split an http(s) URL with a host and a valid port, or raise `InvalidURLError`."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"base URL {strip_credentials(text)!r} is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise InvalidURLError(f"base URL {strip_credentials(text)!r} must be an http(s) URL with a host")
    if port == 0:
        raise InvalidURLError(f"base URL {strip_credentials(text)!r} has port 0; use a port from 1 to 65535")
    return parts


def normalize_base_url(url: str | None) -> str | None:
    """Lower-case scheme and host, drop credentials, default ports and a trailing slash."""
    if not url or not url.strip():
        return None
    parts = split_http_url(url)
    scheme = parts.scheme.lower()
    port = parts.port if parts.port not in (None, _DEFAULT_PORTS[scheme]) else None
    host = (parts.hostname or "").lower()
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def strip_credentials(url: str) -> str:
    """The URL without its `user:password@` part, so it can be shown; tolerant of URLs too broken to split."""
    head, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    return f"{head}{sep}{authority}{slash}{tail}"


def url_password(url: str | None) -> str | None:
    """The password embedded in a URL, if any (so redaction knows it as a secret value)."""
    if not url:
        return None
    try:
        return urlsplit(url.strip()).password or None
    except ValueError:
        return None
