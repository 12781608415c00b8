from django.urls import path

from . import views, views_notifications

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("notifications/", views_notifications.notifications_view, name="notifications"),
]
