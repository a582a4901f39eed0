"""``python -m citybrain`` is the ``citybrain`` command."""

from citybrain.cli import app

app()
