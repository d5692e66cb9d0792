"""Mentions of models, architectures and libraries in papers, and where those tools come from."""
