"""What the city is told: indicators per district and day, the city score, alerts, open data."""
