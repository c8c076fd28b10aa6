"""Placeholder: rules land with the licence-determination work."""
