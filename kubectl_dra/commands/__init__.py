"""Thin Typer commands: parse flags, load a snapshot, call analysis, render."""
