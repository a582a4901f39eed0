"""City operation indicators: a catalog declared as data, one SQL file per indicator."""
