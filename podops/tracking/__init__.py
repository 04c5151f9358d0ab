"""Tracking staff hand in: parcels and carriers (`parcels`), pasted or imported
rows (`rows`), and bulk recording with a result per row (`bulk`)."""
