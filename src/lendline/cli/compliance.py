"""Commands of the compliance feature: ``vault …``, ``audit verify``, ``policy check``,
``apikey …`` and ``bench vault``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from lendline.app import Container

console = Console()
vault_app = typer.Typer(
    help="Recording vault: keys, rotation, retention, purge.", no_args_is_help=True
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
policy_app = typer.Typer(
    help="Contact policy (quiet hours, caps, do-not-call).", no_args_is_help=True
)
apikey_app = typer.Typer(
    help="API keys for systems (hashed at rest, shown once).", no_args_is_help=True
)


def _container() -> Container:
    import logging

    from lendline.app import build_container
    from lendline.logging import configure_logging
    from lendline.settings import load_settings
    from lendline.store.migrate import upgrade

    settings = load_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade(settings.effective_database_url)
    return build_container(settings)


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]{message}[/]")
    raise typer.Exit(code)


@vault_app.command("keys")
def vault_keys() -> None:
    """List the vault's master keys (id, state, where the key comes from)."""
    c = _container()
    for kid, state, source in c.services["vault"].keys.states():
        console.print(f"{kid}  {state:13} {source}")


@vault_app.command("rotate")
def vault_rotate(
    key_file: Path = typer.Option(
        None, help="new master key (base64, 32 bytes); default: generate"
    ),
    actor: str = typer.Option("cli", help="who runs it (audited)"),
) -> None:
    """Make a new master key active and re-wrap every data key under it (audio untouched)."""
    c = _container()
    r = c.services["vault_lifecycle"].rotate(actor=actor, key_file=key_file)
    console.print(f"[green]active key {r.new_key_id}[/]: re-wrapped {r.rewrapped} data keys")
    console.print(f"key file: {r.key_file} — back it up; recordings are lost without it")


@vault_app.command("retire")
def vault_retire(
    key_id: str,
    destroy: bool = typer.Option(False, help="also delete the key file"),
    actor: str = typer.Option("cli"),
) -> None:
    """Retire a master key that no recording uses any more."""
    from lendline.errors import LendlineError

    c = _container()
    try:
        c.services["vault_lifecycle"].retire(key_id, actor=actor, destroy=destroy)
    except LendlineError as exc:
        _fail(f"{exc.code}: {exc.detail}")
    console.print(f"[green]retired {key_id}[/]")


@vault_app.command("purge")
def vault_purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="list, delete nothing"),
    actor: str = typer.Option("cli"),
) -> None:
    """Delete recordings past retention and not on legal hold (audited)."""
    c = _container()
    r = c.services["vault_lifecycle"].purge(actor=actor, dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    console.print(f"{verb} {len(r.purged)} recordings; {r.held} past retention kept on hold")


@vault_app.command("verify")
def vault_verify(recording_id: str) -> None:
    """Decrypt and authenticate one recording end to end."""
    from lendline.errors import LendlineError

    c = _container()
    try:
        n = c.services["vault"].verify(recording_id)
    except LendlineError as exc:
        _fail(f"{exc.code}: {exc.detail}")
    console.print(f"[green]ok[/]: {n} bytes of audio authenticated")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the audit chain; report the first broken link (exit 1 when broken)."""
    c = _container()
    r = c.services["audit"].verify()
    if r.ok:
        console.print(f"[green]audit chain intact[/]: {r.checked} entries")
        return
    _fail(
        f"audit chain broken at seq {r.broken.seq}: {r.broken.problem} ({r.checked} entries read)"
    )


@policy_app.command("check")
def policy_check(
    customer: str = typer.Option(..., "--customer", help="customer id"),
    at: str = typer.Option(None, "--at", help="ISO 8601 time with offset; default now"),
    purpose: str = typer.Option(..., "--purpose", help="collection | marketing | service"),
    party: str = typer.Option("debtor", help="debtor | third_party"),
) -> None:
    """Print the decision as JSON: {"allowed", "reasons", "next_allowed_at", …}."""
    from lendline.errors import LendlineError

    when = None
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            _fail(f"--at: not an ISO 8601 time: {at!r}", 2)
        if when is not None and when.tzinfo is None:
            _fail("--at: give a zone offset, e.g. 2026-11-27T21:30:00+08:00", 2)
    c = _container()
    try:
        d = c.services["contact_policy"].decide(
            customer, purpose=purpose, at=when, party=party, actor="cli"
        )
    except LendlineError as exc:
        _fail(f"{exc.code}: {exc.detail}", 2)
    typer.echo(json.dumps(d.to_dict(), ensure_ascii=False))


@apikey_app.command("create")
def apikey_create(
    name: str = typer.Option(...),
    role: str = typer.Option(...),
    scope: list[str] = typer.Option(..., help="an action, e.g. recordings.search (repeat)"),
    actor: str = typer.Option("cli"),
) -> None:
    """Create a key; it is printed once and only its hash is kept."""
    c = _container()
    info, full = c.services["api_keys"].create(name=name, role=role, scopes=scope, actor=actor)
    console.print(f"key id {info.key_id}; the key (shown once): [bold]{full}[/]")


def _bench_vault(rows: int, database_url: str, queries: int, as_json: bool) -> dict[str, Any]:
    from lendline.vault.bench import run_vault_bench

    result = run_vault_bench(rows=rows, database_url=database_url, queries=queries)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        console.print(
            f"vault index: {result['rows']:,} recordings on {result['database']}; "
            f"seeded in {result['seed_s']:.1f} s"
        )
        for name, q in result["lookups"].items():
            console.print(
                f"  {name:22} p50 {q['p50_ms']:7.2f} ms   p99 {q['p99_ms']:7.2f} ms"
                f"   (target ≤ 100 ms: {'met' if q['p99_ms'] <= 100 else 'MISSED'})"
            )
    return result


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add the compliance commands to ``app`` and its benchmarks to ``bench``."""
    app.add_typer(vault_app, name="vault")
    app.add_typer(audit_app, name="audit")
    app.add_typer(policy_app, name="policy")
    app.add_typer(apikey_app, name="apikey")

    @bench.command("vault")
    def bench_vault(
        rows: int = typer.Option(1_000_000, help="recording index rows to seed"),
        database_url: str = typer.Option("", help="default: a fresh SQLite file in a temp dir"),
        queries: int = typer.Option(200, help="lookups per kind"),
        json_out: bool = typer.Option(False, "--json", help="print JSON"),
    ) -> None:
        """Recording lookup by call / customer / agent+dates / dates on N index rows."""
        _bench_vault(rows, database_url, queries, json_out)
