"""City Brain's data, one sub-package per stage in the order data flows.

``contract`` (what departments deliver) → ``ingest`` (landing, loading, validation,
quarantine, ledger, feed health) → ``libraries`` (the thematic libraries fused from staged
rows, and cross-department findings) → ``marts`` (indicators, city score, alerts, open data)
→ ``serving`` (the immutable snapshot and the read API the cockpit uses) → ``ops`` (the
operational store, backups, retention). ``storage`` is the ground every stage stands on:
the data directory's layout, fault classes and crash points; ``settings`` (the deployment's
settings from the environment, and the one saved in the data directory) is read by all.

A stage imports only ``settings``, ``storage`` and the stages before it.
"""
