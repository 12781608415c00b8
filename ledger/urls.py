from django.urls import path

from . import views, views_documents, views_excel

app_name = "ledger"

# Fixed paths first: a ledger code is a slug and would match them.
urlpatterns = [
    path("", views.ledger_list, name="list"),
    path("pressing/", views.pressing_list, name="pressing-list"),
    path("documents/new/", views_documents.document_upload, name="document-upload"),
    path("assignments/<int:pk>/", views.assignment_detail, name="assignment"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("<slug:code>/", views.ledger_detail, name="detail"),
    path("<slug:code>/adapt/", views.ledger_adapt, name="adapt"),
    path("<slug:code>/assign-units/", views.assign_units, name="assign-units"),
    path("<slug:code>/items/new/", views.item_edit, name="item-add"),
    path("<slug:code>/items/<int:number>/", views.item_detail, name="item"),
    path("<slug:code>/items/<int:number>/edit/", views.item_edit, name="item-edit"),
    path("<slug:code>/items/<int:number>/delete/", views.item_delete, name="item-delete"),
    path("<slug:code>/import/", views_excel.import_page, name="import"),
    path("<slug:code>/progress-import/", views_excel.import_page, {"progress": True}, name="progress-import"),
    path("<slug:code>/export.xlsx", views_excel.export, name="export"),
    path("<slug:code>/progress.xlsx", views_excel.export, {"progress": True}, name="progress-export"),
]
