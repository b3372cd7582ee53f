"""The one error type for user mistakes.

Everything a user can get wrong (a bad network, an unparsable formula, an unwritable path)
raises :class:`SymbackpropError` with a message the user can act on.  The CLI maps it to
exit code 2 in one place; anything else escaping is a bug in symbackprop.
"""


class SymbackpropError(ValueError):
    """A mistake in the user's input, with a one-line message that says how to fix it."""

    exit_code = 2


class FormulaError(SymbackpropError):
    """A formula that cannot be read or does not make sense for the network.

    ``position`` (0-based column in the formula) lets the CLI point a caret at the problem.
    """

    def __init__(self, message, formula=None, position=None):
        super().__init__(message)
        self.formula = formula
        self.position = position

    def context(self):
        """The formula with a caret under the offending column, or '' when unknown."""
        if self.formula is None or self.position is None:
            return ""
        shown = "".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in self.formula)  # no raw BEL
        return f"  {shown}\n  {' ' * self.position}^"
