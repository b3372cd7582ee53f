"""verify: verdicts, counterexamples and diagnoses for hand-written backpropagation formulas.

``verify(latex, network)`` -> :class:`~.verdict.Result` (``.equivalent``, ``.text()``,
``.to_dict()``); ``grade_file(path, output, default_network)`` grades a JSON-lines file of a
class's submissions.  The grammar is ``formula.lark``; ``parse`` turns it into notation's SymPy
objects, ``verdict`` binds and compares, ``diagnose`` says what differs, ``batch`` grades files.
"""

from .batch import grade_file
from .verdict import Result, read, verify

__all__ = ["verify", "read", "grade_file", "Result"]
