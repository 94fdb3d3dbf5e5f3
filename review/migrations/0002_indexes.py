"""Queue indexes: a reviewer's live decisions by item, and a partial index on labeling_item for gold.

Gold items are few; without ``review_item_gold``, finding a reviewer's unanswered gold items scans
the whole project. It is raw SQL here because the review queue is its only reader; labeling's
models do not declare it.
"""

from django.conf import settings
from django.db import migrations, models

CREATE_GOLD = "CREATE INDEX IF NOT EXISTS review_item_gold ON labeling_item (project_id, id) WHERE gold_labels IS NOT NULL"
DROP_GOLD = "DROP INDEX IF EXISTS review_item_gold"


class Migration(migrations.Migration):

    dependencies = [
        ('labeling', '0004_active_learning'),
        ('review', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='reviewdecision',
            name='review_live_by_item_reviewer',
        ),
        migrations.AddIndex(
            model_name='reviewdecision',
            index=models.Index(condition=models.Q(('undone_at__isnull', True)), fields=['reviewer', 'item'], name='review_live_by_reviewer_item'),
        ),
        migrations.RunSQL(CREATE_GOLD, DROP_GOLD),
    ]
