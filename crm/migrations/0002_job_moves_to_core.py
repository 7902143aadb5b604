# Jobs moved to the core app (same table, crm_job): the segment run's foreign key now names core.Job,
# and crm's model state forgets Job. Nothing changes in the database.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('crm', '0001_initial'),
        ('recommender', '0002_job_in_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='segmentrun',
                    name='job',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='core.job'),
                ),
                migrations.DeleteModel(name='Job'),
            ],
            database_operations=[],
        ),
    ]
