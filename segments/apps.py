from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = _("Segments")

    def ready(self) -> None:
        # Create Interaction on a segment runs the wizard of `interactions`, which must not
        # import this app: hand it what it needs from here.
        from interactions.wizard import SEGMENT_SERVICES
        from segments.selectors import lines_follow
        from segments.services import segment_interaction_assign

        SEGMENT_SERVICES.update(assign=segment_interaction_assign, lines_follow=lines_follow)
