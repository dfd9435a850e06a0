"""Neutralise the programs a repository's own git config names, before any git command runs.

Why: git runs programs its config names (`diff.external`, `filter.<x>.clean` selected by
`.git/info/attributes`, textconv, `core.fsmonitor`, pagers, editors, aliases, credential helpers,
hooks...), and everything in a workspace is hostile, `.git/config` and what it includes too. Git has
no switch to ignore repository config, so before each git command `git config --list --show-scope
--show-origin --includes -z` (runs nothing: checked on git 2.39 with every key below pointing at a
marker script) lists it, and every program-valued key of scope local or worktree (files it includes
report that scope) is overridden through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`,
which beat every config file. The override is the user's own (system/global) value of that key when
there is one, else a value that makes git run nothing. User config is the user's and stays.

Values checked on git 2.39.5 with a marker script (tests/policies/test_git_config.py keeps the main ones):
- `filter.<x>.clean|smudge|process=""` skip the filter; `filter.<x>.required=false` so git does not die.
- `diff.external`, `diff.<x>.command`, `diff.<x>.textconv`, `tar.<x>.command`, `merge.<x>.driver`,
  `remote.<x>.vcs`, `alias.<x>` = "": git runs nothing; a command that needed the program fails
  ("cannot run"), while `--no-ext-diff --no-textconv` (repo/git.py passes both) work as usual.
- `core.pager=cat`, `pager.<cmd>=false`; `core.editor`/`sequence.editor=":"` (git's no-op editor);
  `core.askPass=""`; `core.sshCommand=ssh`; `gpg.program`/`gpg.<format>.program`: git's defaults.
- `credential.helper=""` empties the helper list; the user's helpers are then added back in order.
- `core.gitProxy` is read first-match-wins, so an override cannot beat it: `GIT_PROXY_COMMAND=""` does.
- `remote.<x>.uploadpack|receivepack` are also first-wins and have no such variable: the command is
  refused, naming the key and its file.
- Always: `core.fsmonitor=false`, `core.hooksPath=/dev/null` (the default hooks dir is in the hostile
  `.git`), and no git inside submodules (`diff.ignoreSubmodules=all`, `submodule.<name>.ignore=all` for
  every submodule named in the config or `.gitmodules`, recursion flags refused): a submodule's own
  config is not listed here, and `git status` would otherwise run `git status` inside it.
Not checked (their commands are never allowlisted, or need a GUI, a mail server or a terminal):
difftool/mergetool/browser/man/guitool commands, `sendemail.*`, `imap.tunnel`, `interactive.diffFilter`.

The listing costs one short git process per git command (about 1-2 ms), so it is not cached: a cache
keyed on config files' mtimes would also have to cover repository discovery, included files created
later and `includeIf` conditions, and a stale hit would run what it should have neutralised.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from agent_orchestrator.errors import PolicyViolation

RULE = "command.git_config"
_LIST_ARGS = ("config", "--list", "--show-scope", "--show-origin", "--includes", "-z")
_LIST_TIMEOUT_S = 15.0
_USER_SCOPES = frozenset({"system", "global"})

# Set for every git command, whatever the config says (`core.hooksPath` keeps the user's own value).
_ALWAYS: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hookspath", "/dev/null"),
    ("diff.ignoresubmodules", "all"),
    ("status.submodulesummary", "false"),
    ("submodule.recurse", "false"),
)
# `section.name` keys (no subsection) that name a program, and the value that runs nothing.
_KEYS: dict[str, str] = {
    "core.pager": "cat",
    "core.editor": ":",
    "sequence.editor": ":",
    "core.askpass": "",
    "core.sshcommand": "ssh",
    "core.alternaterefscommand": "",
    "diff.external": "",
    "diff.submodule": "short",
    "gpg.program": "gpg",
    "interactive.difffilter": "",
    "imap.tunnel": "",
    "man.viewer": "",
    "web.browser": "",
    "help.browser": "",
    "instaweb.browser": "",
    "instaweb.httpd": "",
    "protocol.allow": "user",
}
# `section.<subsection>.name` keys that name a program, by (section, name).
_SUBSECTION_KEYS: dict[tuple[str, str], str] = {
    ("filter", "clean"): "",
    ("filter", "smudge"): "",
    ("filter", "process"): "",
    ("diff", "command"): "",
    ("diff", "textconv"): "",
    ("merge", "driver"): "",
    ("tar", "command"): "",
    ("remote", "vcs"): "",
    ("gpg", "defaultkeycommand"): "",
    ("difftool", "cmd"): "",
    ("difftool", "path"): "",
    ("mergetool", "cmd"): "",
    ("mergetool", "path"): "",
    ("browser", "cmd"): "",
    ("browser", "path"): "",
    ("man", "cmd"): "",
    ("man", "path"): "",
    ("guitool", "cmd"): "",
}
_SENDEMAIL_COMMANDS = frozenset({"smtpserver", "tocmd", "cccmd", "headercmd"})
_WHOLE_SECTIONS = {"alias": "", "pager": "false"}  # every `section.name` of these
_GPG_DEFAULTS = {"openpgp": "gpg", "x509": "gpgsm", "ssh": "ssh-keygen"}
_PROTOCOL_DEFAULTS = {"http": "always", "https": "always", "git": "always", "ssh": "always", "ext": "never"}
_FIRST_WINS = frozenset({("remote", "uploadpack"), ("remote", "receivepack")})


@dataclass(frozen=True)
class ConfigEntry:
    """One line of `git config --list --show-scope --show-origin`; `value` None for a bare boolean key."""

    scope: str
    origin: str
    key: str
    value: str | None

    @property
    def from_repository(self) -> bool:
        """Local, worktree or anything else that is not the user's own or our command-line config."""
        return self.scope not in _USER_SCOPES and self.scope != "command"


