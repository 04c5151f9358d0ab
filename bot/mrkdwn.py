"""Slack mrkdwn that is safe to send: our own markup, with every outside value
escaped as Slack documents (`&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;`).

Order numbers, customer names and e-mails, SKUs, personalization, notes and
provider error texts come from outside; unescaped, `<!channel>` pings the
channel and `<https://evil.example|Refund here>` shows a disguised link. The
block builders accept only `Mrkdwn`, which is made by `md(template, *values)`:
the template is ours, every value is escaped unless it is `Mrkdwn` already, so
a forgotten escape is a type error rather than an injection.

plain_text objects (labels, titles, button texts, input values) are never
parsed for links or mentions by Slack and carry text as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

ELLIPSIS = "…"


def escape(text: str) -> str:
    """The three characters Slack reads as markup, as the entities it decodes."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True, slots=True)
class Mrkdwn:
    """Text ready for a mrkdwn field; build it with `md`, never from outside text."""

    text: str

    def __add__(self, other: Mrkdwn) -> Mrkdwn:
        return Mrkdwn(self.text + other.text)

    def __bool__(self) -> bool:
        return bool(self.text)

    def join(self, parts: Iterable[Mrkdwn]) -> Mrkdwn:
        return Mrkdwn(self.text.join(part.text for part in parts))

    def cut(self, limit: int) -> Mrkdwn:
        """At most `limit` characters, never ending inside an entity or a `<...>` token."""
        if len(self.text) <= limit:
            return self
        head = self.text[: limit - 1]
        if head.rfind("&") > head.rfind(";"):
            head = head[: head.rfind("&")]
        if head.rfind("<") > head.rfind(">"):
            head = head[: head.rfind("<")]
        return Mrkdwn(head + ELLIPSIS)


def md(template: str, *values: object) -> Mrkdwn:
    """`template` (ours) with each `{}` filled by a value, escaped unless already Mrkdwn."""
    return Mrkdwn(template.format(*(_safe(value) for value in values)))


def _safe(value: object) -> str:
    return value.text if isinstance(value, Mrkdwn) else escape(str(value))


NEWLINE = Mrkdwn("\n")


def lines(parts: Iterable[Mrkdwn]) -> Mrkdwn:
    return NEWLINE.join(parts)


def link(url: str, label: object) -> Mrkdwn:
    """`<url|label>` for a web or mail link; anything else is shown as its label only."""
    if not url.startswith(("https://", "http://", "mailto:")):
        return md("{}", label)
    safe_url = escape(url).replace("|", "%7C")
    return Mrkdwn(f"<{safe_url}|{_safe(label)}>")


def slack_date(moment: datetime) -> Mrkdwn:
    """A time every reader sees in their own zone."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return Mrkdwn(f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>")


def words(text: str) -> str:
    """A sentence for people (a reply, a refusal) as a mrkdwn `text`: all of it escaped."""
    return escape(text)
