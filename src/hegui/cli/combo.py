"""``hegui combo``: proximity rules (组合词) — test a text, list the rules in force, check a rule file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.detect.base import Direction
from hegui.detect.combo import ComboDetector, combo_detectors, load_rules
from hegui.errors import InvalidInputError

combo_app = typer.Typer(help="Proximity rules (组合词): term groups that must occur close together.",
                        no_args_is_help=True)


def _detector() -> ComboDetector:
    """The rules this installation runs: the pack's switch, the shipped rules, settings.combo_rules."""
    ctx = STATE.ctx()
    dets = combo_detectors(ctx.pack, ctx.settings.combo_rules)
    if not dets:
        raise InvalidInputError("proximity rules are switched off (pack moderation.combo) and no combo_rules are set")
    return dets[0]


def _direction(value: str) -> Direction:
    if value not in ("input", "output"):
        raise InvalidInputError(f"--direction must be input or output, got {value!r}")
    return "input" if value == "input" else "output"


@combo_app.command("test")
def test_cmd(
    text: str,
    direction: Annotated[str, typer.Option("--direction", "-d", help="input | output")] = "input",
    json_out: JsonFlag = False,
) -> None:
    """Show which rules match TEXT, including matches an exclusion cancelled, and why."""
    det = _detector()
    hits = det.explain(text, _direction(direction))
    if json_out:
        print_json({"normalised": det.normalize(text).text, "hits": [
            {**h.finding.to_dict(), "terms": list(h.terms), "excluded_by": h.excluded_by} for h in hits]})
        return
    console.print(f"[dim]normalised:[/] {escape(det.normalize(text).text)}")
    if not hits:
        console.print("no proximity rule matches")
        return
    for h in hits:
        f = h.finding
        line = (f"{f.start}-{f.end} {escape(text[f.start:f.end])!r}: rule {h.rule.id} {f.category} severity "
                f"{f.severity}, terms {escape(' + '.join(h.terms))} ({f.rule})")
        if h.excluded_by is not None:
            line = f"[green]excluded[/] {line} — near {escape(h.excluded_by)!r}"
        console.print(line)


@combo_app.command("list")
def list_cmd(
    category: Annotated[str | None, typer.Option("--category", "-k", help="risk code or prefix, e.g. A1.4")] = None,
    json_out: JsonFlag = False,
) -> None:
    """The rules in force (shipped and yours), with their window and groups."""
    rules = [r for r in _detector().rules if category is None or r.category.startswith(category)]
    if json_out:
        print_json([{"id": r.id, "category": r.category, "severity": r.severity, "lang": r.lang,
                     "direction": r.direction, "window": r.window, "context": r.context, "ordered": r.ordered,
                     "groups": [list(g) for g in r.groups], "exclude": list(r.exclude), "allow": list(r.allow),
                     "rule": r.rule} for r in rules])
        return
    t = Table("id", "risk", "sev", "dir", "window", "groups", title=f"{len(rules)} proximity rules")
    for r in rules:
        groups = " + ".join("{" + ", ".join(g[:3]) + (" …" if len(g) > 3 else "") + "}" for g in r.groups)
        t.add_row(r.id, r.category, str(r.severity), r.direction, str(r.window), escape(groups))
    console.print(t)


@combo_app.command("check")
def check_cmd(file: Annotated[Path, typer.Argument(help="a rule file: .yaml, .yml or .jsonl")]) -> None:
    """Check a rule file before you put it in combo_rules: every bad rule is reported, exit 2."""
    rs = load_rules(file)
    ComboDetector(rs, STATE.ctx().pack.normalisation)  # compiling finds terms that normalise to nothing
    console.print(f"{escape(str(file))}: {len(rs.rules)} rules ok")
