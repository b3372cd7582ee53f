"""LaTeX from the project's printers as MathML, typeset by the browser with no outside server.

latex2mathml (pure Python, from PyPI) converts.  Its output is then parsed as XML and kept only
when every element and attribute is on a MathML allowlist, and written out again by ElementTree
(which escapes all text): latex2mathml copies ``\\text{...}`` through unescaped, so this is what
guarantees that no LaTeX string, whatever it holds, becomes HTML.  Anything that fails shows
as the escaped LaTeX source instead.
"""

import functools
import re
import xml.etree.ElementTree as ET

from markupsafe import Markup, escape

NS = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", NS)

ELEMENTS = frozenset("""math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot
    mstyle mtable mtr mtd mover munder munderover mpadded mphantom menclose merror""".split())
ATTRIBUTES = frozenset("""display stretchy fence form separator columnalign columnspacing rowspacing
    displaystyle scriptlevel width height depth linebreak mathvariant accent accentunder lspace
    rspace minsize maxsize movablelimits largeop symmetric notation columnlines rowlines frame
    align""".split())

_SPACED_NEWLINE = re.compile(r"\\\\\[[^\]]*\]")
_STRUT = re.compile(r"\\rule(\[[^\]]*\])?\{[^}]*\}\{[^}]*\}")


def _prepare(latex):
    """latex2mathml knows align* but not aligned (the same layout), nor spacing: \\\\[1ex], struts."""
    latex = latex.replace("{aligned}", "{align*}")
    return _STRUT.sub("", _SPACED_NEWLINE.sub(r"\\\\", latex))


def _allowed(root):
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.tag.startswith("{" + NS + "}"):
            return False
        if element.tag[len(NS) + 2:] not in ELEMENTS:
            return False
        if any(name not in ATTRIBUTES for name in element.attrib):
            return False
    return True


@functools.lru_cache(maxsize=8192)
def mathml(latex, display=False):
    """Safe MathML markup for ``latex``, or the LaTeX itself, escaped, when it cannot be converted."""
    from latex2mathml.converter import convert

    try:
        root = ET.fromstring(convert(_prepare(latex), display="block" if display else "inline"))
    except Exception:  # noqa: BLE001 - latex2mathml raises many types; the fallback is always safe
        return source(latex)
    if not _allowed(root):
        return source(latex)
    return Markup(ET.tostring(root, encoding="unicode", short_empty_elements=True))


def source(latex):
    """The LaTeX shown as code, escaped."""
    return Markup('<code class="tex">') + escape(latex) + Markup("</code>")


def display(latex):
    return mathml(latex, True)
