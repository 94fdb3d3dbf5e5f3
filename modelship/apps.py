from django.apps import AppConfig


class ModelshipConfig(AppConfig):
    name = "modelship"
    verbose_name = "Platform"
