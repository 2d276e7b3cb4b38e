"""pointline-storage-hive-parquet: a backend for plain Hive-partitioned Parquet datasets.

Tables are directories of Parquet files below ``col=value/...`` directories, with no
transaction log, on any fsspec filesystem. Install the distribution and load it by name::

    from pointline_storage import load_backend

    backend = load_backend("hive-parquet", root="s3://bucket/warehouse")
"""
