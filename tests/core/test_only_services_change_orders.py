"""Only `podops/services` changes orders, checked on the source with `ast`.

Outside the services no module may assign a column or relationship of an
order, a line item, a fulfillment or a parcel (`order.problems = ...`, `item.print_file_current
= False`, `setattr(order, ...)`), nor write their tables with a Core statement
(`update(Order)`, `insert(Shipment)`, `update(Order.__table__)`). A change made
anywhere else would skip the lifecycle table, the audit event or the notice
the services write; `podops/services/__init__.py` promises it cannot happen.

The check looks at names that hold an order, a line, a fulfillment or a parcel by
name (`order`, `item`, `line`, `part`, `fulfillment`, `shipment`, `existing_order`...)
or by annotation (`order: Order`), and only at attributes those models map, so a plain
dataclass's `line.open -= qty` is not mistaken for a write.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from podops.models import Fulfillment, FulfillmentLine, LineItem, Order, Shipment, ShipmentLine

TOP = Path(__file__).parents[2]
MODELS = {
    "Order": Order,
    "LineItem": LineItem,
    "Shipment": Shipment,
    "ShipmentLine": ShipmentLine,
    "Fulfillment": Fulfillment,
    "FulfillmentLine": FulfillmentLine,
}
TABLES = {str(model.__tablename__) for model in MODELS.values()}
MAPPED = {key for model in MODELS.values() for key in model.__mapper__.attrs.keys()}  # noqa: SIM118
ORDER_LIKE = re.compile(
    r"^(o|i|f|p|(\w+_)?(order|item|line|line_item|shipment|parcel|fulfillment|part|new))$"
)
STATEMENTS = {"update", "insert", "delete"}

ALLOWED: dict[tuple[str, str], str] = {
    ("podops/notify/alerts.py", "update(orders)"): (
        "alert_ref is where the Slack alert lives: bookkeeping written with a plain UPDATE "
        "so it never races a staff action's version check (owned by the outbox's notices)"
    ),
}
"""(file, what) -> why it may stay outside the services."""


def _chain_name(node: ast.expr) -> str | None:
    """`order` for `order`, `claim.order`, `self.order`: the name that holds the object."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _annotated_models(function: ast.AST) -> set[str]:
    """Names annotated with a model in a function's arguments or body (`order: Order`)."""
    found: set[str] = set()
    arguments: list[ast.arg] = []
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        args = function.args
        arguments = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    for arg in arguments:
        if arg.annotation is not None and _names_model(arg.annotation):
            found.add(arg.arg)
    for node in ast.walk(function):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and _names_model(node.annotation)
        ):
            found.add(node.target.id)
    return found


def _names_model(node: ast.expr) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id in MODELS)
        or (isinstance(n, ast.Constant) and n.value in MODELS)
        for n in ast.walk(node)
    )


def _names_table(node: ast.expr, tables: dict[str, ast.expr]) -> str | None:
    """The order table a statement's first argument names: `Order`, `Order.__table__`,
    `_table(LineItem)`, `Base.metadata.tables["orders"]`, or a local bound to one."""
    if isinstance(node, ast.Name) and node.id in tables:
        return _names_table(tables[node.id], {})
    for part in ast.walk(node):
        if isinstance(part, ast.Name) and part.id in MODELS:
            return str(MODELS[part.id].__tablename__)
        if isinstance(part, ast.Constant) and part.value in TABLES:
            return str(part.value)
    return None


def _targets(node: ast.expr) -> Iterator[ast.Attribute]:
    if isinstance(node, ast.Attribute):
        yield node
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            yield from _targets(element)


def _scopes(tree: ast.Module) -> Iterator[ast.AST]:
    yield tree
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a scope, not those of the functions nested in it."""
    for child in ast.iter_child_nodes(scope):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        yield child
        yield from _own_nodes(child)


def writes(source: str) -> list[tuple[int, str]]:
    """(line, what) for every order write the module's source makes."""
    found: list[tuple[int, str]] = []
    for scope in _scopes(ast.parse(source)):
        typed = _annotated_models(scope)
        tables: dict[str, ast.expr] = {}
        nodes = list(_own_nodes(scope))
        for node in nodes:
            target, value = _binding(node)
            if isinstance(target, ast.Name) and value is not None and _names_table(value, {}):
                tables[target.id] = value
        for node in nodes:
            found.extend(_writes_of(node, typed, tables))
    return sorted(set(found))


def _binding(node: ast.AST) -> tuple[ast.expr | None, ast.expr | None]:
    """(target, value) of `name = value` or `name: T = value`."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        return node.targets[0], node.value
    if isinstance(node, ast.AnnAssign):
        return node.target, node.value
    return None, None


def _holds_order(node: ast.expr, typed: set[str]) -> bool:
    name = _chain_name(node)
    return name is not None and (name in typed or ORDER_LIKE.match(name) is not None)


def _writes_of(
    node: ast.AST, typed: set[str], tables: dict[str, ast.expr]
) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    for target in targets:
        for attribute in _targets(target):
            if attribute.attr in MAPPED and _holds_order(attribute.value, typed):
                found.append((node.lineno, f"{ast.unparse(attribute)} ="))
    if isinstance(node, ast.Call):
        called = _chain_name(node.func)
        if called in ("setattr", "set_committed_value") and node.args:
            if _holds_order(node.args[0], typed):
                found.append((node.lineno, f"{called}({ast.unparse(node.args[0])}, ...)"))
        elif called in STATEMENTS and isinstance(node.func, ast.Name) and node.args:
            table = _names_table(node.args[0], tables)
            if table is not None:
                found.append((node.lineno, f"{called}({table})"))
    return found


def offences(top: Path = TOP) -> list[str]:
    """Every order write outside podops/services under `top`, but the allowed ones."""
    found = []
    for path in sorted((top / "podops").rglob("*.py")):
        relative = path.relative_to(top).as_posix()
        if {"services", "migrations"} & set(path.relative_to(top / "podops").parts):
            continue
        for line, what in writes(path.read_text()):
            if (relative, what) not in ALLOWED:
                found.append(f"{relative}:{line}: {what}")
    return found


def test_no_module_outside_the_services_changes_an_order() -> None:
    assert offences() == []


def test_every_allowed_write_still_exists() -> None:
    """An allowance whose write is gone is removed too, so it cannot hide a new one."""
    for path, what in ALLOWED:
        assert what in {w for _, w in writes((TOP / path).read_text())}, (path, what)


def test_the_scan_sees_each_kind_of_write() -> None:
    source = """
def f(order: Order, found, session, shipment, line, state):
    order.problems = []
    found.status = "x"
    shipment.carrier, line.quantity_shipped = "UPS", 2
    line.quantity_shipped += 1
    setattr(order, "note", "")
    table: Any = Order.__table__
    session.execute(update(table).values(alert_ref=None))
    session.execute(insert(_table(ShipmentLine)), [])
    state.status = "shipped"
    line.open -= 1
"""
    assert [what for _, what in writes(source)] == [
        "order.problems =",
        "line.quantity_shipped =",
        "shipment.carrier =",
        "line.quantity_shipped =",
        "setattr(order, ...)",
        "update(orders)",
        "insert(shipment_lines)",
    ]
