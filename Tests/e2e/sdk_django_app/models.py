from django.db import models

from hub import event
from hub.django import HubEventMixin


class Absence(HubEventMixin, models.Model):
    """An absence recorded by a teacher: its student hears of it once it is committed."""

    student_id = models.IntegerField()
    subject = models.CharField(max_length=100)

    class Meta:
        app_label = "sdk_django_app"

    def hub_event(self):
        return event("system_alert", users=[self.student_id], title="Absence",
                     message=f"Absent in {self.subject}", data={"absence_id": self.pk, "subject": self.subject})
