"""The Products table: exact SKUs routed to a provider's own product code (a
Printful or Printify variant per size and colour) and our template, kept by staff
in a CSV file or the sheet's Products tab, consulted before the config's rules."""
