"""Prop-firm programs (rule presets), the trader's governors (configuration) and trade-list mode.

See challenges/README.md. Kept import-light: nothing is imported here.
"""
