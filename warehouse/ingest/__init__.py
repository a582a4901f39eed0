"""From a file in the landing zone to staged rows: find deliveries, load them, validate every
row against the contract, quarantine what fails with its reasons, keep the ledger, and
report each feed's health."""
