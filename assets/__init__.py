"""City Brain's Dagster assets, by stage: ingest, libraries, marts, serving."""

import warnings

import dagster as dg

# The assets use a few of Dagster's beta and preview APIs (backfill and freshness policies,
# mapping asset specs); tests pin their behaviour. Dagster's warnings about them are for this
# code's authors, not for the operator whose terminal and logs every process loading these
# assets (the CLI, the daemon, the webserver, runs) writes to.
for _category in (dg.BetaWarning, dg.PreviewWarning):
    warnings.filterwarnings("ignore", category=_category)
