"""Jinja templates of symbackprop (installed as ``symbackprop.templates``): notes, derive output."""
