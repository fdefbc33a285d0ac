"""Figures for the administrators' dashboard, each from a few SQL aggregates."""
