"""Reports the owner reads: turnaround, late and stuck orders, provider quality and
margin over any period, grouped by store, provider, product or SKU.

Built with pandas straight from SQL (`frames`), so only this package, and the code
that shows its reports (`podops report`, the weekly post, the Stats tab), imports
pandas: `podops orders list` and the idle service never load it
(`tests/reporting/test_imports.py`). docs/reports.md says what each number means.
"""
