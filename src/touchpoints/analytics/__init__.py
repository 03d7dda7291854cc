"""Analytics store: Parquet files exported from the operational store, read by DuckDB or Spark."""
