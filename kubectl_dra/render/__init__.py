"""Rendering: turn result objects into text, tables, trees, JSON or YAML.

Renderers never compute facts; they format what analysis produced.  Every command's module has the same
entry point, ``render_text(result, *, <keyword options>)``: the text form of that command's result, written
to stdout.  ``-o json|yaml`` print the result itself with :func:`kubectl_dra.render.output.emit_data`
(``get`` and ``scaffold`` first wrap it in a List with their module's ``as_document``).
"""
