"""`dbtruth schema`: the JSON Schema of dbtruth.yaml, for editors."""

from __future__ import annotations

import click

from dbtruth.cli.output import echo


@click.command("schema")
def schema() -> int:
    """Print the JSON Schema of dbtruth.yaml (for editor completion and validation)."""
    import json

    from dbtruth.manifest.config import Manifest

    echo(json.dumps(Manifest.model_json_schema(), indent=2))
    return 0
