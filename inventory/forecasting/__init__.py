"""Demand forecasting and replenishment maths: pandas frames and numpy arrays in and out, no Django.

``demand`` turns sales lines into per-product series, ``engine`` forecasts them, ``metrics`` scores
forecasts the way the M5 competition did, ``replenishment`` turns forecasts into reorder decisions.
"""
