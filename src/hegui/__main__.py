"""``python -m hegui`` is the ``hegui`` command."""

from hegui.cli.main import run

run()
