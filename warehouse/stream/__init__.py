"""Streams: feeds that arrive one event at a time (CONTRACT §6, docs/ingestion.md "Stream")."""
