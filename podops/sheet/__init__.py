"""The shared spreadsheet, seen from the core: the rows of the Orders tab
(`rows`), the plan of what to write (`plan`), the data read from the database
(`data`) and staff edits typed into the sheet (`edits`). gspread and openpyxl
live in `sync/sheets/`."""
