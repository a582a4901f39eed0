"""City Brain's Dagster assets, by stage: ingest, libraries, marts, serving."""

import warnings

import dagster as dg

# The assets use a few of Dagster's beta and preview APIs (backfill and freshness policies,
# mapping asset specs); tests pin their behaviour. Dagster's warnings about them are for this
# code's authors, not for the operator whose terminal and logs every process loading these
# assets (the CLI, the daemon, the webserver, runs) writes to.
for _category in (dg.BetaWarning, dg.PreviewWarning):
    warnings.filterwarnings("ignore", category=_category)


def named(zh: str, en: str) -> dict[str, str]:
    """What people call a step, a job, a schedule or a sensor, kept on its definition (an op's
    tags, a job's, schedule's or sensor's metadata): the analyst's console reads it from there
    (pipelines/names.py)."""
    return {"name_zh": zh, "name_en": en}
