"""Client tokens of the REST API: province officials create them for regions of their province,
see each secret once, and revoke them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import policy
from .models import ApiToken, Company, Region, TokenAccess
from .scoping import Action
from .services import api_token_create, api_token_revoke

ROLE_CHOICES = [("", "按区域层级（县级填报、地市审核或省级）"), (policy.TOKEN_OTHER_ROLE.value, policy.TOKEN_OTHER_ROLE.label)]


class ApiTokenForm(forms.Form):
    name = forms.CharField(label="名称（调用方）", max_length=100)
    region = forms.ModelChoiceField(label="授权区域", queryset=Region.objects.none(), to_field_name="code", empty_label=None)
    access = forms.ChoiceField(label="权限", choices=TokenAccess.choices, initial=TokenAccess.READ)
    role = forms.ChoiceField(label="身份", choices=ROLE_CHOICES, required=False)
    company = forms.ModelChoiceField(
        label="供电企业",
        queryset=Company.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="（供电企业身份时必选）",
        help_text="以供电企业身份调用时，令牌填报该企业的附件3 服务效益。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.restrict(user, Action.CHANGE).order_by("path")
        self.fields["region"].queryset = regions
        self.fields["company"].queryset = Company.objects.restrict(user, Action.CHANGE).order_by("code")
        # Indented by level so the province's cities and counties read as a tree.
        indent = {"province": "", "city": "　", "county": "　　"}
        self.fields["region"].label_from_instance = lambda r: f"{indent[r.level]}{r.name}（{r.code}）"


def _require_token_admin(user):
    if not user.has_perm("accounts.manage_tokens"):
        raise PermissionDenied("只有省级能源主管部门可以管理接口令牌。")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens_view(request):
    """GET: the tokens of the province and the form. POST: create one and show its secret, once."""
    user = request.user
    _require_token_admin(user)
    form = ApiTokenForm(request.POST or None, user=user)
    created, secret, status = None, None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created, secret = api_token_create(user=user, **form.cleaned_data)
                form = ApiTokenForm(user=user)
            except ValidationError as exc:
                for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
                    form.add_error(field if field in form.fields else None, errors)
        if secret is None:
            status = 400
    tokens = ApiToken.objects.restrict(user, Action.VIEW).select_related("region", "created_by", "user__company")
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "tokens": tokens,
            "created": created,
            "secret": secret,
        },
        status=status,
    )


@login_required
@require_POST
def token_revoke_view(request, pk):
    token = get_object_or_404(ApiToken.objects.restrict(request.user, Action.VIEW), pk=pk)
    try:
        api_token_revoke(user=request.user, token=token)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"已吊销令牌“{token.name}”（{token.prefix}…），使用它的请求将立即被拒绝。")
    return redirect("api_tokens")
