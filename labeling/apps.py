from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"

    def ready(self):
        from django.conf import settings
        from PIL import Image

        # Pillow's own decompression-bomb guard (an error at twice its limit) follows ours, so an image
        # under UPLOAD_MAX_IMAGE_PIXELS always decodes, and one over it is refused with our message.
        Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_IMAGE_PIXELS
