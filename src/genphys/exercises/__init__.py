"""Self-checks for the book's exercises, and the tool that turns a chapter into an assignment.

One module per chapter module, named for it (``genphys.exercises.lindblad`` checks the exercises of
chapter 3); each check takes the reader's answer and returns a :class:`~genphys.exercises.feedback.Feedback`
that says ``Correct`` or what is not yet right.  :mod:`genphys.exercises.assignment` makes the student
version of a chapter (solutions removed, stubs and self-checks kept) and grades executed notebooks.

Importing this package imports no chapter module (and no torch): each check module imports what it checks.
"""

from genphys.exercises.feedback import (Feedback, agrees, as_array, compare_array, compare_value, correct,
                                        nearest_order, not_yet, unanswered)

__all__ = ["Feedback", "agrees", "as_array", "compare_array", "compare_value", "correct", "nearest_order", "not_yet",
           "unanswered"]
