"""The ground every stage stands on: the data directory's layout, fault classes, crash points."""
