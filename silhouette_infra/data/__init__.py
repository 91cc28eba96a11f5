"""Data services: PostgreSQL (RDS), Redis (ElastiCache), RabbitMQ (Amazon MQ), Neo4j (in the cluster)."""
