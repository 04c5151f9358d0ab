"""Terminal output where outside text is never read as rich markup.

The consoles (`main.out`, `main.err`) parse no markup, so a customer name, SKU,
order number, note, CSV cell or error message such as `[/x]`, `[bold]` or
`[link=...]` is printed as it is (a name `[/x]` used to crash `podops orders
list`); table cells follow the console. Our own colours go through `styled`:
its template is ours, and every value put into it is escaped first, so this is
the one place where outside text meets markup.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text


def styled(template: str, *values: object) -> Text:
    """`styled("[bold]{}[/bold] is {}", name, status)`: our markup, the values as text."""
    return Text.from_markup(template.format(*(escape(str(value)) for value in values)))
