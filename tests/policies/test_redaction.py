"""Redaction of known values and common secret shapes, in text and in log records."""

from __future__ import annotations

import logging

import pytest

from agent_orchestrator.policies.redaction import REDACTED, RedactingFilter, Redactor

SHAPES = [
    "sk-abcdefghijklmnopqrstuvwxyz012345",
    "sk-proj-abcdefghijklmnopqrstuvwxyz_0123456789",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFG",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-1234567890-abcdefghij",
    "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
    "gsk_abcdefghijklmnopqrstuvwxyz012345",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
]
ASSIGNMENTS = [
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = "),
    ("DATABASE_PASSWORD=hunter2hunter2", "DATABASE_PASSWORD="),
    ('{"api_key": "abcd1234efgh5678"}', '{"api_key": "'),
    ("Authorization: Bearer abcdefghijklmnop.qrstuvwx", "Authorization: Bearer "),
]


@pytest.mark.parametrize("secret", SHAPES)
def test_common_shapes_are_redacted(secret: str) -> None:
    redacted = Redactor()(f"before {secret} after")
    assert secret not in redacted and REDACTED in redacted and redacted.startswith("before ")


@pytest.mark.parametrize(("text", "label"), ASSIGNMENTS)
def test_assignments_keep_their_label(text: str, label: str) -> None:
    redacted = Redactor()(text)
    assert redacted.startswith(label + REDACTED)


def test_known_values_of_any_shape_are_redacted() -> None:
    assert Redactor(["plain-looking-value"])("x plain-looking-value y") == f"x {REDACTED} y"


def test_ordinary_text_is_left_alone() -> None:
    text = "tests/test_x.py:12: assert total == 42 (token count 17, key order preserved)"
    assert Redactor()(text) == text


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    handler_filter = RedactingFilter(Redactor(["canary-log-secret"]))
    logger.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("calling with %s", "canary-log-secret")
    finally:
        logger.removeFilter(handler_filter)
    assert "canary-log-secret" not in caplog.text and REDACTED in caplog.text


def test_a_redacted_key_block_keeps_diff_lines_and_markers() -> None:
    diff = "+a = 1\n+-----BEGIN RSA PRIVATE KEY-----\n+MIIEowIBAAKCAQEA\n+-----END RSA PRIVATE KEY-----\n+b = 2\n"
    redacted = Redactor()(diff)
    assert redacted.count("\n") == diff.count("\n") and "MIIE" not in redacted
    assert all(line.startswith("+") for line in redacted.splitlines())
