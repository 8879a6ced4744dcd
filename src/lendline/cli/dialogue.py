"""Commands of the dialogue feature: ``lendline bot chat|test|check``, ``bench dialogue``."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
DEFAULT_STORIES = Path("stories")


def _story_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")))
        elif p.is_file():
            out.append(p)
        else:
            raise typer.BadParameter(f"no such file or folder: {p}")
    return out


def run_stories(
    files: list[Path], nlu: str, name: str | None = None, turn_ms: list[float] | None = None
) -> list[Any]:
    from lendline.cli.dialogue_world import StoryWorld
    from lendline.dialogue.stories import load_stories, run_story
    from lendline.logging import configure_logging

    configure_logging("WARNING")

    if not nlu:
        from lendline.settings import load_settings

        nlu = load_settings().nlu_model
    world = StoryWorld(nlu_model=nlu)
    try:
        results = []
        for f in files:
            for story in load_stories(f.read_text(encoding="utf-8"), f.name):
                if name and name not in str(story.get("name", "")):
                    continue
                results.append(run_story(story, f.name, world, world))
        if turn_ms is not None:
            turn_ms.extend(world.turn_ms)
        return results
    finally:
        world.close()


class _NoNlu:
    """Stands in for NLU and the backend when only checking a flow set (never called)."""


class _NoBackend:
    pass


class EspeakTimer:
    """TTS seconds of a prompt: the real espeak-ng output length, cached per text."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], float] = {}
        self._dir = tempfile.TemporaryDirectory(prefix="lendline-tts-")

    def __call__(self, text: str, lang: str) -> float:
        key = (text, lang)
        if key not in self.cache:
            out = Path(self._dir.name) / "p.wav"
            voice = "en" if lang.startswith("en") else "cmn"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-w", str(out), text],
                check=True,
                capture_output=True,
                timeout=30,
            )
            with wave.open(str(out)) as w:
                self.cache[key] = w.getnframes() / w.getframerate()
        return self.cache[key]


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the dialogue commands to ``app`` and its benchmarks to ``bench``."""
    bot = typer.Typer(
        help="The voice/text bot: chat, run conversation stories, check flows.",
        no_args_is_help=True,
    )
    app.add_typer(bot, name="bot")

    @bot.command("check")
    def check(files: list[Path] = typer.Argument(..., help="flow YAML files or folders")) -> None:
        """Validate flow files; an invalid one is reported with its line and reason."""
        from lendline.dialogue.actions import BUILTIN_ACTIONS
        from lendline.dialogue.flow import parse_flow
        from lendline.errors import RuleError

        bad = 0
        for f in _story_files(files):
            try:
                fl = parse_flow(
                    f.read_text(encoding="utf-8"), source=f.name, actions=BUILTIN_ACTIONS
                )
                console.print(f"[green]ok[/] {f}: flow {fl.name}, {len(fl.states)} states")
            except RuleError as exc:
                bad += 1
                console.print(f"[red]invalid[/] {f}:{exc.line or '?'}: {exc.detail}")
        if not bad and any(p.is_dir() for p in files):
            # a whole flow set: subflows resolve and every action outcome has a branch
            from lendline.dialogue.engine import DialogueEngine
            from lendline.dialogue.flow import load_flows

            try:
                flows = load_flows(files, actions=BUILTIN_ACTIONS)
                DialogueEngine(flows, _NoNlu(), _NoBackend())  # type: ignore[arg-type]
                console.print(f"[green]ok[/] flow set: {len(flows)} flows")
            except RuleError as exc:
                bad += 1
                console.print(f"[red]invalid[/] flow set:{exc.line or '?'}: {exc.detail}")
        raise typer.Exit(1 if bad else 0)

    @bot.command("test")
    def test(
        files: list[Path] = typer.Argument(None, help="story files or folders (default stories/)"),
        nlu: str = typer.Option("", help="NLU model spec (default: settings, encoder)"),
        name: str = typer.Option(None, "-k", help="only stories whose name contains this"),
        as_json: bool = typer.Option(False, "--json", help="print results as JSON"),
    ) -> None:
        """Run conversation stories against the real engine, NLU and a temporary database."""
        t0 = time.monotonic()
        results = run_stories(_story_files(files or [DEFAULT_STORIES]), nlu, name)
        passed = sum(r.passed for r in results)
        if as_json:
            print(
                json.dumps(
                    {
                        "passed": passed,
                        "failed": len(results) - passed,
                        "stories": [
                            {
                                "name": r.name,
                                "file": r.source,
                                "passed": r.passed,
                                "failures": r.failures,
                            }
                            for r in results
                        ],
                    },
                    ensure_ascii=False,
                    indent=1,
                )
            )
        else:
            for r in results:
                mark = "[green]PASS[/]" if r.passed else "[red]FAIL[/]"
                console.print(f"{mark} {r.source} · {r.name}")
                for f in r.failures:
                    console.print(f"     {f}", markup=False)
            console.print(
                f"{passed} passed, {len(results) - passed} failed ({time.monotonic() - t0:.1f} s)"
            )
        raise typer.Exit(0 if results and passed == len(results) else 1)

    @bot.command("chat")
    def chat(
        customer: str = typer.Option(None, help="customer id, e.g. C000001"),
        phone: str = typer.Option(None, help="caller number"),
        lang: str = typer.Option("zh-CN", help="zh-CN | en"),
        flow: str = typer.Option(None, help="open this flow at once (e.g. collection_reminder)"),
    ) -> None:
        """Talk to the bot in the terminal (configured database; `lendline demo` seeds it).

        An empty line is silence; `#123` sends DTMF keys; `/quit` leaves.
        """
        from lendline.app import build_container
        from lendline.errors import LendlineError
        from lendline.settings import load_settings
        from lendline.store.migrate import upgrade

        settings = load_settings()
        upgrade(settings.effective_database_url)
        svc = build_container(settings).services["dialogue"]
        try:
            st = svc.start(customer_id=customer, phone=phone, language=lang, flow=flow)
        except LendlineError as exc:
            console.print(f"[red]{exc.code}[/]: {exc.detail}")
            raise typer.Exit(2) from None
        console.print(f"[bold cyan]bot[/] {st.reply.text}")
        reply = st.reply
        while not reply.ended and reply.handoff is None:
            try:
                line = input("you> ")
            except EOFError:
                break
            if line.strip() == "/quit":
                break
            dtmf = line.strip()[1:] if line.strip().startswith("#") else ""
            try:
                reply = svc.message(st.conversation_id, text="" if dtmf else line, dtmf=dtmf)
            except LendlineError as exc:
                console.print(f"[red]{exc.code}[/]: {exc.detail}")
                continue
            meta = (
                f"{reply.intent} {reply.confidence} → {reply.state}"
                if reply.intent
                else reply.state
            )
            console.print(f"[dim]{meta} {list(reply.actions) or ''}[/]")
            console.print(f"[bold cyan]bot[/] {reply.text}")
        if reply.handoff is not None:
            console.print(
                f"[yellow]handed off[/] to {reply.handoff.queue} ({reply.handoff.reason})"
            )

    @bench.command("dialogue")
    def bench_dialogue(
        files: list[Path] = typer.Argument(None, help="story files or folders (default stories/)"),
        nlu: str = typer.Option("", help="NLU model spec (default: settings, encoder)"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Turns and simulated talk time per completed task, with the stories as callers."""
        from lendline.dialogue.talktime import rate_tts_seconds, summary, talk_time

        t0 = time.monotonic()
        turn_ms: list[float] = []
        results = run_stories(_story_files(files or [DEFAULT_STORIES]), nlu, turn_ms=turn_ms)
        tts: Any = EspeakTimer() if shutil.which("espeak-ng") else rate_tts_seconds
        done = [r for r in results if r.completed]
        times = [talk_time(r.bot, r.user, tts, r.language[:2]) for r in done]
        by_task: dict[str, list[Any]] = {}
        by_lang: dict[str, list[Any]] = {}
        for r, t in zip(done, times, strict=True):
            by_task.setdefault(str(r.task), []).append(t)
            by_lang.setdefault(r.language, []).append(t)
        out = {
            "stories": len(results),
            "passed": sum(r.passed for r in results),
            "completed_tasks": len(done),
            "handed_off": sum(r.handoff is not None for r in results),
            "tts": "espeak-ng (measured per prompt)" if shutil.which("espeak-ng") else "rate",
            **summary(times),
            "by_task": {k: summary(v) for k, v in sorted(by_task.items())},
            "by_language": {k: summary(v) for k, v in sorted(by_lang.items())},
            "turn_ms_median": round(statistics.median(turn_ms), 1) if turn_ms else None,
            "turn_ms_p95": round(sorted(turn_ms)[int(0.95 * (len(turn_ms) - 1))], 1)
            if turn_ms
            else None,
            "wall_s": round(time.monotonic() - t0, 1),
        }
        if as_json:
            print(json.dumps(out, ensure_ascii=False, indent=1))
            return
        table = Table(title="bot talk time per completed task (median)")
        for col in ("task", "n", "turns", "bot s", "caller s", "total s", "vs 120 s"):
            table.add_column(col)
        for k, v in out["by_task"].items():
            table.add_row(
                k,
                str(v["tasks"]),
                str(v["median_turns"]),
                str(v["median_bot_s"]),
                str(v["median_caller_s"]),
                str(v["median_talk_s"]),
                str(v["vs_seed_ai"]),
            )
        console.print(table)
        keys = (
            "stories",
            "passed",
            "completed_tasks",
            "handed_off",
            "median_turns",
            "median_bot_s",
            "median_caller_s",
            "median_talk_s",
            "p90_talk_s",
            "vs_seed_ai",
            "vs_seed_human",
            "tts",
            "turn_ms_median",
            "turn_ms_p95",
            "wall_s",
        )
        for k in keys:
            console.print(f"{k:>16}: {out.get(k)}")
        for lang, v in out["by_language"].items():
            console.print(f"{lang:>16}: {v['tasks']} tasks, median {v['median_talk_s']} s")
