from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_counters(sender, using="default", **kwargs) -> None:
    from analytics.counters import install

    install(using=using)


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self) -> None:
        # After every migrate (and a test database built without migrations): keep the item-count
        # triggers in place; see analytics.counters.
        post_migrate.connect(_install_counters, sender=self, dispatch_uid="analytics-item-counters")
