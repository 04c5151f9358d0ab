"""What the real Slack refuses, for the fake Slack Web API (tests/fakes/slack.py).

Block Kit limits as Slack documents them (api.slack.com/reference/block-kit):
50 blocks per message, 100 per modal or App Home view; 3,000 characters per
section text and per context element, 150 for a header, 2,000 for an input's
label, 24 for a modal's title, submit and close texts, 75 for a button text,
255 for block and action ids, 3,000 for a view's private_metadata and an input's
initial value; 25 elements in an actions block, 10 in a context block; 1 to 10
options in checkboxes or radio buttons, each text at most 75 characters; block ids
unique within a message or view. A message that breaks them is answered
`invalid_blocks` with `errors` (`"... [json-pointer:/blocks/3/text]"`), a view
`invalid_arguments` with the same sentences in `response_metadata.messages`.

Which OAuth scope each method needs (a missing one is `missing_scope` with
`needed` and `provided`), as the method pages list them.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER = 150
MAX_LABEL = 2000
MAX_VIEW_TITLE = 24
MAX_BUTTON_TEXT = 75
MAX_ID = 255
MAX_METADATA = 3000
MAX_INPUT_VALUE = 3000
MAX_ACTIONS = 25
MAX_CONTEXT = 10
MAX_OPTIONS = 10
MAX_OPTION_TEXT = 75

METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "conversations.list": "channels:read",
    "conversations.open": "im:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "usergroups.users.list": "usergroups:read",
}
ALL_SCOPES = frozenset(METHOD_SCOPES.values()) | {"commands"}


def missing_scope(method: str, scopes: frozenset[str]) -> dict[str, Any] | None:
    needed = METHOD_SCOPES.get(method)
    if needed is None or needed in scopes:
        return None
    return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(scopes)}


def _too_long(problems: list[str], text: object, limit: int, pointer: str) -> None:
    if isinstance(text, str) and len(text) > limit:
        problems.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}]")


def _block_problems(block: dict[str, Any], pointer: str, seen: set[str]) -> list[str]:
    problems: list[str] = []
    kind = block.get("type")
    block_id = block.get("block_id")
    if block_id is not None:
        _too_long(problems, block_id, MAX_ID, f"{pointer}/block_id")
        if block_id in seen:
            problems.append(f"duplicate block_id [json-pointer:{pointer}/block_id]")
        seen.add(str(block_id))
    text = (block.get("text") or {}).get("text")
    if kind == "section":
        _too_long(problems, text, MAX_SECTION_TEXT, f"{pointer}/text")
    elif kind == "header":
        _too_long(problems, text, MAX_HEADER, f"{pointer}/text")
    elif kind == "context":
        elements = block.get("elements") or []
        if len(elements) > MAX_CONTEXT:
            problems.append(f"no more than {MAX_CONTEXT} items allowed [json-pointer:{pointer}]")
        for n, element in enumerate(elements):
            _too_long(problems, element.get("text"), MAX_SECTION_TEXT, f"{pointer}/elements/{n}")
    elif kind == "actions":
        elements = block.get("elements") or []
        if len(elements) > MAX_ACTIONS:
            problems.append(f"no more than {MAX_ACTIONS} items allowed [json-pointer:{pointer}]")
        for n, element in enumerate(elements):
            label = (element.get("text") or {}).get("text")
            _too_long(problems, label, MAX_BUTTON_TEXT, f"{pointer}/elements/{n}/text")
    elif kind == "input":
        _too_long(problems, (block.get("label") or {}).get("text"), MAX_LABEL, f"{pointer}/label")
        element = block.get("element") or {}
        value = element.get("initial_value")
        _too_long(problems, value, MAX_INPUT_VALUE, f"{pointer}/element/initial_value")
        problems += _option_problems(element, f"{pointer}/element")
    return problems


def _option_problems(element: dict[str, Any], pointer: str) -> list[str]:
    """Checkboxes and radio buttons: 1 to 10 options, each text at most 75 characters."""
    if element.get("type") not in ("checkboxes", "radio_buttons"):
        return []
    options = element.get("options") or []
    problems = []
    if not 1 <= len(options) <= MAX_OPTIONS:
        problems.append(f"must provide 1 to {MAX_OPTIONS} options [json-pointer:{pointer}/options]")
    for n, option in enumerate(options):
        text = (option.get("text") or {}).get("text")
        _too_long(problems, text, MAX_OPTION_TEXT, f"{pointer}/options/{n}/text")
    return problems


def block_problems(blocks: object, limit: int, pointer: str = "/blocks") -> list[str]:
    """Slack's sentences for what is wrong with `blocks` (none: valid)."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for n, block in enumerate(blocks):
        problems += _block_problems(block, f"{pointer}/{n}", seen)
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    limit = MAX_VIEW_BLOCKS
    problems = block_problems(view.get("blocks"), limit, "/view/blocks")
    if view.get("type") == "modal":
        for key in ("title", "submit", "close"):
            text = (view.get(key) or {}).get("text")
            _too_long(problems, text, MAX_VIEW_TITLE, f"/view/{key}/text")
    _too_long(problems, view.get("private_metadata"), MAX_METADATA, "/view/private_metadata")
    return [f"[ERROR] {p}" for p in problems]


POSTING = ("chat.postMessage", "chat.postEphemeral", "chat.update", "files.completeUploadExternal")


class SlackRules:
    """The fake's workspace: which channels exist, which the bot is in, which are
    archived, the app's scopes; and the refusals Slack answers from them."""

    def __init__(self, known: dict[str, str]) -> None:
        self.known = dict(known)  # channel id -> name (public channels the bot can see)
        self.members: set[str] = set(known)  # the channels the bot was invited to
        self.archived: set[str] = set()
        self.scopes: frozenset[str] = ALL_SCOPES
        self.dms: dict[str, str] = {}  # user -> the bot's DM channel with them

    def open_dm(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("users") or "").split(",")[0]
        if not user:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel = self.dms.setdefault(user, f"D0{user}")
        return {"ok": True, "channel": {"id": channel}}

    def refusal(self, method: str, params: dict[str, Any], channel: str) -> dict[str, Any] | None:
        """Slack's answer when it refuses the call, else None."""
        scope = missing_scope(method, self.scopes)
        if scope is not None:
            return scope
        if method in POSTING and channel:
            where = self._where(channel)
            if where is not None:
                return {"ok": False, "error": where}
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            problems = block_problems(params.get("blocks"), MAX_MESSAGE_BLOCKS)
            if problems:
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
        if method in ("views.open", "views.publish"):
            problems = view_problems(params.get("view") or {})
            if problems:
                meta = {"messages": problems}
                return {"ok": False, "error": "invalid_arguments", "response_metadata": meta}
        return None

    def _where(self, channel: str) -> str | None:
        if channel in self.dms.values():
            return None
        if channel not in self.known:
            return "channel_not_found"
        if channel in self.archived:
            return "is_archived"
        if channel not in self.members:
            return "not_in_channel"
        return None
