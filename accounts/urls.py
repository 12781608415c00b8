from django.urls import path

from . import views_notifications

urlpatterns = [
    path("notifications/", views_notifications.notifications_view, name="notifications"),
]
