"""A small FastMCP server over stdio with typed arguments, for toolgate's gateway tests.

Policies condition on `transfer`'s arguments (`amount` is a JSON Schema integer, `currency` an enum), and
`balance` shows whether an allowed transfer really ran. State lives in this process only.

Run: tests/clients/gateway/.venv/bin/python tests/clients/gateway/bank.py   (stdio; logs go to stderr)
"""

from typing import Literal

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError

Currency = Literal["EUR", "USD"]

mcp = FastMCP("bank")

# Opening balance per currency, in whole units.
balances: dict[str, int] = {"EUR": 1000, "USD": 1000}


@mcp.tool
def transfer(amount: int, currency: Currency) -> str:
    """Transfer `amount` whole units of `currency` out of the account; returns a confirmation."""
    if amount <= 0:
        raise ToolError("amount must be a positive integer")
    if amount > balances[currency]:
        raise ToolError(f"insufficient funds: balance is {balances[currency]} {currency}")
    balances[currency] -= amount
    return f"transferred {amount} {currency}"


@mcp.tool
def balance(currency: Currency) -> int:
    """The account's balance in `currency`, in whole units."""
    return balances[currency]


if __name__ == "__main__":
    mcp.run(show_banner=False)
