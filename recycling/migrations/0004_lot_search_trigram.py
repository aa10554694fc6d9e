"""Free-text search (`q`) over title and description: a trigram GIN index on PostgreSQL.

pg_trgm works for Chinese too (every CJK character is alphanumeric in a UTF-8 locale), where
PostgreSQL's word-based full-text configurations would need a segmenter. SQLite scans.
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS lot_search_trgm ON recycling_lot USING gin (search_text gin_trgm_ops)"
    )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS lot_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("recycling", "0003_lots")]
    operations = [migrations.RunPython(forward, backward)]
