"""Queries the cockpit runs on the serving snapshot, one module per subject, each limited to
what the caller may see: how a query runs on the snapshot a request pinned (``snapshot``),
who sees which rows (``scope``), and what the pages read (``reference``, ``indicators``,
``alerts``, ``ingestion``, ``service``, ``lineage``)."""
