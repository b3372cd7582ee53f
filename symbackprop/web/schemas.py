"""The JSON request bodies, named like the command line's options (documented in /docs)."""

from typing import Annotated, Literal, Optional

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from .limits import MAX_CLASS_FILE, MAX_FIELD

Text = Annotated[str, Field(max_length=MAX_FIELD)]
Strength = Annotated[float, Field(strict=True)]  # a JSON number: true or "0.1" would be read as a λ by accident
QueryText = Annotated[Optional[str], Query(max_length=MAX_FIELD)]


class NetworkFields(BaseModel):
    """The network, as on the command line; each key optional (the lectures' 1,1,1,1 sigmoid quadratic)."""

    model_config = ConfigDict(extra="forbid")

    sizes: Optional[Text] = Field(None, description="layer widths from input to output", examples=["3,3,2"])
    activation: Optional[Text] = Field(None, description="one name, or one per weight layer", examples=["sigmoid"])
    cost: Optional[Text] = Field(None, description="quadratic, half_quadratic, cross_entropy or log_likelihood",
                                 examples=["quadratic"])
    l2: Optional[Strength] = Field(None, description="λ of L2 regularisation (weight decay), C = C₀ + λ/(2n) Σ w², "
                                                     "as in Nielsen's chapter 3: a number above 0; leave it out for none",
                                   examples=[0.1])
    l1: Optional[Strength] = Field(None, description="λ of L1 regularisation, C = C₀ + (λ/n) Σ |w|: a number above 0; "
                                                     "not together with l2", examples=[0.1])


def network_params(sizes: QueryText = None, activation: QueryText = None, cost: QueryText = None,
                  l2: QueryText = None, l1: QueryText = None):
    """The network in a URL's query string (pages, downloads): the body's keys, as text."""
    return {"sizes": sizes, "activation": activation, "cost": cost, "l2": l2, "l1": l1}


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
