"""Running the platform: the operational store the cockpit writes (users, audit log,
the loop from alert to closure), backups and restores, and retention of personal data."""
