-- A delivery's error and an alert's message as a template key and its parameters
-- (warehouse.contract.labels), rendered in the reader's language; ``error`` and ``message``
-- keep their English text for other tools. IF NOT EXISTS: warehouses made before migrations
-- were recorded may have them already.
ALTER TABLE ingest.deliveries ADD COLUMN IF NOT EXISTS error_key VARCHAR;
ALTER TABLE ingest.deliveries ADD COLUMN IF NOT EXISTS error_params JSON;
ALTER TABLE marts.alerts ADD COLUMN IF NOT EXISTS message_key VARCHAR;
ALTER TABLE marts.alerts ADD COLUMN IF NOT EXISTS message_params JSON;
