from django.urls import path

from . import views_account, views_notifications, views_otp, views_webhooks

urlpatterns = [
    path("notifications/", views_notifications.notifications_view, name="notifications"),
    path("account/password/", views_account.PortalPasswordChangeView.as_view(), name="password_change"),
    path("account/sessions/", views_account.sessions_view, name="account_sessions"),
    path("account/sessions/<int:pk>/revoke/", views_account.session_revoke_view, name="account_session_revoke"),
    path("account/sessions/revoke-others/", views_account.sessions_revoke_others_view, name="account_sessions_revoke_others"),
    # Two-factor login (accounts.otp): verify and setup are what an unverified session may reach.
    path("account/otp/", views_otp.otp_manage_view, name="otp_manage"),
    path("account/otp/verify/", views_otp.otp_verify_view, name="otp_verify"),
    path("account/otp/setup/", views_otp.otp_setup_view, name="otp_setup"),
    path("account/otp/remove/", views_otp.otp_remove_view, name="otp_remove"),
    path("account/otp/recovery-codes/", views_otp.otp_recovery_codes_view, name="otp_recovery_codes"),
    # Webhook endpoints of a province (or the country) and their delivery logs (accounts.webhooks).
    path("webhooks/", views_webhooks.webhooks_view, name="webhooks"),
    path("webhooks/<int:pk>/", views_webhooks.webhook_deliveries_view, name="webhook_deliveries"),
    path("webhooks/<int:pk>/disable/", views_webhooks.webhook_disable_view, name="webhook_disable"),
    path("webhooks/<int:pk>/replay-failed/", views_webhooks.webhook_replay_failed_view, name="webhook_replay_failed"),
    path("webhooks/deliveries/<int:pk>/replay/", views_webhooks.webhook_delivery_replay_view, name="webhook_delivery_replay"),
]
