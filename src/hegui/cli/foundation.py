"""Foundation commands: init, db, policy, obligations."""

from __future__ import annotations

import typer
from rich.table import Table

from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.install import initialise
from hegui.obligations import report
from hegui.policy.taxonomy import CATEGORIES, RISKS

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
policy_app = typer.Typer(help="The policy pack in force.", no_args_is_help=True)



def _mask_url(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        user = cred.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in cred else url
    return url


def init(json_out: JsonFlag = False) -> None:
    """Write a starter hegui.yaml (if none) and create the database under ./.hegui/. Safe to re-run."""
    r = initialise(STATE.ctx(), STATE.config_file)
    if json_out:
        print_json({"config_file": str(r.config_file), "config_written": r.config_written,
                    "data_dir": str(r.data_dir), "database_url": _mask_url(r.database_url),
                    "installation_id": r.installation_id, "created": r.created})
        return
    console.print(f"config     {r.config_file} ({'written' if r.config_written else 'kept as is'})")
    console.print(f"database   {_mask_url(r.database_url)} (schema up to date)")
    console.print(f"installation {r.installation_id} ({'new' if r.created else 'existing'})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to the configured database."""
    ctx = STATE.ctx()
    ctx.db.upgrade()
    console.print(f"database {_mask_url(ctx.db.url)} at {', '.join(sorted(ctx.db.current_revisions()))}")


@db_app.command("status")
def db_status(json_out: JsonFlag = False) -> None:
    """Show the applied and the newest migration revisions."""
    db = STATE.ctx().db
    cur, heads = sorted(db.current_revisions()), sorted(db.head_revisions())
    if json_out:
        print_json({"current": cur, "heads": heads, "up_to_date": cur == heads})
        return
    console.print(f"current: {', '.join(cur) or '(empty)'}\nheads:   {', '.join(heads)}")
    console.print("up to date" if cur == heads else "[yellow]run `hegui db upgrade`[/]")


@policy_app.command("show")
def policy_show(json_out: JsonFlag = False) -> None:
    """Print the policy pack in force (built-in name or file from `policy_pack`)."""
    pack = STATE.ctx().pack
    if json_out:
        print_json(pack.model_dump(mode="json"))
        return
    console.print(f"[bold]{pack.name}[/] {pack.version} — {pack.title}")
    t = Table("risk", "name", "input", "output", "rule", title="Actions per risk")
    for code, r in RISKS.items():
        key, _rule = pack.moderation.rule_for(code)
        t.add_row(code, r.name_zh, pack.action_for(code, "input"), pack.action_for(code, "output"), key)
    console.print(t)
    f = pack.figures
    console.print(f"keyword library ≥ {f.keyword_library.min_terms} terms ({f.keyword_library.clause}); "
                  f"corpus source unsafe ≤ {f.corpus.source_unsafe_max:.0%} ({f.corpus.clause}); "
                  f"refusal ≥ {f.assessment.refusal_rate_should_refuse_min:.0%} / false refusal ≤ "
                  f"{f.assessment.refusal_rate_should_not_refuse_max:.0%} ({f.assessment.clause})")
    bands = ", ".join(f"<{b.under_age}: {b.daily_minutes} min/day" for b in pack.minors.age_bands)
    console.print(f"minors: {bands}; curfew "
                  f"{pack.minors.curfew.start:%H:%M}–{pack.minors.curfew.end:%H:%M}" if pack.minors.curfew
                  else f"minors: {bands}; no curfew")


@policy_app.command("taxonomy")
def policy_taxonomy(json_out: JsonFlag = False) -> None:
    """The TC260-003 Appendix A risks (31) and J."""
    if json_out:
        print_json([{"code": r.code, "parent": r.parent, "name_zh": r.name_zh, "name_en": r.name_en,
                     "political": r.political} for r in RISKS.values()])
        return
    t = Table("code", "category", "名称", "name")
    for r in RISKS.values():
        t.add_row(r.code, CATEGORIES[r.parent].name_zh, r.name_zh, r.name_en)
    console.print(t)


def obligations(json_out: JsonFlag = False) -> None:
    """The obligation registry (O1–O15) with live evidence from this installation."""
    rows = report(STATE.ctx())
    if json_out:
        print_json([r.to_dict() for r in rows])
        return
    colour = {"working": "green", "configured": "cyan", "not_configured": "yellow",
              "failing": "red", "not_implemented": "dim"}
    t = Table("id", "obligation", "draft", "final", "status", "controls")
    for r in rows:
        ctl = "\n".join(f"{e.control}: {e.status}" for e in r.controls)
        t.add_row(r.id, r.title, r.draft_article or "—", r.final_article or "—",
                  f"[{colour[r.status]}]{r.status}[/]", ctl)
    console.print(t)


def register_foundation(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("obligations")(obligations)
    app.add_typer(policy_app, name="policy")
