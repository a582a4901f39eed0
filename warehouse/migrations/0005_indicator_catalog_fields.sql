-- The catalog's copy gains what an indicator reads (feeds and library tables), whether it is
-- a flow, its dimensions, its card's place on the overview and the templated id it was
-- expanded from (warehouse/marts/indicators/catalog.toml). IF NOT EXISTS: warehouses made
-- before migrations were recorded recreated this table at every computation and may have
-- some of them already.
ALTER TABLE marts.indicator_catalog ADD COLUMN IF NOT EXISTS reads VARCHAR[];
ALTER TABLE marts.indicator_catalog ADD COLUMN IF NOT EXISTS flow BOOLEAN;
ALTER TABLE marts.indicator_catalog ADD COLUMN IF NOT EXISTS dimensions MAP(VARCHAR, VARCHAR);
ALTER TABLE marts.indicator_catalog ADD COLUMN IF NOT EXISTS overview INTEGER;
ALTER TABLE marts.indicator_catalog ADD COLUMN IF NOT EXISTS template VARCHAR;
