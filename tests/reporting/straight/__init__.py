"""The report's numbers computed the straightforward way, as first built: every
order, line, fulfillment and fulfillment line of the period read into pandas and
joined there. Tests compare `podops.reporting` (aggregated in SQL first) with it."""
