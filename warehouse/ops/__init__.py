"""Running the platform: the operational store the cockpit writes (users, audit log,
acknowledgements), backups and restores, and retention of personal data."""
