"""Negotiation on the customer's behalf: a pure strategy, utilities from policies, sessions over connectors."""
