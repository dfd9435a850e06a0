"""A bare FastMCP server with one tool: the baseline for the Inspector round-trip benchmark."""

from __future__ import annotations

from fastmcp import FastMCP

server = FastMCP("bare")


@server.tool
def echo(text: str) -> str:
    """Return the text."""
    return text


if __name__ == "__main__":
    server.run(transport="stdio", show_banner=False)
