"""The JSON request bodies, named like the command line's options (documented in /docs)."""

from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .limits import MAX_CLASS_FILE, MAX_FIELD

Text = Annotated[str, Field(max_length=MAX_FIELD)]


class NetworkFields(BaseModel):
    """The network, as on the command line; each key optional (the lectures' 1,1,1,1 sigmoid quadratic)."""

    model_config = ConfigDict(extra="forbid")

    sizes: Optional[Text] = Field(None, description="layer widths from input to output", examples=["3,3,2"])
    activation: Optional[Text] = Field(None, description="one name, or one per weight layer", examples=["sigmoid"])
    cost: Optional[Text] = Field(None, description="quadratic, half_quadratic or cross_entropy", examples=["quadratic"])


class FormulaRequest(NetworkFields):
    formula: Text = Field(description="the formula in LaTeX, as typed",
                          examples=[r"\frac{\partial C_0}{\partial w^{(L)}} = a^{(L-1)} \sigma'(z^{(L)}) 2(a^{(L)} - y)"])


class VerifyRequest(FormulaRequest):
    typeset: bool = Field(False, description="also answer `mathml` (the parsed and expected forms as MathML), "
                                             "for pages; without it the answer is exactly `verify --json`")


class BatchRequest(NetworkFields):
    """A class file's text; the network keys are the default for answers that name none."""

    content: str = Field(max_length=MAX_CLASS_FILE, description="the class file: JSON lines or CSV")
    format: Optional[Literal["jsonl", "csv"]] = Field(None, description="default: from filename, else from the content")
    filename: Optional[Annotated[str, Field(max_length=255)]] = Field(None, description="only to tell the format")
