"""atheris entry point: ``python fuzz/harness.py TARGET [libFuzzer flags]`` (see fuzz/run).

Coverage is instrumented for hegui's own modules only. Any exception escaping a target is a bug
(targets swallow the documented clean errors); libFuzzer's ``-timeout`` turns a hang into a crash.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris  # type: ignore[import-not-found]

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["hegui"]):
    import targets

    for _fn in ("label_seeds", "parquet_seed", "_normalizer", "_labeler"):  # import the parsers up front
        getattr(targets, _fn)()


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in targets.TARGETS:
        raise SystemExit(f"usage: harness.py TARGET [libFuzzer flags]; targets: {', '.join(targets.TARGETS)}")
    name = sys.argv.pop(1)
    atheris.Setup(sys.argv, targets.TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
