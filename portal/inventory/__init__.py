"""The staff portal's inventory room: stock-out risk, overstock, forecasts and the reorder list."""
