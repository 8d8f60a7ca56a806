"""Rendering: turn result objects into text, tables, trees, JSON or YAML.

Renderers never compute facts; they format what analysis produced.
"""
