from tests.spark_cluster import spark_cluster

__all__ = ["spark_cluster"]