@dataclass(frozen=True)
class GitConfigOverrides:
    """Config the child git gets through the environment, and which repository keys it overrode."""

    pairs: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...] = ()
    neutralised: tuple[str, ...] = ()  # "key (origin)" of each repository key overridden

    def environment(self) -> dict[str, str]:
        """`GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n` (these beat every config file) plus extra variables."""
        env = {"GIT_CONFIG_COUNT": str(len(self.pairs))}
        for index, (key, value) in enumerate(self.pairs):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        env.update(self.env)
        return env


# For programs that are not git: what the runner always set (they may still run git themselves).
BASELINE = GitConfigOverrides(pairs=(("core.fsmonitor", "false"),))


def is_git(argv: Sequence[str], program: str) -> bool:
    """Whether a command runs git itself."""
    return argv[0] == "git" or os.path.basename(program) == "git"


def check_git_arguments(argv: Sequence[str]) -> None:
    """Refuse flags that make git enter submodules, whose own config is not listed or neutralised."""
    for word in argv[1:]:
        if word == "--":
            return
        name, equals, value = word.partition("=")
        recurse = len(name) >= 5 and "--recurse-submodules".startswith(name)
        inline_diff = len(name) >= 5 and "--submodule".startswith(name) and equals and value == "diff"
        if recurse or inline_diff:
            raise PolicyViolation(
                f"git option {word!r} runs git inside submodules, whose own config (programs included) "
                "is not vetted; inspect a submodule from its own directory instead",
                rule=RULE,
            )


async def repository_overrides(git: str, cwd: Path, env: Mapping[str, str]) -> GitConfigOverrides:
    """List the config git would use in `cwd` and plan the overrides; refuses what cannot be neutralised."""
    listing_env = {name: value for name, value in env.items() if not name.startswith("GIT_CONFIG_")}
    entries = parse_listing(await git_output(git, _LIST_ARGS, cwd, listing_env, "list the git config"))
    names = await _gitmodules_names(git, cwd, listing_env)
    return plan_overrides(entries, submodules=names)


def parse_listing(data: bytes) -> list[ConfigEntry]:
    """Parse `-z` output: scope NUL origin NUL key [LF value] NUL, repeated."""
    fields = data.decode("utf-8", errors="surrogateescape").split("\0")
    if fields[-1] != "" or (len(fields) - 1) % 3:
        raise PolicyViolation("could not parse the output of `git config --list -z`", rule=RULE)
    entries: list[ConfigEntry] = []
    for index in range(0, len(fields) - 1, 3):
        scope, origin, item = fields[index : index + 3]
        key, newline, value = item.partition("\n")
        entries.append(ConfigEntry(scope, origin, key, value if newline else None))
    return entries


