"""Figures the pages share, built as plain dicts (plotly's validated objects cost tens of ms each)."""
