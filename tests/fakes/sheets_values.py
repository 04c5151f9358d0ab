"""How the fake Sheets server shows a stored value, and the formulas it can compute."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["computed", "shown"]


def shown(value: Any) -> str:
    """FORMATTED_VALUE of a stored value (General format: 6 digits past 10^15)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if abs(value) >= 1e15:
            mantissa, exponent = f"{float(value):.5E}".split("E")
            mantissa = mantissa.rstrip("0").rstrip(".")
            return f"{mantissa}E{'-' if exponent.startswith('-') else '+'}{int(exponent[1:]):02d}"
        return str(int(value)) if float(value).is_integer() else str(value)
    return str(value)


_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _arithmetic(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return float(_OPERATORS[type(node.op)](_arithmetic(node.left), _arithmetic(node.right)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_arithmetic(node.operand)
    raise ValueError("not arithmetic")


def computed(formula: str) -> str:
    """What Google shows for a formula cell (the few formulas the fake can compute)."""
    body = formula[1:].strip()
    upper = body.upper()
    if upper == "NOW()":
        return datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
    if upper == "TODAY()":
        return datetime.now(UTC).strftime("%m/%d/%Y")
    if len(body) >= 2 and body[0] == body[-1] == '"':
        return body[1:-1].replace('""', '"')
    try:
        return shown(_arithmetic(ast.parse(body, mode="eval").body))
    except (SyntaxError, ValueError, ZeroDivisionError):
        return "#NAME?"