def plan_overrides(entries: Sequence[ConfigEntry], *, submodules: Iterable[str] = ()) -> GitConfigOverrides:
    """The overrides for these config entries (pure): the repository's program keys, made inert."""
    user_values = {entry.key: entry.value or "" for entry in entries if entry.scope in _USER_SCOPES}
    pairs = {key: user_values.get(key, value) if key == "core.hookspath" else value for key, value in _ALWAYS}
    env: dict[str, str] = {}
    neutralised: list[str] = []
    reset_credentials = False
    names = set(submodules)
    for entry in (entry for entry in entries if entry.from_repository):
        section, subsection, name = split_key(entry.key)
        if section == "submodule" and subsection is not None:
            names.add(subsection)
        if subsection is not None and (section, name) in _FIRST_WINS:
            raise _refusal(entry)
        if section == "credential" and name == "helper":
            reset_credentials = True
        elif entry.key in pairs and subsection is None:
            pass  # one of the keys always set (`core.fsmonitor`, `core.hooksPath`, ...)
        elif (section, subsection, name) == ("core", None, "gitproxy"):
            env["GIT_PROXY_COMMAND"] = ""  # checked: disables every core.gitProxy entry
        elif (value := _inert_value(section, subsection, name, entry.value)) is not None:
            pairs[entry.key] = user_values.get(entry.key, value)
            if section == "filter" and subsection is not None:
                pairs[f"filter.{subsection}.required"] = "false"
            if entry.key == "protocol.allow":  # any protocol.allow turns ext's default "never" into it
                pairs["protocol.ext.allow"] = user_values.get("protocol.ext.allow", "never")
        else:
            continue
        neutralised.append(f"{entry.key} ({entry.origin})")
    pairs.update({f"submodule.{name}.ignore": "all" for name in sorted(names)})
    ordered = list(pairs.items())
    if reset_credentials:  # an empty value empties the list; then the user's helpers, in their order
        ordered.append(("credential.helper", ""))
        ordered.extend(
            (entry.key, entry.value or "")
            for entry in entries
            if entry.scope in _USER_SCOPES and split_key(entry.key)[::2] == ("credential", "helper")
        )
    return GitConfigOverrides(tuple(ordered), tuple(env.items()), tuple(dict.fromkeys(neutralised)))


def split_key(key: str) -> tuple[str, str | None, str]:
    """`section.sub.section.name` → (section, subsection or None, name); section and name lower-cased."""
    section, _, rest = key.partition(".")
    subsection, dot, name = rest.rpartition(".")
    return section.lower(), (subsection if dot else None), name.lower()


def _inert_value(section: str, subsection: str | None, name: str, value: str | None) -> str | None:
    """The value that makes this key run nothing, or None when the key names no program."""
    if subsection is None:
        if section in _WHOLE_SECTIONS:
            return _WHOLE_SECTIONS[section]
        if section == "sendemail" and name in _SENDEMAIL_COMMANDS:
            return ""
        return _KEYS.get(f"{section}.{name}")
    if (section, name) == ("gpg", "program"):
        return _GPG_DEFAULTS.get(subsection.lower(), "")
    if (section, name) == ("protocol", "allow"):
        return _PROTOCOL_DEFAULTS.get(subsection.lower(), "user")
    if (section, name) == ("submodule", "update"):
        return "none" if (value or "").startswith("!") else None
    if section == "sendemail" and name in _SENDEMAIL_COMMANDS:
        return ""
    return _SUBSECTION_KEYS.get((section, name))


def _refusal(entry: ConfigEntry) -> PolicyViolation:
    file = entry.origin.removeprefix("file:")
    return PolicyViolation(
        f"git refused: the repository's git config sets {entry.key!r} ({entry.origin}), a program git runs; "
        "git uses the first value of that key, so it cannot be overridden. Remove it with "
        f"`git config --file {shlex.quote(file)} --unset-all {shlex.quote(entry.key)}` "
        "(the file is relative to the repository's top) and retry",
        rule=RULE,
    )


async def _gitmodules_names(git: str, cwd: Path, env: Mapping[str, str]) -> list[str]:
    """Submodule names in the top-level `.gitmodules` (its `ignore = none` would re-enable submodule checks)."""
    top = next((parent for parent in (cwd, *cwd.parents) if os.path.lexists(parent / ".git")), None)
    gitmodules = top / ".gitmodules" if top is not None else None
    if gitmodules is None or gitmodules.is_symlink() or not gitmodules.is_file():
        return []
    args = ("config", "--file", str(gitmodules), "--list", "--name-only", "-z")
    keys = (await git_output(git, args, cwd, env, "read .gitmodules")).decode("utf-8", "surrogateescape")
    return [sub for sec, sub, _ in map(split_key, keys.split("\0")) if sec == "submodule" and sub is not None]


class GitReadError(PolicyViolation):
    """A git plumbing read the policy needed exited non-zero; the command it was for does not run."""


async def git_output(git: str, args: Sequence[str], cwd: Path, env: Mapping[str, str], what: str) -> bytes:
    """Run a git command that only reads (config, refs); failing or hanging refuses the command it was for."""
    try:
        with anyio.fail_after(_LIST_TIMEOUT_S):
            done = await anyio.run_process([git, *args], cwd=cwd, env=env, check=False, stdin=subprocess.DEVNULL)
    except TimeoutError:
        raise PolicyViolation(
            f"could not {what}: git did not answer in {_LIST_TIMEOUT_S:g} s", rule=RULE
        ) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()[:2]
        raise GitReadError(
            f"could not {what} (exit {done.returncode}: {' '.join(message) or 'no output'}); "
            "git commands do not run until it can be read",
            rule=RULE,
        )
    return done.stdout
