"""``hegui classifier``: train, evaluate and try the embedded risk classifier; evaluate the refusal detector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hegui.cli.common import console, print_json
from hegui.errors import InvalidInputError

classifier_app = typer.Typer(help="Embedded risk classifier: train, eval, score; refusal detector eval.",
                             no_args_is_help=True)

ExtraOpt = Annotated[list[Path] | None, typer.Option(
    "--extra", help="your own examples, JSONL lines {\"text\", \"labels\": [codes], \"split\"?}; repeatable")]


@classifier_app.command("train")
def train_cmd(
    out: Annotated[Path, typer.Option("--out", help="where to write the weights (.npz)")] = Path("classifier.npz"),
    extra: ExtraOpt = None,
    epochs: Annotated[int | None, typer.Option(min=1, max=200, help="default: the shipped model's")] = None,
    seed: int = 7,
    min_norm: Annotated[float | None, typer.Option(
        "--min-norm", min=1.0, max=256.0, help="evidence floor: texts with fewer n-grams are scored as if they "
        "had this many (default: the shipped model's)")] = None,
) -> None:
    """Train on the shipped data (+ --extra) and print the held-out table. Deterministic for a seed."""
    from hegui.detect.classifier.training import EPOCHS, MIN_NORM, train_model

    if out.suffix != ".npz":
        raise InvalidInputError(f"--out {out}: weights are written as .npz")
    if not out.parent.exists():
        raise InvalidInputError(f"--out {out}: directory {out.parent} does not exist")
    res = train_model(extra or [], epochs=EPOCHS if epochs is None else epochs, seed=seed,
                      min_norm=MIN_NORM if min_norm is None else min_norm)
    res.model.save(out)
    console.print(f"trained {res.model.version} on {res.train_examples} examples, "
                  f"{len(res.model.labels)} labels → {out}")
    console.print(f"held-out split ({res.heldout_examples} examples, threshold 0.5):\n")
    typer.echo(res.report.markdown())


@classifier_app.command("eval")
def eval_cmd(
    model: Annotated[Path | None, typer.Option("--model", help="weights file (default: the shipped model)")] = None,
    extra: ExtraOpt = None,
    threshold: Annotated[float | None, typer.Option(min=0.01, max=0.99,
                                                    help="one threshold for all (default: the pack's)")] = None,
    pack: Annotated[str, typer.Option(help="policy pack whose moderation.classifier thresholds apply")] = "cn-genai",
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per-category precision/recall and false-refusal rate on the held-out split."""
    from hegui.detect.classifier import EmbeddedClassifier, default_weights_path
    from hegui.detect.classifier.training import evaluate_model
    from hegui.policy.pack import load_pack
    from hegui.policy.taxonomy import RISKS

    clf = EmbeddedClassifier.load(model or default_weights_path())
    thr: dict[str, float] | float
    if threshold is not None:
        thr = threshold
    else:
        cfg = load_pack(pack).moderation.classifier
        thr = {}
        for code in clf.labels:
            parent = RISKS[code].parent
            thr[code] = cfg.per_category.get(code, cfg.per_category.get(parent, cfg.default))
    rep = evaluate_model(clf.model, extra or [], thr)
    if json_out:
        print_json({"model": clf.model.version, "macro_f1": rep.macro_f1, "false_refusal_rate": rep.false_refusal_rate,
                    "lookalike_false_refusal_rate": rep.lookalike_false_refusal_rate,
                    "harmful_flagged_rate": rep.harmful_recall,
                    "categories": [{"code": r.code, "support": r.support, "precision": r.precision,
                                    "recall": r.recall, "f1": r.f1} for r in rep.rows]})
        return
    console.print(f"model {clf.model.version}; thresholds: "
                  f"{threshold if threshold is not None else 'pack ' + pack}\n")
    typer.echo(rep.markdown())


@classifier_app.command("score")
def score_cmd(
    text: Annotated[str, typer.Argument(help="text to score")],
    model: Annotated[Path | None, typer.Option("--model")] = None,
) -> None:
    """Scores of every category for one text (JSON)."""
    from hegui.detect.classifier import EmbeddedClassifier

    clf = EmbeddedClassifier.load(model) if model else EmbeddedClassifier.load_default()
    scores = clf.scores(text)
    print_json({"model": clf.model.version, "scores": dict(sorted(scores.items(), key=lambda kv: -kv[1]))})


@classifier_app.command("refusal-eval")
def refusal_eval_cmd(
    split: Annotated[str, typer.Option(help="heldout (not used while writing the rules) or dev")] = "heldout",
) -> None:
    """Accuracy of the refusal detector on the shipped labelled answers."""
    from hegui.detect.refusal import KINDS, RefusalDetector, evaluate, load_answers

    if split not in ("heldout", "dev"):
        raise InvalidInputError("--split must be heldout or dev")
    acc = evaluate(RefusalDetector(), load_answers(split))
    console.print(f"{split}: {acc.total} answers; kind accuracy {acc.kind_accuracy:.1%}; "
                  f"refused yes/no accuracy {acc.refused_accuracy:.1%}\n")
    typer.echo("| true \\ predicted | " + " | ".join(KINDS) + " |")
    typer.echo("|---|" + "---:|" * len(KINDS))
    for k in KINDS:
        typer.echo(f"| {k} | " + " | ".join(str(acc.confusion[k][p]) for p in KINDS) + " |")
