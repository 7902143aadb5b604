# The staff portal's permissions (on StaffAccess, a model without a table) and the four roles that grant
# them, as Django groups. The table below is a copy of core.roles.ROLE_PERMISSIONS at the time of writing.

from django.db import migrations, models

PERMISSIONS = [
    ("view_portal", "Open the staff portal: dashboard, segments, promotions, models, jobs"),
    ("view_customers", "See customers' personal data: the customer list and 360 pages"),
    ("export_personal_data", "Export files with customers' ids and contact data"),
    ("export_pseudonymized", "Export files with pseudonymized customer ids"),
    ("manage_segments", "Compute segments"),
    ("manage_promotions", "Create promotions, compute their targets, measure results"),
    ("manage_models", "Train recommender versions and choose the served one"),
    ("import_data", "Upload order files"),
    ("erase_customers", "Erase a customer (right to be forgotten)"),
    ("view_audit", "See the audit trail of access to personal data"),
    ("view_inventory", "See stock, demand forecasts and the reorder list"),
    ("manage_inventory", "Run demand forecasts"),
]

ROLES = {
    "buyer": ["view_portal", "view_inventory", "manage_inventory"],
    "marketing": ["view_portal", "view_customers", "export_personal_data", "manage_segments", "manage_promotions"],
    "analyst": ["view_portal", "export_pseudonymized"],
    "data admin": [
        "view_portal",
        "view_customers",
        "export_personal_data",
        "manage_models",
        "import_data",
        "erase_customers",
        "view_audit",
    ],
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="core", model="staffaccess")
    permissions = {}
    for codename, name in PERMISSIONS:
        permissions[codename], _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(permissions[codename] for codename in codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffAccess",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
            options={"managed": False, "default_permissions": (), "permissions": PERMISSIONS},
        ),
        migrations.RunPython(create_roles, remove_roles),
    ]
